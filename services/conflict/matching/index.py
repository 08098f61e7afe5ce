"""In-memory blocking index of active registrations: finds overlap candidates through shared keys
(domain, tax id, DUNS, distinctive name tokens and token pairs), never by scanning."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from shared.identity import domain_label, tax_id_core
from shared.identity.vocabulary import GENERIC_WORDS

from .scoring import (
    CLEAR_THRESHOLD,
    GENERIC_WORD_WEIGHT,
    POSSIBLE_THRESHOLD,
    REVIEW_THRESHOLD,
    CustomerFeatures,
    CustomerMatch,
    CustomerProfile,
    assess,
    default_token_weight,
    explain,
    features_of,
    initials,
    logistic,
)

# A name key shared by more registrations than this says too little to be worth scoring them all
# (e.g. "tok:bank" at a million registrations); rarer keys and token pairs carry the search instead.
COMMON_KEY_LIMIT = 400
# Identifier keys are trusted further, but still bounded so one hot domain cannot blow the latency budget.
IDENTIFIER_KEY_LIMIT = 2000
MAX_CANDIDATES = 250
# Corpus statistics only mean something once the index holds enough registrations.
MIN_CORPUS_FOR_FREQUENCY = 5000
COMMON_TOKEN_SHARE = 1 / 1000
MIN_TYPO_TOKEN_LENGTH = 6
# Short names (5-7 letters) are reached across one typing slip by spelling the slips out at query time, so the
# stored keys (and the database's key table) stay as they are. Spelling out a dropped letter takes 26 x (n + 1)
# keys, so it is done only for a name-only registration whose name is one short distinctive word.
SLIP_TOKEN_LENGTHS = range(5, 8)
DROPPED_LETTER_TOKEN_LENGTHS = range(4, 7)
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True, slots=True)
class IndexedRegistration:
    deal_id: str
    partner_key: str  # partner id, or "direct" for all direct sales
    profile: CustomerProfile
    products: frozenset[str]


@dataclass(frozen=True, slots=True)
class Overlap:
    other_deal_id: str
    other_partner_key: str
    match: CustomerMatch
    shared_products: list[str]
    same_partner: bool


class _Entry:
    __slots__ = ("registration", "features")

    def __init__(self, registration: IndexedRegistration, features: CustomerFeatures) -> None:
        self.registration = registration
        self.features = features


def _distinctive(tokens: tuple[str, ...]) -> tuple[str, ...]:
    chosen = tuple(t for t in tokens if t not in GENERIC_WORDS and len(t) >= 2)
    return chosen or tokens  # "General Electric": all words are generic, so all of them block


def _identifier_keys(features: CustomerFeatures) -> list[str]:
    keys = [f"dom:{d}" for d in features.domains]
    if features.tax_id:
        keys.append(f"tax:{tax_id_core(features.tax_id)}")
    if features.duns:
        keys.append(f"duns:{features.duns}")
    return keys


def _stored_name_keys(features: CustomerFeatures) -> list[str]:
    tokens = features.tokens
    keys = [f"lab:{domain_label(d)}" for d in features.domains]
    distinctive = _distinctive(tokens)
    keys += [f"tok:{t}" for t in distinctive[:4]]
    head = tokens[:3]
    keys += [f"name:{a}|{b}" if a <= b else f"name:{b}|{a}" for i, a in enumerate(head) for b in head[i + 1 :]]
    if 2 <= len(tokens) <= 6:
        keys.append(f"acr:{initials(tokens)}")
    for token in distinctive[:2]:
        if len(token) >= MIN_TYPO_TOKEN_LENGTH and token.isalpha():
            half = len(token) // 2
            keys.append(f"pre:{len(token)}:{token[:half]}")
            keys.append(f"suf:{len(token)}:{token[half:]}")
    return keys


def _slip_spellings(token: str, *, with_dropped_letter: bool) -> list[str]:
    """Spellings one typing slip from `token` (see scoring.typing_slip), in either direction: the other
    registration may have typed `token` with a slip, or `token` may be the slip of the other's name."""
    size = len(token)
    spellings: list[str] = []
    if size in SLIP_TOKEN_LENGTHS:
        spellings += [token[:i] + token[i + 1] + token[i] + token[i + 2 :] for i in range(size - 1)]
        spellings += [token[:i] + token[i] + token[i:] for i in range(size)]  # the other doubled a letter
    if size in SLIP_TOKEN_LENGTHS or size - 1 in SLIP_TOKEN_LENGTHS:
        spellings += [token[:i] + token[i + 1 :] for i in range(size)]  # a dropped or an undone doubled letter
    if with_dropped_letter and size in DROPPED_LETTER_TOKEN_LENGTHS:
        spellings += [token[:i] + letter + token[i:] for i in range(size + 1) for letter in _LETTERS]
    return [s for s in dict.fromkeys(spellings) if s != token]


