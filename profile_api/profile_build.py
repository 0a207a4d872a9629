"""Building a whole run's profiles in batches of households, into a Parquet file, beside the publish.

``profile_api.precompute`` builds and encodes profiles from frames in memory: right for a few
households, but a run of a million records holds half a million profiles, and one query over all of
them needs more memory than the rest of the run. Here a run's inputs go to Parquet files, and a
second process (spawned: it shares nothing with the publishing one, and its memory is its own)
splits them by household into batches of about ``BATCH_PERSONS`` persons (DuckDB, out of core),
builds and encodes each batch, and appends it to ``profiles.parquet``. The publishing process
inserts the other tables meanwhile, then streams the file into the profile table in chunks
(``profile_api.store.write.write_profiles``). Memory is bounded by a batch, not by the run.

A household's members are always in one batch (the household part of a profile lists them), and
the instant the attributes are "as of" is taken once for the whole run, as one query over all
profiles would take it.
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

from identity.bulk import die_with_parent
from identity.engine import make_engine
from identity.memory import parse_size
from profile_api.attributes import latest_interaction_sql
from profile_api.precompute import ENCODE_APART_ABOVE, INTERACTION_COLUMNS, PROFILE_COLUMNS, encoded_parts, profile_rows

log = logging.getLogger(__name__)

BATCH_PERSONS = 40_000    # persons per batch at most
# What the profile queries of a batch take per person (measured at 300k records: 168k persons needed
# more than 700 MB in one query, 40k persons more than 380 MB): with a memory limit, batches are as
# large as the limit allows at this rate.
BYTES_PER_PERSON = 25_000
MIN_BATCH_PERSONS = 1_000


def batch_persons_for(memory_limit: str | None) -> int:
    """Return the persons per batch that the profile build's memory limit allows (BATCH_PERSONS without one)."""
    if not memory_limit:
        return BATCH_PERSONS
    return max(MIN_BATCH_PERSONS, min(BATCH_PERSONS, parse_size(memory_limit) // BYTES_PER_PERSON))
READ_ROWS = 20_000        # profile rows per chunk read back from the file for inserting
PROFILE_SCHEMA = pa.schema([*(pa.field(c, pa.string()) for c in PROFILE_COLUMNS[:6]),
                            pa.field("encoded", pa.binary()), pa.field("encoded_live", pa.binary())])


def batch_count(persons: int, batch_persons: int = BATCH_PERSONS) -> int:
    """Return how many batches a run of this many persons is built in."""
    return max(1, math.ceil(persons / batch_persons))


def household_buckets(household_ids: pd.Series, batches: int) -> np.ndarray:
    """Return each row's batch, from its household_id (stable: the same household, the same batch)."""
    hashes = pd.util.hash_pandas_object(household_ids.astype(str), index=False).to_numpy()
    return (hashes % np.uint64(batches)).astype(np.int32)


def encode_batch(rows: pd.DataFrame, stated: list[tuple]) -> pd.DataFrame:
    """Return profile rows (the first six PROFILE_COLUMNS) with their encoded and live parts."""
    parts = encoded_parts(list(rows[list(PROFILE_COLUMNS[:6])].itertuples(index=False, name=None)), stated)
    return rows.assign(encoded=[fixed for fixed, _ in parts], encoded_live=[live for _, live in parts])


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


def build_profile_file(inputs: Path, out: Path, stated: list[tuple], batches: int,
                       as_of: dt.datetime | None = None, memory_limit: str | None = None) -> int:
    """Build, encode and write the profiles of the run whose inputs are in ``inputs``; return the count.

    ``inputs`` holds records.parquet (source records), links.parquet (with each record's batch),
    interactions.parquet and categories.parquet, as ``ProfileBuild`` writes them.
    """
    started = time.perf_counter()
    engine = make_engine("duckdb", memory_limit=memory_limit, temp_directory=inputs / "spill")
    try:
        links_path = inputs / "links.parquet"
        categories = pd.read_parquet(inputs / "categories.parquet")
        if as_of is None:
            for name in ("interactions", "links"):
                engine.sql(f"CREATE VIEW {name}_in AS SELECT * FROM read_parquet({_quoted(inputs / f'{name}.parquet')})")
            found = engine.sql(latest_interaction_sql(), categories_in=categories)["t"].iloc[0]
            as_of = None if pd.isna(found) else pd.Timestamp(found).to_pydatetime()
            for name in ("interactions", "links"):
                engine.sql(f"DROP VIEW {name}_in")
        for name in ("records", "interactions"):
            _partition(engine, inputs / f"{name}.parquet", links_path, inputs / name)
        links = pd.read_parquet(links_path)
        count = 0
        with pq.ParquetWriter(out, PROFILE_SCHEMA) as writer:
            for bucket, batch_links in links.groupby("bucket", sort=True):
                records = _read_bucket(inputs / "records", int(bucket))
                interactions = _read_bucket(inputs / "interactions", int(bucket), list(INTERACTION_COLUMNS))
                if records is None:
                    continue
                if interactions is None:
                    interactions = pd.DataFrame({c: pd.Series([], dtype=object) for c in INTERACTION_COLUMNS})
                rows = profile_rows(records.drop(columns=["bucket"], errors="ignore"),
                                    batch_links.drop(columns=["bucket"]), interactions, categories,
                                    as_of=as_of, engine=engine)
                encoded = encode_batch(rows, stated)
                writer.write_table(pa.Table.from_pandas(encoded[list(PROFILE_SCHEMA.names)], schema=PROFILE_SCHEMA,
                                                        preserve_index=False))
                count += len(encoded)
        log.info("built %d profiles in %d batches in %.1f s", count, batches, time.perf_counter() - started)
        return count
    finally:
        engine.close()


class ProfileBuildError(RuntimeError):
    """The profile build's worker failed; nothing was published."""


def _build_apart(inputs: Path, parent: int) -> int:
    """Run ``build_profile_file`` in the worker, from the job ``ProfileBuild`` left in ``inputs``."""
    die_with_parent(parent)
    job = json.loads((inputs / "job.json").read_text())
    with open(inputs / "stated.pickle", "rb") as f:
        stated = pickle.load(f)
    as_of = dt.datetime.fromisoformat(job["as_of"]) if job["as_of"] else None
    return build_profile_file(inputs, Path(job["out"]), stated, job["batches"], as_of, job["memory_limit"])


class ProfileBuild:
    """A run's profiles, being built into a Parquet file: in a spawned worker, or here for a small run."""

    def __init__(self, records: pd.DataFrame, links: pd.DataFrame, interactions: pd.DataFrame,
                 categories: pd.DataFrame, folder: Path, stated: list[tuple] | None = None,
                 apart: bool | None = None, memory_limit: str | None = None,
                 batch_persons: int | None = None, as_of: dt.datetime | None = None) -> None:
        """Args:
            records: the source records (the store's source_record columns).
            links: source, record_id, customer_id, household_id and confidence of every record.
            interactions: the interactions of the records (INTERACTION_COLUMNS).
            categories: the run's category taxonomy.
            folder: a folder of the build's own (made; removed by ``close``).
            stated: the preferences stated in the households (``profile_api.live.live_parts``).
            apart: build in a spawned worker (default: for a large run on a machine of several cores).
            memory_limit: the build's DuckDB memory (it spills beyond it).
            batch_persons: persons per batch; by default as many as the memory limit allows.
        """
        self.folder = folder
        self.path = folder / "profiles.parquet"
        persons = int(links["customer_id"].nunique())
        if apart is None:
            apart = persons > ENCODE_APART_ABOVE and (os.cpu_count() or 1) > 1
        inputs = folder / "inputs"
        shutil.rmtree(folder, ignore_errors=True)
        inputs.mkdir(parents=True)
        batches = batch_count(persons, batch_persons or batch_persons_for(memory_limit))
        links = links.assign(bucket=household_buckets(links["household_id"], batches))
        links.to_parquet(inputs / "links.parquet", index=False)
        records.to_parquet(inputs / "records.parquet", index=False)
        interactions[list(INTERACTION_COLUMNS)].to_parquet(inputs / "interactions.parquet", index=False)
        categories.to_parquet(inputs / "categories.parquet", index=False)
        self._worker: subprocess.Popen | None = None
        if apart:
            (inputs / "job.json").write_text(json.dumps({
                "out": str(self.path), "batches": batches, "memory_limit": memory_limit,
                "as_of": as_of.isoformat() if as_of else None}))
            with open(inputs / "stated.pickle", "wb") as f:
                pickle.dump(stated or [], f, protocol=pickle.HIGHEST_PROTOCOL)
            # A process of its own (not a fork: this one holds DuckDB and Arrow state; not multiprocessing's
            # spawn: that would import the caller's main module again).
            self._log = open(folder / "worker.log", "wb")
            self._worker = subprocess.Popen([sys.executable, "-m", "profile_api.profile_build", str(inputs),
                                             str(os.getpid())], stdout=self._log, stderr=subprocess.STDOUT)
        else:
            build_profile_file(inputs, self.path, stated or [], batches, as_of, memory_limit)

    def frames(self, rows: int = READ_ROWS) -> Iterator[pd.DataFrame]:
        """Yield the built profiles (PROFILE_COLUMNS) in chunks of ``rows``, waiting for the worker first."""
        self.wait()
        for batch in pq.ParquetFile(self.path).iter_batches(batch_size=rows):
            yield batch.to_pandas()

    def wait(self) -> None:
        """Wait until the profiles are built; raise ProfileBuildError when the worker failed."""
        if self._worker is None:
            return
        code = self._worker.wait()
        self._worker = None
        self._log.close()
        if code != 0:
            said = (self.folder / "worker.log").read_text(errors="replace").strip().splitlines()[-12:]
            raise ProfileBuildError(f"building the profiles failed (exit status {code}):\n" + "\n".join(said))

    def close(self) -> None:
        """Stop the worker, if any, and remove the build's files (also when publishing failed half-way)."""
        if self._worker is not None:
            self._worker.kill()
            self._worker.wait()
            self._worker = None
            self._log.close()
        shutil.rmtree(self.folder, ignore_errors=True)


if __name__ == "__main__":
    _build_apart(Path(sys.argv[1]), int(sys.argv[2]))
