"""Reading the published result back: links, the latest run, the review material; cursors for the server, and
the answers of its keyed reads kept in memory."""

from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool, SingletonThreadPool, StaticPool
from sqlmodel import Session, select

from profile_api.store.sqlite_files import existing_file_url
from profile_api.store.generation import READ_GENERATION
from profile_api.store.models import Run


def in_chunks(values: Iterable, size: int) -> Iterator[list]:
    """Yield the distinct values, sorted, in lists of at most size (keys per statement stay under a driver's cap)."""
    ordered = sorted(set(values))
    for start in range(0, len(ordered), size):
        yield ordered[start:start + size]


def driver_rows(conn: Connection, query: str, args: Sequence[object] = ()) -> tuple[list[str], list[tuple]]:
    """Return the column names and rows of a query with ``?`` placeholders for args, fetched by the driver's
    own cursor on conn's transaction.

    SQLAlchemy's result fetches row by row and wraps each (100k rows: ~0.8 s); the driver's fetchall
    gives plain tuples at once. Values are as the driver returns them.
    """
    if conn.dialect.paramstyle != "qmark":
        query = query.replace("?", "%s")
    cursor = conn.connection.cursor()
    try:
        cursor.execute(query, tuple(args))
        names = [column[0] for column in cursor.description]
        return names, [tuple(row) for row in cursor.fetchall()]
    finally:
        cursor.close()


def query_frame(conn: Connection, query: str) -> pd.DataFrame:
    """Return the rows of a query without parameters as a frame (see ``driver_rows``)."""
    names, rows = driver_rows(conn, query)
    return pd.DataFrame.from_records(rows, columns=names)


def read_links(engine: Engine) -> pd.DataFrame:
    """Return source, record_id, customer_id, household_id and confidence of every linked record, sorted."""
    with engine.connect() as conn:
        return query_frame(conn, "SELECT source, record_id, customer_id, household_id, confidence FROM record_link "
                                 "ORDER BY source, record_id")


def held_counts(engine: Engine) -> dict[str, int]:
    """Return how many rows the store holds per drop file stem: each channel's records ("pos", ...), "interactions"
    and "preferences" (a store without them: {})."""
    with engine.connect() as conn:
        found = {source: int(n) for source, n in
                 conn.execute(text("SELECT source, count(*) FROM source_record GROUP BY source"))}
        for stem, table in (("interactions", "interaction"), ("preferences", "preference")):
            found[stem] = int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() or 0)
    return found


def latest_run(engine: Engine) -> Run | None:
    """Return the published run, or None when nothing was published yet."""
    with Session(engine) as session:
        return session.exec(select(Run).order_by(Run.finished_at.desc())).first()  # type: ignore[attr-defined]


# A check of the store waits at most this long for a connection or an answer: a database that does
# not answer within it counts as one that cannot be read.
PROBE_TIMEOUT_SECONDS = 2
# What the check reads: a row of the table every GetProfile reads (the table must be there, and
# its pages readable).
_PROBE = text("SELECT customer_id FROM profile LIMIT 1")


def probe_engine(engine: Engine) -> Engine:
    """Return an engine for checking that the store of engine can be read now (see ``read_problem``).

    It opens a new connection for every check: a kept or pooled connection goes on reading an
    SQLite file that has been removed or renamed, and knows nothing of a database server that
    refuses new connections. It never creates an SQLite file where the store's is missing.
    """
    url = engine.url
    if engine.dialect.name == "sqlite":
        if url.database in (None, "", ":memory:"):
            return engine           # an in-memory store lives in the engine's own connection
        return create_engine(existing_file_url(url), poolclass=NullPool, connect_args={"timeout": PROBE_TIMEOUT_SECONDS})
    return create_engine(url, poolclass=NullPool, connect_args={
        "connect_timeout": PROBE_TIMEOUT_SECONDS, "options": f"-c statement_timeout={PROBE_TIMEOUT_SECONDS * 1000}"})


def read_problem(probe: Engine) -> str | None:
    """Return why the store cannot be read now (what the database said), or None when it can."""
    try:
        with probe.connect() as conn:
            conn.execute(_PROBE).all()
    except SQLAlchemyError as err:
        said = getattr(err, "orig", None) or err
        return " ".join(str(said).split()) or type(said).__name__
    return None


