"""The store's writer: it writes what it is given, frames of rows named after the tables' columns.

Rows are written with the driver's bulk path (COPY on PostgreSQL, executemany on SQLite) because a
drop carries hundreds of thousands of interactions and per-row ORM objects would dominate the run
time. Publishing a resolution (``herken.publish``) prepares the frames; ``write_run`` replaces the
published result with them in one transaction. ``rebuild_profiles`` makes the profile table anew from
the published result (a migration that changes the table does).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import delete, inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from identity.categories import taxonomy_frame
from identity.progress import Progress
from profile_api.live import api_preferences, live_parts, lock_preferences, stated_preferences
from profile_api.precompute import INTERACTION_COLUMNS, ProfileEncoding, profile_rows
from profile_api.store.consent import refresh_consent
from profile_api.store.rehome import rehome_statements, statement_holders
from profile_api.store.generation import one_raise
from profile_api.store.models import (
    Household, Interaction, LinkageSnapshot, MatchEdge, Person, PersonWritten, PrecomputedProfile, Preference,
    QuarantinedRow, RecordLink, Run, SourceRecord,
)

log = logging.getLogger(__name__)

REBUILD_INDEXES_ABOVE = 20_000


INSERT_CHUNK = 50_000    # rows turned into Python tuples at a time: memory bounded by a chunk, not the table
# SQLite's page cache while a run is written (its default is 2 MB): the primary-key B-trees of a million
# records are filled in key order nowhere, and the indexes rebuilt after the load sort millions of
# keys; with 2 MB every other page goes to the log and back. Memory, not disk: the cache of the
# publishing connection only, set back when the publish ends.
BULK_CACHE_KB = 256 * 1024


def _column(series: pd.Series) -> list:
    """Return a column as Python values, with missing values and empty strings as None.

    Through Arrow: the empty strings become missing and the values Python objects in C, not one
    Python comparison per value (a million records' source_record, four million interactions).
    A column Arrow cannot take (mixed Python objects) goes value by value.
    """
    try:
        array = pa.array(series, from_pandas=True)
    except (pa.ArrowException, TypeError, ValueError):
        return [None if missing or value == "" else value for value, missing in zip(series.tolist(), series.isna().tolist())]
    if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
        array = pc.if_else(pc.equal(array, ""), pa.scalar(None, array.type), array)
        return array.to_numpy(zero_copy_only=False).tolist()     # object strings and None, made in C
    return array.to_pylist()


def _rows(frame: pd.DataFrame) -> list[tuple]:
    """Return the rows of a frame as tuples, with missing values and empty strings as None."""
    return list(zip(*(_column(frame[name]) for name in frame.columns)))   # column by column: no object copy of the frame


def _chunks(frame: pd.DataFrame) -> Iterator[pd.DataFrame]:
    """Yield a frame in slices of INSERT_CHUNK rows."""
    for start in range(0, len(frame), INSERT_CHUNK):
        yield frame.iloc[start:start + INSERT_CHUNK]


def bulk_insert(conn: Connection, table, frame: pd.DataFrame | Iterable[pd.DataFrame]) -> int:  # type: ignore[no-untyped-def]
    """Insert a frame, or chunks of one, whose columns are named after the table's columns; return the row count.

    The rows become Python values a chunk at a time (INSERT_CHUNK rows): a million interactions as
    tuples of strings at once would take gigabytes.
    """
    if isinstance(frame, pd.DataFrame):
        if frame.empty:
            return 0
        large, chunks = len(frame) > REBUILD_INDEXES_ABOVE, _chunks(frame)
    else:
        large, chunks = True, iter(frame)    # chunks of a large table (``profile_api.profile_build``)
    started = time.perf_counter()
    name = table.__tablename__
    # Building an index once after a large load is much cheaper than updating it per row; but on
    # PostgreSQL dropping one takes the table's exclusive lock until the publish commits: every read of
    # the table waits (the server stops answering), and a read joining two tables the publish locks in
    # turn deadlocks with it (measured at 100k records: the publish failed). There the indexes stay.
    rebuild = large and conn.dialect.name != "postgresql"
    indexes = list(table.__table__.indexes) if rebuild else []
    for index in indexes:
        index.drop(conn)
    count = 0
    dbapi = conn.connection.dbapi_connection
    cursor = dbapi.cursor()
    try:
        for chunk in chunks:
            if chunk.empty:
                continue
            columns, rows = list(chunk.columns), _rows(chunk)
            if conn.dialect.name == "postgresql":
                with cursor.copy(f'COPY {name} ({", ".join(columns)}) FROM STDIN') as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" for _ in columns) if conn.dialect.paramstyle == "qmark" else \
                    ", ".join("%s" for _ in columns)
                cursor.executemany(f'INSERT INTO {name} ({", ".join(columns)}) VALUES ({marks})', rows)
            count += len(rows)
            del rows
    finally:
        cursor.close()
    for index in indexes:
        index.create(conn)
    log.info("%s: %d rows in %.1f s", name, count, time.perf_counter() - started)
    return count


def analyze(conn: Connection, tables: list) -> None:  # type: ignore[type-arg]
    """Refresh PostgreSQL's statistics of freshly loaded tables.

    Without them the planner guesses hundreds of rows per household and scans the preference table
    on every profile read (7 ms instead of 0.4) until autovacuum gets round to it. SQLite plans
    these look-ups on its indexes without statistics.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("ANALYZE " + ", ".join(table.__tablename__ for table in tables)))


