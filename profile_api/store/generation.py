"""The served generation: a number the database itself raises whenever a table the server's keyed reads
answer from is written, so that a server keeping those answers in memory (``read.KeptReads``) knows when
to forget them.

The keyed reads (``profile_api.profiles``: a profile by customer_id, the profiles using an e-mail, phone or
card, an ID no longer current) read ``SERVED_TABLES`` and nothing else; the live part of a profile and a
person's consent are columns of ``profile``, rewritten by every statement of a preference or consent. The
generation is raised by triggers, not by the writers, so that every writer raises it without having to
remember to: a full or incremental publish, ResolveRecord, preferences, consent, an erasure, a steward, a
migration, another process or a hand-written statement.

- SQLite: a trigger per table and statement kind, run for each row (SQLite has no statement triggers).
  SQLite has one writer at a time, so the row of ``served_generation`` is never waited for; the cost is a
  few µs per row written, which a bulk load avoids with ``one_raise`` (the triggers are dropped for its
  transaction and made again at its end, raising the generation once).
- PostgreSQL: a trigger per table for each statement (TRUNCATE too) notes the change in ``served_change``;
  a deferred trigger on that table raises the generation as the transaction commits. Raising it in the
  statement itself would hold the row of ``served_generation`` locked from the first statement to the
  commit, and two writers that lock other rows in the other order (a publish and a preference write)
  would deadlock; at the commit it is the last lock a transaction takes, held for the commit alone.

A raise becomes visible with the transaction that wrote the rows, never before: a server that sees the
new generation reads the new rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import inspect
from sqlalchemy.engine import Connection

# The tables the keyed reads answer from (``profile_api.profiles``: _ENCODED, _ENCODED_BY_IDENTIFIER, _ALIAS).
SERVED_TABLES = ("profile", "record_link", "source_record", "id_alias")

READ_GENERATION = "SELECT generation FROM served_generation WHERE id = 1"
_RAISE = "UPDATE served_generation SET generation = generation + 1 WHERE id = 1"
_SQLITE_KINDS = ("insert", "update", "delete")


def _sqlite_trigger(table: str, kind: str) -> str:
    return f"herken_served_{table}_{kind}"


def _sqlite(conn: Connection) -> None:
    run = conn.exec_driver_sql
    run("CREATE TABLE IF NOT EXISTS served_generation (id INTEGER PRIMARY KEY, generation BIGINT NOT NULL)")
    run("INSERT INTO served_generation (id, generation) SELECT 1, 0 "
        "WHERE NOT EXISTS (SELECT 1 FROM served_generation WHERE id = 1)")
    for table in SERVED_TABLES:
        for kind in _SQLITE_KINDS:
            run(f"CREATE TRIGGER IF NOT EXISTS {_sqlite_trigger(table, kind)} AFTER {kind.upper()} ON {table} "
                f"BEGIN {_RAISE}; END")


_POSTGRESQL = (
    "CREATE TABLE IF NOT EXISTS served_generation (id INTEGER PRIMARY KEY, generation BIGINT NOT NULL)",
    "INSERT INTO served_generation (id, generation) VALUES (1, 0) ON CONFLICT (id) DO NOTHING",
    "CREATE TABLE IF NOT EXISTS served_change (id BIGSERIAL PRIMARY KEY)",
    "CREATE OR REPLACE FUNCTION herken_served_changed() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN INSERT INTO served_change DEFAULT VALUES; RETURN NULL; END $$",
    "CREATE OR REPLACE FUNCTION herken_served_committing() RETURNS trigger LANGUAGE plpgsql AS "
    f"$$ BEGIN {_RAISE}; DELETE FROM served_change WHERE id = NEW.id; RETURN NULL; END $$",
    "DROP TRIGGER IF EXISTS herken_served_committing ON served_change",
    "CREATE CONSTRAINT TRIGGER herken_served_committing AFTER INSERT ON served_change "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION herken_served_committing()",
    *(statement for table in SERVED_TABLES for statement in (
        f"DROP TRIGGER IF EXISTS herken_served ON {table}",
        f"CREATE TRIGGER herken_served AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION herken_served_changed()"))
)


def install(conn: Connection) -> None:
    """Make the generation and its triggers on every served table where they are missing, on conn's
    transaction, and raise the generation (whatever was done to the tables meanwhile, a server forgets it).

    Safe to run again; every table of ``SERVED_TABLES`` must exist.
    """
    if conn.dialect.name == "postgresql":
        for statement in _POSTGRESQL:
            conn.exec_driver_sql(statement)
    else:
        _sqlite(conn)
    conn.exec_driver_sql(_RAISE)


def installed(conn: Connection) -> bool:
    """Return whether the store on conn has the served generation (schema version 10 and later)."""
    return inspect(conn).has_table("served_generation")


@contextmanager
def one_raise(conn: Connection) -> Iterator[None]:
    """Around a bulk write on conn's transaction: on SQLite the served tables' triggers are dropped for
    the transaction and made again at its end, raising the generation once instead of once per row
    (a publish writes hundreds of thousands; measured at 300k rows: an insert 2-3x slower with the
    triggers, a DELETE of the whole table 1.3 s instead of 0.1). Nothing on PostgreSQL, whose triggers
    run once per statement.

    SQLite's DDL is transactional and the writer holds the store's write lock from the first
    statement: no other writer writes while the triggers are gone, no reader sees them gone, and a
    transaction that fails rolls their dropping back. Only when the block ends without an exception
    are they made again, so the caller must let an exception end the transaction.
    """
    if conn.dialect.name != "sqlite":
        yield
        return
    conn.exec_driver_sql(_RAISE)      # a write first: the driver begins the transaction before it
    for table in SERVED_TABLES:
        for kind in _SQLITE_KINDS:
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {_sqlite_trigger(table, kind)}")
    yield
    install(conn)