# What a kept read connection of an engine runs once. SQLite: read the file through a memory map
# rather than a read() call per page that is not in the connection's own small cache (a random
# profile read on a 100k-record store: 43 µs instead of 60-76).
_READ_SETUP: dict[str, tuple[str, ...]] = {"sqlite": ("PRAGMA mmap_size = 1073741824",)}


_QUERY_CANCELED = "57014"     # PostgreSQL: statement_timeout (or a cancel request) ended the statement


@dataclass(frozen=True)
class KeyedRead:
    """A read of rows by one text key (written ``:key`` in sql) whose columns are all binary or text
    (PostgreSQL hands text over as its UTF-8 bytes).

    The server's hottest reads (an encoded profile by customer_id, the encoded profiles of the persons
    using an identifier) are these; on PostgreSQL they run as statements prepared on the connection
    and executed by libpq directly (see ``ThreadCursors.read_rows``), as ``postgresql_sql`` when given
    (the same read written in a form PostgreSQL plans more cheaply).
    """

    name: str
    sql: str
    postgresql_sql: str | None = None


class _Kept:
    """A thread's own read connection and its cursor; closed when the thread (or its store) lets go of it."""

    connection: Any = None

    def __init__(self, engine: Engine) -> None:
        self.connection = engine.raw_connection()
        if not isinstance(engine.pool, (SingletonThreadPool, StaticPool)):  # those hold an in-memory database
            self.connection.detach()           # its own, not the pool's: closing it really closes it
        self.cursor = self.connection.cursor()
        for statement in _READ_SETUP.get(engine.dialect.name, ()):
            self.cursor.execute(statement)
            self.cursor.fetchall()
        self.postgresql = engine.dialect.name == "postgresql"
        self.prepared: set[str] = set()
        if self.postgresql:
            import psycopg     # the PostgreSQL driver; an SQLite-only install may lack it

            self._pq, self._failed = psycopg.pq, _failure_of(psycopg)

    def read_rows(self, read: KeyedRead, key: str) -> list[tuple[Any, ...]]:
        """Return the rows of a KeyedRead."""
        if not self.postgresql:
            self.cursor.execute(read.sql, {"key": key})
            return self.cursor.fetchall()
        # libpq directly (psycopg.pq, psycopg's public wrapper of it): one call that waits for the
        # answer without the GIL, instead of psycopg's cursor machinery (measured: 19 µs of CPU per
        # read instead of 59). The connection is this thread's alone and autocommits.
        pq = self._pq
        pgconn = self.connection.dbapi_connection.pgconn
        name = read.name.encode()
        if read.name not in self.prepared:
            prepared = pgconn.prepare(name, (read.postgresql_sql or read.sql).replace(":key", "$1").encode())
            if prepared.status != pq.ExecStatus.COMMAND_OK:
                raise self._failed(prepared, pgconn)
            self.prepared.add(read.name)
        result = pgconn.exec_prepared(name, [key.encode()], result_format=1)
        if result.status != pq.ExecStatus.TUPLES_OK:
            raise self._failed(result, pgconn)
        columns = range(result.nfields)
        return [tuple(result.get_value(row, column) for column in columns) for row in range(result.ntuples)]

    def close(self) -> None:
        """Close the cursor and the connection (at most once; a connection already gone is fine)."""
        connection, self.connection = self.connection, None
        if connection is not None:
            try:
                self.cursor.close()
                connection.close()
            except Exception:   # noqa: BLE001  (closing a broken connection may fail; it is gone either way)
                pass

    __del__ = close


def _failure_of(psycopg: Any) -> Any:
    """Return a function making the error psycopg would raise for a failed libpq result: the class of its
    SQLSTATE (a cancelled statement is QueryCanceled, a connection ended by the server AdminShutdown)."""
    def failure(result: Any, pgconn: Any) -> Exception:
        state = result.error_field(psycopg.pq.DiagnosticField.SQLSTATE)
        cls = psycopg.OperationalError
        if state:
            try:
                cls = psycopg.errors.lookup(state.decode())
            except KeyError:
                pass
        return cls(_message(result, pgconn))
    return failure


