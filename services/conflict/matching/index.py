"""In-memory blocking index of active registrations: finds overlap candidates through shared keys
(domain, tax id, DUNS, distinctive name tokens and token pairs), never by scanning."""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, overload

import numpy as np

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


class _SortedMultimap:
    """64-bit key -> 32-bit values, for a million registrations without a Python object per pair.

    Most pairs live in two sorted numpy arrays (keys, values) that a lookup searches by bisection; recent additions
    wait in a small dict and are merged in once there are MERGE_AT of them (one O(n) copy, tens of milliseconds at
    ten million pairs). Pairs are never removed one by one: the owner marks dead values, counts them per key
    (`forget`), and `keep` drops them all at once.
    """

    MERGE_AT = 65_536

    def __init__(self) -> None:
        self._keys = np.empty(0, dtype=np.int64)
        self._values = np.empty(0, dtype=np.int32)
        self._recent: dict[int, list[int]] = {}
        self._recent_pairs = 0
        self._dead: dict[int, int] = {}  # key -> how many of its values are dead (until `keep` drops them)

    def __len__(self) -> int:
        return len(self._keys) + self._recent_pairs

    def add(self, key: int, value: int) -> None:
        self._recent.setdefault(key, []).append(value)
        self._recent_pairs += 1
        if self._recent_pairs >= self.MERGE_AT:
            self.merge()

    def add_sorted_bulk(self, keys: np.ndarray, values: np.ndarray) -> None:
        """Many pairs at once (a rebuild): one stable sort instead of many merges."""
        self.merge()
        all_keys = np.concatenate((self._keys, keys))
        order = np.argsort(all_keys, kind="stable")
        self._keys = all_keys[order]
        self._values = np.concatenate((self._values, values))[order]

    def merge(self) -> None:
        if not self._recent_pairs:
            return
        keys = np.fromiter((k for k, vs in self._recent.items() for _ in vs), np.int64, self._recent_pairs)
        values = np.fromiter((v for vs in self._recent.values() for v in vs), np.int32, self._recent_pairs)
        order = np.argsort(keys, kind="stable")
        keys, values = keys[order], values[order]
        at = np.searchsorted(self._keys, keys, side="right")  # after the older values of the same key
        self._keys = np.insert(self._keys, at, keys)
        self._values = np.insert(self._values, at, values)
        self._recent.clear()
        self._recent_pairs = 0

    def forget(self, key: int) -> None:
        self._dead[key] = self._dead.get(key, 0) + 1

    def lookup(self, keys: Sequence[int]) -> list[tuple[int, list[int]]]:
        """For each key: how many live values it has, and its values (dead ones included: the caller skips them)."""
        if not keys:
            return []
        wanted = np.fromiter(keys, np.int64, len(keys))
        low = np.searchsorted(self._keys, wanted, side="left").tolist()
        high = np.searchsorted(self._keys, wanted, side="right").tolist()
        found = []
        for key, start, end in zip(keys, low, high, strict=True):
            values = self._values[start:end].tolist() if end > start else []
            recent = self._recent.get(key)
            if recent:
                values += recent
            found.append((len(values) - self._dead.get(key, 0), values))
        return found

    def keep(self, alive: np.ndarray, renumber: np.ndarray) -> None:
        """Drop the pairs whose value is dead (alive[value] false) and renumber the rest (renumber[value])."""
        self.merge()
        mask = alive[self._values]
        self._keys = self._keys[mask]
        self._values = renumber[self._values[mask]].astype(np.int32)
        self._dead.clear()


