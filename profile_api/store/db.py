"""Opening a store by SQLAlchemy URL: creating a new one, checking an existing one's schema version,
and migrating it (Alembic, ``profile_api/store/migrations``) when the caller may change it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel, create_engine

from profile_api.store.generation import install as install_generation
from profile_api.store.sqlite_files import existing_file_connector, sqlite_path
from profile_api.store.models import SCHEMA_VERSION, SchemaInfo

log = logging.getLogger(__name__)

# The server answers 16 concurrent clients; the default pool (5 + 10 overflow) would make some wait.
POOL_SIZE = 16

DEFAULT_STORE_URL = "sqlite:///herken.db"

# Two migrations of one PostgreSQL store at once (a resolve and a migrate) wait for each other.
_MIGRATION_LOCK = 0x6865726B656E   # "herken"


class StoreError(Exception):
    """The store cannot be opened or is of an unknown schema version."""


class OutdatedStore(StoreError):
    """The store is of an older schema version and the command may not migrate it."""


class UnusableStore(StoreError):
    """The store cannot be used as given: not a store URL, no such store (a command that reads one), a database of
    another schema, or a store newer than this herken. The command line exits 2, as for other input it cannot use;
    a store that cannot be reached (PostgreSQL down) stays a StoreError: try again."""


class NoStore(UnusableStore):
    """No store at the URL (no SQLite file, an empty database), and the command may not make one."""


def statement_bound(seconds: float) -> dict[str, str]:
    """Return connect_args for a PostgreSQL engine (psycopg) whose every statement is cancelled after seconds."""
    return {"options": f"-c statement_timeout={max(1, int(seconds * 1000))}"}


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    """Use WAL so readers (the server) are not blocked while a run publishes."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _shown(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def _in_memory(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:")


def _engine(url: str | URL, **options: object) -> Engine:
    """Return an engine for url, or raise StoreError naming what a store URL looks like."""
    try:
        parsed = make_url(url)
        in_memory = parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:")
        pool = {} if in_memory or set(options) - {"creator"} else {"pool_size": POOL_SIZE, "max_overflow": POOL_SIZE}
        engine = create_engine(url, **pool, **options)
    except (ArgumentError, ImportError) as err:
        raise UnusableStore(f"'{url}' is not a usable store URL ({err}); use sqlite:///file.db or "
                            "postgresql+psycopg://...") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def open_store(url: str = DEFAULT_STORE_URL, migrate: bool = False, create: bool = True) -> Engine:
    """Return an engine for the store at url; an empty database gets this herken's schema.

    Args:
        url: SQLAlchemy URL of the store.
        migrate: upgrade a store of an older schema version in place (commands that write: resolve).
            Without it such a store raises OutdatedStore and is left as it is (serve, links,
            evaluate, report never change a store's schema).
        create: make a new store where there is none (commands that publish); without it (commands that read
            one) no SQLite file is made for a mistyped path and an empty database raises UnusableStore.

    Raises:
        OutdatedStore: the store is older than this herken and migrate is false.
        UnusableStore: the URL is not usable, there is no store and create is false, the database holds another
            schema, or the store is newer.
        StoreError: the database cannot be reached.
    """
    engine = _engine(url)
    missing = f"no store at {_shown(engine)}; run `herken resolve DROP --store {_shown(engine)}` first"
    if not create and engine.dialect.name == "sqlite" and not _in_memory(engine):
        if not Path(sqlite_path(engine.url.database or "")).is_file():
            engine.dispose()
            raise NoStore(missing)
        # a reader never makes a store: with the file gone (removed while served), a new connection fails
        # ("unable to open database file": unavailable) instead of making an empty file in its place. The URL stays
        # as given (messages name it, and a migration opens it again); only how a connection is opened differs.
        engine.dispose()
        engine = _engine(url, creator=existing_file_connector(engine.url))
    try:
        with engine.connect() as conn:
            version = schema_version(conn)
        if version is None and not create:
            raise NoStore(missing)
        if version is None or (migrate and version < SCHEMA_VERSION):
            # a new store is made at the head; Alembic and the migration lock only when there is work for them
            _upgrade(engine)
        elif version < SCHEMA_VERSION:
            raise OutdatedStore(
                f"the store at {_shown(engine)} is at schema version {version}, this herken needs "
                f"{SCHEMA_VERSION}: run `herken migrate --store {_shown(engine)}`")
        else:
            _refuse_newer(engine, version)
    except OperationalError as err:
        engine.dispose()
        if "does not exist" in str(err.orig):     # PostgreSQL: no such database (or role)
            raise UnusableStore(f"cannot open the store at {_shown(engine)}: {err.orig}".rstrip()
                                + "; create the database first (createdb) or give another URL") from None
        raise StoreError(f"cannot open the store at {_shown(engine)}: {err.orig}") from None
    except StoreError:
        engine.dispose()
        raise
    return engine


