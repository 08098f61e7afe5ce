"""Same-customer scoring: combine domain, tax id, DUNS, name and country evidence into one score + band.

Each piece of evidence adds a log-odds weight; score = sigmoid(sum). Bands: "clear" (score >= 0.9),
"possible" (>= 0.5), "none". Every signal dict carries its "weight" so a reviewer sees why.

A fourth band, "review", is given only to callers that ask for it (`review_band=True`,
`find_matches(min_band="review")`): an ambiguous pair worth a look at the desk that must never open a case on
its own. It needs REVIEW_THRESHOLD <= score < 0.5 *and* names that agree (similarity >= REVIEW_NAME_SIMILARITY,
or one typing slip apart) and no identifier that differs (domain, tax id, DUNS): the same name in two countries,
or a short name one slip from another without a domain behind it. Names that differ in a distinctive word
("Leeds ..." / "Leicester ...") and namesakes with their own domains are never "review".
Without asking, such a pair is "none", as it always was.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz.distance import OSA

from shared.identity import (
    domain_label,
    host_of,
    is_free_mail,
    legal_form_words,
    normalise_duns,
    normalise_name,
    normalise_tax_id,
    registrable_domain,
    same_tax_id,
)
from shared.identity.vocabulary import ABBREVIATIONS, GENERIC_WORDS, ORGANISATIONAL_WORDS, REGION_WORDS

CLEAR_THRESHOLD = 0.9
POSSIBLE_THRESHOLD = 0.5
REVIEW_THRESHOLD = 0.25
REVIEW_NAME_SIMILARITY = 0.8
BANDS = ("none", "review", "possible", "clear")

# Log-odds contributions. A shared registrable domain or tax id outweighs a country mismatch and a weak
# name; two different domains outweigh an identical name (subsidiaries and namesakes have own domains).
W_DOMAIN_SAME = 5.0
W_DOMAIN_SAME_BRAND = 0.5  # siemens.de vs siemens.com -- or two namesakes with national domains
W_DOMAIN_DIFFERENT = -4.5
W_DOMAIN_SUPPORTS_NAME = 0.75  # ibm.com on one side, "IBM" or "International Business Machines" on the other
W_TAX_SAME = 7.0
W_TAX_DIFFERENT = -6.0
W_DUNS_SAME = 6.0
W_DUNS_DIFFERENT = -2.0  # DUNS numbers are per site, so two of them can still be one customer
W_COUNTRY_SAME = 0.5
W_COUNTRY_DIFFERENT = -4.0
W_COUNTRY_DIFFERENT_DESPITE_IDENTIFIER = -1.5  # multinationals register subsidiaries under the group domain
NAME_PIVOT = 0.7  # name similarity that is neutral evidence on its own
NAME_SLOPE = 10.0
NAME_MIN, NAME_MAX = -4.0, 3.0
ACRONYM_SIMILARITY = 0.6  # "IBM" vs initials of "International Business Machines": supporting, not decisive
# "Bunzl" vs "Bunzl Group Holdings": the bare brand stands for its group. A little below identical, so the
# reviewer sees the designators differ; enough for "clear" when the country agrees.
DESIGNATOR_SIMILARITY = 0.95
# One typing slip (swapped, doubled or dropped letter) in a short name of 5-7 letters counts fully only with
# evidence behind it: the other side carries a domain whose label spells one of the two spellings, and both are
# in one country. Even then the pair stays "possible" for a reviewer: Loews and Lowe's are one swap apart too.
SLIP_NAME_LENGTHS = range(5, 8)
# Short words are one letter from many other names (Bosch/Busch, Loews/Lowes, Daikin/Daiken, Nokia/Nokian,
# Marvel/Marvell): unless the names also share a distinctive word ("Webar Treuhand"/"Weber Treuhand"), a typing
# slip in a word of up to SHORT_EDIT_MAX_LENGTH letters is weak evidence without a domain behind it, enough for
# the "review" band, and a substituted letter is none. Below SHORT_TOKEN_LENGTH + 1 letters that holds always.
SHORT_TOKEN_LENGTH = 5
SHORT_EDIT_MAX_LENGTH = 7
UNBACKED_SHORT_SLIP_SIMILARITY = 0.6
UNMATCHED_SECOND_SIDE_FACTOR = 0.5

# Words that only say how a company is organised around its brand: "Bunzl" is "Bunzl Holdings", "Bunzl Group"
# and "The Bunzl Group of Companies". A bare brand may stand for any of them (canonical forms, see ABBREVIATIONS).
DESIGNATOR_WORDS: frozenset[str] = frozenset("""
holdings group company companies
""".split())

GENERIC_WORD_WEIGHT = 0.4
ORGANISATIONAL_WORD_WEIGHT = 0.2
TokenWeights = Mapping[str, float] | Callable[[str], float] | None

_COUNTRY_ALIASES = {"UK": "GB", "EL": "GR"}


@dataclass(frozen=True, slots=True)
class CustomerProfile:
    name: str
    country: str
    domain: str | None = None
    # The contact's e-mail address, or (what registrations carry, see contact_for_matching) only its domain:
    # either way only its registrable domain is compared.
    contact_email: str | None = None
    tax_id: str | None = None
    duns: str | None = None

    @classmethod
    def from_registration(cls, customer: dict, contact: dict | None) -> CustomerProfile:
        contact = contact or {}
        return cls(
            name=str(customer.get("name") or ""),
            country=str(customer.get("country") or ""),
            domain=customer.get("domain") or None,
            contact_email=contact.get("email_domain") or contact.get("email") or None,
            tax_id=customer.get("tax_id") or None,
            duns=customer.get("duns") or None,
        )


def contact_for_matching(contact: Any) -> dict[str, str | None] | None:
    """All conflict keeps of a registration's contact: `{"email_domain": registrable domain or None}`.

    deals.registrations.v1 carries only that since personal data stays in deals; events published before carried
    the whole contact (name and e-mail), and for those the domain is derived here and the rest dropped.
    """
    if not isinstance(contact, dict) or not contact:
        return None
    value = contact.get("email_domain") or contact.get("email")
    return {"email_domain": registrable_domain(value) if isinstance(value, str) else None}


@dataclass(frozen=True, slots=True)
class CustomerFeatures:
    """The comparable, normalised facts of one profile; what the index stores per registration."""

    tokens: tuple[str, ...]
    country: str | None
    domains: tuple[str, ...]  # registrable, free-mail excluded; website first, then e-mail
    tax_id: str | None
    duns: str | None


@dataclass(slots=True)
class CustomerMatch:
    score: float
    band: str
    signals: list[dict[str, Any]] = field(default_factory=list)

    def to_evidence(self) -> dict[str, Any]:
        return {"score": round(self.score, 4), "band": self.band, "signals": self.signals}


def normalise_country(value: str | None) -> str | None:
    if not value:
        return None
    code = value.strip().upper()
    code = _COUNTRY_ALIASES.get(code, code)
    return code if len(code) == 2 and code.isalpha() else None


def profile_domains(profile: CustomerProfile) -> tuple[str, ...]:
    found: list[str] = []
    for value in (profile.domain, profile.contact_email):
        domain = registrable_domain(value)
        if domain and domain not in found:
            found.append(domain)
    return tuple(found)


@functools.lru_cache(maxsize=100_000)
def features_of(profile: CustomerProfile) -> CustomerFeatures:
    return CustomerFeatures(
        tokens=normalise_name(profile.name).tokens,
        country=normalise_country(profile.country),
        domains=profile_domains(profile),
        tax_id=normalise_tax_id(profile.tax_id),
        duns=normalise_duns(profile.duns),
    )


def default_token_weight(token: str) -> float:
    if token in ORGANISATIONAL_WORDS:
        return ORGANISATIONAL_WORD_WEIGHT
    if token in GENERIC_WORDS or token in REGION_WORDS:  # "Asseco Poland" is Asseco
        return GENERIC_WORD_WEIGHT
    if len(token) == 1:
        return 0.3
    return 1.0


def _weight_function(token_weights: TokenWeights) -> Callable[[str], float]:
    if token_weights is None:
        return default_token_weight
    if callable(token_weights):
        return token_weights
    mapping = token_weights
    return lambda token: mapping.get(token, default_token_weight(token))


def token_similarity(a: str, b: str) -> float:
    """1.0 for equal tokens, 1 - edits/length for a typo-distance pair, else 0. Short tokens must be equal,
    or (5 letters at most) one typing slip apart, which counts only weakly (see UNBACKED_SHORT_SLIP_SIMILARITY)."""
    if a == b:
        return 1.0
    if max(len(a), len(b)) <= SHORT_TOKEN_LENGTH:
        slip = min(len(a), len(b)) >= 4 and (typing_slip(a, b) or typing_slip(b, a))
        return UNBACKED_SHORT_SLIP_SIMILARITY if slip else 0.0
    shortest = min(len(a), len(b))
    if shortest < 5 or abs(len(a) - len(b)) > 1 or not (a.isalpha() and b.isalpha()):
        return 0.0
    allowed = 1 if shortest < 9 else 2
    edits = OSA.distance(a, b, score_cutoff=allowed)
    if edits > allowed:
        return 0.0
    return 1.0 - edits / max(len(a), len(b))


def typing_slip(typed: str, meant: str) -> str | None:
    """"transposed", "doubled" or "dropped" when `typed` is `meant` with one such slip, else None.

    Substituted letters are not slips: "Bauer"/"Bayer" and "Sage"/"Saga" are different names more often than typos.
    """
    if len(typed) == len(meant):
        differ = [i for i, (a, b) in enumerate(zip(typed, meant, strict=True)) if a != b]
        if len(differ) == 2 and differ[1] == differ[0] + 1 and typed[differ[0]] == meant[differ[1]] \
                and typed[differ[1]] == meant[differ[0]]:
            return "transposed"
        return None
    if len(typed) == len(meant) + 1:
        doubled = any(typed[i] == typed[i + 1] and typed[:i] + typed[i + 1 :] == meant for i in range(len(typed) - 1))
        return "doubled" if doubled else None
    if len(typed) + 1 == len(meant):
        return "dropped" if any(meant[:i] + meant[i + 1 :] == typed for i in range(len(meant))) else None
    return None


def label_spells(label: str, name: str) -> bool:
    """Whether a domain label spells `name`, alone or with a legal form or generic word: "halma", "genusplc",
    "elbitsystems", "thecloroxcompany" -- but not "nokiantyres" for "nokian", which names another word too."""
    label = label.removeprefix("the") if not name.startswith("the") else label
    if not label.startswith(name):
        return False
    rest = label[len(name) :]
    return not rest or rest in GENERIC_WORDS or rest in ABBREVIATIONS or rest in legal_form_words()


def backed_slip_similarity(a: str, b: str, labels: tuple[str, ...]) -> float:
    """Similarity of two tokens one typing slip apart when a domain label spells the short name (5-7 letters)
    of one of them: "hama"/"halma" with halma.com. 0.0 when that evidence is missing."""
    for typed, meant in ((a, b), (b, a)):
        if len(meant) in SLIP_NAME_LENGTHS and any(label_spells(label, meant) for label in labels) \
                and typing_slip(typed, meant):
            return 1.0 - 1.0 / len(meant)
    return 0.0


def describe_slip(a: str, b: str, labels: tuple[str, ...]) -> dict[str, Any] | None:
    """For the reviewer: which spelling has which typing slip, and the domain label backing it (if any)."""
    for typed, meant in ((a, b), (b, a)):
        slip = typing_slip(typed, meant)
        if slip:
            backing = next(
                (label for label in labels if len(meant) in SLIP_NAME_LENGTHS and label_spells(label, meant)), None
            )
            return {"typed": typed, "meant": meant, "slip": slip, "backed_by_domain_label": backing}
    return None


def initials(tokens: tuple[str, ...]) -> str:
    return "".join(token[0] for token in tokens)


@dataclass(slots=True)
class NameComparison:
    similarity: float
    method: str  # "tokens", "joined" (spacing differs only), "designator" (bare brand vs its group), "acronym"
    pairs: list[tuple[str, str, float]]  # (left token, right token, token similarity)
    unmatched_left: list[str]
    unmatched_right: list[str]
    slips: list[dict[str, Any]] = field(default_factory=list)  # aligned pairs one typing slip apart, see describe_slip


def compare_names(
    left: tuple[str, ...],
    right: tuple[str, ...],
    weight: Callable[[str], float],
    slip_labels: tuple[str, ...] = (),
) -> NameComparison:
    """Weighted token alignment: how much of each side's distinctive weight is explained by the other.

    `slip_labels` are the domain labels that may back a typing slip in a short name (see backed_slip_similarity);
    the caller passes them only when the evidence around the names allows it.
    """
    if not left or not right:
        return NameComparison(0.0, "tokens", [], list(left), list(right))
    if left == right:
        return NameComparison(1.0, "tokens", [(t, t, 1.0) for t in left], [], [])
    candidates = []
    for i, a in enumerate(left):
        for j, b in enumerate(right):
            sim = token_similarity(a, b)
            if slip_labels and sim < 1.0:
                sim = max(sim, backed_slip_similarity(a, b, slip_labels))
            if sim:
                candidates.append((sim, i, j))
    if any(sim < 1.0 for sim, _, _ in candidates) and not any(
        sim == 1.0 and weight(left[i]) >= 1.0 for sim, i, _ in candidates
    ):
        candidates = [(short, i, j) for sim, i, j in candidates
                      if (short := _short_edit_similarity(left[i], right[j], sim, slip_labels))]
    candidates.sort(reverse=True)
    used_left: set[int] = set()
    used_right: set[int] = set()
    pairs: list[tuple[str, str, float]] = []
    paired_weight = paired_similarity = 0.0
    for sim, i, j in candidates:
        if i in used_left or j in used_right:
            continue
        used_left.add(i)
        used_right.add(j)
        pairs.append((left[i], right[j], sim))
        pair_weight = weight(left[i]) + weight(right[j])
        paired_weight += pair_weight
        paired_similarity += sim * pair_weight
    total_left = sum(weight(t) for t in left)
    total_right = sum(weight(t) for t in right)
    unexplained_left = sum(weight(t) for i, t in enumerate(left) if i not in used_left) / total_left
    unexplained_right = sum(weight(t) for j, t in enumerate(right) if j not in used_right) / total_right
    # Extra words on one side ("Acme" vs "Acme Holdings") cost less than words that conflict on both
    # sides ("Acadia Healthcare" vs "Acadia Pharmaceuticals"); typos scale the aligned part.
    coverage = 1.0 - max(unexplained_left, unexplained_right) - UNMATCHED_SECOND_SIDE_FACTOR * min(
        unexplained_left, unexplained_right
    )
    alignment = paired_similarity / paired_weight if paired_weight else 0.0
    similarity = max(0.0, min(1.0, coverage * alignment))
    method = "tokens"
    if similarity < 1.0 and "".join(left) == "".join(right):
        similarity, method = 1.0, "joined"  # "Coca Cola" vs "CocaCola"
    if similarity < DESIGNATOR_SIMILARITY and _is_designator_pair(left, right, weight):
        similarity, method = DESIGNATOR_SIMILARITY, "designator"
    if similarity < ACRONYM_SIMILARITY and _is_acronym_pair(left, right):
        similarity, method = ACRONYM_SIMILARITY, "acronym"
    unmatched_left = [t for i, t in enumerate(left) if i not in used_left]
    unmatched_right = [t for j, t in enumerate(right) if j not in used_right]
    slips = [slip for a, b, sim in pairs if sim < 1.0 and (slip := describe_slip(a, b, slip_labels))]
    return NameComparison(similarity, method, pairs, unmatched_left, unmatched_right, slips)


def _short_edit_similarity(a: str, b: str, similarity: float, slip_labels: tuple[str, ...]) -> float:
    """The similarity of a one-letter edit in a short word (7 letters at most) when the names share no other
    distinctive word: "Daikin"/"Daiken", "Nokia"/"Nokian", "Marvel"/"Marvell" are other names as often as typos.
    A substituted letter counts for nothing, a typing slip only weakly unless a domain backs it."""
    if similarity >= 1.0 or max(len(a), len(b)) > SHORT_EDIT_MAX_LENGTH:
        return similarity
    backed = backed_slip_similarity(a, b, slip_labels)
    if backed:
        return backed
    return UNBACKED_SHORT_SLIP_SIMILARITY if typing_slip(a, b) or typing_slip(b, a) else 0.0


def _is_designator_pair(left: tuple[str, ...], right: tuple[str, ...], weight: Callable[[str], float]) -> bool:
    """A bare brand against its designated form: "bunzl" vs "bunzl group holdings", "tate lyle" vs "tate lyle group".

    One side must be bare: "Apex Holdings" vs "Apex Logistics" are two companies, and so, possibly, are
    "Apex Holdings" and "Apex Group". The brand must be distinctive: "Capital" is not "Capital Group".
    """
    if DESIGNATOR_WORDS.isdisjoint(left) and DESIGNATOR_WORDS.isdisjoint(right):
        return False
    brand_left = tuple(t for t in left if t not in DESIGNATOR_WORDS)
    brand_right = tuple(t for t in right if t not in DESIGNATOR_WORDS)
    if not brand_left or brand_left != brand_right or (brand_left != left and brand_right != right):
        return False
    return any(weight(t) >= 1.0 for t in brand_left)


def _is_acronym_pair(left: tuple[str, ...], right: tuple[str, ...]) -> bool:
    for short, long in ((left, right), (right, left)):
        if len(short) == 1 and len(long) >= 2 and 2 <= len(short[0]) <= 6 and short[0] == initials(long):
            return True
    return False


def _name_weight(similarity: float) -> float:
    return max(NAME_MIN, min(NAME_MAX, NAME_SLOPE * (similarity - NAME_PIVOT)))


def _domain_supports_name(domains: tuple[str, ...], tokens: tuple[str, ...]) -> str | None:
    """The domain whose label spells the other side's name, its initials, or its distinctive first word."""
    if not tokens:
        return None
    spellings = {"".join(tokens)}
    if len(tokens) >= 2:
        spellings.add(initials(tokens))
    if len(tokens[0]) >= 4 and tokens[0] not in GENERIC_WORDS:
        spellings.add(tokens[0])
    for domain in domains:
        label = domain_label(domain).replace("-", "")
        if len(label) >= 2 and label in spellings:
            return domain
    return None


