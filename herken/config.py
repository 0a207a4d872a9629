"""Settings in one place: defaults, overridden by a herken.toml file, overridden by HERKEN_* variables."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """Where herken keeps its data and how it serves it."""

    store: str = "sqlite:///herken.db"   # SQLAlchemy URL of the store
    runs_dir: str = "herken-runs"        # one folder per run: model.json, quarantine.csv
    engine: str = "duckdb"               # the SQL engine that runs the linkage: duckdb or spark
    spark_master: str = ""               # --engine spark: the cluster's master URL (default: Spark's own settings, else local[2])
    memory_limit: str = ""               # what a run may use ("8GB"); empty: a third of the machine
    host: str = "127.0.0.1"
    port: int = 50051
    tokens: str = ""                     # HERKEN_TOKENS: token:channel pairs, comma-separated
    cache_mb: int = 64                   # `herken serve`: memory for keyed reads kept (0: none; profile_api.store.read)
    cache_check_ms: int = 200            # `herken serve`: how often the store is asked whether it was written
    # from herken.toml only: [herken.tokens] (tokens or their hashes), [herken.channels.NAME] (rpcs,
    # view) and [herken.consent] (what a person who never said allows); see profile_api.access;
    # [herken.spark]: Spark settings ("spark.executor.memory" = "8g") for --engine spark
    tokens_table: dict = field(default_factory=dict)
    channels: dict = field(default_factory=dict)
    consent: dict = field(default_factory=dict)
    spark_conf: dict = field(default_factory=dict)
    # test-only: pause `herken resolve` at these points to kill it there (herken.pause_points)
    pause_at: str = ""
    pause_seconds: int = 600

_TABLES = {"tokens": "tokens_table", "channels": "channels", "consent": "consent", "spark": "spark_conf"}


def load_settings(path: Path | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Return settings from defaults, then herken.toml (or path), then HERKEN_* environment variables."""
    settings = Settings()
    environ = dict(os.environ) if environ is None else environ
    toml_path = path or Path(environ.get("HERKEN_CONFIG", "herken.toml"))
    if toml_path.is_file():
        data = dict(tomllib.loads(toml_path.read_text()).get("herken", {}))
        tables = {field_name: data.pop(key) for key, field_name in _TABLES.items() if isinstance(data.get(key), dict)}
        settings = replace(settings, **{f.name: f.type == "int" and int(data[f.name]) or data[f.name]
                                        for f in fields(Settings) if f.name in data and f.name not in _TABLES.values()},
                           **tables)
    overrides = {}
    for f in fields(Settings):
        if f.name in _TABLES.values():
            continue
        value = environ.get(f"HERKEN_{f.name.upper()}")
        if value is not None:
            overrides[f.name] = int(value) if f.type == "int" else value
    return replace(settings, **overrides)
