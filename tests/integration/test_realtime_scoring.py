"""Real-time scoring against Splink itself: the small drop resolved by the batch pipeline and published,
then the same records read back as the real-time resolver warms up; its records, blocking and
scores must be the batch's."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from herken.publish import publish_resolution
from identity.engine import make_engine
from identity.link import build_linker
from identity.pipeline import ResolveOptions, resolve
from identity.realtime import COLUMNS, POS
from profile_api.resolve_record import RecordResolver
from profile_api.store import open_store


@pytest.fixture(scope="module")
def batch(small_drop, tmp_path_factory) -> dict:
    """The small drop resolved by the pipeline, published to SQLite, Splink's predictions for every
    blocked pair (no threshold), and a real-time resolver warmed on the store."""
    work = tmp_path_factory.mktemp("realtime-scoring")
    resolution = resolve(small_drop, ResolveOptions(run_dir=work / "run"))
    url = f"sqlite:///{work / 'herken.db'}"
    engine = open_store(url)
    publish_resolution(engine, resolution, "run-scoring", dt.datetime.now(dt.timezone.utc), str(small_drop))
    records = resolution.records.drop(columns=["person", "household", "customer_id", "household_id"])
    duck = make_engine("duckdb")
    linker, _ = build_linker(duck, records, Path(work / "run" / "model.json"))
    predictions = linker.inference.predict().as_pandas_dataframe()
    duck.close()
    resolver = RecordResolver(engine)
    resolver.warm_up()
    yield {"records": records, "predictions": predictions, "warm": resolver._warm, "url": url}
    engine.dispose()


def _plain(value: object) -> object:
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else value


def test_the_warm_records_are_the_batchs_records(batch):
    index = batch["warm"].index
    records = batch["records"]
    assert len(index.records) == len(records)
    for row in records[list(COLUMNS)].itertuples(index=False, name=None):
        batch_row = tuple(_plain(v) for v in row)
        assert index.record(batch_row[POS["unique_id"]]) == batch_row


def test_a_store_without_a_linkage_snapshot_is_standardised_here_as_the_batch_did(batch, tmp_path):
    copy = tmp_path / "copy.db"
    with sqlite3.connect(batch["url"][len("sqlite:///"):]) as source, sqlite3.connect(copy) as target:
        source.backup(target)
        target.execute("DELETE FROM linkage_snapshot")
    engine = open_store(f"sqlite:///{copy}")
    resolver = RecordResolver(engine)
    resolver.warm_up()
    assert sorted(resolver._warm.index.records) == sorted(batch["warm"].index.records)
    assert resolver._warm.index.places == batch["warm"].index.places
    assert resolver._warm.index.vocabulary == batch["warm"].index.vocabulary
    engine.dispose()


def test_every_pair_splink_blocks_is_a_candidate_both_ways(batch):
    index = batch["warm"].index
    predictions = batch["predictions"]
    assert len(predictions) > 500
    for left, right in zip(predictions["unique_id_l"], predictions["unique_id_r"]):
        assert right in index.candidates(index.record(left))
        assert left in index.candidates(index.record(right))


def test_scores_equal_splinks_on_every_blocked_pair(batch):
    warm = batch["warm"]
    predictions = batch["predictions"]
    gammas = [c for c in predictions.columns if c.startswith("gamma_")]
    assert [c[len("gamma_"):] for c in gammas] == list(warm.scorer.names)
    worst = 0.0
    for row in predictions.itertuples(index=False):
        pair = row._asdict()
        left, right = warm.index.record(pair["unique_id_l"]), warm.index.record(pair["unique_id_r"])
        for a, b in ((left, right), (right, left)):     # a new record is scored on the left
            score = warm.scorer.score(a, b)
            assert score.gammas == tuple(int(pair[c]) for c in gammas)
            worst = max(worst, abs(score.match_probability - pair["match_probability"]),
                        abs(score.match_weight - pair["match_weight"]) / 100)
    assert worst < 1e-9
