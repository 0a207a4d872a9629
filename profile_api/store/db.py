"""Opening a store by SQLAlchemy URL and creating or checking its schema."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlmodel import Session, SQLModel, create_engine, select

from profile_api.store.models import SCHEMA_VERSION, SchemaInfo

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
        engine = create_engine(url)
    except (ArgumentError, ImportError) as err:
        raise StoreError(f"'{url}' is not a usable store URL ({err}); use sqlite:///file.db or postgresql+psycopg://...") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    try:
        if create:
            SQLModel.metadata.create_all(engine)
            with Session(engine) as session:
                info = session.exec(select(SchemaInfo)).first()
                if info is None:
                    session.add(SchemaInfo(version=SCHEMA_VERSION))
                    session.commit()
                elif info.version > SCHEMA_VERSION:
                    raise StoreError(
                        f"the store at {engine.url.render_as_string(hide_password=True)} has schema version "
                        f"{info.version}, newer than this herken ({SCHEMA_VERSION}); upgrade herken"
                    )
    except OperationalError as err:
        raise StoreError(f"cannot open the store at {engine.url.render_as_string(hide_password=True)}: {err.orig}") from None
    return engine
