"""An SQLite store's file as its URL names it: the path, and a URL that opens the file only where it exists."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, unquote

from sqlalchemy.engine import URL


def sqlite_path(database: str) -> str:
    """Return the file path of an SQLite URL's database part (plain, or a URI "file:/path?mode=rw" as readers use)."""
    if database.startswith("file:"):
        return unquote(database[len("file:"):].split("?", 1)[0])
    return database


def _file_uri(url: URL) -> str:
    """Return the URI of an SQLite URL's file ("file:/abs/path", quoted), without its query."""
    return f"file:{quote(str(Path(sqlite_path(url.database or '')).resolve()))}"


def existing_file_url(url: URL) -> URL:
    """Return an SQLite URL that opens its file only if it exists (read-write), never creating one."""
    return url.set(database=_file_uri(url), query={**url.query, "mode": "rw", "uri": "true"})


def existing_file_connector(url: URL) -> Callable[[], sqlite3.Connection]:
    """Return a function opening the SQLite file of url only if it exists (read-write), never creating one: the
    ``creator`` of an engine that keeps url as given."""
    target = f"{_file_uri(url)}?mode=rw"

    def connect() -> sqlite3.Connection:
        # check_same_thread off, as SQLAlchemy has it for a file store: its pool hands connections between threads
        return sqlite3.connect(target, uri=True, check_same_thread=False)

    return connect
