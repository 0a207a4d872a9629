"""The store's side of real-time resolution (``profile_api.resolve_record``): what it reads of one record's
neighbourhood, and how a record resolved in real time is written.

Reads: the published run (model, rules, taxonomy), every record as received (the warm-up), the
steward's decisions on one record, and every record of the persons whose records share an indexed
value with a new record (e-mail, phone, loyalty card, postcode and number, birth date) or are
named by unique_id, with the person each belongs to now.

Writes, on the caller's transaction (``persist_lock`` first): the record (raw and standardised, as
``herken.publish`` writes a drop's), its link, the counts of its person and household, new persons
and households, and the persons written (``person_written``, read by every server's name search). The
profiles of the households concerned are rebuilt as an incremental run rebuilds them
(``profile_api.store.write_delta.rebuild_households``).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import time
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import bindparam, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from identity.categories import taxonomy_frame
from identity.dates import parse_timestamp
from identity.engine import Engine as SqlEngine
from identity.scoring import RAW_COLUMNS   # the identity columns of a source record as received
from identity.standardise import current_standardised, standardise_house_number
from profile_api.golden import TIMESTAMP_SQL
from profile_api.live import lock_preferences

LOCK_RETRY_SECONDS = 0.02     # between two tries of the write locks (PostgreSQL)
STD_COLUMNS: tuple[str, ...] = ("std_given", "std_surname", "std_particles", "std_birth_date", "std_email", "std_phone",
                                "std_phone_mobile", "std_postcode", "std_house_number", "std_loyalty_card")
_RAW = ", ".join(f"r.{c}" for c in RAW_COLUMNS)


@dataclass(frozen=True)
class PublishedRun:
    """What real-time resolution needs of the published run."""

    run_id: str
    model: dict
    rules: list[dict] | None
    categories: pd.DataFrame


def published_run(conn: Connection) -> PublishedRun | None:
    """Return the published run, or None when the store holds none."""
    row = conn.execute(text("SELECT run_id, model_json, rules_json, categories_json FROM run")).first()
    if row is None:
        return None
    categories = taxonomy_frame(json.loads(row[3])) if row[3] else taxonomy_frame()
    return PublishedRun(row[0], json.loads(row[1]), json.loads(row[2]) if row[2] else None, categories)


def published_run_id(conn: Connection) -> str | None:
    """Return the run_id of the published run (None: nothing published)."""
    return _driver(conn, "SELECT max(run_id) FROM run", ())[0][0]


def linkage_snapshot(conn: Connection, run_id: str) -> pd.DataFrame | None:
    """Return the run's records as its linkage saw them (standardised and completed; ``herken.publish``
    keeps them for incremental runs), or None when the store keeps none for this run."""
    if not inspect(conn).has_table("linkage_snapshot"):
        return None
    row = conn.execute(text("SELECT records FROM linkage_snapshot WHERE run_id = :run"), {"run": run_id}).first()
    return None if row is None else current_standardised(pd.read_parquet(io.BytesIO(bytes(row[0]))))


def raw_records(conn: Connection) -> pd.DataFrame:
    """Return every source record as received: source, record_id and RAW_COLUMNS."""
    cursor = conn.connection.dbapi_connection.cursor()   # the driver's cursor: no Row object per row
    try:
        cursor.execute(f"SELECT r.source, r.record_id, {_RAW} FROM source_record r")
        rows = cursor.fetchall()
    finally:
        cursor.close()
    names = ["source", "record_id", *RAW_COLUMNS]
    columns = list(zip(*rows)) if rows else [() for _ in names]
    # object columns keep None as None (a string column would make it NaN, which standardising reads as text)
    return pd.DataFrame({name: pd.Series(list(values), dtype=object) for name, values in zip(names, columns)})


def record_times(conn: Connection) -> pd.DataFrame:
    """Return when every stored record was updated, as received: source, record_id, updated_at."""
    cursor = conn.connection.dbapi_connection.cursor()   # the driver's cursor: no Row object per row
    try:
        cursor.execute("SELECT source, record_id, updated_at FROM source_record")
        rows = cursor.fetchall()
    finally:
        cursor.close()
    return pd.DataFrame(rows, columns=["source", "record_id", "updated_at"]).astype(object)


def written_since(snapshot: pd.DataFrame, stored: pd.DataFrame) -> set[str]:
    """Return the unique_ids of the stored records (source, record_id, updated_at) that the run's linkage snapshot
    does not hold as they are now: joined or edited in real time since the run (a persist sets updated_at to when the
    record arrived)."""
    held = dict(zip(snapshot["unique_id"].tolist(), snapshot["updated_at"].tolist()))
    written = set()
    for source, record_id, updated_at in zip(stored["source"].tolist(), stored["record_id"].tolist(),
                                             stored["updated_at"].tolist()):
        uid = f"{source}:{record_id}"
        if uid not in held:
            written.add(uid)
            continue
        was = held[uid] if isinstance(held[uid], str) else None
        if updated_at == was:       # kept as the snapshot holds it (ISO text): nothing to parse
            continue
        try:
            stamp = parse_timestamp(updated_at)
        except ValueError:
            stamp = None
        if (stamp.isoformat() if stamp else None) != was:
            written.add(uid)
    return written


_PURCHASES = "FROM interaction WHERE type IN ('purchase', 'return')"


def latest_purchase(conn: Connection, engine: SqlEngine) -> dt.datetime | None:
    """Return the time of the store's latest purchase or return: the "now" a publish builds attributes for."""
    return latest_purchase_after(conn, engine, (), pd.DataFrame({"type": [], "occurred_at": []}))


