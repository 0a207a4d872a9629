"""The Spark engine: the same pipeline on Apache Spark, locally (``local[2]``) or on a cluster.

Imported only when ``--engine spark`` is asked for, so pyspark stays an optional dependency
(``pip install 'herken[spark]'``). Splink runs on Spark through its own ``SparkAPI``; the plain SQL
the pipeline sends through :meth:`SparkEngine.sql` is written once in DuckDB's dialect (the
default engine's) and rendered for Spark with sqlglot, the parser Splink itself uses.

Where the session's settings come from, first one wins:

1. herken's own: ``--spark-master`` / ``HERKEN_SPARK_MASTER`` and the ``[herken.spark]`` table of
   herken.toml (any ``spark.*`` key);
2. Spark's own: the configuration a ``spark-submit`` gave the driver, ``PYSPARK_SUBMIT_ARGS``
   (``--master``, ``--conf k=v``) and ``spark-defaults.conf`` (in ``SPARK_CONF_DIR`` or
   ``SPARK_HOME/conf``);
3. herken's defaults for one machine (:data:`LOCAL_DEFAULTS`): ``local[2]``, and in local mode
   few shuffle partitions, 4 GB for the driver, no web UI.

Splink's similarity functions (``jaro_winkler``, ``damerau_levenshtein``) are Scala UDFs in a jar
that ships with Splink: it is always added to ``spark.jars``. Splink breaks the lineage of its
large intermediate tables by writing them to the checkpoint directory, and the engine puts the
tables it is given there too (:meth:`SparkEngine.table`): ``spark.checkpoint.dir`` when set (on a
cluster: storage every executor reaches, such as HDFS or S3; the run's files stay there), else a
temporary directory removed when the engine is closed.

What runs where: Splink's scoring, the households' SQL and the profiles' queries run in Spark, and so
do the steps of pure Python: the standardisation, in batches on the executors (``mapInPandas``,
:meth:`SparkEngine.map_batches`), and the best-first clustering under the cannot-link rules, by
Splink's connected components in Spark SQL and then the components in buckets on the executors
(``cogroup(...).applyInPandas``, :mod:`identity.components`), and the grouping of households, by connected
component in buckets too (:mod:`identity.household_components`). So the executors' Python must have
herken installed (in local mode they run this Python). By default only a cluster spreads these
steps; local mode keeps them on the driver unless ``spark.herken.distributed`` says otherwise
(:func:`distributes`). The results are collected to the driver as pandas frames.
"""

from __future__ import annotations

import logging
import os
import re
import shlex
import shutil
import sys
import tempfile
import uuid
import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyspark  # noqa: F401  (imported here so that a missing pyspark fails the import: identity.engine says what to install)
import sqlglot

from identity.engine import Engine

log = logging.getLogger(__name__)

# PySpark 4 warns on every conversion that it does not fully support pandas 3. Frames cross between
# pandas and Spark here through Arrow tables we type ourselves (and Splink's toPandas on the way
# back), which tests/integration/test_spark.py checks against DuckDB; the warning says nothing more.
warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)

LOCAL_DEFAULTS: dict[str, str] = {
    "spark.master": "local[2]",
    "spark.app.name": "herken",
    # Splink's tables of one drop are small next to what Spark's default 200 partitions are for:
    # with 200, every Splink query pays for 200 tiny tasks. A cluster sets its own.
    "spark.sql.shuffle.partitions": "4",
    "spark.default.parallelism": "4",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",   # progress is the CLI's job
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    # in local mode the executors live in the driver's JVM: this is all the memory Spark gets
    "spark.driver.memory": "4g",
}

# Spark's own log4j profile prints its start-up at INFO and WARN lines about this host to stderr,
# through the progress bars; only errors are worth a user's eye. Used when no one configured log4j.
LOG4J_QUIET = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n
"""


def spark_defaults(environ: Mapping[str, str], spark_home: str | None = None) -> dict[str, str]:
    """Return the Spark settings this environment gives: spark-defaults.conf, then PYSPARK_SUBMIT_ARGS over it."""
    found: dict[str, str] = {}
    conf_dir = environ.get("SPARK_CONF_DIR") or (os.path.join(spark_home, "conf") if spark_home else None)
    if conf_dir and os.path.isfile(os.path.join(conf_dir, "spark-defaults.conf")):
        found.update(parse_spark_defaults(Path(conf_dir, "spark-defaults.conf").read_text()))
    found.update(parse_submit_args(environ.get("PYSPARK_SUBMIT_ARGS", "")))
    return found


def parse_spark_defaults(text: str) -> dict[str, str]:
    """Return the settings of a spark-defaults.conf: ``key value`` (or ``key=value``) per line, ``#`` comments."""
    pairs: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, value = (re.split(r"\s*=\s*|\s+", line, maxsplit=1) + [""])[:2]
            pairs[key] = value.strip()
    return pairs


def parse_submit_args(args: str) -> dict[str, str]:
    """Return the settings in spark-submit arguments: ``--master URL`` and ``--conf key=value``."""
    words = shlex.split(args)
    found: dict[str, str] = {}
    for flag, value in zip(words, words[1:]):
        if flag == "--master":
            found["spark.master"] = value
        elif flag == "--conf" and "=" in value:
            key, _, val = value.partition("=")
            found[key] = val
        elif flag == "--driver-memory":
            found["spark.driver.memory"] = value
    return found


