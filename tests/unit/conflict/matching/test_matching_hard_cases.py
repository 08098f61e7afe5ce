"""Precision/recall on the labelled hard-case set (tests/data/matching_hard_cases*), per kind of former miss.

Measured when written (precision / recall, all organisations): regional_tag 1.000 / 1.000, short_name_slip
1.000 / 0.996, designator 1.000 / 1.000; over the whole set 0.998 / 0.985 (the false positive is Loews vs
Lowe's with lowes.com: one transposed letter in a short name, indistinguishable from a typo; the misses are
within the negative families, e.g. "UNFI" vs "United Natural Foods"). Before this work: regional_tag recall
0.640, short_name_slip 0.807, whole set 0.987 / 0.821. Thresholds leave a small margin below the measured values.
"""

import importlib.util
import json
from pathlib import Path

import pytest

from services.conflict.matching.evaluation import evaluate, held_out_ids

DATA = Path(__file__).resolve().parents[4] / "tests" / "data"
KINDS_OF_MISS = ("regional_tag", "short_name_slip", "designator")


@pytest.fixture(scope="module")
def hard_cases():
    records = [json.loads(line) for line in (DATA / "matching_hard_cases.jsonl").read_text("utf-8").splitlines()]
    truth = json.loads((DATA / "matching_hard_cases_truth.json").read_text("utf-8"))
    return records, truth


@pytest.fixture(scope="module")
def result(hard_cases):
    return evaluate(*hard_cases)


def test_the_committed_set_is_what_the_generator_makes(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("generate_hard_cases", DATA / "generate_matching_hard_cases.py")
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    monkeypatch.setattr(generator, "HERE", tmp_path)
    generator.main()
    for name in ("matching_hard_cases.jsonl", "matching_hard_cases_truth.json"):
        assert (tmp_path / name).read_bytes() == (DATA / name).read_bytes(), name


def test_every_kind_has_enough_pairs_and_negative_families(hard_cases, result):
    _, truth = hard_cases
    assert {kind: result["by_kind"][kind]["true_pairs"] >= 80 for kind in KINDS_OF_MISS} == dict.fromkeys(
        KINDS_OF_MISS, True)
    families = {o["family"] for o in truth["organisations"].values() if "family" in o}
    assert len(families) >= 40
    assert {"dev", "holdout"} == set(truth["split"].values())


@pytest.mark.parametrize("kind", KINDS_OF_MISS)
def test_each_kind_of_former_miss_is_found(result, kind):
    figures = result["by_kind"][kind]
    assert figures["recall"] >= 0.99, (figures, result["false_negatives"])
    assert figures["precision"] >= 0.995, result["false_positives"]


def test_whole_set_keeps_precision_first(result):
    assert result["precision"] >= 0.995, result["false_positives"]
    assert result["fp"] <= 2
    assert result["recall"] >= 0.98, result["false_negatives"]
    assert result["tp"] + result["fn"] == result["true_pairs"]


def test_tags_and_designators_are_clear_not_just_possible(hard_cases):
    # Through the API a partner's own duplicate opens a case only when "clear": a tag or a group designator
    # alone must not leave the pair at "possible".
    records, truth = hard_cases
    for kind in ("regional_tag", "designator"):
        ids = {r["id"] for r in records if truth["kinds"][truth["clusters"][r["id"]]] == kind}
        assert evaluate(records, truth, ids=ids)["clear_recall"] >= 0.9, kind


def test_held_out_organisations(hard_cases):
    records, truth = hard_cases
    result = evaluate(records, truth, ids=held_out_ids(records, truth))
    assert result["true_pairs"] >= 100
    assert result["precision"] >= 0.99
    assert result["recall"] >= 0.97


def test_negative_families_stay_apart_but_for_indistinguishable_slips(result):
    # Loews vs Lowe's (lowes.com) is the shape of a typing slip against the domain-bearing registration;
    # no other look-alike family (Hama/Halma, Bosch/Busch, Daikin/Daiken, Nokia/Nokian, Marvel/Marvell, ...) may match.
    names = {frozenset((example["left"].lower(), example["right"].lower())) for example in result["false_positives"]}
    assert names <= {frozenset(("loews", "lowe's"))}
