"""What a customer told us through the API outlives the record it was kept on.

Consent statements and API preferences hang on one record of the person (``profile_api.profiles._record_for``).
When a run deletes that record (a delta's ``deletions.csv``, a full drop that no longer holds it), the statements
move to a record the same person keeps: their newest in the deleted record's channel, else their newest. Left on
the deleted record they would belong to no one: a withdrawn consent would read as granted again, and neither an
export nor an erasure would find them. Only when every record of the person is gone do their statements go too.

Both writes (``write_run``, ``write_increment``) call ``statement_holders`` at the start of their transaction and
``rehome_statements`` once the run's record links are written.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from profile_api.store.read import driver_rows, in_chunks

Key = tuple[str, str]    # (source, record_id)

KEYS_PER_STATEMENT = 400     # keys OR-ed in one statement: bound parameters stay well under every driver's cap
# the tables whose rows a run does not replace: (table, which of its rows)
KEPT_STATEMENTS = (("consent", ""), ("preference", " AND s.origin = 'api'"))


@dataclass
class Holders:
    """Before a write: each record carrying kept statements, its person, and that person's records then."""

    person_of: dict[Key, str] = field(default_factory=dict)
    records_of: dict[str, list[Key]] = field(default_factory=lambda: defaultdict(list))


@dataclass(frozen=True)
class Rehomed:
    """What ``rehome_statements`` did: statements moved to another record, and dropped with their person."""

    moved: int
    dropped: int


def statement_holders(conn: Connection) -> Holders:
    """Read, before a write changes the links, which records carry kept statements and their persons' records.

    On PostgreSQL consent statements are held back until the write's transaction ends (UpdateConsent waits, then
    answers UNAVAILABLE: try again): one stated meanwhile on a record the write removes would be left on it. SQLite
    has one writer at a time. (API preferences wait for the profiles, written last: ``profile_api.live``.)
    """
    holders = Holders()
    tables = set(inspect(conn).get_table_names())
    if conn.dialect.name == "postgresql" and "consent" in tables:
        conn.execute(text("LOCK TABLE consent IN SHARE MODE"))
    for table, which in KEPT_STATEMENTS:
        if table not in tables:
            continue
        _, rows = driver_rows(conn, f"SELECT DISTINCT s.source, s.record_id, l.customer_id FROM {table} s "
                                    f"JOIN record_link l ON l.source = s.source AND l.record_id = s.record_id "
                                    f"WHERE 1 = 1{which}")
        holders.person_of.update(((source, record_id), customer_id) for source, record_id, customer_id in rows)
    for chunk in in_chunks(holders.person_of.values(), KEYS_PER_STATEMENT):
        marks = ", ".join("?" for _ in chunk)
        _, rows = driver_rows(conn, f"SELECT customer_id, source, record_id FROM record_link "
                                    f"WHERE customer_id IN ({marks})", tuple(chunk))
        for customer_id, source, record_id in rows:
            holders.records_of[customer_id].append((source, record_id))
    return holders


def rehome_statements(conn: Connection, holders: Holders) -> Rehomed:
    """Move the kept statements of records no longer linked to a record their person kept; drop them where none is."""
    if not holders.person_of:
        return Rehomed(0, 0)
    linked = _linked(conn, {key for keys in holders.records_of.values() for key in keys})
    gone = [key for key in holders.person_of if key not in linked]
    if not gone:
        return Rehomed(0, 0)
    moved = dropped = 0
    for key in gone:
        person = holders.person_of[key]
        kept = [other for other in holders.records_of[person] if other in linked]
        target = choose_record(key[0], {other: linked[other][1] for other in _of_heir(person, kept, linked)})
        for table, which in KEPT_STATEMENTS:
            if target is None:
                dropped += _execute(conn, f"DELETE FROM {table} WHERE source = ? AND record_id = ?"
                                          f"{which.replace('s.', '')}", key)
            else:
                moved += _execute(conn, f"UPDATE {table} SET source = ?, record_id = ? "
                                        f"WHERE source = ? AND record_id = ?{which.replace('s.', '')}", target + key)
    return Rehomed(moved, dropped)


def _of_heir(person: str, kept: list[Key], linked: Mapping[Key, tuple[str, str | None]]) -> list[Key]:
    """Return the kept records of the person who carries on the old person: the one that kept its customer_id,
    else the one holding most of its kept records (a person split by the run keeps its statements with its ID)."""
    now = [linked[k][0] for k in kept]
    if not now:
        return []
    heir = person if person in now else max(sorted(set(now)), key=now.count)
    return [k for k in kept if linked[k][0] == heir]


def choose_record(source: str, kept: Mapping[Key, str | None]) -> Key | None:
    """Return the record statements move to: the newest kept record in ``source``, else the newest (None: none kept).

    ``kept`` maps each record the person keeps to its ``updated_at`` (ISO text, or None when unknown).
    """
    if not kept:
        return None
    return max(kept, key=lambda k: (k[0] == source, (kept[k] or "").replace(" ", "T"), k))


def _linked(conn: Connection, keys: Iterable[Key]) -> dict[Key, tuple[str, str | None]]:
    """Return those of keys that have a record link now, each with its customer_id and its record's ``updated_at``."""
    found: dict[Key, tuple[str, str | None]] = {}
    for chunk in in_chunks(keys, KEYS_PER_STATEMENT):
        clause = " OR ".join("(l.source = ? AND l.record_id = ?)" for _ in chunk)
        _, rows = driver_rows(conn, "SELECT l.source, l.record_id, l.customer_id, r.updated_at FROM record_link l "
                                    "LEFT JOIN source_record r ON r.source = l.source AND r.record_id = l.record_id "
                                    f"WHERE {clause}", tuple(v for key in chunk for v in key))
        found.update(((source, record_id), (customer, None if stamp is None else str(stamp)))
                     for source, record_id, customer, stamp in rows)
    return found


def _execute(conn: Connection, sql: str, params: tuple) -> int:
    """Run one statement with positional parameters on conn's driver; return the rows it touched."""
    cursor = conn.exec_driver_sql(sql.replace("?", "%s") if conn.dialect.paramstyle != "qmark" else sql, params)
    return max(cursor.rowcount, 0)

