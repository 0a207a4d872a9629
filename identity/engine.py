"""The one seam between herken and the SQL engine that runs the linkage.

Everything the pipeline asks of an engine goes through :class:`Engine`: a Splink database API and
plain SQL over named tables. DuckDB is the embedded default and, today, the only engine. A Spark
engine is one more subclass with the same two methods (``SparkAPI(spark_session=...)`` and
``spark.sql`` over registered temp views) so that large retailers run the same pipeline on a
cluster; it is not written yet.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd


class Engine(ABC):
    """A SQL engine: runs Splink and plain SQL over named pandas tables."""

    name: str

    @abstractmethod
    def splink_api(self) -> Any:
        """Return a fresh Splink database API bound to this engine."""

    @abstractmethod
    def sql(self, query: str, **tables: pd.DataFrame) -> pd.DataFrame:
        """Return the result of a query that reads the given tables by name."""

    def close(self) -> None:
        """Release what the engine holds (Splink's tables of the run); the engine is unusable after."""


class DuckDBEngine(Engine):
    """DuckDB in-process: the default engine, on one machine."""

    name = "duckdb"

    def __init__(self, threads: int | None = None, memory_limit: str | None = None,
                 temp_directory: str | Path | None = None) -> None:
        """Args:
            memory_limit: what DuckDB may hold ("2GB"); beyond it, it spills to ``temp_directory``.
            temp_directory: where it spills (made when needed); DuckDB's own default when None.
        """
        self._con = duckdb.connect()
        self._con.execute("SET enable_progress_bar = false")  # progress is the CLI's job
        if threads:
            self._con.execute(f"SET threads = {int(threads)}")
        if memory_limit:
            self._con.execute(f"SET memory_limit = '{memory_limit}'")
        if temp_directory:
            quoted = str(temp_directory).replace("'", "''")
            self._con.execute(f"SET temp_directory = '{quoted}'")

    def splink_api(self) -> Any:
        """Return a Splink DuckDBAPI on this engine's connection."""
        from splink import DuckDBAPI

        return DuckDBAPI(connection=self._con)

    def sql(self, query: str, **tables: pd.DataFrame) -> pd.DataFrame:
        """Return the query result; tables are registered as views for the query only."""
        for name, frame in tables.items():
            self._con.register(name, frame)
        try:
            return self._con.execute(query).df()
        finally:
            for name in tables:
                self._con.unregister(name)


    def close(self) -> None:
        """Close the DuckDB connection, freeing the memory of Splink's tables at once."""
        self._con.close()


ENGINES = {"duckdb": DuckDBEngine}


def make_engine(name: str = "duckdb", **options: Any) -> Engine:
    """Return the engine with the given name; raise ValueError naming the known ones."""
    try:
        return ENGINES[name](**options)
    except KeyError:
        raise ValueError(f"unknown engine '{name}'; choose one of {', '.join(ENGINES)}") from None