def _slip_labels(left: CustomerFeatures, right: CustomerFeatures, identifier_conflict: bool) -> tuple[str, ...]:
    """The domain labels that may back a typing slip in a short name: exactly one side carries a domain, both
    sides name the same country, and no identifier contradicts the pair."""
    if identifier_conflict or not left.country or left.country != right.country:
        return ()
    if bool(left.domains) == bool(right.domains):
        return ()
    return tuple(domain_label(d).replace("-", "") for d in left.domains or right.domains)


def assess(
    left: CustomerFeatures,
    right: CustomerFeatures,
    weight: Callable[[str], float] = default_token_weight,
    signals: list[dict[str, Any]] | None = None,
) -> float:
    """Total log-odds that both features describe one customer; appends evidence dicts when given a list."""
    total = 0.0
    strong_identifier = False
    identifier_conflict = False

    if left.tax_id and right.tax_id:
        same = same_tax_id(left.tax_id, right.tax_id)
        w = W_TAX_SAME if same else W_TAX_DIFFERENT
        strong_identifier |= same
        identifier_conflict |= not same
        total += w
        if signals is not None:
            signals.append({"kind": "tax_id", "relation": "same" if same else "different",
                            "left": left.tax_id, "right": right.tax_id, "weight": w})

    if left.duns and right.duns:
        same = left.duns == right.duns
        w = W_DUNS_SAME if same else W_DUNS_DIFFERENT
        strong_identifier |= same
        identifier_conflict |= not same
        total += w
        if signals is not None:
            signals.append({"kind": "duns", "relation": "same" if same else "different",
                            "left": left.duns, "right": right.duns, "weight": w})

    if left.domains and right.domains:
        shared = [d for d in left.domains if d in right.domains]
        if shared:
            relation, w, value = "same", W_DOMAIN_SAME, shared[0]
            strong_identifier = True
        else:
            left_labels = {domain_label(d) for d in left.domains}
            brand = next((d for d in right.domains if domain_label(d) in left_labels), None)
            if brand:
                relation, w, value = "same_brand", W_DOMAIN_SAME_BRAND, domain_label(brand)
            else:
                relation, w, value = "different", W_DOMAIN_DIFFERENT, None
        total += w
        if signals is not None:
            signals.append({"kind": "domain", "relation": relation, "value": value,
                            "left": list(left.domains), "right": list(right.domains), "weight": w})
    else:
        supporting = _domain_supports_name(left.domains, right.tokens) or _domain_supports_name(
            right.domains, left.tokens
        )
        if supporting:
            total += W_DOMAIN_SUPPORTS_NAME
            if signals is not None:
                signals.append({"kind": "domain", "relation": "spells_other_name", "value": supporting,
                                "left": list(left.domains), "right": list(right.domains),
                                "weight": W_DOMAIN_SUPPORTS_NAME})

    names = compare_names(left.tokens, right.tokens, weight, _slip_labels(left, right, identifier_conflict))
    w = _name_weight(names.similarity)
    total += w
    if signals is not None:
        signals.append({
            "kind": "name",
            "similarity": round(names.similarity, 4),
            "method": names.method,
            "left_tokens": list(left.tokens),
            "right_tokens": list(right.tokens),
            "shared_tokens": [a for a, b, sim in names.pairs if sim == 1.0],
            "fuzzy_tokens": [[a, b, round(sim, 3)] for a, b, sim in names.pairs if sim < 1.0],
            "slips": names.slips,
            "unmatched_left": names.unmatched_left,
            "unmatched_right": names.unmatched_right,
            "weight": round(w, 4),
        })

    if left.country and right.country:
        same = left.country == right.country
        w = W_COUNTRY_SAME if same else (
            W_COUNTRY_DIFFERENT_DESPITE_IDENTIFIER if strong_identifier else W_COUNTRY_DIFFERENT
        )
        total += w
        if signals is not None:
            signals.append({"kind": "country", "relation": "same" if same else "different",
                            "left": left.country, "right": right.country, "weight": w,
                            "overridden_by_identifier": (not same) and strong_identifier})
    return total