def migrate_store(url: str = DEFAULT_STORE_URL) -> tuple[int | None, int]:
    """Upgrade the store at url to this herken's schema; return (version before, or None: new; version after)."""
    engine = _engine(url)
    try:
        return _upgrade(engine), SCHEMA_VERSION
    except OperationalError as err:
        if "does not exist" in str(err.orig):     # PostgreSQL: no such database (or role), as open_store says
            raise UnusableStore(f"cannot migrate the store at {_shown(engine)}: {err.orig}".rstrip()
                                + "; create the database first (createdb) or give another URL") from None
        raise StoreError(f"cannot migrate the store at {_shown(engine)}: {err.orig}") from None
    finally:
        engine.dispose()


def schema_version(conn: Connection) -> int | None:
    """Return the schema version of the store on conn: its Alembic revision, else its schema_info; None when empty."""
    tables = set(inspect(conn).get_table_names())
    if "alembic_version" in tables:
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        if revision is not None:
            try:
                return int(revision)
            except ValueError:
                raise StoreError(f"the store's schema revision '{revision}' is not one of herken's") from None
    if SchemaInfo.__tablename__ in tables:
        version = conn.execute(text("SELECT version FROM schema_info")).scalar()
        if version is not None:
            return int(version)
    if tables:
        raise UnusableStore(f"the database holds tables ({', '.join(sorted(tables)[:5])}, ...) but no herken schema "
                         "version; give herken a database of its own")
    return None


def _refuse_newer(engine: Engine, version: int) -> None:
    if version > SCHEMA_VERSION:
        raise UnusableStore(f"the store at {_shown(engine)} has schema version {version}, newer than this herken "
                         f"({SCHEMA_VERSION}); upgrade herken")


@contextmanager
def _migration_transaction(engine: Engine) -> Iterator[Connection]:
    """Yield a connection in one transaction that holds the store's migration lock; commit at the end.

    SQLite's driver commits DDL as it goes unless it is told when a transaction begins: a migration
    of a file store runs on a connection of its own that says BEGIN IMMEDIATE, so a step that fails
    leaves the store as it was and a second writer waits.
    """
    if engine.dialect.name == "sqlite" and not _in_memory(engine):
        own = _engine(str(engine.url.render_as_string(hide_password=False)), poolclass=NullPool)
        event.listen(own, "connect", lambda dbapi_connection, _: setattr(dbapi_connection, "isolation_level", None))
        event.listen(own, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
        try:
            with own.begin() as conn:
                yield conn
        finally:
            own.dispose()
        return
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        yield conn


def _upgrade(engine: Engine) -> int | None:
    """Bring the store to this herken's schema in one transaction; return the version it was at (None: new)."""
    # Loaded only when a store is migrated: Alembic, and the profile builder the migrations rebuild with,
    # are no part of opening a store to read it.
    from alembic import command
    from alembic.config import Config

    from profile_api.store.migrations import SCRIPT_LOCATION, revision_of

    with _migration_transaction(engine) as conn:
        version = schema_version(conn)
        config = Config()
        config.set_main_option("script_location", SCRIPT_LOCATION)
        config.attributes["connection"] = conn
        if version is None:
            SQLModel.metadata.create_all(conn)
            install_generation(conn)
            conn.execute(SchemaInfo.__table__.insert().values(id=1, version=SCHEMA_VERSION))
            command.stamp(config, revision_of(SCHEMA_VERSION))
            log.info("new store made at schema version %d", SCHEMA_VERSION)
            return None
        _refuse_newer(engine, version)
        if "alembic_version" not in inspect(conn).get_table_names():
            command.stamp(config, revision_of(version))    # a store from before Alembic: it is at its schema_info
        if version < SCHEMA_VERSION:
            log.info("migrating the store from schema version %d to %d", version, SCHEMA_VERSION)
            try:
                command.upgrade(config, revision_of(SCHEMA_VERSION))
            except DBAPIError as err:    # the transaction is rolled back on the way out
                raise StoreError(f"migrating the store at {_shown(engine)} from schema version {version} to "
                                 f"{SCHEMA_VERSION} failed: {str(err.orig).strip()}; the store is as it was") from None
        return version


def waited_too_long(err: OperationalError) -> bool:
    """Return True when a statement failed because another writer held a lock too long (not for other failures)."""
    code = getattr(err.orig, "sqlstate", None)
    if code is not None:
        return code == "55P03"      # PostgreSQL: lock_not_available (lock_timeout)
    return "database is locked" in str(err.orig)      # SQLite: busy_timeout ran out
