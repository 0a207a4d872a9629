"""bench/misses.py: the true pairs a run left apart by why, the false pairs by household, and calibration."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.misses import (  # noqa: E402
    ABOVE, BELOW, NOT_SCORED, _both_ways, calibration, false_pairs, false_pairs_by_merge, missed_pairs,
    never_scored_sharing,
)


def test_missed_pairs_count_each_split_person_by_why_its_pieces_stayed_apart():
    truth = {"a1": "A", "a2": "A", "a3": "A", "b1": "B", "b2": "B", "c1": "C", "c2": "C", "d1": "D", "d2": "D"}
    labels = {"a1": "x", "a2": "x", "a3": "y", "b1": "b1", "b2": "b2", "c1": "c1", "c2": "c2", "d1": "d1", "d2": "d2"}
    probability = _both_ways([("a1", "a3", 0.97), ("b1", "b2", 0.3), ("d1", "d2", 0.9)])
    refused = _both_ways([("a1", "a3", "first_name")])
    counted = missed_pairs(labels, truth, probability, refused)
    assert counted == {"first_name": 2, BELOW: 1, NOT_SCORED: 1, ABOVE: 1}


def test_false_pairs_tell_a_household_from_strangers():
    truth = {"1": "P1", "2": "P2", "3": "P3", "4": "P3"}
    household = {"1": "H1", "2": "H1", "3": "H2", "4": "H2"}
    labels = {"1": "x", "2": "x", "3": "x", "4": "y"}
    assert false_pairs(labels, truth, household) == {"same household": 1, "other household": 2}


def test_calibration_sets_a_patterns_probability_beside_the_share_that_is_one_person():
    pairs = pd.DataFrame({"unique_id_l": ["a", "b", "c", "d"], "unique_id_r": ["a2", "b2", "c2", "d2"],
                          "match_probability": [0.5, 0.5, 0.5, 0.5], "gamma_address": [6, 6, 6, 6],
                          "gamma_surname": [5, 5, 5, 5]})
    truth = {"a": "1", "a2": "1", "b": "2", "b2": "2", "c": "3", "c2": "3", "d": "4", "d2": "5"}
    [row] = calibration(pairs, truth, min_pairs=2)
    assert row == {"levels": "address,surname = 6,5", "pairs": 4, "probability": 0.5, "one_person": 0.75,
                   "gap_pairs": 1.0}


def test_never_scored_pieces_are_told_by_what_their_closest_records_share():
    records = pd.DataFrame({"unique_id": ["a1", "a2", "a3", "b1", "b2"],
                            "given_canonical": ["jan", "jan", "jan", "els", None],
                            "surname_core": ["bos", "bos", "bos", "vos", "mol"],
                            "city": ["gouda", None, "delft", None, None]})
    truth = {"a1": "A", "a2": "A", "a3": "A", "b1": "B", "b2": "B"}
    labels = {"a1": "x", "a2": "y", "a3": "z", "b1": "b1", "b2": "b2"}
    # x-y never scored (full name), x-z scored, y-z never scored (full name), b1-b2 never scored (nothing)
    shared = never_scored_sharing(records, labels, truth, {("a3", "a1")})
    assert shared == {"given_canonical surname_core": 2, "(nothing)": 1}


def test_false_pairs_are_laid_at_the_merge_that_made_them():
    truth = {"a1": "A", "a2": "A", "b1": "B", "c1": "C"}
    pattern = {("a1", "a2"): "5,5,3", ("a2", "b1"): "5,5,-1", ("c1", "b1"): "0,5,-1"}
    merges = [("a1", "a2", 0.99), ("a2", "b1", 0.64), ("b1", "c1", 0.55), ("a1", "b1", 0.5)]
    rows = false_pairs_by_merge(merges, truth, pattern)
    assert rows[0] == {"levels": "0,5,-1", "probability_from": 0.5, "merges": 1, "false_pairs": 3, "true_pairs": 0}
    assert {"levels": "5,5,-1", "probability_from": 0.6, "merges": 1, "false_pairs": 2, "true_pairs": 0} in rows
    assert {"levels": "5,5,3", "probability_from": 0.9, "merges": 1, "false_pairs": 0, "true_pairs": 1} in rows
