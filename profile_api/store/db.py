"""Opening a store by SQLAlchemy URL and creating, checking or migrating its schema."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from sqlalchemy import event, inspect, text, update
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlmodel import Session, SQLModel, create_engine, select

from profile_api.store.models import SCHEMA_VERSION, PrecomputedProfile, Preference, SchemaInfo

log = logging.getLogger(__name__)

# The server answers 16 concurrent clients; the default pool (5 + 10 overflow) would make some wait.
POOL_SIZE = 16

DEFAULT_STORE_URL = "sqlite:///herken.db"


class StoreError(Exception):
    """The store cannot be opened or is of an unknown schema version."""


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    """Use WAL so readers (the server) are not blocked while a run publishes."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def open_store(url: str = DEFAULT_STORE_URL, create: bool = True) -> Engine:
    """Return an engine for the store at url, creating the schema when it is missing."""
    try:
        parsed = make_url(url)
        in_memory = parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:")
        pool = {} if in_memory else {"pool_size": POOL_SIZE, "max_overflow": POOL_SIZE}
        engine = create_engine(url, **pool)
    except (ArgumentError, ImportError) as err:
        raise StoreError(f"'{url}' is not a usable store URL ({err}); use sqlite:///file.db or postgresql+psycopg://...") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    try:
        if create:
            SQLModel.metadata.create_all(engine)
            with Session(engine) as session:
                info = session.exec(select(SchemaInfo)).first()
                version = None if info is None else info.version
                if info is None:
                    session.add(SchemaInfo(version=SCHEMA_VERSION))
                    session.commit()
            if version is not None and version > SCHEMA_VERSION:
                raise StoreError(
                    f"the store at {engine.url.render_as_string(hide_password=True)} has schema version "
                    f"{version}, newer than this herken ({SCHEMA_VERSION}); upgrade herken"
                )
            if version is not None and version < SCHEMA_VERSION:
                migrate(engine, version)
    except OperationalError as err:
        raise StoreError(f"cannot open the store at {engine.url.render_as_string(hide_password=True)}: {err.orig}") from None
    return engine


def _add_column(conn: Connection, table: str, column: str, sql_type: str) -> bool:
    """Add a column unless the table has it (create_all made it); return whether it was added."""
    if column in {c["name"] for c in inspect(conn).get_columns(table)}:
        return False
    conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {sql_type}"))
    return True


def _to_version_2(conn: Connection) -> None:
    """Version 1 -> 2: preference.channel and its record index, std_phone_mobile, std_particles, profiles."""
    from identity.standardise import is_mobile, parse_name
    from profile_api.precompute import rebuild_profiles  # the profile builder sits above the store

    def add_column(table: str, column: str, sql_type: str) -> bool:
        return _add_column(conn, table, column, sql_type)

    add_column("preference", "channel", "VARCHAR")
    for index in Preference.__table__.indexes:
        index.create(conn, checkfirst=True)
    if add_column("source_record", "std_phone_mobile", "BOOLEAN"):
        phones = [row[0] for row in conn.execute(text(
            "SELECT DISTINCT std_phone FROM source_record WHERE std_phone IS NOT NULL"))]
        if phones:
            conn.execute(text("UPDATE source_record SET std_phone_mobile = :mobile WHERE std_phone = :phone"),
                         [{"phone": phone, "mobile": is_mobile(phone)} for phone in phones])
    if add_column("source_record", "std_particles", "VARCHAR"):
        rows = conn.execute(text("SELECT source, record_id, first_name, last_name FROM source_record "
                                 "WHERE last_name IS NOT NULL OR first_name IS NOT NULL")).all()
        particles = [{"source": s, "record_id": r, "particles": parse_name(first, last).particles}
                     for s, r, first, last in rows]
        particles = [p for p in particles if p["particles"]]
        if particles:
            conn.execute(text("UPDATE source_record SET std_particles = :particles "
                              "WHERE source = :source AND record_id = :record_id"), particles)
    log.info("store migrated to schema 2: %d profiles built", rebuild_profiles(conn))


