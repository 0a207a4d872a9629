"""The chance that two random records of a drop are one person, learnt from the model's own scores.

Training estimates it (``identity.model.train``) from deterministic rules with an assumed recall:
a constant that put it 25-50% below the truth on our generator and Febrl3 (measured in session 11).
Once every candidate pair is scored, the drop says it directly: the expected number of matching
pairs is the sum of the pairs' match probabilities (pairs never compared add next to nothing), and
the prior is that over all pairs of records. The probabilities themselves depend on the prior, so
it is found as a fixed point: each estimate shifts every match weight by its change in log-odds
and is summed again. Measured, as a shift of the same scored pairs: the prior came within about 8%
of the truth on every drop (100k: 1.48e-5 against 1.44e-5; Febrl3: 4.98e-4 against 5.23e-4).

It is the expectation-maximisation step for the prior with the model's m and u held, so it is trusted
however far it lies from the trained one. It used to be kept within 10x of it, a margin nobody had
measured: on a drop where every duplicate carries an error (R's RLdata10000: one corrupted name or
date part in each), the deterministic rules find almost none of them and training put the prior at
2.7e-7; the scores said 1.7e-5 (the truth: 2.0e-5), and the 10x margin threw it away, which left
the run at recall 0.30. Pairs scored below the cut at the trained prior may reach a merge at the
learnt one: the run scores them again (:func:`rescore_needed`).
"""

from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

MOST_STEPS = 100
SETTLED = 1e-4          # relative change of the prior at which the fixed point is taken as reached
WIDEST = 1e6            # a learnt prior beyond this factor of the trained one is not trusted: the trained one stays


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def learnt_prior(probabilities: np.ndarray, records: int, prior: float) -> float:
    """Return the prior at which the scored pairs' probabilities sum to its share of all pairs of records.

    Args:
        probabilities: the match probabilities of the scored pairs, as scored with ``prior``.
        records: how many records the pairs were drawn from.
        prior: the prior the pairs were scored with.
    """
    pairs = records * (records - 1) / 2
    if pairs <= 0 or len(probabilities) == 0 or not 0 < prior < 1:
        return prior
    p = np.clip(np.asarray(probabilities, dtype=float), 1e-15, 1 - 1e-15)
    weights = np.log(p / (1 - p)) - _logit(prior)      # each pair's log Bayes factor
    found = prior
    for _ in range(MOST_STEPS):
        expected = float((1 / (1 + np.exp(-(weights + _logit(found))))).sum())
        again = min(max(expected / pairs, 1e-15), 1 - 1e-15)
        settled = abs(again - found) <= SETTLED * found
        found = again
        if settled:
            break
    return found


def odds(p: float) -> float:
    """Return the odds of a probability below 1."""
    return p / (1 - p)


def rescore_needed(prior: float, learnt: float, cut: float, merge: float) -> bool:
    """Return True when a pair scored just below the cut at ``prior`` would reach ``merge`` at ``learnt``:
    the pairs kept at the cut then miss some that merge, and must be scored again at the learnt prior."""
    return odds(cut) * odds(learnt) / odds(prior) >= odds(merge)


def with_prior(pairs: pd.DataFrame, prior: float, learnt: float) -> pd.DataFrame:
    """Return the scored pairs as the model scores them with ``learnt`` instead of ``prior``: every match
    weight (log2) moves by the change in prior log-odds, and the probabilities with it."""
    if learnt == prior or pairs.empty:
        return pairs
    shift = _logit(learnt) - _logit(prior)
    p = np.clip(pairs["match_probability"].to_numpy(dtype=float), 1e-15, 1 - 1e-15)
    moved = pairs.copy()
    moved["match_probability"] = 1 / (1 + np.exp(-(np.log(p / (1 - p)) + shift)))
    if "match_weight" in moved.columns:
        moved["match_weight"] = moved["match_weight"].astype(float) + shift / math.log(2)
    return moved
