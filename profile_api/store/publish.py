"""Publishing a resolution: one transaction replaces the previous run's result.

Either everything of the new run is visible or nothing is: a run that fails before or during
publishing leaves the previous published result in place. That includes the precomputed profiles
(``profile_api.precompute``), built before the transaction (encoded by a second process while the other
tables are written) and written inside it. Rows are written
with the driver's bulk path (COPY on PostgreSQL, executemany on SQLite) because a drop carries
hundreds of thousands of interactions and per-row ORM objects would dominate the run time.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time

import numpy as np
import pandas as pd
from sqlalchemy import delete, text
from sqlalchemy.engine import Connection, Engine

from identity.pipeline import Resolution
from identity.progress import NO_PROGRESS, Progress
from identity.strictness import rules_of_run
from profile_api.live import API_PREFERENCE_COLUMNS, api_preferences, live_parts, lock_preferences, stated_preferences
from profile_api.precompute import ProfileEncoding, profile_rows
from profile_api.store.models import (
    Household, Interaction, MatchEdge, Person, PrecomputedProfile, Preference, QuarantinedRow, RecordLink, Run,
    SourceRecord,
)

log = logging.getLogger(__name__)

REVIEW_BAND = (0.3, 0.7)   # match probabilities a steward should look at
REVIEW_SAMPLE = 200        # borderline pairs kept (a random sample when the band holds more)
REBUILD_INDEXES_ABOVE = 20_000


def _rows(frame: pd.DataFrame) -> list[tuple]:
    """Return the rows of a frame as tuples, with missing values and empty strings as None."""
    columns = []
    for name in frame.columns:   # column by column: no object copy of the whole frame
        series = frame[name]
        columns.append([None if missing or value == "" else value
                        for value, missing in zip(series.tolist(), series.isna().tolist())])
    return list(zip(*columns))


def bulk_insert(conn: Connection, table, frame: pd.DataFrame) -> int:  # type: ignore[no-untyped-def]
    """Insert a frame whose columns are named after the table's columns; return the row count."""
    if frame.empty:
        return 0
    started = time.perf_counter()
    name, columns = table.__tablename__, list(frame.columns)
    rows = _rows(frame)
    # Building an index once after a large load is much cheaper than updating it per row.
    indexes = list(table.__table__.indexes) if len(rows) > REBUILD_INDEXES_ABOVE else []
    for index in indexes:
        index.drop(conn)
    dbapi = conn.connection.dbapi_connection
    cursor = dbapi.cursor()
    try:
        if conn.dialect.name == "postgresql":
            with cursor.copy(f'COPY {name} ({", ".join(columns)}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in columns) if conn.dialect.paramstyle == "qmark" else \
                ", ".join("%s" for _ in columns)
            cursor.executemany(f'INSERT INTO {name} ({", ".join(columns)}) VALUES ({marks})', rows)
    finally:
        cursor.close()
    for index in indexes:
        index.create(conn)
    log.info("%s: %d rows in %.1f s", name, len(rows), time.perf_counter() - started)
    return len(rows)


def _number(series: pd.Series) -> pd.Series:
    """Return decimals written with a point or a comma as floats (empty as missing)."""
    return pd.to_numeric(series.astype("string").str.replace(",", ".", regex=False).replace("", None),
                         errors="coerce")


def _source_records(resolution: Resolution) -> pd.DataFrame:
    """Return the source_record rows: raw values plus the standardised values used for look-ups."""
    raw = resolution.drop.records.drop(columns=["line"])
    std = resolution.records
    phone = std["mobile"].where(std["mobile"].notna(), std["landline"])
    mobile = std["mobile"].notna().astype(object).where(phone.notna(), None)
    std = pd.DataFrame({
        "source": std["source"], "record_id": std["record_id"], "std_given": std["given_first"],
        "std_surname": std["surname_core"], "std_particles": std["particles"],
        "std_birth_date": std["birth_date"], "std_email": std["email"], "std_phone": phone,
        "std_phone_mobile": mobile, "std_postcode": std["postcode"], "std_house_number": std["house_number"],
        "std_loyalty_card": std["loyalty_card"],
    })
    return raw.merge(std, on=["source", "record_id"], how="left")


def borderline(pairs: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, object]]:
    """Return the borderline pairs kept for review (a random sample of REVIEW_SAMPLE when there are more)
    and what they are: {"band": REVIEW_BAND, "pairs": how many pairs the band held, "kept": how many were kept}."""
    band = pairs[pairs["match_probability"].between(*REVIEW_BAND)].sort_values(["unique_id_l", "unique_id_r"])
    kept = band.sample(n=min(REVIEW_SAMPLE, len(band)), random_state=0) if len(band) else band
    return kept, {"band": list(REVIEW_BAND), "pairs": len(band), "kept": len(kept)}