class _SortedCounter:
    """64-bit key -> count, like _SortedMultimap: sorted numpy arrays plus a small dict of keys not merged yet."""

    MERGE_AT = 65_536

    def __init__(self) -> None:
        self._keys = np.empty(0, dtype=np.int64)
        self._counts = np.empty(0, dtype=np.int32)
        self._recent: dict[int, int] = {}

    def get(self, key: int) -> int:
        count = self._recent.get(key, 0)
        at = int(np.searchsorted(self._keys, key))
        if at < len(self._keys) and self._keys[at] == key:
            count += int(self._counts[at])
        return count

    def add(self, key: int, delta: int) -> None:
        at = int(np.searchsorted(self._keys, key))
        if at < len(self._keys) and self._keys[at] == key:
            self._counts[at] += delta
            return
        self._recent[key] = self._recent.get(key, 0) + delta
        if len(self._recent) >= self.MERGE_AT:
            self.merge()

    def add_bulk(self, keys: np.ndarray) -> None:
        """Count every key once per occurrence (a rebuild)."""
        self.merge()
        unique, counts = np.unique(np.concatenate((self._keys, keys)), return_counts=True)
        existing = np.searchsorted(unique, self._keys)
        merged = counts.astype(np.int32)
        merged[existing] += self._counts - 1  # the existing keys were counted once by np.unique already
        self._keys, self._counts = unique, merged

    def merge(self) -> None:
        if not self._recent:
            return
        keys = np.fromiter(self._recent.keys(), np.int64, len(self._recent))
        counts = np.fromiter(self._recent.values(), np.int32, len(self._recent))
        order = np.argsort(keys)
        at = np.searchsorted(self._keys, keys[order])
        self._keys = np.insert(self._keys, at, keys[order])
        self._counts = np.insert(self._counts, at, counts[order])
        self._recent.clear()


_FIELD = "\x1f"
_NONE = "\x00"


def _pack(deal_id: str, features: CustomerFeatures, profile: CustomerProfile) -> bytes:
    """One registration's features and profile as one UTF-8 record; the name last, so it may hold anything."""
    def optional(value: str | None) -> str:
        return _NONE if value is None else value

    return _FIELD.join((
        deal_id, " ".join(features.tokens), optional(features.country), " ".join(features.domains),
        optional(features.tax_id), optional(features.duns), profile.country, optional(profile.domain),
        optional(profile.contact_email), optional(profile.tax_id), optional(profile.duns), profile.name,
    )).encode()


def _required(value: str) -> str | None:
    return None if value == _NONE else value


