"""The audit log: who (channel, token id) read or changed whom, when, through which RPC or command.

Append-only: rows are inserted, never updated or deleted. The server does not write a row inside
each request (a write per read would halve what it serves): ``AuditLog.record`` queues the entry and
a background thread inserts what has queued every ``flush_seconds`` in one transaction, and on
``close``. That insert skips SQLAlchemy's work per row (``insert_entries``): through its insert a
row cost about 75 µs of the server's CPU on SQLite, more than the GetProfile it records. A store that
cannot be written keeps the entries queued (up to ``MAX_PENDING``) and the next flush tries again.
Commands (``herken export``, ``herken forget``) write theirs at once (``write_entries``).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import weakref
from collections.abc import Iterable
from typing import NamedTuple

import sqlalchemy
from sqlalchemy import insert, select, text
from sqlalchemy.engine import Connection, Engine

from profile_api.store.models import AuditEntry

log = logging.getLogger(__name__)

FLUSH_SECONDS = 0.5
MAX_PENDING = 200_000     # entries kept while the store cannot be written; beyond, the oldest are dropped (logged)


class Entry(NamedTuple):
    """One audit entry (the columns of audit_log but seq, in their order); a tuple: the server makes one per call."""

    at: dt.datetime
    channel: str
    token_id: str | None
    action: str
    customer_id: str | None = None
    household_id: str | None = None
    outcome: str = "OK"
    detail: str | None = None


def now() -> dt.datetime:
    """Return the time an entry is stamped with (UTC; SQLAlchemy binds it as the dialect stores it)."""
    return dt.datetime.now(dt.timezone.utc)


def write_entries(conn: Connection, entries: Iterable[Entry]) -> int:
    """Insert entries on conn's transaction; return how many."""
    rows = [entry._asdict() for entry in entries]
    if rows:
        conn.execute(insert(AuditEntry.__table__), rows)
    return len(rows)


_COLUMNS = Entry._fields
# PostgreSQL: the whole batch as one statement of arrays, so the database parses and plans it once;
# `at` goes in as timestamptz and is cast to the column's type as SQLAlchemy's insert would have it.
_PG_INSERT = (f"INSERT INTO audit_log ({', '.join(_COLUMNS)}) SELECT * FROM unnest("
              "%s::timestamptz[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[])")
_INSERT = f"INSERT INTO audit_log ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"


# Entries per statement: the rows of one are made while holding the GIL, which a request waits for;
# a few hundred keep that wait well under a millisecond.
_CHUNK = 256


def insert_entries(conn: Connection, entries: list[Entry]) -> int:
    """Insert entries on conn's transaction as ``write_entries`` does, with the driver's executemany (or a
    statement of arrays on PostgreSQL), a chunk at a time; return how many. Values are bound as SQLAlchemy
    binds them."""
    dialect = conn.dialect
    if dialect.name != "postgresql":
        table = AuditEntry.__table__
        stamp, *others = (table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in _COLUMNS)
        if dialect.paramstyle != "qmark" or stamp is None or any(others):
            return write_entries(conn, entries)   # not sqlite3, where only `at` is made text: the plain insert
    for start in range(0, len(entries), _CHUNK):
        chunk = entries[start:start + _CHUNK]
        if dialect.name == "postgresql":
            conn.exec_driver_sql(_PG_INSERT, tuple(list(column) for column in zip(*chunk)))
        else:
            conn.exec_driver_sql(_INSERT, [(stamp(entry.at), *entry[1:]) for entry in chunk])
    return len(entries)


def audit_command(engine: Engine, action: str, customer_id: str | None, outcome: str, *,
                  household_id: str | None = None, detail: str | None = None) -> None:
    """Log a command at once, as the server logs an RPC (channel "local": whoever runs herken on this machine)."""
    with engine.begin() as conn:
        write_entries(conn, [Entry(now(), "local", None, action, customer_id, household_id, outcome, detail)])


def customers_of_records(conn: Connection, records: Iterable[str]) -> list[str]:
    """Return the customer_ids that hold these records (source:record_id), for the audit of a command about records."""
    found: list[str] = []
    for record in records:
        source, _, record_id = record.partition(":")
        row = conn.execute(text("SELECT customer_id FROM record_link WHERE source = :s AND record_id = :r"),
                           {"s": source, "r": record_id}).first()
        if row is not None and row[0] not in found:
            found.append(row[0])
    return found


def read_entries(conn: Connection, *, customer_id: str | None = None, channel: str | None = None,
                 since: dt.datetime | None = None, limit: int | None = None) -> list[dict]:
    """Return audit entries in the order they were written, as dicts of their columns."""
    table = AuditEntry.__table__
    query = select(table).order_by(table.c.seq)
    if customer_id is not None:
        query = query.where(table.c.customer_id == customer_id)
    if channel is not None:
        query = query.where(table.c.channel == channel)
    if since is not None:
        query = query.where(table.c.at >= since)
    if limit is not None:
        query = query.limit(limit)
    return [dict(row._mapping) for row in conn.execute(query)]


class AuditLog:
    """Queues entries and inserts them in the background; ``close`` writes what is left."""

    def __init__(self, engine: Engine, flush_seconds: float = FLUSH_SECONDS) -> None:
        self._engine = engine
        self._flush_seconds = flush_seconds
        self._pending: list[Entry] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._failing = False
        # The thread holds the log weakly: a log nobody holds any more (its server gone) ends its thread.
        self._thread = threading.Thread(target=_run, args=(weakref.ref(self), self._wake, self._closed, flush_seconds),
                                        name="herken-audit", daemon=True)
        self._thread.start()

    def record(self, entry: Entry) -> None:
        """Queue an entry (written within flush_seconds)."""
        with self._lock:
            self._pending.append(entry)
            if len(self._pending) > MAX_PENDING:
                dropped = len(self._pending) - MAX_PENDING
                del self._pending[:dropped]
                log.error("audit log: the store could not be written for long; %d oldest entries dropped", dropped)

    def flush(self) -> bool:
        """Write every queued entry now; return False when the store could not be written (they stay queued)."""
        with self._lock:
            batch, self._pending = self._pending, []
        if not batch:
            return True
        try:
            with self._engine.begin() as conn:
                insert_entries(conn, batch)
        except sqlalchemy.exc.SQLAlchemyError as err:
            if not self._failing:      # once per outage, not every half second
                log.warning("audit log: %d entries wait for the store: %s", len(batch), str(err).splitlines()[0])
            self._failing = True
            with self._lock:
                self._pending[:0] = batch
            return False
        if self._failing:
            log.warning("audit log: the store can be written again; the entries that waited are written")
        self._failing = False
        return True

    def close(self) -> None:
        """Stop the background thread and write what is queued."""
        self._closed.set()
        self._wake.set()
        if self._thread is not threading.current_thread():
            self._thread.join(10)
        self.flush()

    def __del__(self) -> None:
        self._closed.set()
        self._wake.set()
        try:
            self.flush()
        except Exception:    # noqa: BLE001  (at interpreter exit anything may be gone)
            pass


def _run(ref: weakref.ref, wake: threading.Event, closed: threading.Event, seconds: float) -> None:
    """The background thread of an AuditLog: flush every `seconds` until it is closed or gone."""
    while not closed.is_set():
        wake.wait(seconds)
        wake.clear()
        audit = ref()
        if audit is None:
            return
        audit.flush()
        del audit
