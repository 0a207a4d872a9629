"""The prior learnt from the model's own scores (identity.prior)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from identity.prior import learnt_prior, rescore_needed, with_prior


def _scored(log_factors: np.ndarray, prior: float) -> np.ndarray:
    return 1 / (1 + np.exp(-(log_factors + math.log(prior / (1 - prior)))))


FACTORS = np.concatenate([np.full(200, 20.0), np.full(10_000, -5.0)])   # 200 sure pairs, 10,000 unlikely ones
RECORDS = 1000                                                           # 499,500 pairs of records


@pytest.mark.parametrize("trained", [1e-4, 1e-3])
def test_the_prior_is_the_share_of_all_pairs_the_scores_expect_to_match_whatever_it_was_trained_at(trained):
    learnt = learnt_prior(_scored(FACTORS, trained), RECORDS, trained)
    assert learnt == pytest.approx(200 / 499_500, rel=0.01)


def test_a_learnt_prior_far_above_the_trained_one_is_trusted():
    # a drop whose every duplicate carries an error: the deterministic rules find almost none, training puts
    # the prior hundreds of times too low, and the scores still say how many pairs match
    assert learnt_prior(_scored(FACTORS, 1e-6), RECORDS, 1e-6) == pytest.approx(200 / 499_500, rel=0.01)
    assert learnt_prior(np.array([]), RECORDS, 1e-4) == 1e-4


def test_pairs_cut_at_the_trained_prior_are_scored_again_only_where_they_could_merge_at_the_learnt_one():
    # cut at 0.05 (odds 1/19), merged from 0.5 (odds 1): a pair just below the cut merges from 19x the odds
    assert not rescore_needed(1e-5, 1.5e-5, 0.05, 0.5)          # our 100k drop: 1.5x
    assert not rescore_needed(1e-5, 1.8e-4, 0.05, 0.5)
    assert rescore_needed(1e-5, 2e-4, 0.05, 0.5)
    assert rescore_needed(2.7e-7, 1.7e-5, 0.05, 0.5)           # RLdata10000: 63x
    assert not rescore_needed(1e-4, 1e-5, 0.05, 0.5)           # a learnt prior below the trained one never is


def test_the_pairs_are_scored_again_with_the_learnt_prior():
    pairs = pd.DataFrame({"match_probability": _scored(np.array([0.0, 10.0]), 1e-4),
                          "match_weight": np.array([0.0, 10.0]) / math.log(2) + math.log2(1e-4 / (1 - 1e-4))})
    moved = with_prior(pairs, 1e-4, 4e-4)
    assert moved["match_probability"].tolist() == pytest.approx(_scored(np.array([0.0, 10.0]), 4e-4).tolist())
    shift = math.log2(4e-4 / (1 - 4e-4)) - math.log2(1e-4 / (1 - 1e-4))
    assert (moved["match_weight"] - pairs["match_weight"]).tolist() == pytest.approx([shift, shift])
    assert with_prior(pairs, 1e-4, 1e-4) is pairs
