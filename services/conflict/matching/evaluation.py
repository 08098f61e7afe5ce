"""Pairwise precision/recall of MatchIndex.find_matches against a labelled set (used by tests and bench).

A pair is *predicted* when find_matches returns it with band "possible" or "clear" (both reach a human
reviewer); "clear"-only figures are reported alongside. A *true* pair is two registrations of the same
customer cluster that share at least one product (without a shared product there is no overlap to find).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import combinations
from typing import Any

from .index import IndexedRegistration, MatchIndex
from .scoring import CustomerProfile, compare_customers

MAX_EXAMPLES = 25


def registration_from_record(record: Mapping[str, Any]) -> IndexedRegistration:
    """A JSON-lines record {"id", "partner_key", "customer", "contact", "products"} as an IndexedRegistration."""
    return IndexedRegistration(
        deal_id=str(record["id"]),
        partner_key=str(record["partner_key"]),
        profile=CustomerProfile.from_registration(record["customer"], record.get("contact")),
        products=frozenset(record["products"]),
    )


def _clusters(truth: Any) -> dict[str, str]:
    """Accepts {"clusters": {id: cluster}}, a plain {id: cluster} mapping, or {"pairs": [[a, b], ...]}."""
    if isinstance(truth, Mapping) and "clusters" in truth:
        return {str(k): str(v) for k, v in truth["clusters"].items()}
    if isinstance(truth, Mapping) and "pairs" in truth:
        parent: dict[str, str] = {}

        def find(x: str) -> str:
            while parent.setdefault(x, x) != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for a, b in truth["pairs"]:
            parent[find(str(a))] = find(str(b))
        return {x: find(x) for x in list(parent)}
    return {str(k): str(v) for k, v in truth.items()}


def true_pairs(registrations: list[IndexedRegistration], clusters: Mapping[str, str]) -> set[tuple[str, str]]:
    by_cluster: dict[str, list[IndexedRegistration]] = {}
    for registration in registrations:
        cluster = clusters.get(registration.deal_id)
        if cluster is not None:
            by_cluster.setdefault(cluster, []).append(registration)
    pairs: set[tuple[str, str]] = set()
    for members in by_cluster.values():
        for a, b in combinations(members, 2):
            if not a.products.isdisjoint(b.products):
                pairs.add((min(a.deal_id, b.deal_id), max(a.deal_id, b.deal_id)))
    return pairs


def evaluate(registrations: Iterable[Any], truth: Any, *, ids: set[str] | None = None) -> dict[str, Any]:
    """Index all registrations, query each one, and score predicted pairs against the truth.

    `ids` restricts the scored pairs to those with both ends in the set (e.g. a held-out split),
    while the index still holds every registration, as in production.
    """
    items = [r if isinstance(r, IndexedRegistration) else registration_from_record(r) for r in registrations]
    clusters = _clusters(truth)
    index = MatchIndex()
    index.add_many(items)
    by_id = {r.deal_id: r for r in items}

    predicted: dict[tuple[str, str], Any] = {}
    for registration in items:
        for overlap in index.find_matches(registration, min_band="possible"):
            a, b = sorted((registration.deal_id, overlap.other_deal_id))
            predicted.setdefault((a, b), overlap.match)

    actual = true_pairs(items, clusters)
    if ids is not None:
        actual = {p for p in actual if p[0] in ids and p[1] in ids}
        predicted = {p: m for p, m in predicted.items() if p[0] in ids and p[1] in ids}
    clear = {p for p, m in predicted.items() if m.band == "clear"}

    def describe(pair: tuple[str, str], match: Any = None) -> dict[str, Any]:
        left, right = by_id[pair[0]].profile, by_id[pair[1]].profile
        example: dict[str, Any] = {"ids": list(pair), "left": left.name, "right": right.name,
                                   "left_domain": left.domain, "right_domain": right.domain}
        if match is None:
            match = compare_customers(left, right)
        example["score"] = round(match.score, 4)
        example["band"] = match.band
        return example

    tp = len(predicted.keys() & actual)
    fp_pairs = sorted(predicted.keys() - actual)
    fn_pairs = sorted(actual - predicted.keys())
    clear_tp = len(clear & actual)
    return {
        "precision": tp / len(predicted) if predicted else 1.0,
        "recall": tp / len(actual) if actual else 1.0,
        "tp": tp,
        "fp": len(fp_pairs),
        "fn": len(fn_pairs),
        "true_pairs": len(actual),
        "predicted_pairs": len(predicted),
        "clear_precision": clear_tp / len(clear) if clear else 1.0,
        "clear_recall": clear_tp / len(actual) if actual else 1.0,
        "false_positives": [describe(p, predicted[p]) for p in fp_pairs[:MAX_EXAMPLES]],
        "false_negatives": [describe(p) for p in fn_pairs[:MAX_EXAMPLES]],
    }