def _edges(resolution: Resolution, run_id: str, review: pd.DataFrame) -> pd.DataFrame:
    """Return the merges, the refusals and the borderline pairs kept (``borderline``) of a run."""
    pairs = resolution.pairs[["unique_id_l", "unique_id_r", "match_probability", "match_weight"]]
    weights = pairs.set_index(["unique_id_l", "unique_id_r"])["match_weight"]
    merges = pd.DataFrame(
        [(m.unique_id_l, m.unique_id_r, m.match_probability, None) for m in resolution.clustering.merges]
        + [(r.unique_id_l, r.unique_id_r, r.match_probability, r.reason) for r in resolution.clustering.refusals],
        columns=["unique_id_l", "unique_id_r", "match_probability", "reason"],
    )
    merges["kind"] = ["merge"] * len(resolution.clustering.merges) + ["refused"] * len(resolution.clustering.refusals)
    merges["match_weight"] = weights.reindex(list(zip(merges["unique_id_l"], merges["unique_id_r"]))).to_numpy()
    review = review[["unique_id_l", "unique_id_r", "match_probability", "match_weight"]].assign(kind="review",
                                                                                                 reason=None)
    edges = pd.concat([merges, review], ignore_index=True)
    edges["run_id"] = run_id
    edges["match_probability"] = edges["match_probability"].astype(float)
    edges["match_weight"] = edges["match_weight"].astype(float).replace({np.nan: None})
    return edges[["run_id", "kind", "unique_id_l", "unique_id_r", "match_probability", "match_weight", "reason"]]


