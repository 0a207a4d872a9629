"""The store's writer for an incremental run: only what changed, in one transaction.

``write_increment`` replaces the rows of the records the delta changed or deleted, the links,
persons and households it moved, appends the new interactions and preferences, and rebuilds the
precomputed profiles of the households it touched (``rebuild_households``); everything else stays
as the previous publish wrote it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from collections.abc import Callable, Collection, Iterable
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection, Engine

from identity.categories import taxonomy_frame
from identity.progress import Progress
from profile_api.live import lock_preferences, stated_preferences
from profile_api.precompute import INTERACTION_COLUMNS, PROFILE_MEMORY_LIMIT, ProfileEncoding, profile_rows
from profile_api.store.models import (
    Household, Interaction, MatchEdge, Person, PersonWritten, PrecomputedProfile, Preference, QuarantinedRow,
    RecordLink, Run, SourceRecord,
)
from identity.engine import Engine as QueryEngine, make_engine
from profile_api.store.read import driver_rows, in_chunks
from profile_api.store.realtime import latest_purchase, latest_purchase_after
from profile_api.store.consent import refresh_consent
from profile_api.store.rehome import rehome_statements, statement_holders
from profile_api.store.generation import one_raise
from profile_api.store.write import analyze, bulk_insert, write_snapshot

log = logging.getLogger(__name__)

CHUNK = 5_000   # keys per IN list
# SQLite's page cache while an increment is written (its default is 2 MB): the increment's deletes and inserts
# land all over the tables and their indexes (a day-2 delta at 100k records changes 29k pages, 119 MB), and a
# page evicted half-way is read again for the next row. Measured on that delta: inserts 0.90-1.40 s ->
# 0.63-0.74 s, deletes 0.55-0.77 s -> 0.31-0.36 s; the commit writes the same pages either way.
WRITE_CACHE_KIB = 131_072


def delete_ids(conn: Connection, table: str, column: str, ids: Collection[str]) -> None:
    """Delete the rows of a table whose column holds one of ids."""
    statement = text(f"DELETE FROM {table} WHERE {column} IN :ids").bindparams(bindparam("ids", expanding=True))
    for chunk in in_chunks(ids, CHUNK):
        conn.execute(statement, {"ids": chunk})


def delete_records(conn: Connection, table: str, keys: Collection[tuple[str, str]], extra: str = "",
                   by_record_id: bool = False) -> None:
    """Delete the rows of a table that hang on these (source, record_id) records (and match ``extra``).

    by_record_id: the table's index is on record_id alone (and another on source). SQLite, which keeps
    no statistics, would otherwise look the rows up by source, of which there are four, and read a
    quarter of the table per source (the interactions of a day-2 delta at 100k records: ~7x slower);
    a unary ``+`` keeps it off that index (https://sqlite.org/optoverview.html).
    """
    by_source: dict[str, list[str]] = {}
    for source, record_id in keys:
        by_source.setdefault(source, []).append(record_id)
    source = "+source" if by_record_id and conn.dialect.name == "sqlite" else "source"
    statement = text(f"DELETE FROM {table} WHERE {source} = :source AND record_id IN :ids{extra}").bindparams(
        bindparam("ids", expanding=True))
    for source, ids in by_source.items():
        for chunk in in_chunks(ids, CHUNK):
            conn.execute(statement, {"source": source, "ids": chunk})


def _rows(conn: Connection, sql: str, values: Iterable[str], *args: str) -> pd.DataFrame:
    """Return the rows of a query whose ``IN ({ids})`` list takes values, CHUNK at a time, after ``?`` args."""
    names, rows = [], []
    for chunk in in_chunks(values, CHUNK):
        names, found = driver_rows(conn, sql.format(ids=", ".join("?" * len(chunk))), (*args, *chunk))
        rows += found
    # object columns straight away: inferring pandas' string columns first and converting them back cost
    # as much as the read (a day-2 delta at 100k records: ~0.1 s of the profiles' rebuild)
    return pd.DataFrame(rows, columns=names, dtype=object) if names else pd.DataFrame()


def _household_inputs(conn: Connection, households: list[str]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Return the records, links and interactions of these households, each read by an index."""
    links = _rows(conn, "SELECT source, record_id, customer_id, household_id, confidence FROM record_link "
                        "WHERE household_id IN ({ids})", households)
    if links.empty:
        return pd.DataFrame(), links, pd.DataFrame([], columns=list(INTERACTION_COLUMNS))
    records, interactions = [], []
    for source, ids in links.groupby("source")["record_id"]:
        records.append(_rows(conn, "SELECT * FROM source_record WHERE source = ? AND record_id IN ({ids})", ids, source))
        # By record_id, the source checked here: SQLite (no statistics) would look them up by source, of which
        # there are four (a rebuild of one household at 100k records: ~100 ms more per source).
        found_here = _rows(conn, f"SELECT {', '.join(INTERACTION_COLUMNS)} FROM interaction WHERE record_id IN ({{ids}})",
                           ids)
        interactions.append(found_here[found_here["source"] == source] if len(found_here) else found_here)
    found = [frame.astype(object) for frame in interactions if not frame.empty]
    return (pd.concat(records, ignore_index=True), links,
            pd.concat(found, ignore_index=True) if found else pd.DataFrame([], columns=list(INTERACTION_COLUMNS)))


@dataclass
class ProfileInputs:
    """What rebuilding the profiles of some households takes, read from the store (``read_profile_inputs``)."""

    households: list[str]
    records: pd.DataFrame
    links: pd.DataFrame
    interactions: pd.DataFrame
    categories: pd.DataFrame
    stated: list[tuple]


def read_profile_inputs(conn: Connection, households: Collection[str],
                        categories: pd.DataFrame | None = None) -> ProfileInputs | None:
    """Drop the profile rows of these households and read what rebuilding them takes, on conn's transaction.

    Returns None when the households hold no records (nothing to rebuild). The run's taxonomy is read
    unless the caller knows it (``categories``).
    """
    wanted = sorted(set(households))
    if not wanted:
        return None
    lock_preferences(conn)    # first, as UpdatePreferences takes it: then the profile rows (no deadlock)
    delete_ids(conn, "profile", "household_id", wanted)
    records, links, interactions = _household_inputs(conn, wanted)
    if links.empty:
        return None
    if categories is None:
        run = conn.execute(text("SELECT categories_json FROM run")).first()
        categories = taxonomy_frame(json.loads(run[0])) if run is not None and run[0] else taxonomy_frame()
    for column in ("quantity", "amount_eur", "discount_eur"):
        if column in interactions:
            interactions[column] = pd.to_numeric(interactions[column], errors="coerce")
    return ProfileInputs(wanted, records, links, interactions, categories, stated_preferences(conn, wanted))


def build_profiles(inputs: ProfileInputs, as_of: dt.datetime, engine: QueryEngine | None = None) -> pd.DataFrame:
    """Return the profile rows (PROFILE_COLUMNS) built from inputs, attributes as of as_of.

    Touches no database connection, so it may run on a thread beside the transaction that read
    the inputs (``write_increment``); engine: the engine to build in, left open (a DuckDB of its own by default).
    """
    own = engine is None
    engine = engine or make_engine("duckdb", memory_limit=PROFILE_MEMORY_LIMIT)
    try:
        rows = profile_rows(inputs.records, inputs.links, inputs.interactions, inputs.categories, as_of=as_of,
                            engine=engine)
    finally:
        if own:
            engine.close()
    log.info("built %d profiles of %d households on %s", len(rows), len(inputs.households), engine.name)
    return ProfileEncoding(rows, apart=False, stated=inputs.stated).result()


def store_profiles(conn: Connection, inputs: ProfileInputs, profiles: pd.DataFrame) -> int:
    """Insert the rebuilt profiles and their consent, on conn's transaction; return how many."""
    count = bulk_insert(conn, PrecomputedProfile, profiles)
    refresh_consent(conn, inputs.households)
    return count


def rebuild_households(conn: Connection, households: Collection[str], as_of: dt.datetime | None = None,
                       categories: pd.DataFrame | None = None) -> int:
    """Rebuild the precomputed profiles of every person of these households, on conn's transaction; return how many.

    Attributes are computed as of the store's latest interaction (as a full publish computes them),
    through the published run's taxonomy; a caller that knows both already (real-time resolution,
    per record) passes them.
    """
    inputs = read_profile_inputs(conn, households, categories)
    if inputs is None:
        return 0
    if as_of is None:   # the latest purchase or return, as a full publish has it
        as_of = _latest_purchase(conn)
    return store_profiles(conn, inputs, build_profiles(inputs, as_of))


def _latest_purchase(conn: Connection) -> dt.datetime | None:
    """Return the store's latest purchase or return, read on conn (``latest_purchase``)."""
    duck = make_engine("duckdb", memory_limit=PROFILE_MEMORY_LIMIT)
    try:
        return latest_purchase(conn, duck)
    finally:
        duck.close()


def write_increment(engine: Engine, *, source_records: pd.DataFrame, replaced: Collection[tuple[str, str]],
                    links: pd.DataFrame, unlinked: Collection[tuple[str, str]], persons: pd.DataFrame,
                    persons_gone: Collection[str], households: pd.DataFrame, households_gone: Collection[str],
                    interactions: pd.DataFrame, preferences: pd.DataFrame, deleted: Collection[tuple[str, str]],
                    quarantine: pd.DataFrame, edges: pd.DataFrame, edges_of: Collection[str], run: pd.DataFrame,
                    history: Callable[[Connection], object], snapshot: bytes, progress: Progress,
                    guard: Callable[[Connection], object] | None = None,
                    profile_engine: QueryEngine | None = None) -> int:
    """Write an incremental run's changes in one transaction; return the number of profiles rebuilt.

    Args:
        source_records: rows of the delta's records; ``replaced`` the records they replace and the
            records deleted (their rows go).
        links: record_link rows of every record whose person or household changed; ``unlinked``
            the records whose links go first (those and the deleted).
        persons, households: rows of the persons and households written anew; ``persons_gone`` and
            ``households_gone`` the IDs whose rows go first (those and the retired).
        interactions, preferences: the delta's, appended; those of ``deleted`` records go.
        edges: match_edge rows of the re-clustered records; ``edges_of`` the unique_ids whose
            earlier edges go.
        run: the run row, replacing the previous one.
        guard: runs first on the transaction and may refuse the write by raising (as ``write_run``'s).
        profile_engine: the engine the profiles' queries run on (left open): the run's own when it is not DuckDB
            (Spark), as a full publish builds them; None: a DuckDB of their own.
    """
    # the instant the profiles are as of is read beside the transaction, while it writes (``_as_of_after``)
    with ThreadPoolExecutor(max_workers=1) as beside, engine.begin() as conn, one_raise(conn):
        as_of = beside.submit(_as_of_after, engine, deleted, interactions)
        if guard is not None:
            guard(conn)
        if conn.dialect.name == "sqlite":     # for this connection, which the command disposes of when done
            conn.exec_driver_sql(f"PRAGMA cache_size=-{WRITE_CACHE_KIB}")
        holders = statement_holders(conn)     # what customers told us through the API moves with them
        # First what the profiles are rebuilt from; they are then built on the thread beside (DuckDB and
        # encoding, no connection) while this transaction writes the rest (~0.5 s of a day-2 delta at 100k).
        delete_records(conn, "source_record", replaced)
        progress.advance(bulk_insert(conn, SourceRecord, source_records))
        delete_records(conn, "record_link", unlinked)
        progress.advance(bulk_insert(conn, RecordLink, links))
        delete_records(conn, "interaction", deleted, by_record_id=True)
        before = conn.execute(text("SELECT coalesce(max(id), 0) FROM interaction")).scalar()
        progress.advance(bulk_insert(conn, Interaction, interactions))
        drop_sent_again(conn, before)
        delete_records(conn, "preference", deleted, " AND origin = 'drop'")
        progress.advance(bulk_insert(conn, Preference, preferences.assign(origin="drop")))
        rehome_statements(conn, holders)      # before the profiles read them
        analyze(conn, [SourceRecord, RecordLink, Interaction, Preference])
        # the taxonomy of this run (the run row is replaced further on)
        taxonomy = run["categories_json"].iloc[0] if "categories_json" in run else None
        inputs = read_profile_inputs(conn, set(households["household_id"]) | set(households_gone),
                                     taxonomy_frame(json.loads(taxonomy)) if isinstance(taxonomy, str) and taxonomy
                                     else taxonomy_frame())
        building = None
        if inputs is not None:
            at = as_of.result()
            if at is None:     # an SQLite store in memory: read on this connection
                at = _latest_purchase(conn)
            building = beside.submit(build_profiles, inputs, at, profile_engine)
        delete_ids(conn, "person", "customer_id", persons_gone)
        progress.advance(bulk_insert(conn, Person, persons))
        delete_ids(conn, "household", "household_id", households_gone)
        progress.advance(bulk_insert(conn, Household, households))
        conn.execute(QuarantinedRow.__table__.delete())
        progress.advance(bulk_insert(conn, QuarantinedRow, quarantine))
        delete_ids(conn, "match_edge", "unique_id_l", edges_of)
        delete_ids(conn, "match_edge", "unique_id_r", edges_of)
        progress.advance(bulk_insert(conn, MatchEdge, edges))
        conn.execute(Run.__table__.delete())
        conn.execute(PersonWritten.__table__.delete())     # the run holds them now (profile_api.search)
        progress.advance(bulk_insert(conn, Run, run))
        history(conn)
        write_snapshot(conn, run["run_id"].iloc[0], snapshot)
        analyze(conn, [Person, Household])
        rebuilt = 0 if building is None else store_profiles(conn, inputs, building.result())
        progress.advance(rebuilt)
    return rebuilt


_SENT_AGAIN = """
DELETE FROM interaction WHERE id IN (
    SELECT n.id FROM interaction n JOIN interaction o {indexed}
      ON o.source = n.source AND o.record_id = n.record_id AND o.type = n.type AND o.occurred_at = n.occurred_at
     AND o.id <= :before AND {same}
    WHERE n.id > :before)"""
_ALSO_SAME = ("sku", "category", "size", "quantity", "amount_eur", "discount_eur", "store_id", "delivery_method")


def drop_sent_again(conn: Connection, before: int) -> int:
    """Remove the interactions just inserted (id above ``before``) that a delta sent before: the same record, type,
    time and every other value as one stored already. Running the same delta twice then counts its purchases once.
    Return how many went."""
    return max(conn.execute(text(sent_again_sql(conn.dialect.name)), {"before": before}).rowcount, 0)


def sent_again_sql(dialect: str) -> str:
    """Return the statement of ``drop_sent_again`` for a database (``sqlite``, ``postgresql``)."""
    null_safe = "IS NOT DISTINCT FROM" if dialect == "postgresql" else "IS"
    same = " AND ".join(f"o.{c} {null_safe} n.{c}" for c in _ALSO_SAME)
    # SQLite without statistics (a store a full run just wrote) took the index on source, scanning every interaction
    # of the channel per row inserted: 165 s for a day-2 delta of 4,411 interactions at 100k records; by record_id,
    # 0.01 s. PostgreSQL's planner has the statistics its ANALYZE keeps.
    indexed = "INDEXED BY ix_interaction_record_id" if dialect == "sqlite" else ""
    return _SENT_AGAIN.format(same=same, indexed=indexed)


def _as_of_after(engine: Engine, deleted: Collection[tuple[str, str]], added: pd.DataFrame) -> dt.datetime | None:
    """Return the instant the rebuilt profiles' attributes are as of once the increment is written (the latest
    purchase or return, as a full publish has it), read on a connection of its own beside the writing one.

    The scan of every purchase (~0.2 s at 100k records) then runs on the other core while the writing
    transaction inserts the increment's rows; an SQLite file in WAL mode and PostgreSQL both let a reader
    see the store as last committed meanwhile. An SQLite store in memory has one connection: None (the
    rebuild reads it in the transaction).
    """
    if engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:"):
        return None
    duck = make_engine("duckdb", memory_limit=PROFILE_MEMORY_LIMIT)
    try:
        with engine.connect() as conn:
            return latest_purchase_after(conn, duck, deleted, added)
    finally:
        duck.close()