def write_profiles(conn: Connection, profiles: pd.DataFrame | Iterable[pd.DataFrame],
                   live_from: frozenset[tuple] | None = None) -> int:
    """Replace the precomputed profiles with these (columns of PrecomputedProfile; a frame or chunks of
    one, ``profile_api.profile_build``); return the count.

    The record links and preferences of the run are written before, on the same transaction. New
    statements of preferences wait from here until the transaction ends (``profile_api.live``).

    Args:
        live_from: the API preferences the profiles' live parts were encoded from (with the drop's;
            ``stated_before``). When the store still holds exactly these, the live parts are
            written as they are; otherwise (a statement made or removed since), or when None,
            every live part is encoded again here from the preferences in the store.
    """
    lock_preferences(conn)
    stated = stated_preferences(conn) if live_from is None or api_preferences(conn) != live_from else None

    def current(chunk: pd.DataFrame) -> pd.DataFrame:
        if stated is None:
            return chunk
        parts = live_parts(chunk[["customer_id", "household_id", "household_inferred"]].itertuples(index=False,
                                                                                             name=None),
                           stated)
        return chunk.assign(encoded_live=pd.Series([parts[c] for c in chunk["customer_id"]], index=chunk.index,
                                                   dtype=object))

    conn.execute(delete(PrecomputedProfile))
    rows = current(profiles) if isinstance(profiles, pd.DataFrame) else map(current, profiles)
    count = bulk_insert(conn, PrecomputedProfile, rows)
    refresh_consent(conn)       # consent hangs on records: the run's persons take their records' statements
    analyze(conn, [PrecomputedProfile])
    return count


@contextmanager
def bulk_settings(conn: Connection) -> Iterator[None]:
    """On SQLite, give conn's transaction a page cache of BULK_CACHE_KB and in-memory sorting for a bulk
    load, and set them back afterwards (the connection goes back to the pool). Nothing on PostgreSQL."""
    if conn.dialect.name != "sqlite":
        yield
        return
    cache = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    temp = conn.exec_driver_sql("PRAGMA temp_store").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size = -{BULK_CACHE_KB}")
    conn.exec_driver_sql("PRAGMA temp_store = MEMORY")
    try:
        yield
    finally:
        try:
            conn.exec_driver_sql(f"PRAGMA cache_size = {int(cache)}")
            conn.exec_driver_sql(f"PRAGMA temp_store = {int(temp)}")
        except DBAPIError:    # a connection that broke: the error that broke it is the one to tell
            log.debug("the connection's cache and sorting settings could not be set back", exc_info=True)


