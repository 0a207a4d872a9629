"""`herken resolve --engine spark` (Spark in local mode) against the default DuckDB engine on one drop.

The same drop is resolved and published by each engine; a user comparing the two stores would see
every record placed, the same persons and households, and the same accuracy against the truth.
One Spark session serves the module: starting one costs ten seconds or more, and the pipeline's
SparkEngine uses the session that is running.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from identity.engine import make_engine
from identity.evaluate import evaluate, pair_scores
from identity.spark_engine import SparkEngine, start_session
from profile_api.store import open_store, read_links
from tests.integration.resolving import resolve_drop

HOUSEHOLDS, SEED = 150, 5


@pytest.fixture(scope="module")
def spark():
    """A local Spark session (local[2], Splink's jar) for this module; stopped after it."""
    session = start_session()
    yield session
    session.stop()


@pytest.fixture(scope="module")
def drop(tmp_path_factory) -> Path:
    """A generated drop of 150 households with its truth."""
    from synth.writer import generate_drop

    path = tmp_path_factory.mktemp("spark-drop")
    generate_drop(path, households=HOUSEHOLDS, seed=SEED)
    return path


def resolved(drop: Path, work: Path, *options: str) -> tuple[pd.DataFrame, dict]:
    """Return the links published by `herken resolve DROP [options]` into a fresh store, and the run's saved model."""
    store = open_store(f"sqlite:///{work / 'herken.db'}", migrate=True)
    resolve_drop(drop, f"sqlite:///{work / 'herken.db'}", work / "runs", *options)
    links = read_links(store)
    store.dispose()
    model = json.loads(next((work / "runs").glob("*/model.json")).read_text())
    return links.sort_values(["source", "record_id"], ignore_index=True), model


@pytest.fixture(scope="module")
def by_duckdb(drop, tmp_path_factory) -> tuple[pd.DataFrame, dict]:
    return resolved(drop, tmp_path_factory.mktemp("duckdb"))


@pytest.fixture(scope="module")
def by_spark(drop, spark, tmp_path_factory) -> tuple[pd.DataFrame, dict]:
    return resolved(drop, tmp_path_factory.mktemp("spark"), "--engine", "spark")


def test_spark_places_every_record_in_the_same_persons_and_households_as_duckdb(drop, by_duckdb, by_spark):
    duck, spark = by_duckdb[0], by_spark[0]
    truth = pd.read_csv(drop / "truth.csv", dtype=str)
    assert len(spark) == len(duck) == len(truth)                       # no record lost
    assert spark[["source", "record_id"]].equals(duck[["source", "record_id"]])
    on_duckdb, on_spark = evaluate(duck, truth), evaluate(spark, truth)
    assert abs(on_spark.person.f1 - on_duckdb.person.f1) <= 0.005
    assert abs(on_spark.household.f1 - on_duckdb.household.f1) <= 0.005
    assert on_spark.person.f1 > 0.9
    # The engines' persons against each other: EM sums floats in another order on Spark, so a
    # pair on the threshold could fall the other way; on this drop none does.
    assert pair_scores(spark["customer_id"], duck["customer_id"]).f1 >= 0.99
    assert pair_scores(spark["household_id"], duck["household_id"]).f1 >= 0.99


def test_spark_saves_its_model_in_duckdbs_dialect_with_what_it_learnt(by_duckdb, by_spark):
    duck, spark = by_duckdb[1], by_spark[1]
    assert spark["sql_dialect"] == "duckdb"   # what real-time scoring and explanations read
    assert spark["probability_two_random_records_match"] == pytest.approx(
        duck["probability_two_random_records_match"], rel=0.05)
    conditions = [[level["sql_condition"] for level in c["comparison_levels"]] for c in spark["comparisons"]]
    assert conditions == [[level["sql_condition"] for level in c["comparison_levels"]] for c in duck["comparisons"]]
    # Spark scores with a model trained in DuckDB (``identity.link.train_model``): the same m and u
    learnt = [[(level.get("m_probability"), level.get("u_probability")) for level in c["comparison_levels"]]
              for c in duck["comparisons"]]
    assert [[(level.get("m_probability"), level.get("u_probability")) for level in c["comparison_levels"]]
            for c in spark["comparisons"]] == learnt


def test_plain_sql_in_duckdbs_dialect_runs_on_spark(spark):
    frame = pd.DataFrame({"person": ["p1", "p1", "p2", "p3"], "updated_at": ["2024-01-01", None, "2023-05-01", None],
                          "card": ["C1", "C1", "C1", None], "nothing": [None, None, None, None]})
    query = """
        SELECT person, count(*) AS n, max(updated_at) AS latest, count(nothing) AS none
        FROM t GROUP BY person ORDER BY latest DESC NULLS LAST, person
    """
    engine = SparkEngine()
    try:
        got = engine.sql(query, t=frame)
    finally:
        engine.close()
    pd.testing.assert_frame_equal(got, make_engine("duckdb").sql(query, t=frame))
    assert got["person"].tolist() == ["p1", "p2", "p3"] and got["n"].tolist() == [2, 1, 1]
    assert not spark.catalog.listTables()    # the engine left no views behind, and the session running
