"""Pairwise precision/recall of MatchIndex.find_matches against a labelled set (used by tests and bench).

A pair is *predicted* when find_matches returns it with band "possible" or "clear" (both reach a human
reviewer); "clear"-only figures are reported alongside. Pairs in the weak "review" band are reported on their
own and never count as predicted. A *true* pair is two registrations of the same customer cluster that share
at least one product (without a shared product there is no overlap to find).

When the truth names a kind per cluster (`"kinds": {cluster: kind}`), the figures are also given per kind:
a true pair has the kind of its cluster, a false positive counts against the kind of each of its two ends.

Measure a labelled set from the command line:

    .venv/bin/python -m services.conflict.matching.evaluation tests/data/matching_hard_cases.jsonl \
        tests/data/matching_hard_cases_truth.json
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Mapping
from itertools import combinations
from pathlib import Path
from typing import Any

from .index import IndexedRegistration, MatchIndex
from .scoring import CustomerMatch, CustomerProfile, compare_customers

MAX_EXAMPLES = 25
Pair = tuple[str, str]


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


def true_pairs(registrations: list[IndexedRegistration], clusters: Mapping[str, str]) -> set[Pair]:
    by_cluster: dict[str, list[IndexedRegistration]] = {}
    for registration in registrations:
        cluster = clusters.get(registration.deal_id)
        if cluster is not None:
            by_cluster.setdefault(cluster, []).append(registration)
    pairs: set[Pair] = set()
    for members in by_cluster.values():
        for a, b in combinations(members, 2):
            if not a.products.isdisjoint(b.products):
                pairs.add((min(a.deal_id, b.deal_id), max(a.deal_id, b.deal_id)))
    return pairs


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 1.0


def _by_kind(
    kind_of_id: Mapping[str, str], actual: set[Pair], predicted: set[Pair], review: set[Pair]
) -> dict[str, dict[str, Any]]:
    kinds = sorted(set(kind_of_id.values()))
    figures: dict[str, dict[str, Any]] = {}
    for kind in kinds:
        kind_actual = {p for p in actual if kind_of_id.get(p[0]) == kind}
        touching = {p for p in predicted if kind in (kind_of_id.get(p[0]), kind_of_id.get(p[1]))}
        tp = len(kind_actual & predicted)
        fp = len(touching - actual)
        figures[kind] = {
            "precision": _ratio(tp, tp + fp),
            "recall": _ratio(tp, len(kind_actual)),
            "tp": tp,
            "fp": fp,
            "fn": len(kind_actual) - tp,
            "true_pairs": len(kind_actual),
            "review_true": len(kind_actual & review),
            "review_false": len({p for p in review - actual if kind in (kind_of_id.get(p[0]), kind_of_id.get(p[1]))}),
        }
    return figures


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

    found: dict[Pair, CustomerMatch] = {}
    for registration in items:
        for overlap in index.find_matches(registration, min_band="review"):
            a, b = sorted((registration.deal_id, overlap.other_deal_id))
            found.setdefault((a, b), overlap.match)

    actual = true_pairs(items, clusters)
    if ids is not None:
        actual = {p for p in actual if p[0] in ids and p[1] in ids}
        found = {p: m for p, m in found.items() if p[0] in ids and p[1] in ids}
    predicted = {p: m for p, m in found.items() if m.band in ("possible", "clear")}
    review = {p for p, m in found.items() if m.band == "review"}
    clear = {p for p, m in predicted.items() if m.band == "clear"}

    def describe(pair: Pair, match: CustomerMatch | None = None) -> dict[str, Any]:
        left, right = by_id[pair[0]].profile, by_id[pair[1]].profile
        example: dict[str, Any] = {"ids": list(pair), "left": left.name, "right": right.name,
                                   "left_domain": left.domain, "right_domain": right.domain,
                                   "left_country": left.country, "right_country": right.country}
        if match is None:
            match = found.get(pair) or compare_customers(left, right)
        example["score"] = round(match.score, 4)
        example["band"] = match.band
        return example

    tp = len(predicted.keys() & actual)
    fp_pairs = sorted(predicted.keys() - actual)
    fn_pairs = sorted(actual - predicted.keys())
    clear_tp = len(clear & actual)
    review_tp = len(review & actual)
    result: dict[str, Any] = {
        "precision": _ratio(tp, len(predicted)),
        "recall": _ratio(tp, len(actual)),
        "tp": tp,
        "fp": len(fp_pairs),
        "fn": len(fn_pairs),
        "true_pairs": len(actual),
        "predicted_pairs": len(predicted),
        "clear_precision": _ratio(clear_tp, len(clear)),
        "clear_recall": _ratio(clear_tp, len(actual)),
        # The review band is a weak signal for the desk: reported here, never counted as predicted above.
        "review_pairs": len(review),
        "review_true": review_tp,
        "review_precision": _ratio(review_tp, len(review)),
        "recall_with_review": _ratio(tp + review_tp, len(actual)),
        "false_positives": [describe(p, predicted[p]) for p in fp_pairs[:MAX_EXAMPLES]],
        "false_negatives": [describe(p) for p in fn_pairs[:MAX_EXAMPLES]],
    }
    if isinstance(truth, Mapping) and isinstance(truth.get("kinds"), Mapping):
        kind_of_id = {deal_id: str(truth["kinds"][cluster]) for deal_id, cluster in clusters.items()
                      if cluster in truth["kinds"]}
        result["by_kind"] = _by_kind(kind_of_id, actual, set(predicted), review)
    return result


def held_out_ids(records: Iterable[Mapping[str, Any]], truth: Mapping[str, Any]) -> set[str]:
    """Ids of registrations whose organisation is in the "holdout" split (never inspected while tuning)."""
    return {str(r["id"]) for r in records if truth["split"][truth["clusters"][str(r["id"])]] == "holdout"}


def _summary(result: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("precision", "recall", "tp", "fp", "fn", "true_pairs", "clear_precision", "clear_recall",
            "review_pairs", "review_true")
    summary = {k: round(result[k], 4) if isinstance(result[k], float) else result[k] for k in keys}
    if "by_kind" in result:
        summary["by_kind"] = {kind: {k: round(v, 4) if isinstance(v, float) else v for k, v in figures.items()}
                              for kind, figures in result["by_kind"].items()}
    return summary


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description="Precision/recall of the matcher on a labelled set.")
    parser.add_argument("registrations", type=Path, help="JSON lines, one registration per line")
    parser.add_argument("truth", type=Path, help="JSON truth: clusters (+ optional split, kinds)")
    parser.add_argument("--errors", action="store_true", help="also print false positives and negatives")
    args = parser.parse_args(argv)
    records = [json.loads(line) for line in args.registrations.read_text("utf-8").splitlines() if line.strip()]
    truth = json.loads(args.truth.read_text("utf-8"))
    result = evaluate(records, truth)
    report: dict[str, Any] = {"all": _summary(result)}
    if isinstance(truth.get("split"), Mapping):
        report["holdout"] = _summary(evaluate(records, truth, ids=held_out_ids(records, truth)))
    if args.errors:
        report["false_positives"] = result["false_positives"]
        report["false_negatives"] = result["false_negatives"]
    print(json.dumps(report, indent=1, ensure_ascii=False))
    return report


if __name__ == "__main__":
    main()