# A time written as 2025-12-31T23:55:45 (as drops mostly write them): such texts sort as their times do, so the
# store finds the latest of them itself; times written otherwise are read and parsed one by one.
_ISO_SHAPE = {"sqlite": "occurred_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]'",
              "postgresql": "occurred_at ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}$'"}
_LATEST_FIRST = 100     # ISO times read, latest first, before reading every one (all deleted, or none a time)


def latest_purchase_after(conn: Connection, engine: SqlEngine, deleted: Collection[tuple[str, str]],
                          added: pd.DataFrame) -> dt.datetime | None:
    """Return what ``latest_purchase`` will say once an increment is written that deletes the interactions of
    the ``deleted`` (source, record_id) records and adds ``added`` (interactions: type, occurred_at);
    read from the store as conn sees it before (so that it can be read beside the writing transaction).

    Of the times written in ISO form the store gives the latest few (the first one not deleted that parses
    is the latest of them all); the others are all read. Every candidate is parsed as the profiles parse
    times (``_latest``).
    """
    gone = set(deleted)
    iso = _ISO_SHAPE.get(conn.dialect.name)
    cursor = conn.connection.dbapi_connection.cursor()
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    try:
        times: list[str] = []
        if iso is not None:
            cursor.execute(f"SELECT source, record_id, occurred_at {_PURCHASES} AND {iso} "
                           f"ORDER BY occurred_at DESC LIMIT {mark}", (_LATEST_FIRST,))
            latest = [at for source, record_id, at in cursor.fetchall() if (source, record_id) not in gone]
            if latest and _latest(latest, engine) is not None:
                cursor.execute(f"SELECT source, record_id, occurred_at {_PURCHASES} AND NOT ({iso})")
                times = latest
            else:
                iso = None
        if iso is None:
            cursor.execute(f"SELECT source, record_id, occurred_at {_PURCHASES}")
        times += [at for source, record_id, at in cursor.fetchall() if (source, record_id) not in gone]
    finally:
        cursor.close()
    if len(added):
        times += [at for kind, at in zip(added["type"].tolist(), added["occurred_at"].tolist())
                  if kind in ("purchase", "return") and isinstance(at, str)]
    return _latest(times, engine)


def _latest(times: list[str], engine: SqlEngine) -> dt.datetime | None:
    """Return the latest of these stored interaction times (None: none, or none a time)."""
    if not times:
        return None
    found = engine.sql(f"SELECT max({TIMESTAMP_SQL.format('occurred_at')}) AS t FROM times",
                       times=pd.DataFrame({"occurred_at": times}))
    value = found["t"].iloc[0]
    return None if pd.isna(value) else pd.Timestamp(value).to_pydatetime()