def _typo_keys(token: str) -> list[str]:
    """Half keys that reach stored tokens of 6+ letters one edit away (see _stored_name_keys)."""
    keys: list[str] = []
    size = len(token)
    for stored_size in (size - 1, size, size + 1):
        if stored_size < MIN_TYPO_TOKEN_LENGTH:
            continue
        half = stored_size // 2
        keys.append(f"pre:{stored_size}:{token[:half]}")
        if stored_size == size:  # a transposition across the middle changes both halves
            swapped = token[: half - 1] + token[half] + token[half - 1] + token[half + 1 :]
            keys.append(f"pre:{stored_size}:{swapped[:half]}")
        keys.append(f"suf:{stored_size}:{token[size - (stored_size - half):]}")
    return keys


def _query_name_keys(features: CustomerFeatures) -> tuple[list[str], list[str], list[str]]:
    """(name keys, typo keys, slip keys) to look up: the stored keys plus spellings that reach typos, typing
    slips in short names and acronyms."""
    tokens = features.tokens
    keys = _stored_name_keys(features)
    keys = [k for k in keys if not k.startswith(("pre:", "suf:", "acr:"))]
    if tokens:
        keys.append(f"lab:{''.join(tokens)}")
        if len(tokens) >= 2:
            keys.append(f"lab:{initials(tokens)}")
    for domain in features.domains:
        label = domain_label(domain).replace("-", "")
        keys += [f"tok:{label}", f"acr:{label}"]
    distinctive = _distinctive(tokens)
    # A domain label is a spelling of the name too ("ecopetrol" reaches "Ecopetrool S.A." without a domain).
    labels = [label for d in features.domains if (label := domain_label(d).replace("-", "")).isalpha()]
    typo_keys: list[str] = []
    for token in dict.fromkeys([*distinctive[:2], *labels]):
        if token.isalpha() and len(token) >= MIN_TYPO_TOKEN_LENGTH - 1:
            typo_keys += _typo_keys(token)
    # Slips are spelled out only for a name of one distinctive word: in a longer name another shared word
    # finds the registration anyway. Dropped letters (26 x (n + 1) spellings) only for a bare name-only one.
    slip_keys: list[str] = []
    if len(distinctive) == 1:
        bare_name_only = not features.domains and len(tokens) == 1
        for token in dict.fromkeys([distinctive[0], *labels]):
            if token.isalpha():
                slip_keys += [f"tok:{s}" for s in _slip_spellings(token, with_dropped_letter=bare_name_only)]
    return list(dict.fromkeys(keys)), list(dict.fromkeys(typo_keys)), list(dict.fromkeys(slip_keys))