def band_for(score: float, *, review_band: bool = False, review_worthy: bool = False) -> str:
    """The band of a score; "review" only when asked for and the evidence is worth it (see module doc)."""
    if score >= CLEAR_THRESHOLD:
        return "clear"
    if score >= POSSIBLE_THRESHOLD:
        return "possible"
    if review_band and review_worthy and score >= REVIEW_THRESHOLD:
        return "review"
    return "none"


def review_worthy(signals: list[dict[str, Any]]) -> bool:
    """Whether a weak pair deserves the desk's look: the names agree (near-identical, or one typing slip apart)
    and no identifier says these are two customers."""
    if any(s["kind"] in ("domain", "tax_id", "duns") and s["relation"] == "different" for s in signals):
        return False
    name = next((s for s in signals if s["kind"] == "name"), None)
    return name is not None and (name["similarity"] >= REVIEW_NAME_SIMILARITY or bool(name["slips"]))


def logistic(log_odds: float) -> float:
    return 1.0 / (1.0 + math.exp(-log_odds))


def explain(
    left_profile: CustomerProfile,
    right_profile: CustomerProfile,
    left: CustomerFeatures,
    right: CustomerFeatures,
    weight: Callable[[str], float] = default_token_weight,
    *,
    review_band: bool = False,
) -> CustomerMatch:
    """Full decision with reviewer evidence (original names, division tags, legal forms, free-mail notes)."""
    signals: list[dict[str, Any]] = []
    score = logistic(assess(left, right, weight, signals))
    left_name, right_name = normalise_name(left_profile.name), normalise_name(right_profile.name)
    for signal in signals:
        if signal["kind"] == "name":
            signal.update({
                "left": left_profile.name, "right": right_profile.name,
                "left_normalised": left_name.folded, "right_normalised": right_name.folded,
                "left_division": left_name.division, "right_division": right_name.division,
                "left_legal_form": left_name.legal_form, "right_legal_form": right_name.legal_form,
            })
    for side, profile in (("left", left_profile), ("right", right_profile)):
        for field_name, value in (("domain", profile.domain), ("contact_email", profile.contact_email)):
            host = host_of(value)
            if host and is_free_mail(host):
                signals.append({"kind": "free_mail", "side": side, "field": field_name, "value": host,
                                "weight": 0.0, "note": "free-mail domain ignored as customer evidence"})
    band = band_for(score, review_band=review_band, review_worthy=review_band and review_worthy(signals))
    return CustomerMatch(score=score, band=band, signals=signals)


def compare_customers(
    a: CustomerProfile, b: CustomerProfile, *, token_weights: TokenWeights = None, review_band: bool = False
) -> CustomerMatch:
    """Score two profiles. `review_band=True` names weak pairs "review" instead of "none" (see module doc)."""
    return explain(a, b, features_of(a), features_of(b), _weight_function(token_weights), review_band=review_band)
