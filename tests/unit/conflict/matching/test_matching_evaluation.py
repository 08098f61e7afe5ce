"""Precision/recall of the matcher on the labelled set in tests/data (pairs predicted = band possible or clear)."""

import json
from pathlib import Path

import pytest

from services.conflict.matching.evaluation import evaluate

DATA = Path(__file__).resolve().parents[4] / "tests" / "data"


@pytest.fixture(scope="module")
def labelled():
    records = [json.loads(line) for line in (DATA / "matching_registrations.jsonl").read_text("utf-8").splitlines()]
    truth = json.loads((DATA / "matching_truth.json").read_text("utf-8"))
    return records, truth


def test_labelled_set_is_large_and_has_duplicates(labelled):
    records, truth = labelled
    assert len(records) >= 1000
    assert len(set(truth["clusters"].values())) < len(records)
    assert {"holdout", "dev"} == set(truth["split"].values())


def test_precision_and_recall_on_whole_labelled_set(labelled):
    result = evaluate(*labelled)
    assert result["true_pairs"] >= 500
    # Measured: precision 0.997 (the four false positives are two organisations of one name in the set),
    # recall 0.987 (was 0.981 before tags without separator, slip correction and three-letter tax prefixes).
    assert result["precision"] >= 0.995, result["false_positives"]
    assert result["recall"] >= 0.985, result["false_negatives"]
    assert result["tp"] + result["fn"] == result["true_pairs"]
    assert result["tp"] + result["fp"] == result["predicted_pairs"]


def test_precision_and_recall_on_held_out_organisations(labelled):
    # Organisations never inspected while tuning. The targets are asserted on the whole set above; this
    # guard is looser on purpose so nobody tunes to it (measured: precision 0.991, recall 0.981).
    records, truth = labelled
    held_out = {r["id"] for r in records if truth["split"][truth["clusters"][r["id"]]] == "holdout"}
    result = evaluate(records, truth, ids=held_out)
    assert result["true_pairs"] >= 200
    assert result["precision"] >= 0.95
    assert result["recall"] >= 0.95


def test_evaluate_accepts_pairs_and_reports_errors():
    records = [
        {"id": "a", "partner_key": "p1", "customer": {"name": "Acme Widgets", "country": "DE"}, "contact": None,
         "products": ["x"]},
        {"id": "b", "partner_key": "p2", "customer": {"name": "ACME Widgets GmbH", "country": "DE"}, "contact": None,
         "products": ["x"]},
        {"id": "c", "partner_key": "p3", "customer": {"name": "Zentrix", "country": "DE"}, "contact": None,
         "products": ["x"]},
        {"id": "d", "partner_key": "p4", "customer": {"name": "Quorvane", "country": "DE"}, "contact": None,
         "products": ["x"]},
    ]
    result = evaluate(records, {"pairs": [["a", "b"], ["c", "d"]]})
    assert (result["tp"], result["fp"], result["fn"]) == (1, 0, 1)
    assert result["precision"] == 1.0 and result["recall"] == 0.5
    assert result["false_negatives"][0]["ids"] == ["c", "d"]


def test_review_band_is_reported_apart_from_predicted_pairs(labelled):
    records, truth = labelled
    result = evaluate(records, truth)
    # Review pairs never count as predicted: recall with them is at least recall without.
    assert result["review_pairs"] > 0
    assert result["recall_with_review"] >= result["recall"]
    assert result["review_true"] <= result["review_pairs"]
