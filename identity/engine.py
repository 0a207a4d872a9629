"""The one seam between herken and the SQL engine that runs the linkage.

Everything the pipeline asks of an engine goes through :class:`Engine`: a Splink database API, the
engine's own table of a pandas frame (what Splink registers) and plain SQL over named tables.
DuckDB is the embedded default; Spark (:mod:`identity.spark_engine`, imported only when asked
for, so pyspark stays optional) runs the same pipeline on a cluster or in local mode.

The plain SQL is written once, in DuckDB's dialect; another engine renders it for itself with
sqlglot. Splink renders the model's comparisons per engine from their definitions in
:mod:`identity.model`; :attr:`Engine.dialect` names the rendering a saved model must be in
(:func:`identity.link.model_for`).
"""

from __future__ import annotations

import importlib
import inspect
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd


class Engine(ABC):
    """A SQL engine: runs Splink and plain SQL over named pandas tables."""

    name: str
    dialect: str    # Splink's name of the SQL dialect (a saved model's ``sql_dialect``)

    @abstractmethod
    def splink_api(self) -> Any:
        """Return a fresh Splink database API bound to this engine."""

    def table(self, frame: pd.DataFrame) -> Any:
        """Return the frame as a table this engine's Splink API registers (a pandas frame itself by default)."""
        return frame

    @abstractmethod
    def sql(self, query: str, **tables: pd.DataFrame) -> pd.DataFrame:
        """Return the result of a query (DuckDB's dialect) that reads the given tables by name."""

    def close(self) -> None:
        """Release what the engine holds (Splink's tables of the run); the engine is unusable after."""

    # Whether the pipeline spreads its Python work over the engine's workers: the standardisation in batches
    # (map_batches) and the clustering one connected component at a time (map_groups, identity.components).
    # Else both run in this process (the standardisation over its own forked workers).
    distributed: bool = False

    @classmethod
    def distributes_with(cls, **options: Any) -> bool:
        """Return whether an engine made with these options would be ``distributed``, before it is made."""
        return False
    workers: int = 1    # how many groups of map_groups run at once

    def components(self, nodes: pd.DataFrame, links: pd.DataFrame) -> pd.DataFrame:
        """Return every node's unique_id with its ``component``: the smallest unique_id of the nodes the links
        (unique_id_l, unique_id_r) connect it to, by Splink's connected-components SQL on this engine."""
        from splink.clustering import cluster_pairwise_predictions_at_threshold

        found = cluster_pairwise_predictions_at_threshold(self.table(nodes), self.table(links), self.splink_api(),
                                                          "unique_id")
        frame = found.as_pandas_dataframe()
        found.drop_table_from_database_and_remove_from_cache()
        return frame.rename(columns={"cluster_id": "component"})[["unique_id", "component"]].astype("string")

    def map_batches(self, frame: pd.DataFrame, function: Callable[[pd.DataFrame], pd.DataFrame],
                    schema: str) -> pd.DataFrame:
        """Return function over the frame's rows in batches, the results in the frame's order (here: one batch).

        The function must give one row per row, in order; ``schema`` (Spark's DDL of its frame) is for an
        engine that spreads the batches over workers.
        """
        return function(frame)

    def map_groups(self, left: pd.DataFrame, right: pd.DataFrame, key: str,
                   function: Callable[[pd.DataFrame, pd.DataFrame], pd.DataFrame], schema: str) -> pd.DataFrame:
        """Return function(left's rows, right's rows) of every value of key in left, one frame after the other.

        Here in this process, group after group; an engine with workers spreads the groups over them.
        ``schema`` (Spark's DDL of the function's frame) is for such an engine.
        """
        rights = dict(iter(right.groupby(key, sort=False)))
        empty = right.iloc[0:0]
        frames = [function(group, rights.get(value, empty)) for value, group in left.groupby(key, sort=False)]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


class DuckDBEngine(Engine):
    """DuckDB in-process: the default engine, on one machine."""

    name = "duckdb"
    dialect = "duckdb"

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
        """Close the DuckDB connection, freeing the memory of Splink's tables at once (again: nothing)."""
        self._con.close()


class EngineError(ValueError):
    """An engine that cannot be made: unknown, or its package is not installed; the message says what to do."""


# name -> "module:Class": an engine's module is imported only when asked for (pyspark stays optional),
# and it imports this module, not the other way round; what to install when its import fails
ENGINES: dict[str, str] = {"duckdb": "identity.engine:DuckDBEngine", "spark": "identity.spark_engine:SparkEngine"}
NEEDS: dict[str, str] = {"spark": "the spark engine needs pyspark (4.x) and Java 17 or later: pip install 'herken[spark]'"}


def engine_class(name: str) -> type[Engine]:
    """Return the class of the engine with the given name; raise EngineError naming the known ones or what to install."""
    try:
        module, _, cls = ENGINES[name].partition(":")
    except KeyError:
        raise EngineError(f"unknown engine '{name}'; choose one of {', '.join(ENGINES)}") from None
    try:
        return getattr(importlib.import_module(module), cls)
    except ImportError as err:
        raise EngineError(NEEDS.get(name, f"the {name} engine cannot be loaded: {err}")) from None


def make_engine(name: str = "duckdb", **options: Any) -> Engine:
    """Return the engine with the given name, made with the options it takes (others are left out)."""
    cls = engine_class(name)
    accepted = inspect.signature(cls.__init__).parameters
    return cls(**{k: v for k, v in options.items() if k in accepted and v is not None})
