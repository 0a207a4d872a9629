"""Reads while a run publishes: `herken resolve DROP --store URL` runs while a reader keeps reading profiles by
customer_id and by e-mail (as GetProfile does) from the same store; reports the reads' p99 and worst latency
and whether the run succeeded.

    python bench/publish_reads.py --drop DROP --store postgresql+psycopg://postgres@127.0.0.1:5432/DB

The store must hold a published run already (the reader samples its IDs and e-mail addresses); the run
publishes the drop again, so every table is rewritten. Before herken kept the indexes during a PostgreSQL
publish, a read by e-mail waited for the publish and then deadlocked with it.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import threading
import time

from sqlalchemy import text

from profile_api.profiles import ProfileStore
from profile_api.store import open_store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--drop", required=True)
    parser.add_argument("--store", required=True)
    parser.add_argument("--pause-ms", type=float, default=10.0, help="between two reads")
    args = parser.parse_args()
    store = ProfileStore(open_store(args.store))
    with store.engine.connect() as conn:
        ids = [r[0] for r in conn.execute(text("SELECT customer_id FROM profile LIMIT 3000"))]
        emails = [r[0] for r in conn.execute(text(
            "SELECT std_email FROM source_record WHERE std_email IS NOT NULL LIMIT 3000"))]
    if not ids:
        raise SystemExit(f"the store at {args.store} holds no published run: resolve a drop into it first")
    stop = threading.Event()
    latencies: dict[str, list[float]] = {"by customer_id": [], "by e-mail": []}

    def read() -> None:
        rng = random.Random(1)
        while not stop.is_set():
            began = time.perf_counter()
            store.served_profile(rng.choice(ids))
            latencies["by customer_id"].append(time.perf_counter() - began)
            began = time.perf_counter()
            store.served_profiles_by_identifier("email", rng.choice(emails))
            latencies["by e-mail"].append(time.perf_counter() - began)
            time.sleep(args.pause_ms / 1000)

    reader = threading.Thread(target=read)
    reader.start()
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as runs:
        run = subprocess.run([sys.executable, "-m", "herken.cli", "resolve", args.drop, "--store", args.store],
                             env={**os.environ, "HERKEN_RUNS_DIR": runs}, capture_output=True, text=True)
    wall = time.perf_counter() - began
    stop.set()
    reader.join()
    for what, values in latencies.items():
        values.sort()
        print(f"{what}: {len(values)} reads, p99 {values[int(len(values) * 0.99)] * 1000:.1f} ms, "
              f"worst {values[-1] * 1000:.0f} ms, {sum(v > 1 for v in values)} over 1 s")
    print(f"the run: exit {run.returncode} after {wall:.1f} s")
    if run.returncode != 0:
        print(run.stderr[-1500:])


if __name__ == "__main__":
    main()
