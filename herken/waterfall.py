"""The waterfall chart of the run report: how a few of the run's merges added up, comparison by comparison.

A sample of the run's merges (``match_edge`` kind merge), spread from the weakest to the surest, is
scored again with the run's model (``profile_api.explain``, as ``herken explain`` scores a pair), and
Splink draws their waterfall chart: one step per comparison from the prior to the final match weight.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from profile_api.explain import Explainer
from profile_api.store.models import MatchEdge

WATERFALL_SAMPLE = 5     # merges shown


@dataclass(frozen=True)
class SampledMerge:
    """A merge shown in the waterfall chart, as the run stored it."""

    record_a: str
    record_b: str
    match_probability: float


@dataclass(frozen=True)
class MergeWaterfall:
    """The sampled merges (in the chart's order: record_number 0, 1, ...) and Splink's chart of them."""

    merges: list[SampledMerge]
    total: int                # the run's merges
    spec: dict[str, Any]      # Vega-Lite


def spread(count: int, sample: int) -> list[int]:
    """Return up to sample positions out of count, evenly spread and always the first and the last."""
    if count <= sample:
        return list(range(count))
    if sample == 1:
        return [0]
    return sorted({round(i * (count - 1) / (sample - 1)) for i in range(sample)})


def sampled_merges(engine: Engine, run_id: str, sample: int = WATERFALL_SAMPLE) -> tuple[list[SampledMerge], int]:
    """Return merges of a run from the weakest to the surest, spread over all of them, and how many there are."""
    with Session(engine) as session:
        rows = session.execute(
            select(MatchEdge.unique_id_l, MatchEdge.unique_id_r, MatchEdge.match_probability)
            .where(MatchEdge.run_id == run_id, MatchEdge.kind == "merge")
            .order_by(MatchEdge.match_probability, MatchEdge.unique_id_l, MatchEdge.unique_id_r)).all()
    return [SampledMerge(a, b, float(p)) for a, b, p in (rows[i] for i in spread(len(rows), sample))], len(rows)


def merge_waterfall(engine: Engine, run_id: str, sample: int = WATERFALL_SAMPLE) -> MergeWaterfall | None:
    """Return the waterfall chart of a sample of a run's merges, or None when the run merged nothing."""
    merges, total = sampled_merges(engine, run_id, sample)
    if not merges:
        return None
    scorer, rows = Explainer(engine).scored_pairs([(m.record_a, m.record_b) for m in merges])
    return MergeWaterfall(merges, total, scorer.waterfall_chart(rows))