def session_settings(master: str | None, conf: Mapping[str, Any] | None, given: Mapping[str, str],
                     jar: str) -> dict[str, str]:
    """Return the settings to start a session with: herken's over Spark's over the local defaults, Splink's jar added."""
    settings = {**given, **{k: str(v) for k, v in (conf or {}).items()}}
    if master:
        settings["spark.master"] = master
    settings.setdefault("spark.master", LOCAL_DEFAULTS["spark.master"])
    if settings["spark.master"].startswith("local"):   # a cluster's sizes are its own business
        settings = {**LOCAL_DEFAULTS, **settings}
    settings.setdefault("spark.app.name", LOCAL_DEFAULTS["spark.app.name"])
    jars = [j for j in settings.get("spark.jars", "").split(",") if j.strip()]
    if not any(Path(j).name == Path(jar).name for j in jars):
        jars.append(jar)
    settings["spark.jars"] = ",".join(jars)
    return settings


def new_session_settings(master: str | None = None, conf: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Return the settings a session started now would get: herken's, then spark-submit's and Spark's own files."""
    from pyspark.find_spark_home import _find_spark_home
    from splink.backends.spark import similarity_jar_location

    given = {**spark_defaults(os.environ, _find_spark_home()), **_submitted_conf()}
    return session_settings(master, conf, given, similarity_jar_location())


def start_session(master: str | None = None, conf: Mapping[str, Any] | None = None) -> Any:
    """Return the active SparkSession, or a new one built from herken's, Spark's and the local settings.

    A session that is already running (a ``spark-submit`` driver that made one, a notebook, a test
    fixture) is used as it is: its master and jars were chosen by whoever started it.
    """
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    settings = new_session_settings(master, conf)
    if "log4j" not in settings.get("spark.driver.extraJavaOptions", ""):
        quiet = Path(tempfile.gettempdir(), "herken-spark-log4j2.properties")
        quiet.write_text(LOG4J_QUIET)
        settings["spark.driver.extraJavaOptions"] = (
            f"{settings.get('spark.driver.extraJavaOptions', '')} -Dlog4j2.configurationFile=file:{quiet}").strip()
    if settings["spark.master"].startswith("local") and "PYSPARK_PYTHON" not in os.environ:
        # Local mode's Python workers (the clustering's, identity.components) run PYSPARK_PYTHON, else "python3"
        # from the PATH, which may lack herken's packages: this Python has them. A cluster's executors name theirs.
        os.environ["PYSPARK_PYTHON"] = sys.executable
    builder = SparkSession.builder
    for key, value in settings.items():
        builder = builder.config(key, value)
    log.info("starting Spark (master %s)", settings["spark.master"])
    return builder.getOrCreate()


def _submitted_conf() -> dict[str, str]:
    """Return the configuration spark-submit gave this driver (empty when Python was started directly)."""
    if "PYSPARK_GATEWAY_PORT" not in os.environ:   # no JVM yet: nothing was submitted
        return {}
    from pyspark import SparkConf

    return dict(SparkConf().getAll())


ROW = "__herken_row"   # a frame's row number on its way through map_batches
DISTRIBUTED = "spark.herken.distributed"   # the setting of SparkEngine.distributed


def distributes(setting: object, master: str) -> bool:
    """Return whether the standardisation and the clustering run on the executors, by ``spark.herken.distributed``
    ("true"/"false") when set, else by the master: a cluster does, local mode does not.

    In local mode the executors are this machine's cores, which the driver's own forked standardisation
    already uses; spreading the two steps there cost a 100k-record run some 25 s more than the driver
    (standardise 17.0-19.6 s against 10.0 s, cluster 19.4-24.4 s against 3.4 s, most of it Splink's
    connected components, a chain of small Spark jobs; bench/spark.py, session 18).
    """
    if setting is not None:
        return str(setting).strip().lower() == "true"
    return not str(master).startswith("local")


class SparkEngine(Engine):
    """Apache Spark through Splink's SparkAPI: local mode on one machine, or a cluster by its master URL."""

    name = "spark"
    dialect = "spark"

    def __init__(self, master: str | None = None, conf: Mapping[str, Any] | None = None,
                 session: Any = None) -> None:
        from pyspark.sql import SparkSession

        self._closed = False
        self._owned = session is None and SparkSession.getActiveSession() is None
        self.spark = session if session is not None else start_session(master, conf)
        self.spark.sparkContext.setLogLevel(self.spark.conf.get("spark.log.level", "ERROR") or "ERROR")
        configured = self.spark.conf.get("spark.checkpoint.dir", None)
        self._scratch = None if configured else tempfile.mkdtemp(prefix="herken-spark-")
        self.checkpoint_dir = configured or self._scratch
        self.spark.sparkContext.setCheckpointDir(self.checkpoint_dir)

    def splink_api(self) -> Any:
        """Return a Splink SparkAPI on this engine's session (its jar's UDFs registered)."""
        from splink.backends.spark import SparkAPI

        return SparkAPI(spark_session=self.spark)

    def table(self, frame: pd.DataFrame) -> Any:
        """Return a Spark DataFrame of the frame, typed from its columns (a column of nulls only is a string).

        The frame is written to the checkpoint directory as Parquet and read back. A DataFrame made
        from local data is a LocalRelation, its rows inside the query plan, and the optimizer copies
        them for every reference: Splink's blocking reads the records once per rule, and at 100k
        records the driver ran out of its 4 GB before a single pair was scored.
        """
        path = f"{self.checkpoint_dir.rstrip('/')}/herken-tables/{uuid.uuid4().hex}"
        self.spark.createDataFrame(_arrow_of(frame)).write.parquet(path)
        return self.spark.read.parquet(path)

    def sql(self, query: str, **tables: pd.DataFrame) -> pd.DataFrame:
        """Return the result of a query in DuckDB's dialect, rendered for Spark, over the frames as temp views."""
        for name, frame in tables.items():
            self.table(frame).createOrReplaceTempView(name)
        try:
            return self.spark.sql(to_spark_sql(query)).toArrow().to_pandas()
        finally:
            for name in tables:
                self.spark.catalog.dropTempView(name)

    @property
    def distributed(self) -> bool:  # type: ignore[override]
        """Return whether the standardisation and the clustering run on the executors (``Engine.distributed``):
        as :func:`distributes` says of this session's settings."""
        return distributes(self.spark.conf.get(DISTRIBUTED, None), self.spark.conf.get("spark.master", "local"))

    @classmethod
    def distributes_with(cls, master: str | None = None, conf: Mapping[str, Any] | None = None,
                         **_: Any) -> bool:
        """Return whether an engine made with these options would be distributed, before any session starts:
        the running session's settings when there is one, else those :func:`start_session` would use."""
        from pyspark.sql import SparkSession

        active = SparkSession.getActiveSession()
        if active is not None:
            return distributes(active.conf.get(DISTRIBUTED, None), active.conf.get("spark.master", "local"))
        settings = new_session_settings(master, conf)
        return distributes(settings.get(DISTRIBUTED), settings["spark.master"])

    @property
    def workers(self) -> int:  # type: ignore[override]
        """Return how many tasks the session runs at once (its default parallelism: local[2] has 2)."""
        return int(self.spark.sparkContext.defaultParallelism)

    def map_batches(self, frame: pd.DataFrame, function: Callable[[pd.DataFrame], pd.DataFrame],
                    schema: str) -> pd.DataFrame:
        """Return function over the frame's rows in batches on the executors (``mapInPandas``), in the frame's order."""
        def batches(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
            for part in frames:
                done = function(part.drop(columns=[ROW]))
                yield done.assign(**{ROW: part[ROW].to_numpy()})
        numbered = frame.reset_index(drop=True).assign(**{ROW: range(len(frame))})
        result = self.table(numbered).mapInPandas(batches, f"{schema}, {ROW} long").toArrow().to_pandas()
        return result.sort_values(ROW, ignore_index=True).drop(columns=[ROW])

    def map_groups(self, left: pd.DataFrame, right: pd.DataFrame, key: str,
                   function: Callable[[pd.DataFrame, pd.DataFrame], pd.DataFrame], schema: str) -> pd.DataFrame:
        """Return function(left's rows, right's rows) of every value of key, run on the executors
        (``cogroup(...).applyInPandas``); the function and what it holds are pickled to them."""
        grouped = self.table(left).groupBy(key).cogroup(self.table(right).groupBy(key))
        return grouped.applyInPandas(function, schema).toArrow().to_pandas()

    def close(self) -> None:
        """Drop what Splink cached and wrote; stop the session when this engine started it (again: nothing)."""
        if self._closed:
            return
        self._closed = True
        try:
            self.spark.catalog.clearCache()
            for table in self.spark.catalog.listTables():
                if table.isTemporary and table.name.startswith("__splink__"):
                    self.spark.catalog.dropTempView(table.name)
            if self._owned:
                self.spark.stop()
        finally:
            if self._scratch:
                shutil.rmtree(self._scratch, ignore_errors=True)


def to_spark_sql(query: str) -> str:
    """Return a query written in DuckDB's dialect as Spark SQL.

    A common table expression DuckDB is told to materialise (``AS MATERIALIZED``, a hint of its
    planner) is a plain one on Spark, which has no such word and decides for itself what to reuse.
    """
    statements = sqlglot.parse(query, read="duckdb")
    for statement in statements:
        for cte in statement.find_all(sqlglot.exp.CTE) if statement is not None else ():
            cte.set("materialized", None)
    return ";\n".join(s.sql(dialect="spark") for s in statements if s is not None)


def _arrow_of(frame: pd.DataFrame) -> pa.Table:
    """Return the frame as an Arrow table Spark takes: null-only columns typed as strings, no index."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    fields = [pa.field(f.name, pa.string()) if pa.types.is_null(f.type) or pa.types.is_large_string(f.type)
              else f for f in table.schema]
    return table.cast(pa.schema(fields))