def _message(result: Any, pgconn: Any) -> str:
    """Return what PostgreSQL (or libpq) said about a failed statement."""
    said = result.error_message or pgconn.error_message
    return (said.decode(errors="replace") if isinstance(said, bytes) else str(said)).strip() or "the read failed"


class ThreadCursors:
    """A read cursor per thread, on a connection the thread keeps open between reads.

    A read then costs the query alone: checking a connection out of the pool, resetting it on return
    and making a cursor cost more than the query itself (measured: 40 of 60 µs on SQLite, 60-120 of
    200 µs on PostgreSQL). The engine's connections must not hold a transaction open between reads
    (SQLite's driver starts none for a SELECT; a PostgreSQL engine must be AUTOCOMMIT), or they would
    hold back a publish. A connection that fails is closed and the thread's next read opens another.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._local = threading.local()
        self._kept: weakref.WeakSet[_Kept] = weakref.WeakSet()
        self._errors = engine.dialect.loaded_dbapi.Error

    def _thread_kept(self) -> _Kept:
        """Return this thread's kept connection, opening it on first use."""
        kept = getattr(self._local, "kept", None)
        if kept is None:
            kept = self._local.kept = _Kept(self._engine)
            self._kept.add(kept)
        return kept

    def _drop(self, kept: _Kept) -> None:
        """Close a connection that failed; this thread's next read opens another."""
        if getattr(self._local, "kept", None) is kept:
            self._local.kept = None
        kept.close()

    @contextmanager
    def cursor(self) -> Iterator[Any]:
        """Yield this thread's cursor, opening its connection on first use."""
        kept = self._thread_kept()
        try:
            yield kept.cursor
        except self._errors:
            self._drop(kept)
            raise

    def read_rows(self, read: KeyedRead, key: str) -> list[tuple[Any, ...]]:
        """Return the rows of a KeyedRead on this thread's connection.

        A connection found broken (a database restart) is replaced and the read tried once more on the
        new one: it changes nothing, so trying again is safe. A statement cancelled at the call's
        deadline (``statement_timeout``) is not tried again: its time is up.
        """
        if "\x00" in key:      # no stored key holds NUL (PostgreSQL text cannot); libpq would cut the key there
            return []
        kept = self._thread_kept()      # (not through cursor(): a generator context per read costs a few µs)
        try:
            return kept.read_rows(read, key)
        except self._errors as err:
            self._drop(kept)
            if getattr(err, "sqlstate", None) == _QUERY_CANCELED:
                raise
        kept = self._thread_kept()
        try:
            return kept.read_rows(read, key)
        except self._errors:
            self._drop(kept)
            raise

    def read_row(self, read: KeyedRead, key: str) -> tuple[Any, ...] | None:
        """Return the first row of a KeyedRead on this thread's connection (None: no row has this key)."""
        rows = self.read_rows(read, key)
        return rows[0] if rows else None

    def close(self) -> None:
        """Close every thread's connection; a thread that reads again opens a new one.

        Only when no read is under way (a server closes its store after it has stopped serving):
        a connection closed under a read would fail that read.
        """
        self._local = threading.local()
        for kept in list(self._kept):
            kept.close()


DEFAULT_CACHE_MEGABYTES = 64
DEFAULT_CACHE_CHECK_SECONDS = 0.2
_ENTRY_OVERHEAD = 160     # bytes a kept answer costs beside its values (its key, list, tuples, dict slot)


@dataclass(frozen=True)
class CacheSettings:
    """How a server keeps the answers of its keyed reads in memory (``KeptReads``).

    Attributes:
        megabytes: the most the kept answers may take (their values and an estimate of Python's share);
            beyond it the least recently used go. 0: nothing is kept, every read goes to the store.
        check_seconds: how often the store's served generation is read (``profile_api.store.generation``):
            a write by another process is served at most this long after its commit.
    """

    megabytes: float = DEFAULT_CACHE_MEGABYTES
    check_seconds: float = DEFAULT_CACHE_CHECK_SECONDS

    def __post_init__(self) -> None:
        if not self.megabytes >= 0:
            raise ValueError(f"megabytes must be 0 or more, not {self.megabytes}")
        if not self.check_seconds > 0:
            raise ValueError(f"check_seconds must be more than 0, not {self.check_seconds}")