def write_run(engine: Engine, *, source_records: pd.DataFrame | Iterable[pd.DataFrame], links: pd.DataFrame,
              persons: pd.DataFrame, households: pd.DataFrame, interactions: pd.DataFrame | Iterable[pd.DataFrame],
              preferences: pd.DataFrame,
              quarantine: pd.DataFrame, edges: pd.DataFrame, run: pd.DataFrame,
              profiles: Callable[[], pd.DataFrame | Iterable[pd.DataFrame]], live_from: frozenset[tuple] | None, progress: Progress,
              history: Callable[[Connection], object] | None = None, snapshot: bytes | None = None,
              guard: Callable[[Connection], object] | None = None) -> None:
    """Replace the published result with these rows in one transaction, the profiles last.

    Args:
        source_records, interactions: a frame, or chunks of one (``bulk_insert``).
        preferences: the drop's preferences (they replace the stored ones of origin ``drop``).
        profiles: returns the profile rows, a frame or chunks of one (``write_profiles``); called last,
            as they may still be being built.
        live_from: as ``write_profiles`` takes it.
        history: records the run's identity events and aliases on the transaction
            (``profile_api.store.history.write_history``).
        snapshot: the run's records as the linkage saw them (Parquet), for the next incremental run.
        guard: runs first on the transaction and may refuse the publish by raising
            (``profile_api.store.erase.erasures_unchanged``).
    """
    with engine.begin() as conn, bulk_settings(conn), one_raise(conn):     # the served generation: once, not per row
        if guard is not None:
            guard(conn)
        holders = statement_holders(conn)     # what customers told us through the API moves with them
        for table in (RecordLink, Person, Household, SourceRecord, Interaction, QuarantinedRow, MatchEdge, Run,
                      PersonWritten):
            conn.execute(delete(table))
        conn.execute(delete(Preference).where(Preference.origin == "drop"))
        progress.advance(bulk_insert(conn, SourceRecord, source_records))
        progress.advance(bulk_insert(conn, RecordLink, links))
        progress.advance(bulk_insert(conn, Person, persons))
        progress.advance(bulk_insert(conn, Household, households))
        progress.advance(bulk_insert(conn, Interaction, interactions))
        progress.advance(bulk_insert(conn, Preference, preferences.assign(origin="drop")))
        progress.advance(bulk_insert(conn, QuarantinedRow, quarantine))
        progress.advance(bulk_insert(conn, MatchEdge, edges))
        progress.advance(bulk_insert(conn, Run, run))
        if history is not None:
            history(conn)
        rehome_statements(conn, holders)
        if snapshot is not None:
            write_snapshot(conn, run["run_id"].iloc[0], snapshot)
        analyze(conn, [SourceRecord, RecordLink, Person, Household, Interaction, Preference])
        # last: it holds back updates
        progress.advance(write_profiles(conn, profiles(), live_from=live_from))


def write_snapshot(conn: Connection, run_id: str, snapshot: bytes) -> None:
    """Replace the linkage snapshot (``LinkageSnapshot``) with this run's, on conn's transaction."""
    conn.execute(delete(LinkageSnapshot))
    conn.execute(LinkageSnapshot.__table__.insert().values(run_id=run_id, records=snapshot))


def read_inputs(conn: Connection) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Return the published records, links, interactions and category taxonomy that profiles are built from.

    The taxonomy is the published run's (``run.categories_json``); the built-in defaults for a run
    published before runs kept theirs, or when nothing is published.
    """
    cursor = conn.connection.dbapi_connection.cursor()   # the driver's cursor: no Row object per row

    def frame(query: str) -> pd.DataFrame:
        cursor.execute(query)
        columns = [c[0] for c in cursor.description]
        return pd.DataFrame.from_records(cursor.fetchall(), columns=columns)

    try:
        records = frame("SELECT * FROM source_record")
        # A store being migrated from before schema 8 rebuilds its profiles before its links have confidence.
        has_confidence = "confidence" in {c["name"] for c in inspect(conn).get_columns("record_link")}
        links = frame("SELECT source, record_id, customer_id, household_id"
                      f"{', confidence' if has_confidence else ''} FROM record_link")
        interactions = frame(f"SELECT {', '.join(INTERACTION_COLUMNS)} FROM interaction")
        run = None
        # A store being migrated from before schema 5 rebuilds its profiles before its run has the column.
        if "categories_json" in {c["name"] for c in inspect(conn).get_columns("run")}:
            cursor.execute("SELECT categories_json FROM run")
            run = cursor.fetchone()
    finally:
        cursor.close()
    given = run is not None and run[0] is not None
    categories = taxonomy_frame(json.loads(run[0])) if given else taxonomy_frame()
    return records, links, interactions, categories


def rebuild_profiles(conn: Connection) -> int:
    """Rebuild the profile table from the published result, on conn's transaction; return the count."""
    lock_preferences(conn)     # the preferences encoded here stay those until the transaction ends
    rows = profile_rows(*read_inputs(conn))
    profiles = ProfileEncoding(rows, apart=False, stated=stated_preferences(conn)).result()
    write_profiles(conn, profiles, live_from=api_preferences(conn))
    return len(profiles)
