"""Pairwise accuracy of a resolution against ground truth. Pure functions over data frames."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd


@dataclass(frozen=True)
class PairScores:
    """Pairwise precision, recall and F1 of one grouping against the truth."""

    precision: float
    recall: float
    f1: float
    predicted_pairs: int
    true_pairs: int
    correct_pairs: int


@dataclass(frozen=True)
class Evaluation:
    """Person and household scores, and how often household members were merged."""

    records: int
    person: PairScores
    household: PairScores
    household_pairs_merged: float   # share of same-household different-person pairs put in one person
    household_pairs: int

    def as_dict(self) -> dict:
        """Return the evaluation as plain values."""
        return asdict(self)


def _pairs(counts: pd.Series) -> int:
    """Return the number of pairs within groups of the given sizes."""
    n = counts.astype("int64")
    return int((n * (n - 1) // 2).sum())


def pair_scores(predicted: pd.Series, truth: pd.Series) -> PairScores:
    """Return pairwise scores of predicted labels against true labels (aligned series)."""
    frame = pd.DataFrame({"p": predicted.to_numpy(), "t": truth.to_numpy()})
    predicted_pairs = _pairs(frame.groupby("p").size())
    true_pairs = _pairs(frame.groupby("t").size())
    correct = _pairs(frame.groupby(["p", "t"]).size())
    precision = correct / predicted_pairs if predicted_pairs else 1.0
    recall = correct / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return PairScores(round(precision, 4), round(recall, 4), round(f1, 4), predicted_pairs, true_pairs, correct)


def evaluate(links: pd.DataFrame, truth: pd.DataFrame) -> Evaluation:
    """Return scores for links (source, record_id, customer_id, household_id) against truth.csv rows.

    Records that are in the truth but not in the links (quarantined) are left out of both.
    """
    true = truth.rename(columns={"person_id": "true_person", "household_id": "true_household"})
    merged = links.merge(true, on=["source", "record_id"], how="inner")
    person = pair_scores(merged["customer_id"], merged["true_person"])
    household = pair_scores(merged["household_id"], merged["true_household"])
    frame = pd.DataFrame({
        "th": merged["true_household"].to_numpy(),
        "tp": merged["true_person"].to_numpy(),
        "pp": merged["customer_id"].to_numpy(),
    })
    household_pairs = _pairs(frame.groupby("th").size()) - _pairs(frame.groupby("tp").size())
    merged_pairs = _pairs(frame.groupby(["th", "pp"]).size()) - _pairs(frame.groupby(["tp", "pp"]).size())
    share = merged_pairs / household_pairs if household_pairs else 0.0
    return Evaluation(len(frame), person, household, round(share, 4), household_pairs)