def analyze(conn: Connection, tables: list) -> None:  # type: ignore[type-arg]
    """Refresh PostgreSQL's statistics of freshly loaded tables.

    Without them the planner guesses hundreds of rows per household and scans the preference table
    on every profile read (7 ms instead of 0.4) until autovacuum gets round to it. SQLite plans
    these look-ups on its indexes without statistics.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("ANALYZE " + ", ".join(table.__tablename__ for table in tables)))


def stated_before(engine: Engine, preferences: pd.DataFrame,
                  links: pd.DataFrame) -> tuple[list[tuple], frozenset[tuple]]:
    """Return the preferences a run's profiles will show, as ``profile_api.live.live_parts`` takes them, and
    the stored API preferences among them (``profile_api.live.api_preferences``).

    These are the drop's preferences (stored after every stored one: publishing inserts them anew)
    and the API preferences in the store now, on the run's links; ``write_profiles`` checks inside
    its transaction that the API preferences are still exactly these.
    """
    with engine.connect() as conn:
        stored = api_preferences(conn)
    api = pd.DataFrame(sorted(stored), columns=list(API_PREFERENCE_COLUMNS))
    first = int(api["id"].max()) + 1 if len(api) else 1
    drop = preferences.assign(id=range(first, first + len(preferences)), said_in=preferences["source"])
    stated = pd.concat([api, drop[list(api.columns)]], ignore_index=True).merge(
        links[["source", "record_id", "customer_id", "household_id"]], on=["source", "record_id"])
    rows = list(stated[["household_id", "customer_id", "key", "value", "said_in", "stated_at", "id"]]
                .itertuples(index=False, name=None))
    return rows, stored


def write_profiles(conn: Connection, profiles: pd.DataFrame, live_from: frozenset[tuple] | None = None) -> int:
    """Replace the precomputed profiles with these (columns of PrecomputedProfile); return the count.

    The record links and preferences of the run are written before, on the same transaction. New
    statements of preferences wait from here until the transaction ends (``profile_api.live``).

    Args:
        live_from: the API preferences the profiles' live parts were encoded from (with the drop's;
            ``stated_before``). When the store still holds exactly these, the live parts are
            written as they are; otherwise (a statement made or removed since), or when None,
            every live part is encoded again here from the preferences in the store.
    """
    lock_preferences(conn)
    if live_from is None or api_preferences(conn) != live_from:
        profiles = profiles.copy()
        rows = profiles[["customer_id", "household_id", "household"]].itertuples(index=False, name=None)
        parts = live_parts(rows, stated_preferences(conn))
        profiles["encoded_live"] = pd.Series([parts[c] for c in profiles["customer_id"]], index=profiles.index,
                                             dtype=object)
    conn.execute(delete(PrecomputedProfile))
    count = bulk_insert(conn, PrecomputedProfile, profiles)
    analyze(conn, [PrecomputedProfile])
    return count


def publish_resolution(
    engine: Engine, resolution: Resolution, run_id: str, started_at: dt.datetime, drop_path: str,
    progress: Progress = NO_PROGRESS,
) -> None:
    """Replace the store's published result with this resolution, in one transaction.

    Progress hears of two steps: building the profiles (of unknown length) and writing the rows.
    """
    progress.step(f"building the profiles of {resolution.persons:,} persons")
    drop, records = resolution.drop, resolution.records
    links = records[["source", "record_id", "customer_id", "household_id"]].assign(run_id=run_id)
    persons = records.groupby(["customer_id", "household_id"]).size().reset_index(name="record_count")
    households = persons.groupby("household_id").size().reset_index(name="person_count")
    interactions = drop.interactions.assign(**{c: _number(drop.interactions[c])
                                               for c in ("quantity", "amount_eur", "discount_eur")})
    quarantine = pd.DataFrame(
        [(run_id, q.file, q.line, q.reason, q.raw) for q in drop.quarantine],
        columns=["run_id", "file", "line", "reason", "raw"],
    )
    review, review_summary = borderline(resolution.pairs)
    run = pd.DataFrame([{
        "run_id": run_id, "started_at": started_at, "finished_at": dt.datetime.now(dt.timezone.utc),
        "drop_path": drop_path, "records": len(records), "persons": resolution.persons,
        "households": resolution.households, "quarantined": len(drop.quarantine), "trained": resolution.trained,
        "model_json": json.dumps(resolution.model), "counts_json": json.dumps([c.__dict__ for c in drop.counts]),
        "timings_json": json.dumps(resolution.timings),
        "rules_json": json.dumps(rules_of_run(resolution.rules)),
        "review_json": json.dumps(review_summary),
        "categories_json": json.dumps(drop.categories.values.tolist()),
        "unplaced_categories_json": json.dumps([list(c) for c in drop.unplaced_categories]),
    }])
    if engine.dialect.name == "sqlite":  # SQLite stores datetimes as text
        run["started_at"] = run["started_at"].map(lambda d: d.astimezone(dt.timezone.utc).replace(tzinfo=None).isoformat(" "))
        run["finished_at"] = run["finished_at"].map(lambda d: d.astimezone(dt.timezone.utc).replace(tzinfo=None).isoformat(" "))

    source_records = _source_records(resolution)
    stated, stored_api_preferences = stated_before(engine, drop.preferences, links)
    profiles = ProfileEncoding(profile_rows(source_records, links, interactions, drop.categories), stated=stated)
    edges = _edges(resolution, run_id, review)
    log.info("publish: rows prepared")
    rows = sum(map(len, (source_records, links, persons, households, interactions, drop.preferences, quarantine,
                         edges, run))) + resolution.persons
    progress.step("writing to the store", total=rows, unit="rows")
    try:
        _write_run(engine, resolution, run_id, source_records, links, persons, households, interactions,
                   quarantine, edges, run, profiles, stored_api_preferences, progress)
    finally:
        profiles.close()
    progress.close()
    log.info("published run %s", run_id)


def _write_run(engine: Engine, resolution: Resolution, run_id: str, source_records: pd.DataFrame,
               links: pd.DataFrame, persons: pd.DataFrame, households: pd.DataFrame, interactions: pd.DataFrame,
               quarantine: pd.DataFrame, edges: pd.DataFrame, run: pd.DataFrame, profiles: ProfileEncoding,
               stored_api_preferences: frozenset[tuple], progress: Progress) -> None:
    """Write every table of a run in one transaction, the profiles last (their encoding may still be running)."""
    drop = resolution.drop
    with engine.begin() as conn:
        for table in (RecordLink, Person, Household, SourceRecord, Interaction, QuarantinedRow, MatchEdge, Run):
            conn.execute(delete(table))
        conn.execute(delete(Preference).where(Preference.origin == "drop"))
        progress.advance(bulk_insert(conn, SourceRecord, source_records))
        progress.advance(bulk_insert(conn, RecordLink, links))
        progress.advance(bulk_insert(conn, Person, persons.assign(run_id=run_id)))
        progress.advance(bulk_insert(conn, Household, households.assign(run_id=run_id)))
        progress.advance(bulk_insert(conn, Interaction, interactions))
        progress.advance(bulk_insert(conn, Preference, drop.preferences.assign(origin="drop")))
        progress.advance(bulk_insert(conn, QuarantinedRow, quarantine))
        progress.advance(bulk_insert(conn, MatchEdge, edges))
        progress.advance(bulk_insert(conn, Run, run))
        analyze(conn, [SourceRecord, RecordLink, Person, Household, Interaction, Preference])
        # last: it holds back updates
        progress.advance(write_profiles(conn, profiles.result(), live_from=stored_api_preferences))
