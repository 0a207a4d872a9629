"""Building a whole run's profiles in batches of households, into Parquet files, beside the publish.

``profile_api.precompute`` builds and encodes profiles from frames in memory: right for a few
households, but a run of a million records holds half a million profiles, and one query over all of
them needs more memory than the rest of the run. Here a run's inputs go to Parquet files, and
worker processes (spawned: they share nothing with the publishing one, and their memory is their
own) build them: the first splits the inputs by household into batches of about ``BATCH_PERSONS``
persons (DuckDB, out of core), then every worker claims batches one at a time, builds and encodes
each, and writes it to a file of its own. Building is the longest part of publishing a large run
and the batches are independent, so a machine of two cores runs two workers: while the publishing
process inserts the other tables the three share the cores, and once it is done it streams each
batch's file into the profile table as soon as that batch is whole
(``profile_api.store.write.write_profiles``). Memory is bounded by a batch per worker, not by the run.

A household's members are always in one batch (the household part of a profile lists them), and
the instant the attributes are "as of" is taken once for the whole run, as one query over all
profiles would take it.

A run on another engine (``--engine spark``) builds its profiles through that engine instead, in
this process: the same split into batches (of up to ``ENGINE_BATCH_PERSONS``: a batch is one round
of queries, which costs Spark tens of seconds whatever its size), each batch's queries run on the
engine and its profiles encoded and written here.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import os
import pickle
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from identity.bulk import die_with_parent, give_back_memory
from identity.engine import Engine, make_engine
from identity.memory import parse_size
from profile_api.attributes import latest_interaction_sql, with_sku
from profile_api.precompute import (
    BUILT_COLUMNS, ENCODE_APART_ABOVE, INTERACTION_COLUMNS, PROFILE_COLUMNS, encoded_parts, profile_rows, stored_rows,
)

log = logging.getLogger(__name__)

BATCH_PERSONS = 40_000    # persons per batch at most
# What the profile queries of a batch take per person (measured at 300k records: 168k persons needed
# more than 700 MB in one query, 40k persons more than 380 MB): with a memory limit, batches are as
# large as the limit allows at this rate.
BYTES_PER_PERSON = 25_000
MIN_BATCH_PERSONS = 1_000
# Persons per batch when the profiles are built on an engine of its own (Spark): its memory is not the
# driver's, but each batch's profiles come back to the driver to be encoded.
ENGINE_BATCH_PERSONS = 250_000
PROFILE_WORKERS = 2       # worker processes of a large build at most (one per core)
# The least DuckDB memory a worker builds its batches in. Below it the profile queries fail instead of
# spilling (measured: 300k records under --memory-limit 2GB, a 400 MB build split between two workers,
# ran out of memory at 200 MB each; one worker with all 400 MB completes).
WORKER_MEMORY_FLOOR = 384 * 1000**2


def batch_persons_for(memory_limit: str | None) -> int:
    """Return the persons per batch that the profile build's memory limit allows (BATCH_PERSONS without one)."""
    if not memory_limit:
        return BATCH_PERSONS
    return max(MIN_BATCH_PERSONS, min(BATCH_PERSONS, parse_size(memory_limit) // BYTES_PER_PERSON))
READ_ROWS = 20_000        # profile rows per chunk read back from the file for inserting
INPUT_ROWS = 50_000       # rows per chunk of an input read back for inserting (``ProfileBuild.input_frames``)
PROFILE_SCHEMA = pa.schema([*(pa.field(c, pa.string()) for c in PROFILE_COLUMNS[:4]),
                            pa.field("encoded", pa.binary()), pa.field("encoded_live", pa.binary())])


def batch_count(persons: int, batch_persons: int = BATCH_PERSONS) -> int:
    """Return how many batches a run of this many persons is built in."""
    return max(1, math.ceil(persons / batch_persons))


def household_buckets(household_ids: pd.Series, batches: int) -> np.ndarray:
    """Return each row's batch, from its household_id (stable: the same household, the same batch)."""
    hashes = pd.util.hash_pandas_object(household_ids.astype(str), index=False).to_numpy()
    return (hashes % np.uint64(batches)).astype(np.int32)


def encode_batch(rows: pd.DataFrame, stated: list[tuple]) -> pd.DataFrame:
    """Return built profile rows (``profile_rows``) as stored (PROFILE_COLUMNS), with their encoded and live parts."""
    return stored_rows(rows, encoded_parts(list(rows[list(BUILT_COLUMNS)].itertuples(index=False, name=None)), stated))


def _quoted(path: Path) -> str:
    """Return a path as an SQL string literal."""
    return "'" + str(path).replace("'", "''") + "'"


def _partition(engine, source: Path, links: Path, target: Path) -> None:  # type: ignore[no-untyped-def]
    """Write the rows of a Parquet file that belong to a linked record into one folder per batch."""
    engine.sql(f"""COPY (SELECT t.*, l.bucket FROM read_parquet({_quoted(source)}) t
                          JOIN (SELECT source, record_id, bucket FROM read_parquet({_quoted(links)})) l
                          USING (source, record_id))
                   TO {_quoted(target)} (FORMAT PARQUET, PARTITION_BY (bucket))""")


def _read_bucket(folder: Path, bucket: int, columns: list[str] | None = None) -> pd.DataFrame | None:
    """Return one batch's rows of a partitioned folder (None when the batch has none)."""
    part = folder / f"bucket={bucket}"
    if not part.exists():
        return None
    return pq.read_table(part, columns=columns).to_pandas()


def prepare_batches(inputs: Path, memory_limit: str | None = None) -> dt.datetime | None:
    """Split the run's records and interactions in ``inputs`` into one folder per batch; return the instant
    the attributes are as of (the latest interaction; None when there is none), taken once for the run."""
    engine = make_engine("duckdb", memory_limit=memory_limit, temp_directory=inputs / "spill")
    try:
        links_path = inputs / "links.parquet"
        categories = pd.read_parquet(inputs / "categories.parquet")
        for name in ("interactions", "links"):
            engine.sql(f"CREATE VIEW {name}_in AS SELECT * FROM read_parquet({_quoted(inputs / f'{name}.parquet')})")
        found = engine.sql(latest_interaction_sql(), categories_in=categories)["t"].iloc[0]
        for name in ("interactions", "links"):
            engine.sql(f"DROP VIEW {name}_in")
        for name in ("records", "interactions"):
            _partition(engine, inputs / f"{name}.parquet", links_path, inputs / name)
        return None if pd.isna(found) else pd.Timestamp(found).to_pydatetime()
    finally:
        engine.close()


def part_path(folder: Path, bucket: int) -> Path:
    """Return where the built profiles of one batch are written (present once they are whole)."""
    return folder / f"part-{bucket}.parquet"


def _claim(folder: Path, bucket: int) -> bool:
    """Claim a batch for this process; False when another worker has it."""
    try:
        os.close(os.open(folder / f"claim-{bucket}", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        return True
    except FileExistsError:
        return False


def write_stated(inputs: Path, stated: list[tuple], batches: int) -> None:
    """Write the stated preferences (``profile_api.live.live_parts``'s rows, household_id first) to one file per
    batch, by their household's batch, in their order: a worker then holds a batch's, not the run's."""
    folder = inputs / "stated"
    folder.mkdir(exist_ok=True)
    if not stated:
        return
    buckets = household_buckets(pd.Series([row[0] for row in stated], dtype=object), batches)
    by_bucket: dict[int, list[tuple]] = {}
    for bucket, row in zip(buckets.tolist(), stated):
        by_bucket.setdefault(bucket, []).append(row)
    for bucket, rows in by_bucket.items():
        with open(folder / f"{bucket}.pickle", "wb") as f:
            pickle.dump(rows, f, protocol=pickle.HIGHEST_PROTOCOL)


def _stated_of(inputs: Path, bucket: int) -> list[tuple]:
    """Return the preferences stated in one batch's households (``write_stated``)."""
    path = inputs / "stated" / f"{bucket}.pickle"
    if not path.exists():
        return []
    with open(path, "rb") as f:
        return pickle.load(f)


def _links_of(inputs: Path, bucket: int) -> pd.DataFrame | None:
    """Return one batch's rows of links.parquet, in their order (None when the batch has none)."""
    table = pq.read_table(inputs / "links.parquet", filters=[("bucket", "=", bucket)])
    return table.to_pandas() if table.num_rows else None


def _build_batch(inputs: Path, bucket: int, categories: pd.DataFrame, as_of: dt.datetime | None,
                 engine: Engine) -> pa.Table:
    """Return one batch's profiles, built and encoded (PROFILE_SCHEMA)."""
    batch_links = _links_of(inputs, bucket)
    records = _read_bucket(inputs / "records", bucket)
    if batch_links is None or records is None:
        return PROFILE_SCHEMA.empty_table()
    interactions = _read_bucket(inputs / "interactions", bucket, list(INTERACTION_COLUMNS))
    if interactions is None:
        interactions = pd.DataFrame({c: pd.Series([], dtype=object) for c in INTERACTION_COLUMNS})
    rows = profile_rows(records.drop(columns=["bucket"], errors="ignore"), batch_links.drop(columns=["bucket"]),
                        interactions, categories, as_of=as_of, engine=engine)
    encoded = encode_batch(rows, _stated_of(inputs, bucket))
    return pa.Table.from_pandas(encoded[list(PROFILE_SCHEMA.names)], schema=PROFILE_SCHEMA, preserve_index=False)


def build_batches(inputs: Path, out: Path, batches: int, as_of: dt.datetime | None,
                  memory_limit: str | None = None, engine: Engine | None = None) -> int:
    """Build, encode and write every batch no other worker has claimed, each to ``part_path(out, batch)``;
    return the profiles built here.

    ``inputs`` holds links.parquet (with each record's batch), categories.parquet, the stated preferences
    (``write_stated``) and the folders ``prepare_batches`` made. Several workers may run this at once on the
    same folders. Each batch's links and preferences are read when it is built: a worker holding the
    run's (a million links, some 300,000 preferences as Python tuples) kept hundreds of MB for nothing.
    The profile queries run on the given engine (left open), else on a DuckDB of the memory limit.
    """
    started = time.perf_counter()
    own = engine is None
    engine = engine or make_engine("duckdb", memory_limit=memory_limit, temp_directory=inputs / f"spill-{os.getpid()}")
    try:
        categories = pd.read_parquet(inputs / "categories.parquet")
        count = built = 0
        for bucket in range(batches):
            if not _claim(out, bucket):
                continue
            table = _build_batch(inputs, bucket, categories, as_of, engine)
            whole = part_path(out, bucket)
            pq.write_table(table, whole.with_suffix(".partial"))
            os.replace(whole.with_suffix(".partial"), whole)     # whole or absent, for the reader
            count += table.num_rows
            built += 1
            del table
            give_back_memory()    # what the batch's frames held, before the next batch's queries
        log.info("built %d profiles in %d of %d batches on %s in %.1f s", count, built, batches, engine.name,
                 time.perf_counter() - started)
        return count
    finally:
        if own:
            engine.close()


def build_profile_file(inputs: Path, out: Path, batches: int,
                       as_of: dt.datetime | None = None, memory_limit: str | None = None,
                       engine: Engine | None = None) -> int:
    """Build, encode and write the profiles of the run whose inputs are in ``inputs``, one file per batch in
    the folder ``out``; return the count (in this process: ``ProfileBuild`` with apart=False; the profile
    queries on ``engine`` when given)."""
    found = prepare_batches(inputs, memory_limit)
    return build_batches(inputs, out, batches, as_of or found, memory_limit, engine)


class ProfileBuildError(RuntimeError):
    """The profile build's worker failed; nothing was published."""


def _build_apart(inputs: Path, parent: int, worker: int) -> int:
    """Run one worker of the build from the job ``ProfileBuild`` left in ``inputs``: the first prepares the
    batches (``prepare_batches``), then every worker builds the batches it claims."""
    die_with_parent(parent)
    job = json.loads((inputs / "job.json").read_text())
    ready = inputs / "ready.json"
    if worker == 0:
        found = prepare_batches(inputs, job["memory_limit"])
        as_of = dt.datetime.fromisoformat(job["as_of"]) if job["as_of"] else found
        ready.with_suffix(".partial").write_text(json.dumps({"as_of": as_of.isoformat() if as_of else None}))
        os.replace(ready.with_suffix(".partial"), ready)
    else:
        while not ready.exists():        # the first worker fails loudly; this one then ends with the parent's close
            time.sleep(0.05)
    stamp = json.loads(ready.read_text())["as_of"]
    as_of = dt.datetime.fromisoformat(stamp) if stamp else None
    return build_batches(inputs, Path(job["out"]), job["batches"], as_of, job["memory_limit"])


def profile_workers(memory_limit: str | None = None) -> int:
    """Return how many worker processes build a large run's profiles: one per core, at most PROFILE_WORKERS,
    and no more than the build's memory limit gives WORKER_MEMORY_FLOOR each."""
    workers = max(1, min(PROFILE_WORKERS, os.cpu_count() or 1))
    if memory_limit:
        workers = max(1, min(workers, parse_size(memory_limit) // WORKER_MEMORY_FLOOR))
    return workers


class ProfileBuild:
    """A run's profiles, being built into Parquet files: by spawned workers, or here for a small run."""

    def __init__(self, records: pd.DataFrame, links: pd.DataFrame, interactions: pd.DataFrame,
                 categories: pd.DataFrame, folder: Path, stated: list[tuple] | None = None,
                 apart: bool | None = None, memory_limit: str | None = None,
                 batch_persons: int | None = None, as_of: dt.datetime | None = None,
                 workers: int | None = None, engine: Engine | None = None) -> None:
        """Args:
            records: the source records (the store's source_record columns).
            links: source, record_id, customer_id, household_id and confidence of every record.
            interactions: the interactions of the records (INTERACTION_COLUMNS at least).
            categories: the run's category taxonomy.
            folder: a folder of the build's own (made; removed by ``close``).
            stated: the preferences stated in the households (``profile_api.live.live_parts``).
            apart: build in spawned workers (default: for a large run on a machine of several cores).
            memory_limit: the build's DuckDB memory, shared by its workers (each spills beyond its share).
            batch_persons: persons per batch; by default as many as a worker's memory allows.
            workers: worker processes (with apart; default ``profile_workers(memory_limit)``).
            engine: the engine the profile queries run on, in this process, in batches of up to
                ENGINE_BATCH_PERSONS (a run's Spark engine); None: DuckDB, in workers for a large run.
        """
        self.folder = folder
        self.out = folder / "parts"
        persons = int(links["customer_id"].nunique())
        if engine is not None:
            apart, batch_persons = False, batch_persons or ENGINE_BATCH_PERSONS
        if apart is None:
            apart = persons > ENCODE_APART_ABOVE and (os.cpu_count() or 1) > 1
        workers = (workers or profile_workers(memory_limit)) if apart else 1
        share = f"{parse_size(memory_limit) // workers}B" if memory_limit else None
        inputs = folder / "inputs"
        shutil.rmtree(folder, ignore_errors=True)
        inputs.mkdir(parents=True)
        self.out.mkdir()
        self.batches = batch_count(persons, batch_persons or batch_persons_for(share))
        links = links.assign(bucket=household_buckets(links["household_id"], self.batches))
        links.to_parquet(inputs / "links.parquet", index=False)
        records.to_parquet(inputs / "records.parquet", index=False)
        with_sku(interactions).to_parquet(inputs / "interactions.parquet", index=False)    # whole: ``input_frames`` reads it back
        categories.to_parquet(inputs / "categories.parquet", index=False)
        write_stated(inputs, stated or [], self.batches)
        self._workers: list[subprocess.Popen] = []
        self._logs: list = []
        if apart:
            (inputs / "job.json").write_text(json.dumps({
                "out": str(self.out), "batches": self.batches, "memory_limit": share,
                "as_of": as_of.isoformat() if as_of else None}))
            # Processes of their own (not a fork: this one holds DuckDB and Arrow state; not multiprocessing's
            # spawn: that would import the caller's main module again). They take the batches between them.
            for worker in range(workers):
                log_file = open(folder / f"worker-{worker}.log", "wb")
                self._logs.append(log_file)
                self._workers.append(subprocess.Popen(
                    [sys.executable, "-m", "profile_api.profile_build", str(inputs), str(os.getpid()), str(worker)],
                    stdout=log_file, stderr=subprocess.STDOUT))
        else:
            build_profile_file(inputs, self.out, self.batches, as_of, memory_limit, engine)

    def input_frames(self, name: str, rows: int = INPUT_ROWS) -> Iterator[pd.DataFrame]:
        """Yield the records or the interactions the build was given (``name``: "records" or "interactions"),
        read back from its file in chunks of ``rows``: a publish that let go of the frames inserts these."""
        for batch in pq.ParquetFile(self.folder / "inputs" / f"{name}.parquet").iter_batches(batch_size=rows):
            yield batch.to_pandas()

    def frames(self, rows: int = READ_ROWS) -> Iterator[pd.DataFrame]:
        """Yield the built profiles (PROFILE_COLUMNS) in chunks of ``rows``, each batch as soon as it is built."""
        for bucket in range(self.batches):
            path = part_path(self.out, bucket)
            while not path.exists():
                self._check()
                time.sleep(0.05)
            for batch in pq.ParquetFile(path).iter_batches(batch_size=rows):
                yield batch.to_pandas()

    def _check(self) -> None:
        """Raise ProfileBuildError when a worker failed; when all have ended, say so if a batch is missing."""
        codes = [w.poll() for w in self._workers]
        for worker, code in enumerate(codes):
            if code not in (None, 0):
                said = (self.folder / f"worker-{worker}.log").read_text(errors="replace").strip().splitlines()[-12:]
                raise ProfileBuildError(f"building the profiles failed (exit status {code}):\n" + "\n".join(said))
        if all(code == 0 for code in codes):
            missing = [b for b in range(self.batches) if not part_path(self.out, b).exists()]
            if missing:
                raise ProfileBuildError(f"building the profiles failed: the workers ended without batch(es) {missing}")

    def wait(self) -> None:
        """Wait until the profiles are built; raise ProfileBuildError when a worker failed."""
        while self._workers and any(w.poll() is None for w in self._workers):
            self._check()
            time.sleep(0.05)
        if self._workers:
            self._check()

    def close(self) -> None:
        """Stop the workers, if any, and remove the build's files (also when publishing failed half-way)."""
        for worker in self._workers:
            if worker.poll() is None:
                worker.kill()
            worker.wait()
        self._workers = []
        for log_file in self._logs:
            log_file.close()
        self._logs = []
        shutil.rmtree(self.folder, ignore_errors=True)


if __name__ == "__main__":
    _build_apart(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 0)