def run_and_steward(conn: Connection, unique_id: str) -> tuple[str | None, set[str], set[str]]:
    """Return the published run_id (None: none), and the records a steward joined to (must-link) and kept
    apart from (cannot-link) a record; in one read."""
    run_id, must, cannot = None, set(), set()
    for kind, a, b in _driver(conn, "SELECT 'run', max(run_id), NULL FROM run UNION ALL "
                                    "SELECT kind, record_a, record_b FROM steward_decision "
                                    "WHERE record_a = ? OR record_b = ?", (unique_id, unique_id)):
        if kind == "run":
            run_id = a
        else:
            (must if kind == "must_link" else cannot).add(b if a == unique_id else a)
    return run_id, must, cannot


@dataclass(frozen=True)
class Keys:
    """The indexed values of a new record the store is searched by (None where the record has none)."""

    email: str | None
    mobile: str | None
    landline: str | None
    loyalty_card: str | None
    postcode: str | None
    house_number: str | None
    birth_date: str | None


@dataclass(frozen=True)
class StoredRecord:
    """A record of a candidate person as the store holds it now."""

    unique_id: str
    customer_id: str
    household_id: str
    display_name: str | None   # the person's, from its profile
    raw: tuple                 # RAW_COLUMNS
    first_seen: object = None  # when the person was first published (person.first_seen_at)


def _driver(conn: Connection, sql: str, args: Sequence[object]) -> list[tuple]:
    """Return the rows of SQL with ``?`` placeholders, run by the driver itself.

    For the reads of every request: SQLAlchemy's parsing of a text() with a hundred parameters
    costs more than the query (measured on SQLite: 1.3-7.8 ms against 0.3).
    """
    if conn.dialect.paramstyle != "qmark":
        sql = sql.replace("?", "%s")
    return list(conn.exec_driver_sql(sql, tuple(args)).fetchall())


_SHARING = ("SELECT l2.customer_id FROM source_record r2 JOIN record_link l2 "
            "ON l2.source = r2.source AND l2.record_id = r2.record_id WHERE "
            "r2.std_email = ? OR r2.std_phone = ? OR r2.std_phone = ? OR r2.std_loyalty_card = ? "
            "OR (r2.std_postcode = ? AND r2.std_house_number = ?) OR r2.std_birth_date = ?")


def person_records(conn: Connection, keys: Keys, uids: Collection[str]) -> list[StoredRecord]:
    """Return every record of the persons holding a record that shares an indexed value with keys, or one of uids."""
    args: list[object] = [keys.email, keys.mobile, keys.landline, keys.loyalty_card, keys.postcode,
                          keys.house_number, keys.birth_date]
    named = ""
    if uids:
        pairs = [uid.partition(":") for uid in sorted(uids)]
        if conn.dialect.name == "postgresql":   # planning a hundred ORs costs PostgreSQL ~8 ms; two arrays, nothing
            named = (" UNION SELECT customer_id FROM record_link WHERE (source, record_id) IN "
                     "(SELECT * FROM unnest(?::text[], ?::text[]))")
            args += [[source for source, _, _ in pairs], [record_id for _, _, record_id in pairs]]
        else:                                   # SQLite looks each one up by the primary key
            named = " UNION SELECT customer_id FROM record_link WHERE " + " OR ".join(
                "(source = ? AND record_id = ?)" for _ in pairs)
            args += [value for source, _, record_id in pairs for value in (source, record_id)]
    rows = _driver(conn, f"SELECT l.source, l.record_id, l.customer_id, l.household_id, p.display_name, "
                         f"pe.first_seen_at, {_RAW} "
                         "FROM record_link l JOIN source_record r ON r.source = l.source AND r.record_id = l.record_id "
                         "LEFT JOIN profile p ON p.customer_id = l.customer_id "
                         "LEFT JOIN person pe ON pe.customer_id = l.customer_id "
                         f"WHERE l.customer_id IN ({_SHARING}{named})", args)
    return [StoredRecord(f"{row[0]}:{row[1]}", row[2], row[3], row[4], tuple(row[6:]), row[5]) for row in rows]


# --- writing ---

