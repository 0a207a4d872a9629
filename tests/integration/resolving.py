"""Resolving a drop into a store through the command line, as the integration tests' fixtures do."""

from __future__ import annotations

from pathlib import Path

import pytest

from herken.cli import main


def resolve_drop(drop: Path, url: str, runs: Path, *options: str) -> None:
    """Run `herken resolve DROP --store URL [options]` with its runs under runs; fail the test when it fails."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HERKEN_RUNS_DIR", str(runs))
        assert main(["resolve", str(drop), "--store", url, *options]) == 0


def settled_digest(store: Path) -> str:
    """Return the SHA-256 of an SQLite store's file once its write-ahead log is checkpointed into it.

    The file's bytes alone change whenever SQLite checkpoints frames that an earlier write left in the
    log (when the last connection to it closes, say), whether or not anything new was written; after
    a checkpoint they change only with what was written.
    """
    import hashlib
    import sqlite3

    connection = sqlite3.connect(store)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    finally:
        connection.close()
    return hashlib.sha256(store.read_bytes()).hexdigest()
