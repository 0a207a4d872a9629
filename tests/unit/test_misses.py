"""bench/misses.py: the true pairs a run left apart by why, the false pairs by household, and calibration."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.misses import ABOVE, BELOW, NOT_SCORED, _both_ways, calibration, false_pairs, missed_pairs  # noqa: E402


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