def persist_lock(conn: Connection, wait_ms: int) -> None:
    """Begin conn's transaction as a real-time write: one at a time, and never beside a publish.

    PostgreSQL: the records and their links, both at once or neither (a full publish writes the
    links first, an incremental one the records: holding one while waiting for the other could
    deadlock with either), tried until wait_ms has passed; readers are not held up. Then the
    preferences, as a publish does before it rewrites profiles (``profile_api.live``). SQLite: the
    write lock (one writer per file), taken at once. Raises OperationalError when wait_ms passed.
    """
    if conn.dialect.name != "postgresql":
        conn.execute(text(f"PRAGMA busy_timeout = {int(wait_ms)}"))
        conn.execute(text("DELETE FROM record_link WHERE 1 = 0"))   # the driver begins; SQLite takes the write lock
        return
    deadline = time.monotonic() + wait_ms / 1000
    while True:
        try:
            with conn.begin_nested():
                conn.execute(text("LOCK TABLE source_record, record_link IN SHARE ROW EXCLUSIVE MODE NOWAIT"))
            break
        except OperationalError as err:
            if getattr(err.orig, "sqlstate", None) != "55P03" or time.monotonic() > deadline:
                raise
            time.sleep(LOCK_RETRY_SECONDS)
    conn.execute(text(f"SET LOCAL lock_timeout = {int(wait_ms)}"))
    lock_preferences(conn)


def ids_taken(conn: Connection, ids: Iterable[str]) -> set[str]:
    """Return those of ids that are or were customer or household IDs (current, or kept as aliases)."""
    wanted = sorted(set(ids))
    if not wanted:
        return set()
    taken = set()
    for sql in ("SELECT customer_id FROM person WHERE customer_id IN :ids",
                "SELECT household_id FROM household WHERE household_id IN :ids",
                "SELECT old_id FROM id_alias WHERE old_id IN :ids"):
        taken.update(row[0] for row in conn.execute(text(sql).bindparams(bindparam("ids", expanding=True)),
                                                    {"ids": wanted}))
    return taken


def write_record(conn: Connection, row: Mapping[str, object], customer_id: str, household_id: str, run_id: str,
                 confidence: float) -> None:
    """Insert or replace a source record (source, record_id, RAW_COLUMNS, STD_COLUMNS) and its link."""
    key = {"s": row["source"], "r": row["record_id"]}
    conn.execute(text("DELETE FROM source_record WHERE source = :s AND record_id = :r"), key)
    conn.execute(text("DELETE FROM record_link WHERE source = :s AND record_id = :r"), key)
    columns = ["source", "record_id", *RAW_COLUMNS, *STD_COLUMNS]
    conn.execute(text(f"INSERT INTO source_record ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})"),
                 {c: row.get(c) for c in columns})
    conn.execute(text("INSERT INTO record_link (source, record_id, customer_id, household_id, run_id, confidence) "
                      "VALUES (:s, :r, :c, :h, :run, :confidence)"),
                 {**key, "c": customer_id, "h": household_id, "run": run_id, "confidence": confidence})


def write_join(conn: Connection, run_id: str, record: str, partner: str, probability: float, weight: float | None,
               reason: str) -> None:
    """Keep the link by which a record joined its person in real time (a match_edge merge of the published run), so
    that an explanation finds the path to it as to a record the run joined (``forget_joins`` first)."""
    conn.execute(text("INSERT INTO match_edge (run_id, kind, unique_id_l, unique_id_r, match_probability, "
                      "match_weight, reason) VALUES (:run, 'merge', :l, :r, :p, :w, :reason)"),
                 {"run": run_id, "l": record, "r": partner, "p": float(probability),
                  "w": None if weight is None else float(weight), "reason": reason})


def flat_kin_household(conn: Connection, postcode: str | None, number: str | None, addition: str | None,
                       surnames: set[str | None], cap: int) -> str | None:
    """Return the household of the kin a record at a building's bare number has at one flat of it: persons whose
    surname shares a word of at least three letters with the record's and who live at a flat of that building, all of
    one flat, fewer than cap, one household (``identity.households``' flat_kin); else None."""
    names = {name for name in surnames if name and len(name) > 2}
    if addition is not None or postcode is None or number is None or not names:
        return None
    flats: dict[str, set[tuple[str, str]]] = {}        # flat -> (customer_id, household_id) of kin there
    for customer_id, household_id, written, surname in conn.execute(_BUILDING, {"postcode": postcode, "number": number}):
        flat = standardise_house_number(written)[1]
        words = set((surname or "").split())
        if flat is not None and {w for w in words if len(w) > 2} & names:
            flats.setdefault(flat, set()).add((customer_id, household_id))
    if len(flats) != 1:
        return None
    (kin,) = flats.values()
    households = {household for _, household in kin}
    return households.pop() if len(households) == 1 and len(kin) < cap else None


