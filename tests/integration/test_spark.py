"""`herken resolve --engine spark` (Spark in local mode) against the default DuckDB engine on one drop.

The same drop is resolved and published by each engine; a user comparing the two stores would see
every record placed, the same persons and households, the same accuracy against the truth, and the
same profiles (golden record, attributes, household), which the Spark run builds in Spark SQL.
One Spark session serves the module: starting one costs ten seconds or more, and the pipeline's
SparkEngine uses the session that is running.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from identity.engine import make_engine
from identity.evaluate import evaluate, pair_scores
from identity.spark_engine import DISTRIBUTED, SparkEngine, start_session
from profile_api.store import open_store, read_links
from tests.integration.resolving import resolve_drop

pytestmark = pytest.mark.first   # the slowest module: started first when the suite runs on several workers

HOUSEHOLDS, SEED = 150, 5


@pytest.fixture(scope="module")
def spark():
    """A local Spark session (local[2], Splink's jar) for this module, spreading the standardisation and the
    clustering over its executors as a cluster does (``spark.herken.distributed``); stopped after it."""
    session = start_session()
    session.conf.set(DISTRIBUTED, "true")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def drop(tmp_path_factory) -> Path:
    """A generated drop of 150 households with its truth."""
    from synth.writer import generate_drop

    path = tmp_path_factory.mktemp("spark-drop")
    generate_drop(path, households=HOUSEHOLDS, seed=SEED)
    return path


def resolved(drop: Path, work: Path, *options: str) -> tuple[pd.DataFrame, dict, pd.DataFrame, Path]:
    """Return the links published by `herken resolve DROP [options]` into a fresh store (in ``work``), the run's
    saved model, the published profile rows (by customer_id) and ``work``."""
    store = open_store(f"sqlite:///{work / 'herken.db'}", migrate=True)
    resolve_drop(drop, f"sqlite:///{work / 'herken.db'}", work / "runs", *options)
    links = read_links(store)
    store.dispose()
    model = json.loads(next((work / "runs").glob("*/model.json")).read_text())
    with sqlite3.connect(work / "herken.db") as conn:
        profiles = pd.read_sql_query("SELECT customer_id, household_id, display_name, household_inferred, encoded, "
                                     "encoded_live FROM profile ORDER BY customer_id", conn)
    return links.sort_values(["source", "record_id"], ignore_index=True), model, profiles, work


@pytest.fixture(scope="module")
def by_duckdb(drop, tmp_path_factory) -> tuple[pd.DataFrame, dict, pd.DataFrame, Path]:
    return resolved(drop, tmp_path_factory.mktemp("duckdb"))


@pytest.fixture(scope="module")
def by_spark(drop, spark, tmp_path_factory) -> tuple[pd.DataFrame, dict, pd.DataFrame, Path]:
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


def _without_last_digits(encoded: bytes) -> bytes:
    """Return an encoded profile with each golden field's confidence rounded to 9 decimals."""
    from profile_api._generated.herken.v1 import profile_service_pb2 as pb

    profile = pb.Profile.FromString(encoded)
    for _, value in profile.golden.ListFields():
        value.confidence = round(value.confidence, 9)
    return profile.SerializeToString(deterministic=True)


def test_spark_publishes_the_same_profiles_as_duckdb(by_duckdb, by_spark):
    from profile_api._generated.herken.v1 import profile_service_pb2 as pb

    duck, spark = by_duckdb[2], by_spark[2]
    assert len(duck) == by_duckdb[0]["customer_id"].nunique() > 100
    # the engines' persons are the same on this drop (above), so their customer_ids are too
    assert spark["customer_id"].tolist() == duck["customer_id"].tolist()
    for column in ("household_id", "display_name", "household_inferred", "encoded_live"):
        differ = spark.index[spark[column] != duck[column]]
        assert differ.empty, f"{column} differs for {spark.loc[differ[:3], 'customer_id'].tolist()}"
    # A record's confidence comes from the match probabilities, which Spark sums in another order: a
    # few differ in the last digit (0.6306335956522691 against ...693), and so do the golden fields'.
    confidence = by_spark[0]["confidence"].astype(float) - by_duckdb[0]["confidence"].astype(float)
    assert confidence.abs().max() < 1e-12
    differ = [c for c, a, b in zip(spark["customer_id"], spark["encoded"], duck["encoded"])
              if _without_last_digits(a) != _without_last_digits(b)]
    assert not differ, f"profiles differ for {differ[:3]}"
    decoded = [pb.Profile.FromString(e) for e in spark["encoded"]]
    assert sum(bool(p.attributes) for p in decoded) > len(decoded) // 2     # profiles with something in them
    assert all(p.golden.ListFields() for p in decoded)                       # every person has a golden record


def test_profiles_built_in_spark_sql_are_duckdbs_byte_for_byte(by_spark, spark, tmp_path_factory):
    from profile_api.precompute import ProfileEncoding, profile_rows
    from profile_api.store.write import read_inputs

    store = open_store(f"sqlite:///{by_spark[3] / 'herken.db'}")
    with store.connect() as conn:
        inputs = read_inputs(conn)
    store.dispose()
    engine = SparkEngine()
    try:
        on_spark = profile_rows(*inputs, engine=engine)
    finally:
        engine.close()
    on_duckdb = profile_rows(*inputs)
    assert len(on_spark) == len(on_duckdb) == inputs[1]["customer_id"].nunique()
    on_spark = on_spark.sort_values("customer_id", ignore_index=True)
    on_duckdb = on_duckdb.sort_values("customer_id", ignore_index=True)
    pd.testing.assert_frame_equal(ProfileEncoding(on_spark, apart=False).result(),
                                  ProfileEncoding(on_duckdb, apart=False).result())


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


def test_attributes_of_sizes_written_every_way_are_duckdbs_on_spark(spark):
    """Sizes in other notations (read by regular expressions), members who wear one size, a habit returned each
    time, a refund of a purchase before the window: the attribute SQL gives on Spark what it gives on DuckDB."""
    from profile_api.attributes import derive_attributes
    from tests.unit.test_attributes import COLUMNS, LINKS, buy, ret

    rows = [buy("P1", 10, "womens_clothing", size="maat 40"), buy("P1", 20, "womens_clothing", size="Mt. 40"),
            buy("P1", 30, "womens_clothing", size="S"), buy("P2", 15, "womens_clothing", size="M"),
            buy("P2", 25, "womens_clothing", size="m"), buy("W2", 26, "womens_clothing", size="MT"),
            buy("W2", 27, "womens_clothing", size="EU40"), buy("P1", 11, "shoes", size="EU 42"),
            buy("P1", 12, "shoes", size="42,0"), buy("P1", 16, "shoes", size="42"), buy("P1", 13, "shoes", size="42,5"),
            ret("P1", 14, "shoes", size="42.0"),
            *[row for d in (100, 70, 40, 10) for row in (buy("W2", d, "dog_food"), ret("W2", d, "dog_food"))],
            buy("W2", 380, "electronics", amount=250.0), ret("W2", 360, "electronics", amount=250.0)]
    interactions = pd.DataFrame(rows, columns=COLUMNS)
    engine = SparkEngine()
    try:
        on_spark = derive_attributes(interactions, LINKS, as_of=pd.Timestamp("2026-01-01").to_pydatetime(),
                                     engine=engine)
    finally:
        engine.close()
    on_duckdb = derive_attributes(interactions, LINKS, as_of=pd.Timestamp("2026-01-01").to_pydatetime())
    pd.testing.assert_frame_equal(on_spark, on_duckdb)
    got = {(r.customer_id, r.name): r.value for r in on_duckdb.itertuples()}
    assert got["C1", "clothing_size"] == got["C2", "clothing_size"] == "M" and got["C1", "shoe_size"] == "42"
    assert ("C3", "next_purchase_date") not in got and got["C3", "spend_12m"] == "0.00"


@pytest.fixture(scope="module")
def run(drop, tmp_path_factory):
    """The drop resolved in this process on DuckDB (nothing published)."""
    from identity.pipeline import ResolveOptions, resolve

    return resolve(drop, ResolveOptions(run_dir=tmp_path_factory.mktemp("in-process") / "run"))


def test_spark_clusters_persons_by_component_on_its_executors_as_the_driver_does(run, spark, tmp_path):
    from identity.pipeline import ResolveOptions, cluster_persons, rule_fields_of

    options = ResolveOptions(run_dir=tmp_path / "again",
                             cannot_link=[(run.clustering.merges[0].unique_id_l, run.clustering.merges[0].unique_id_r)])
    rule_fields = rule_fields_of(run.records)
    here = cluster_persons(rule_fields, run.pairs, run.rules, options)
    engine = SparkEngine()
    assert engine.distributed and engine.workers >= 2
    try:
        there = cluster_persons(rule_fields, run.pairs, run.rules, options, engine=engine)
    finally:
        engine.close()
    assert there.labels == here.labels
    assert set(there.merges) == set(here.merges) and set(there.refusals) == set(here.refusals)
    assert len(set(here.labels.values())) < len(here.labels)     # persons of several records, and a steward's split
    first = run.clustering.merges[0]
    assert there.labels[first.unique_id_l] != there.labels[first.unique_id_r]


def test_spark_groups_households_by_component_on_its_executors_as_the_driver_does(run, spark):
    from identity.household_components import group_households_by_component
    from identity.households import group_households, household_anchors, household_edges, person_links

    records = run.records
    edges = household_edges(make_engine("duckdb"), records)     # the household SQL on Spark: the pipeline tests
    anchored, surnames, hints = household_anchors(records)
    persons, links = sorted(records["person"].unique()), person_links(records, run.pairs)
    engine = SparkEngine()
    assert engine.distributed
    try:
        there = group_households_by_component(engine, persons, edges, surnames, anchored, hints, links, 0.5)
    finally:
        engine.close()
    here = group_households(persons, edges, surnames, anchored, hints, links=links, link_threshold=0.5)
    assert there == here
    assert there == dict(zip(records["person"], records["household"]))     # what the run itself found
    housed = {here[p] for p in anchored}
    joined = {p for p in persons if p not in anchored and here[p] in housed}
    assert joined and len(set(here.values())) < len(persons)    # orphans placed, households of several persons


def test_local_mode_keeps_the_python_steps_on_the_driver_unless_told_to_spread_them(spark):
    engine = SparkEngine()
    try:
        assert engine.distributed and SparkEngine.distributes_with()     # this module's session says so
        spark.conf.unset(DISTRIBUTED)
        assert not engine.distributed and not SparkEngine.distributes_with()   # local[2]: the driver's cores do it
        spark.conf.set(DISTRIBUTED, "false")
        assert not engine.distributed
    finally:
        spark.conf.set(DISTRIBUTED, "true")
        engine.close()


def test_spark_standardises_the_records_on_its_executors_as_the_driver_does(drop, spark):
    from identity.ingest import read_drop
    from identity.pipeline import standardise_drop

    raw = read_drop(drop)
    here = standardise_drop(raw, workers=1)
    engine = SparkEngine()
    try:
        there = standardise_drop(raw, engine=engine)
    finally:
        engine.close()
    pd.testing.assert_frame_equal(there, here)      # the same values and types, in the drop's order
    assert here["phone_valid"].isin([True, False]).any() and here["given_first"].notna().any()


class _Messages(logging.Handler):
    """The messages logged while it is attached (the suite runs without pytest's logging plugin)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append(record.getMessage())


def test_an_incremental_run_on_spark_places_a_delta_as_duckdb_does(drop, by_duckdb, by_spark, tmp_path):
    import shutil

    from synth.day2 import write_day2

    write_day2(drop, tmp_path / "day2", tmp_path / "delta", seed=6)
    links, profiles, built = {}, {}, {}
    logger = logging.getLogger("profile_api.store.write_delta")
    for name, (_, _, _, work), options in (("duckdb", by_duckdb, ()), ("spark", by_spark, ("--engine", "spark"))):
        store = tmp_path / f"{name}.db"
        shutil.copy(work / "herken.db", store)      # the module's stores stay as their tests read them
        messages, level = _Messages(), logger.level
        logger.addHandler(messages)
        logger.setLevel(logging.INFO)
        try:
            resolve_drop(tmp_path / "delta", f"sqlite:///{store}", tmp_path / f"{name}-runs", "--incremental", *options)
        finally:
            logger.removeHandler(messages)
            logger.setLevel(level)
        built[name] = [m for m in messages.seen if m.startswith("built ")]
        engine = open_store(f"sqlite:///{store}")
        links[name] = read_links(engine).sort_values(["source", "record_id"], ignore_index=True)
        engine.dispose()
        with sqlite3.connect(store) as conn:
            profiles[name] = pd.read_sql_query("SELECT customer_id, household_id, display_name, encoded FROM profile "
                                               "ORDER BY customer_id", conn)
    # the touched persons' profiles are built on the run's engine, as a full run's are, and come out the same
    assert len(built["duckdb"]) == 1 and built["duckdb"][0].endswith(" on duckdb")
    assert len(built["spark"]) == 1 and built["spark"][0].endswith(" on spark")
    assert built["spark"][0] == built["duckdb"][0].replace(" on duckdb", " on spark")
    assert int(built["spark"][0].split()[1]) > 0
    duck_profiles, spark_profiles = profiles["duckdb"], profiles["spark"]
    assert spark_profiles[["customer_id", "household_id", "display_name"]].equals(
        duck_profiles[["customer_id", "household_id", "display_name"]])
    differ = [c for c, a, b in zip(spark_profiles["customer_id"], spark_profiles["encoded"], duck_profiles["encoded"])
              if _without_last_digits(a) != _without_last_digits(b)]
    assert not differ, f"profiles differ after the delta for {differ[:3]}"
    duck, spark = links["duckdb"], links["spark"]
    deleted = pd.read_csv(tmp_path / "delta" / "deletions.csv", dtype=str)
    assert len(deleted) and not set(zip(deleted["source"], deleted["record_id"])) & set(zip(spark["source"], spark["record_id"]))
    assert spark[["source", "record_id"]].equals(duck[["source", "record_id"]])    # the delta's records placed by both
    assert pair_scores(spark["customer_id"], duck["customer_id"]).f1 == 1.0
    assert pair_scores(spark["household_id"], duck["household_id"]).f1 == 1.0