def _profile_table_as_modelled(conn: Connection, version: int) -> None:
    """Make the profile table again and rebuild it, unless it has the columns of this herken's model already.

    It holds only what the published run and the stated preferences determine, so rebuilding it is
    the whole migration. A store coming from an older version may have got the current table from
    create_all and its profiles from an earlier step: then there is nothing left to do.
    """
    from profile_api.precompute import rebuild_profiles  # the profile builder sits above the store

    have = {c["name"] for c in inspect(conn).get_columns(PrecomputedProfile.__tablename__)}
    if have == set(PrecomputedProfile.__table__.columns.keys()):
        return
    PrecomputedProfile.__table__.drop(conn)
    PrecomputedProfile.__table__.create(conn)
    log.info("store migrated to schema %d: %d profiles built", version, rebuild_profiles(conn))


def _to_version_3(conn: Connection) -> None:
    """Version 2 -> 3: profiles also encoded as served (the profile table is rebuilt)."""
    _profile_table_as_modelled(conn, 3)


def _to_version_4(conn: Connection) -> None:
    """Version 3 -> 4: the live part of each profile kept in its row (the profile table is rebuilt)."""
    _profile_table_as_modelled(conn, 4)


def _to_version_5(conn: Connection) -> None:
    """Version 4 -> 5: the run keeps its category taxonomy and the categories it does not place.

    A run published before then was derived through the built-in taxonomy: that is what it keeps,
    so its profiles stay as they are.
    """
    from identity.categories import DEFAULT_CATEGORIES

    _add_column(conn, "run", "categories_json", "TEXT")
    _add_column(conn, "run", "unplaced_categories_json", "TEXT")
    known = [c for c, _, _ in DEFAULT_CATEGORIES]
    marks = ", ".join(f":c{i}" for i in range(len(known)))
    unplaced = conn.execute(text(
        f"SELECT trim(category) AS c, count(*) AS n FROM interaction WHERE trim(category) <> '' "
        f"AND trim(category) NOT IN ({marks}) GROUP BY trim(category) ORDER BY n DESC, c"),
        {f"c{i}": c for i, c in enumerate(known)}).all()
    conn.execute(text("UPDATE run SET categories_json = :categories, unplaced_categories_json = :unplaced "
                      "WHERE categories_json IS NULL"),
                 {"categories": json.dumps([list(c) for c in DEFAULT_CATEGORIES]),
                  "unplaced": json.dumps([[c, int(n)] for c, n in unplaced])})


def _to_version_6(conn: Connection) -> None:
    """Version 5 -> 6: the run keeps its cannot-link rules as measured on its drop (run.rules_json).

    A run published before then was not measured in a way the store kept: its column stays empty
    and the report says so.
    """
    _add_column(conn, "run", "rules_json", "TEXT")


def _to_version_7(conn: Connection) -> None:
    """Version 6 -> 7: the run keeps its band of borderline pairs and how many it held (run.review_json).

    A run published before then kept a sample of its borderline pairs without saying of how many:
    its column stays empty and the report says so.
    """
    _add_column(conn, "run", "review_json", "TEXT")


# MIGRATIONS[v] takes a store from version v to v + 1; tables new in a version are made by create_all.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {1: _to_version_2, 2: _to_version_3, 3: _to_version_4,
                                                       4: _to_version_5, 5: _to_version_6, 6: _to_version_7}


def migrate(engine: Engine, version: int) -> None:
    """Migrate a store of an older schema version in place, in one transaction."""
    with engine.begin() as conn:
        for step in range(version, SCHEMA_VERSION):
            log.info("migrating the store from schema version %d to %d", step, step + 1)
            MIGRATIONS[step](conn)
        conn.execute(update(SchemaInfo).values(version=SCHEMA_VERSION))
