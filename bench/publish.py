"""Publishing alone: time ``herken.publish.publish_resolution`` of a resolution into a fresh store, per part.

    python bench/publish.py --from sqlite:////path/resolved.db --cache /tmp/res.pickle --store sqlite:////tmp/new.db
    python bench/publish.py --cache /tmp/res.pickle --store postgresql+psycopg://postgres@127.0.0.1:5432/DB
    python bench/publish.py --from sqlite:////path/resolved.db --fraction 0.3 --cache /tmp/res-300k.pickle ...

Resolving a million records takes a quarter of an hour; publishing its result is what this times.
The resolution is rebuilt from a store that holds a published run (``--from``): the drop's records,
interactions and preferences from its tables, the standardised records from its linkage snapshot,
persons and households from its record links, merges, refusals and scored pairs from its match edges
(the pairs below the review band are not stored: the pairs are fewer than the run had). ``--fraction``
keeps that share of the households (all their records, interactions and preferences). ``--cache``
keeps the rebuilt resolution as a pickle for the next time. ``--profile FILE`` writes a cProfile of the
publishing process. The store given with ``--store`` is emptied first (a SQLite file is removed;
a PostgreSQL database's tables are dropped). Timings per part come from the publish's own log lines.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import json
import logging
import pickle
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd


def rebuild(url: str, fraction: float):  # type: ignore[no-untyped-def]
    """Return a Resolution rebuilt from the published run of the store at url (a share of its households)."""
    import io

    from sqlalchemy import create_engine

    from identity.categories import taxonomy_frame
    from identity.cluster import Clustering, Merge, Refusal
    from identity.ingest import Drop, FileCounts
    from identity.pipeline import Resolution

    engine = create_engine(url)
    with engine.connect() as conn:
        dbapi = conn.connection.dbapi_connection

        def frame(sql: str) -> pd.DataFrame:
            cursor = dbapi.cursor()
            cursor.execute(sql)
            columns = [c[0] for c in cursor.description]
            chunks = []     # a chunk of Python tuples at a time: 4M interactions at once would take gigabytes
            while rows := cursor.fetchmany(200_000):
                chunks.append(pd.DataFrame.from_records(rows, columns=columns))
            cursor.close()
            return pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame(columns=columns)

        links = frame("SELECT source, record_id, customer_id, household_id, confidence FROM record_link")
        if fraction < 1:
            hashes = pd.util.hash_pandas_object(links["household_id"], index=False).to_numpy()
            links = links[(hashes % np.uint64(1000)) < np.uint64(int(fraction * 1000))]
        keys = links[["source", "record_id"]]
        records = frame("SELECT * FROM source_record").merge(keys, on=["source", "record_id"])
        interactions = frame("SELECT * FROM interaction").drop(columns=["id"]).merge(keys, on=["source", "record_id"])
        preferences = frame("SELECT source, record_id, key, value, stated_at FROM preference WHERE origin = 'drop'")
        preferences = preferences.merge(keys, on=["source", "record_id"])
        run = frame("SELECT * FROM run").iloc[0]
        snapshot = pd.read_parquet(io.BytesIO(frame("SELECT records FROM linkage_snapshot")["records"].iloc[0]))
        edges = frame("SELECT kind, unique_id_l, unique_id_r, match_probability, match_weight, reason FROM match_edge")
    engine.dispose()

    raw_columns = ["source", "record_id", "first_name", "last_name", "birth_date", "email", "phone", "street",
                   "house_number", "postcode", "city", "loyalty_card", "updated_at"]
    raw = records[raw_columns].astype("str").fillna("")     # as read from CSV: text, empty where missing
    raw.insert(1, "line", np.arange(2, len(raw) + 2))

    def text(series: pd.Series) -> pd.Series:
        return series.map(lambda v: "" if v is None or v != v else v if isinstance(v, str) else f"{v:g}").astype("str")

    for column in interactions.columns:
        interactions[column] = text(interactions[column]) if column in ("quantity", "amount_eur", "discount_eur") \
            else interactions[column].astype("str").fillna("")
    preferences = preferences.astype("str")
    drop = Drop(records=raw, interactions=interactions, preferences=preferences, truth=None,
                counts=[FileCounts(**c) for c in json.loads(run["counts_json"])],
                categories=taxonomy_frame(json.loads(run["categories_json"])),
                unplaced_categories=[tuple(c) for c in json.loads(run["unplaced_categories_json"])])

    standardised = snapshot.merge(links, on=["source", "record_id"])
    standardised["person"] = standardised["customer_id"]
    standardised["household"] = standardised["household_id"]
    uids = set(standardised["unique_id"])
    edges = edges[edges["unique_id_l"].isin(uids) & edges["unique_id_r"].isin(uids)]
    merges = [Merge(l, r, p) for l, r, p in edges.loc[edges["kind"] == "merge",
                                                     ["unique_id_l", "unique_id_r", "match_probability"]]
              .itertuples(index=False, name=None)]
    refusals = [Refusal(l, r, p, reason) for l, r, p, reason in edges.loc[edges["kind"] == "refused",
                ["unique_id_l", "unique_id_r", "match_probability", "reason"]].itertuples(index=False, name=None)]
    pairs = edges[["unique_id_l", "unique_id_r", "match_probability", "match_weight"]].drop_duplicates(
        ["unique_id_l", "unique_id_r"]).reset_index(drop=True)
    clustering = Clustering(labels=dict(zip(standardised["unique_id"], standardised["person"])), merges=merges,
                            refusals=refusals)
    return Resolution(drop, standardised, pairs, clustering, json.loads(run["model_json"]), bool(run["trained"]),
                      json.loads(run["timings_json"]))


def empty_store(url: str) -> None:
    """Remove what the store at url holds (a SQLite file; a PostgreSQL database's tables)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{parsed.database}{suffix}").unlink(missing_ok=True)
        return
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


class Parts(logging.Handler):
    """Keeps the time of every log line of the publish, to report how long each part took."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.started = time.perf_counter()
        self.cpu = time.process_time()
        self.lines: list[tuple[float, float, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append((time.perf_counter() - self.started, time.process_time() - self.cpu,
                           f"{record.name}: {record.getMessage()}"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--from", dest="source", help="a store holding a published run to rebuild the resolution from")
    parser.add_argument("--fraction", type=float, default=1.0, help="the share of households kept (default all)")
    parser.add_argument("--cache", type=Path, help="a pickle of the rebuilt resolution (read when it exists)")
    parser.add_argument("--store", required=True, help="the store to publish to (emptied first)")
    parser.add_argument("--profile", type=Path, help="write a cProfile of the publish here")
    parser.add_argument("--memory-limit", default="2GB", help="the profile build's memory (default 2GB)")
    args = parser.parse_args()

    started = time.perf_counter()
    if args.cache and args.cache.exists():
        with open(args.cache, "rb") as f:
            resolution = pickle.load(f)
    else:
        if not args.source:
            parser.error("give --from (or an existing --cache)")
        resolution = rebuild(args.source, args.fraction)
        if args.cache:
            with open(args.cache, "wb") as f:
                pickle.dump(resolution, f, protocol=pickle.HIGHEST_PROTOCOL)
    print(f"resolution of {len(resolution.records):,} records, {len(resolution.drop.interactions):,} interactions "
          f"ready in {time.perf_counter() - started:.1f} s", flush=True)

    from herken.publish import publish_resolution
    from profile_api.store import open_store

    empty_store(args.store)
    engine = open_store(args.store, migrate=True)
    parts = Parts()
    logging.basicConfig(level=logging.WARNING)
    for name in ("herken", "profile_api", "identity"):
        logging.getLogger(name).setLevel(logging.INFO)
        logging.getLogger(name).addHandler(parts)
    profiler = cProfile.Profile() if args.profile else None
    now = dt.datetime.now(dt.timezone.utc)
    begun = time.perf_counter()
    parts.started, parts.cpu = begun, time.process_time()
    if profiler:
        profiler.enable()
    publish_resolution(engine, resolution, "run-bench", now, "bench", memory_limit=args.memory_limit)
    if profiler:
        profiler.disable()
        profiler.dump_stats(args.profile)
    total = time.perf_counter() - begun
    engine.dispose()
    last, last_cpu = 0.0, 0.0
    print("    wall s (+part)     cpu s (+part)")
    for at, cpu, line in parts.lines:
        print(f"{at:8.1f} (+{at - last:6.1f})  {cpu:8.1f} (+{cpu - last_cpu:6.1f})  {line}", flush=True)
        last, last_cpu = at, cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2
    worker = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 ** 2
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"publish: {total:.1f} s wall, {time.process_time() - parts.cpu:.1f} s CPU here, "
          f"{children.ru_utime + children.ru_stime:.1f} s CPU in the profile worker; peak RSS {peak:.2f} GB (the profile worker {worker:.2f} GB)")


if __name__ == "__main__":
    sys.exit(main())
