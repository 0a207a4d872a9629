"""Scale: generate drops of 100k, 300k and 1M records, resolve and publish each as a user would, and
report wall time, peak memory and accuracy.

    python bench/scale.py                              # 100k, 300k and 1M on SQLite
    python bench/scale.py --sizes 100k 300k --store postgresql+psycopg://127.0.0.1/test
    python bench/scale.py --sizes 300k --memory-limit 2GB
    python bench/scale.py --sizes 100k --engine spark   # where the Spark engine is installed

Each run is ``herken resolve DROP --store URL`` in a child process, then ``herken evaluate
truth.csv --json``. Peak memory is the most the run's whole process tree held at once (the
resolving process and the worker that builds the profiles), sampled every second as the sum of
their proportional set sizes (PSS: a page two processes share counts half to each), so the figure
is what the run took from the machine. A PostgreSQL store is emptied before each run (the
database's tables are dropped), as the SQLite store is a new file each time.

Drops are made once under ``--work`` and reused: 100k is ``--households 30000 --seed 7``, 300k
``--households 90000 --seed 3``, 1M ``--households 300000 --seed 11`` (the issue's drops).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

DROPS = {"100k": (30000, 7), "300k": (90000, 3), "1m": (300000, 11)}


def _children(pid: int) -> list[int]:
    """Return every descendant of a process."""
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        try:
            with open(f"/proc/{parent}/task/{parent}/children") as f:
                kids = [int(k) for k in f.read().split()]
        except OSError:
            kids = []
        found.extend(kids)
        todo.extend(kids)
    return found


def tree_pss(pid: int) -> int:
    """Return the PSS in bytes of a process and its descendants."""
    total = 0
    for p in [pid, *_children(pid)]:
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1]) * 1024
                        break
        except OSError:
            pass
    return total


def run_measured(command: list[str], env: dict[str, str], log: Path) -> tuple[int, float, int]:
    """Run a command; return its exit status, wall seconds and the tree's peak PSS in bytes."""
    started = time.perf_counter()
    with open(log, "ab") as out:
        child = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        peak = [0]

        def sample() -> None:
            while child.poll() is None:
                peak[0] = max(peak[0], tree_pss(child.pid))
                time.sleep(1.0)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        status = child.wait()
        sampler.join()
    return status, time.perf_counter() - started, peak[0]


def package_versions() -> dict[str, str]:
    """Return the versions of the packages that decide a run's memory (pandas 2's object strings cost 3 GB at 1M)."""
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("pandas", "pyarrow", "numpy", "duckdb", "splink"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def herken(*args: str) -> list[str]:
    """Return the command line of a herken command in this interpreter."""
    return [sys.executable, "-m", "herken.cli", *args]


def empty_postgres(url: str) -> None:
    """Drop every table of the store's database (a fresh store for the next run)."""
    from sqlalchemy import MetaData, create_engine

    engine = create_engine(url)
    meta = MetaData()
    meta.reflect(engine)
    meta.drop_all(engine)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", default=list(DROPS), choices=list(DROPS))
    parser.add_argument("--work", type=Path, default=Path("bench-scale"))
    parser.add_argument("--store", help="SQLAlchemy URL of a PostgreSQL store (default: a new SQLite file per run)")
    parser.add_argument("--memory-limit")
    parser.add_argument("--engine", default="duckdb")
    parser.add_argument("--out", type=Path, help="write the results as JSON")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    versions = package_versions()
    print("on " + ", ".join(f"{name} {version}" for name, version in versions.items()), flush=True)
    results = []
    for size in args.sizes:
        households, seed = DROPS[size]
        drop = args.work / f"drop-{size}"
        if not (drop / "truth.csv").is_file():
            subprocess.run(herken("generate", str(drop), "--households", str(households), "--seed", str(seed)),
                           check=True, stdout=subprocess.DEVNULL)
        store = args.store
        if store is None:
            db = args.work / f"store-{size}.db"
            db.unlink(missing_ok=True)
            store = f"sqlite:///{db}"
        else:
            empty_postgres(store)
        env = {**os.environ, "HERKEN_RUNS_DIR": str(args.work / "runs"), "HERKEN_ENGINE": args.engine}
        command = herken("resolve", str(drop), "--store", store)
        if args.memory_limit:
            command += ["--memory-limit", args.memory_limit]
        log = args.work / f"resolve-{size}.log"
        log.unlink(missing_ok=True)
        status, seconds, peak = run_measured(command, env, log)
        if status != 0:
            print(f"{size}: herken resolve failed (exit {status}); see {log}", file=sys.stderr)
            results.append({"size": size, "status": status, "seconds": round(seconds, 1),
                            "peak_gb": round(peak / 1e9, 2)})
            continue
        scores = json.loads(subprocess.run(herken("evaluate", str(drop / "truth.csv"), "--store", store, "--json"),
                                           check=True, capture_output=True, text=True).stdout)
        result = {"size": size, "records": scores["records"], "store": store.split(":")[0], "engine": args.engine,
                  "memory_limit": args.memory_limit, "seconds": round(seconds, 1), "peak_gb": round(peak / 1e9, 2),
                  "person_f1": scores["person"]["f1"], "household_f1": scores["household"]["f1"],
                  "household_pairs_merged": scores["household_pairs_merged"], "versions": versions}
        results.append(result)
        print(f"{size:>5} {result['records']:>9,} records  {seconds:7.1f} s  peak {peak / 1e9:5.2f} GB  "
              f"person F1 {result['person_f1']:.4f}  household F1 {result['household_f1']:.4f}  "
              f"same-household merged {result['household_pairs_merged']:.2%}", flush=True)
    if args.out:
        args.out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