class MatchIndex:
    """Blocking index over active registrations, kept current by add/remove."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}
        # hash(key) -> _Entry or list[_Entry]. Keys are stored by hash only: a collision merely adds a
        # candidate that scoring then rejects, and it saves a string per key at a million registrations.
        self._postings: dict[int, _Entry | list[_Entry]] = {}
        self._token_counts: dict[str, int] = {}
        self._product_sets: dict[frozenset[str], frozenset[str]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, deal_id: object) -> bool:
        return deal_id in self._entries

    def blocking_keys(self, profile: CustomerProfile) -> list[str]:
        """Stable key strings for a profile, strongest first (also usable as DB lock names)."""
        features = features_of(profile)
        return list(dict.fromkeys(_identifier_keys(features) + _stored_name_keys(features)))

    def identifier_keys(self, profile: CustomerProfile) -> list[str]:
        """The exact-identifier keys (registrable domains, tax id core, DUNS) of a profile."""
        return _identifier_keys(features_of(profile))

    def lookup_keys(self, profile: CustomerProfile) -> list[str]:
        """Every key find_matches looks up for a profile (stored keys plus typo, label and acronym spellings).

        Looking these up among other registrations' `blocking_keys` finds the same candidates the index
        would, so a database table of stored keys can stand in for registrations this index has not seen.
        """
        features = features_of(profile)
        name_keys, typo_keys, slip_keys = _query_name_keys(features)
        return list(dict.fromkeys(_identifier_keys(features) + name_keys + typo_keys + slip_keys))

    def selective_keys(self, keys: Iterable[str]) -> list[str]:
        """The keys worth looking up elsewhere (e.g. in the database): those this index does not find too common
        to score, by the same limits find_matches applies. The index is rebuilt from the database on start, so
        its counts stand for the database's."""
        chosen = []
        for key in keys:
            posting = self._postings.get(hash(key))
            size = 0 if posting is None else (1 if isinstance(posting, _Entry) else len(posting))
            limit = IDENTIFIER_KEY_LIMIT if key.startswith(("dom:", "tax:", "duns:")) else COMMON_KEY_LIMIT
            if size <= limit:
                chosen.append(key)
        return chosen

    def add(self, registration: IndexedRegistration) -> None:
        if registration.deal_id in self._entries:
            self.remove(registration.deal_id)
        features = self._compact(features_of(registration.profile))
        products = self._product_sets.setdefault(registration.products, registration.products)
        if products is not registration.products:
            registration = IndexedRegistration(
                registration.deal_id, registration.partner_key, registration.profile, products
            )
        entry = _Entry(registration, features)
        self._entries[registration.deal_id] = entry
        for key in dict.fromkeys(_identifier_keys(features) + _stored_name_keys(features)):
            self._post(hash(key), entry)
        for token in set(features.tokens):
            self._token_counts[token] = self._token_counts.get(token, 0) + 1

    def remove(self, deal_id: str) -> None:
        entry = self._entries.pop(deal_id, None)
        if entry is None:
            return
        features = entry.features
        for key in dict.fromkeys(_identifier_keys(features) + _stored_name_keys(features)):
            self._unpost(hash(key), entry)
        for token in set(features.tokens):
            remaining = self._token_counts[token] - 1
            if remaining:
                self._token_counts[token] = remaining
            else:
                del self._token_counts[token]

    def add_many(self, registrations: Iterable[IndexedRegistration]) -> None:
        for registration in registrations:
            self.add(registration)

    def token_weight(self, token: str) -> float:
        """Built-in generic-word weight, lowered further for words common in this index's corpus."""
        base = default_token_weight(token)
        total = len(self._entries)
        if total >= MIN_CORPUS_FOR_FREQUENCY and self._token_counts.get(token, 0) > total * COMMON_TOKEN_SHARE:
            return min(base, GENERIC_WORD_WEIGHT)
        return base

    def find_matches(self, registration: IndexedRegistration, *, min_band: str = "possible") -> list[Overlap]:
        """Registrations in the index for the same customer sharing >= 1 product, best first.

        min_band "review" also returns the weak "review" band (a signal for the desk, never a case on its own);
        the default "possible" returns only the bands that open cases.
        """
        thresholds = {"clear": CLEAR_THRESHOLD, "possible": POSSIBLE_THRESHOLD, "review": REVIEW_THRESHOLD}
        if min_band not in thresholds:
            raise ValueError(f"min_band must be 'review', 'possible' or 'clear', not {min_band!r}")
        threshold = thresholds[min_band]
        review_band = min_band == "review"
        features = features_of(registration.profile)
        candidates = self._candidates(registration, features)
        weight = self.token_weight
        overlaps: list[Overlap] = []
        for entry in candidates:
            if logistic(assess(features, entry.features, weight)) < threshold:
                continue
            other = entry.registration
            match = explain(registration.profile, other.profile, features, entry.features, weight,
                            review_band=review_band)
            if match.band == "none":  # under "possible", scored for "review" but the names do not agree
                continue
            overlaps.append(Overlap(
                other_deal_id=other.deal_id,
                other_partner_key=other.partner_key,
                match=match,
                shared_products=sorted(registration.products & other.products),
                same_partner=other.partner_key == registration.partner_key,
            ))
        overlaps.sort(key=lambda o: (-o.match.score, o.other_deal_id))
        return overlaps

    # -- internals ---------------------------------------------------------------------------------

    def _candidates(self, registration: IndexedRegistration, features: CustomerFeatures) -> list[_Entry]:
        name_keys, typo_keys, slip_keys = _query_name_keys(features)
        # A registration reached only through a typing slip in a short name needs the same country to get
        # anywhere (see scoring.backed_slip_similarity); a missing country backs nothing. Others are not scored.
        country = features.country
        tiers = (
            (_identifier_keys(features), IDENTIFIER_KEY_LIMIT, None),
            (name_keys, COMMON_KEY_LIMIT, None),
            (typo_keys, COMMON_KEY_LIMIT, None),
            (slip_keys, COMMON_KEY_LIMIT, country or ""),
        )
        products = registration.products
        own_id = registration.deal_id
        found: dict[int, _Entry] = {}
        for keys, limit, required_country in tiers:
            postings: list[tuple[int, Sequence[_Entry]]] = []
            for key in keys:
                posting = self._postings.get(hash(key))
                if posting is None:
                    continue
                if isinstance(posting, _Entry):
                    postings.append((1, (posting,)))
                elif len(posting) <= limit:
                    postings.append((len(posting), posting))
            postings.sort(key=lambda item: item[0])  # rarest key first: most specific evidence
            for _, entries in postings:
                for entry in entries:
                    if len(found) >= MAX_CANDIDATES:
                        return list(found.values())
                    other = entry.registration
                    if other.deal_id == own_id or products.isdisjoint(other.products):
                        continue
                    if required_country is not None and entry.features.country != required_country:
                        continue
                    found[id(entry)] = entry
        return list(found.values())

    def _compact(self, features: CustomerFeatures) -> CustomerFeatures:
        intern = sys.intern
        return CustomerFeatures(
            tokens=tuple(intern(t) for t in features.tokens),
            country=intern(features.country) if features.country else None,
            domains=tuple(intern(d) for d in features.domains),
            tax_id=features.tax_id,
            duns=features.duns,
        )

    def _post(self, key: int, entry: _Entry) -> None:
        posting = self._postings.get(key)
        if posting is None:
            self._postings[key] = entry
        elif isinstance(posting, _Entry):
            self._postings[key] = [posting, entry]
        else:
            posting.append(entry)

    def _unpost(self, key: int, entry: _Entry) -> None:
        posting = self._postings.get(key)
        if posting is None:
            return
        if isinstance(posting, _Entry):
            if posting is entry:
                del self._postings[key]
            return
        try:
            posting.remove(entry)
        except ValueError:
            return
        if len(posting) == 1:
            self._postings[key] = posting[0]