class MatchIndex:
    """Blocking index over active registrations, kept current by add/remove.

    Built for a million registrations per consumer process in a few hundred megabytes: no Python object per
    registration or per key. Each registration has a slot number; its features and profile are one UTF-8 record
    in a shared byte heap, its partner and product set are shared (interned) objects, and the blocking keys map
    to slots through sorted numpy arrays (_SortedMultimap), by the key's hash: a collision merely adds a candidate
    that scoring then rejects. A removed registration's slot is marked dead and skipped; once dead slots make up
    an eighth of all, the arrays and the heap are compacted and the live slots renumbered.
    """

    def __init__(self) -> None:
        self._heap = bytearray()
        self._offsets = array("q", [0])  # record of slot n: heap[offsets[n]:offsets[n + 1]]
        self._alive = bytearray()
        self._partners: list[str | None] = []
        self._products: list[frozenset[str] | None] = []
        self._ids = _SortedMultimap()  # hash(deal_id) -> slot
        self._postings = _SortedMultimap()  # hash(blocking key) -> slot
        self._token_counts = _SortedCounter()  # hash(token) -> live registrations with that token
        self._product_sets: dict[frozenset[str], frozenset[str]] = {}
        self._partner_keys: dict[str, str] = {}
        self._live = 0

    def __len__(self) -> int:
        return self._live

    def __contains__(self, deal_id: object) -> bool:
        return isinstance(deal_id, str) and self._slot_of(deal_id) is not None

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
        keys = list(keys)
        chosen = []
        for key, (size, _) in zip(keys, self._postings.lookup([hash(k) for k in keys]), strict=True):
            limit = IDENTIFIER_KEY_LIMIT if key.startswith(("dom:", "tax:", "duns:")) else COMMON_KEY_LIMIT
            if size <= limit:
                chosen.append(key)
        return chosen

    def add(self, registration: IndexedRegistration) -> None:
        if self._slot_of(registration.deal_id) is not None:
            self.remove(registration.deal_id)
        features = features_of(registration.profile)
        slot = self._new_slot(registration, features)
        self._ids.add(hash(registration.deal_id), slot)
        for key in dict.fromkeys(_identifier_keys(features) + _stored_name_keys(features)):
            self._postings.add(hash(key), slot)
        for token in set(features.tokens):
            self._token_counts.add(hash(token), 1)

    def add_many(self, registrations: Iterable[IndexedRegistration]) -> None:
        """Add many at once (a rebuild): their keys are sorted in one go rather than merged batch by batch."""
        ids, id_slots = array("q"), array("i")
        keys, key_slots = array("q"), array("i")
        tokens = array("q")
        for registration in registrations:
            if self._slot_of(registration.deal_id) is not None:
                self.add(registration)  # already there: the one-by-one path replaces it
                continue
            # Not through features_of's cache: a rebuild would fill it with registrations no query is about.
            features = features_of.__wrapped__(registration.profile)
            slot = self._new_slot(registration, features)
            ids.append(hash(registration.deal_id))
            id_slots.append(slot)
            for key in dict.fromkeys(_identifier_keys(features) + _stored_name_keys(features)):
                keys.append(hash(key))
                key_slots.append(slot)
            tokens.extend(hash(token) for token in set(features.tokens))
        self._ids.add_sorted_bulk(np.frombuffer(ids, np.int64), np.frombuffer(id_slots, np.int32))
        self._postings.add_sorted_bulk(np.frombuffer(keys, np.int64), np.frombuffer(key_slots, np.int32))
        self._token_counts.add_bulk(np.frombuffer(tokens, np.int64))
        # The same registration twice in the input: the later one stands, as if added one by one.
        hashes, counts = np.unique(np.frombuffer(ids, np.int64), return_counts=True)
        for repeated in hashes[counts > 1].tolist():
            latest: dict[str, int] = {}
            for slot in self._ids.lookup([repeated])[0][1]:
                if self._alive[slot]:
                    deal_id = self._deal_id(slot)
                    if deal_id in latest:
                        self._kill(min(slot, latest[deal_id]), deal_id)
                    latest[deal_id] = max(slot, latest.get(deal_id, slot))

    def remove(self, deal_id: str) -> None:
        slot = self._slot_of(deal_id)
        if slot is not None:
            self._kill(slot, deal_id)

    def _kill(self, slot: int, deal_id: str) -> None:
        features, _ = self._record(slot)
        self._alive[slot] = 0
        self._live -= 1
        self._partners[slot] = None
        self._products[slot] = None
        self._ids.forget(hash(deal_id))
        for key in dict.fromkeys(_identifier_keys(features) + _stored_name_keys(features)):
            self._postings.forget(hash(key))
        for token in set(features.tokens):
            self._token_counts.add(hash(token), -1)
        dead = len(self._alive) - self._live
        if dead > 1024 and dead * 8 > len(self._alive):
            self._compact()

    def token_weight(self, token: str) -> float:
        """Built-in generic-word weight, lowered further for words common in this index's corpus."""
        base = default_token_weight(token)
        total = self._live
        if total >= MIN_CORPUS_FOR_FREQUENCY and self._token_counts.get(hash(token)) > total * COMMON_TOKEN_SHARE:
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
        weights: dict[str, float] = {}

        def weight(token: str) -> float:  # one look-up per token and query, however many candidates share it
            found = weights.get(token)
            if found is None:
                found = weights[token] = self.token_weight(token)
            return found

        overlaps: list[Overlap] = []
        for slot, other_features in candidates:
            if logistic(assess(features, other_features, weight)) < threshold:
                continue
            _, (other_id, other_profile) = self._record(slot, with_profile=True)
            match = explain(registration.profile, other_profile, features, other_features, weight,
                            review_band=review_band)
            if match.band == "none":  # under "possible", scored for "review" but the names do not agree
                continue
            other_partner = self._partners[slot] or ""
            overlaps.append(Overlap(
                other_deal_id=other_id,
                other_partner_key=other_partner,
                match=match,
                shared_products=sorted(registration.products & (self._products[slot] or frozenset())),
                same_partner=other_partner == registration.partner_key,
            ))
        overlaps.sort(key=lambda o: (-o.match.score, o.other_deal_id))
        return overlaps

    # -- internals ---------------------------------------------------------------------------------

    def _new_slot(self, registration: IndexedRegistration, features: CustomerFeatures) -> int:
        slot = len(self._alive)
        self._heap += _pack(registration.deal_id, features, registration.profile)
        self._offsets.append(len(self._heap))
        self._alive.append(1)
        self._live += 1
        self._partners.append(self._partner_keys.setdefault(registration.partner_key, registration.partner_key))
        self._products.append(self._product_sets.setdefault(registration.products, registration.products))
        return slot

    def _slot_of(self, deal_id: str) -> int | None:
        for slot in self._ids.lookup([hash(deal_id)])[0][1]:
            if self._alive[slot] and self._deal_id(slot) == deal_id:
                return slot
        return None

    def _deal_id(self, slot: int) -> str:
        start = self._offsets[slot]
        return self._heap[start:self._heap.index(b"\x1f", start)].decode()

    @overload
    def _record(self, slot: int) -> tuple[CustomerFeatures, None]: ...

    @overload
    def _record(self, slot: int, *, with_profile: Literal[True]) -> tuple[
        CustomerFeatures, tuple[str, CustomerProfile]]: ...

    def _record(self, slot: int, *, with_profile: bool = False) -> tuple[
            CustomerFeatures, tuple[str, CustomerProfile] | None]:
        fields = self._heap[self._offsets[slot]:self._offsets[slot + 1]].decode().split(_FIELD, 11)
        features = CustomerFeatures(tokens=tuple(fields[1].split()), country=_required(fields[2]),
                                    domains=tuple(fields[3].split()), tax_id=_required(fields[4]),
                                    duns=_required(fields[5]))
        if not with_profile:
            return features, None
        profile = CustomerProfile(name=fields[11], country=fields[6], domain=_required(fields[7]),
                                  contact_email=_required(fields[8]), tax_id=_required(fields[9]),
                                  duns=_required(fields[10]))
        return features, (fields[0], profile)

    def _candidates(self, registration: IndexedRegistration,
                    features: CustomerFeatures) -> list[tuple[int, CustomerFeatures]]:
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
        all_keys = [hash(key) for keys, _, _ in tiers for key in keys]
        looked_up = iter(self._postings.lookup(all_keys))
        products = registration.products
        own_slot = self._slot_of(registration.deal_id)
        alive, product_sets = self._alive, self._products
        found: dict[int, CustomerFeatures] = {}
        for keys, limit, required_country in tiers:
            postings = [(size, slots) for size, slots in (next(looked_up) for _ in keys) if 0 < size <= limit]
            postings.sort(key=lambda item: item[0])  # rarest key first: most specific evidence
            for _, slots in postings:
                for slot in slots:
                    if len(found) >= MAX_CANDIDATES:
                        return list(found.items())
                    if slot in found or slot == own_slot or not alive[slot]:
                        continue
                    other_products = product_sets[slot]
                    if other_products is None or products.isdisjoint(other_products):
                        continue
                    other_features, _ = self._record(slot)
                    if required_country is not None and other_features.country != required_country:
                        continue
                    found[slot] = other_features
        return list(found.items())

    def _compact(self) -> None:
        """Drop dead slots everywhere and renumber the live ones (their order, hence first-come, is kept)."""
        alive = np.frombuffer(bytes(self._alive), dtype=np.uint8).astype(bool)
        renumber = (np.cumsum(alive) - 1).astype(np.int32)
        self._ids.keep(alive, renumber)
        self._postings.keep(alive, renumber)
        heap, offsets = bytearray(), array("q", [0])
        old_heap, old_offsets = self._heap, self._offsets
        for slot in np.flatnonzero(alive).tolist():
            heap += old_heap[old_offsets[slot]:old_offsets[slot + 1]]
            offsets.append(len(heap))
        self._heap, self._offsets = heap, offsets
        self._partners = [p for p, live in zip(self._partners, self._alive, strict=True) if live]
        self._products = [p for p, live in zip(self._products, self._alive, strict=True) if live]
        self._alive = bytearray(b"\x01" * self._live)