NO_CACHE = CacheSettings(megabytes=0)


def _size(key: tuple[str, str], rows: list[tuple[Any, ...]]) -> int:
    """Return about how many bytes a kept answer holds."""
    return _ENTRY_OVERHEAD + len(key[1]) + sum(len(value) for row in rows for value in row if value is not None)


class KeptReads:
    """The keyed reads of ``ThreadCursors``, each answer kept in memory and given again until the store's
    served generation changes (any writer, any process: ``profile_api.store.generation``) or ``forget``
    is called (a write through this process, at once).

    The generation is read on a reading thread's own connection when the last read of it is older than
    ``check_seconds``; meanwhile the other threads read the store itself, so that no answer older than
    that is given from memory. When the generation cannot be read, everything kept is forgotten and the
    reads go to the store (and fail as it does). An answer read while the kept answers were forgotten
    is not kept: each read keeps its answer in the map that was current when it began, and forgetting
    puts a new map in place. Kept answers are forgotten least recently used first beyond ``megabytes``.
    """

    def __init__(self, cursors: ThreadCursors, settings: CacheSettings = CacheSettings()) -> None:
        self._cursors = cursors
        self._limit = int(settings.megabytes * 1024 * 1024)
        self._interval = settings.check_seconds
        self._entries: OrderedDict[tuple[str, str], list[tuple[Any, ...]]] = OrderedDict()
        self._bytes = 0
        self._generation: int | None = None
        self._check_due = 0.0       # time.monotonic() when the generation must be read again
        self._checking = threading.Lock()
        self._keeping = threading.Lock()

    @property
    def kept(self) -> tuple[int, int]:
        """Return (answers kept, about how many bytes they take)."""
        return len(self._entries), self._bytes

    def forget(self) -> None:
        """Forget every kept answer now (the store was written through this process)."""
        with self._keeping:
            self._entries, self._bytes = OrderedDict(), 0

    def _current(self) -> bool:
        """Read the generation when it is due; return False when another thread is reading it or it could
        not be read (then this read goes to the store)."""
        if not self._checking.acquire(blocking=False):
            return False
        try:
            now = time.monotonic()
            if now < self._check_due:
                return True
            try:
                with self._cursors.cursor() as cursor:
                    cursor.execute(READ_GENERATION)
                    generation = cursor.fetchall()[0][0]     # all: an SQLite statement left open holds its snapshot
            except Exception:   # noqa: BLE001  (a store that cannot be read: the reads say why)
                # Nothing kept; what is read until the next check is kept, and forgotten then
                # (no generation is equal to None).
                self._generation, self._check_due = None, now + self._interval
                self.forget()
                return False
            if generation != self._generation:
                self.forget()
                self._generation = generation
            self._check_due = now + self._interval
            return True
        finally:
            self._checking.release()

    def read_rows(self, read: KeyedRead, key: str) -> list[tuple[Any, ...]]:
        """Return the rows of a KeyedRead (as ``ThreadCursors.read_rows``); the list must not be changed."""
        if not self._limit or (time.monotonic() >= self._check_due and not self._current()):
            return self._cursors.read_rows(read, key)
        entries, kept = self._entries, (read.name, key)
        rows = entries.get(kept)
        if rows is not None:
            try:
                entries.move_to_end(kept)
            except KeyError:    # just now let go of by another thread
                pass
            return rows
        rows = self._cursors.read_rows(read, key)
        size = _size(kept, rows)
        if size <= self._limit:
            with self._keeping:
                if entries is self._entries and kept not in entries:
                    entries[kept] = rows
                    self._bytes += size
                    while self._bytes > self._limit:
                        self._bytes -= _size(*entries.popitem(last=False))
        return rows

    def read_row(self, read: KeyedRead, key: str) -> tuple[Any, ...] | None:
        """Return the first row of a KeyedRead (None: no row has this key)."""
        rows = self.read_rows(read, key)
        return rows[0] if rows else None