_BUILDING = text("""SELECT l.customer_id, l.household_id, r.house_number, r.std_surname FROM source_record r
JOIN record_link l ON l.source = r.source AND l.record_id = r.record_id
WHERE r.std_postcode = :postcode AND r.std_house_number = :number""")


def forget_joins(conn: Connection, record: str, reason: str) -> None:
    """Remove the links by which a record joined a person in real time before (it is resolved again: sent twice, or
    moved to another person)."""
    conn.execute(text("DELETE FROM match_edge WHERE kind = 'merge' AND unique_id_l = :l AND reason = :reason"),
                 {"l": record, "reason": reason})


def note_written(conn: Connection, customer_ids: Collection[str], now: dt.datetime) -> None:
    """Record on conn's transaction that these persons' records were written in real time (``person_written``), so
    that every server's name search reads their names again (``persist_lock`` held: the next ``seq`` is free)."""
    start = (conn.execute(text("SELECT max(seq) FROM person_written")).scalar() or 0) + 1
    at = _stored_time(conn, now)
    for seq, customer_id in enumerate(sorted(customer_ids), start):
        conn.execute(text("INSERT INTO person_written (seq, customer_id, written_at) VALUES (:s, :c, :at)"),
                     {"s": seq, "c": customer_id, "at": at})


def _stored_time(conn: Connection, when: dt.datetime) -> object:
    """Return a time as the dialect stores it (SQLite: naive UTC text, as herken.publish writes it)."""
    when = when.astimezone(dt.timezone.utc)
    return when.replace(tzinfo=None).isoformat(" ") if conn.dialect.name == "sqlite" else when


def add_person(conn: Connection, customer_id: str, household_id: str, run_id: str, now: dt.datetime,
               new_household: bool) -> None:
    """Insert a new person (and its new household) with no records counted yet (``recount`` counts them)."""
    at = _stored_time(conn, now)
    if new_household:
        conn.execute(text("INSERT INTO household (household_id, person_count, run_id, first_seen_at) "
                          "VALUES (:h, 0, :run, :at)"), {"h": household_id, "run": run_id, "at": at})
    conn.execute(text("INSERT INTO person (customer_id, household_id, record_count, run_id, first_seen_at) "
                      "VALUES (:c, :h, 0, :run, :at)"), {"c": customer_id, "h": household_id, "run": run_id, "at": at})


def recount(conn: Connection, customer_ids: Collection[str], household_ids: Collection[str]) -> tuple[set[str], set[str]]:
    """Bring record and person counts up to date; remove persons and households left empty; return those removed."""
    gone_people, gone_homes = set(), set()
    for customer_id in sorted(customer_ids):
        count = conn.execute(text("SELECT count(*) FROM record_link WHERE customer_id = :c"), {"c": customer_id}).scalar()
        if count:
            conn.execute(text("UPDATE person SET record_count = :n WHERE customer_id = :c"), {"n": count, "c": customer_id})
        else:
            conn.execute(text("DELETE FROM person WHERE customer_id = :c"), {"c": customer_id})
            conn.execute(text("DELETE FROM profile WHERE customer_id = :c"), {"c": customer_id})
            gone_people.add(customer_id)
    for household_id in sorted(household_ids):
        count = conn.execute(text("SELECT count(*) FROM person WHERE household_id = :h"), {"h": household_id}).scalar()
        if count:
            conn.execute(text("UPDATE household SET person_count = :n WHERE household_id = :h"),
                         {"n": count, "h": household_id})
        else:
            conn.execute(text("DELETE FROM household WHERE household_id = :h"), {"h": household_id})
            gone_homes.add(household_id)
    return gone_people, gone_homes
