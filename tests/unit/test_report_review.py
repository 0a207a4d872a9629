"""The report's borderline pairs say what they are: a random sample of how many, in which band."""

from __future__ import annotations

import pandas as pd

from herken.report import borderline_text
from herken.publish import REVIEW_BAND, REVIEW_SAMPLE, borderline


def pairs(probabilities: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"unique_id_l": [f"pos:{i}" for i in range(len(probabilities))],
                         "unique_id_r": [f"app:{i}" for i in range(len(probabilities))],
                         "match_probability": probabilities, "match_weight": [0.0] * len(probabilities)})


def test_a_run_keeps_a_sample_of_its_borderline_pairs_and_says_of_how_many():
    low, high = REVIEW_BAND
    inside = [low + (high - low) * i / 499 for i in range(500)]
    kept, summary = borderline(pairs([0.01, 0.99, *inside, 0.2, 0.8]))
    assert summary == {"band": [low, high], "pairs": 500, "kept": REVIEW_SAMPLE} and len(kept) == REVIEW_SAMPLE
    assert kept["match_probability"].between(low, high).all()
    assert kept.equals(borderline(pairs([0.01, 0.99, *inside, 0.2, 0.8]))[0])     # the same run, the same sample
    few, summary = borderline(pairs([0.5, 0.6, 0.95]))
    assert summary["pairs"] == summary["kept"] == len(few) == 2


def test_the_text_says_sample_of_how_many_or_all():
    band = {"band": [0.3, 0.7], "pairs": 1234, "kept": 200}
    assert borderline_text(50, 200, band) == \
        "The run kept a random sample of 200 of the 1,234 pairs in the band; 50 shown, most uncertain first."
    assert borderline_text(40, 40, {"band": [0.3, 0.7], "pairs": 40, "kept": 40}) == \
        "The run kept all 40 pairs in the band; all shown, most uncertain first."
    assert borderline_text(0, 0, {"band": [0.3, 0.7], "pairs": 0, "kept": 0}) == "No pairs in this band in this run."
    older = borderline_text(50, 200, {})      # a run published before the store kept how many
    assert "random sample" in older and "not recorded" in older and "all" not in older.lower().split()
