"""Resolve one drop with the DuckDB engine and with Spark in local mode; print time and accuracy side by side.

    python bench/spark.py --households 30000 --seed 7 [--out spark.json] [--keep DIR]
    python bench/spark.py --drop DIR                    # an existing drop with truth.csv
    python bench/spark.py --drop DIR --spark-master spark://host:7077
    python bench/spark.py --drop DIR --distributed on   # standardise and cluster on the executors in local mode too

Each engine runs ``resolve()`` and publishes to a fresh SQLite store, as ``herken resolve --engine``
does, in a fresh child process (this script with the hidden ``--child`` option). Accuracy is scored
on the links read back from each store, and the two engines' persons and households are compared
with each other (pairwise F1 of one grouping against the other: 1.0 is the same grouping).

"seconds" is the work inside the child (drop read to result published; for Spark it includes
starting the session, in the "train" stage); "peak MB" is the largest summed resident memory of
the child and everything it started (Spark's JVM), sampled every 0.2 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd

ENGINES = ("duckdb", "spark")


def run_child(engine: str, drop: Path, work: Path, master: str | None, distributed: str | None = None) -> None:
    """Resolve and publish with one engine; write result.json (records, seconds, stages) into work."""
    import splink  # noqa: F401  (Splink sets its logger level on import; quiet it afterwards)

    logging.getLogger("splink").setLevel(logging.ERROR)
    handler = logging.StreamHandler()      # the pipeline's counts and step times, in child.log
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
    logging.getLogger("identity").addHandler(handler)
    logging.getLogger("identity").setLevel(logging.INFO)
    from herken.publish import publish_resolution
    from identity.pipeline import ResolveOptions, resolve
    from profile_api.store import open_store

    start = time.perf_counter()
    started = dt.datetime.now(dt.timezone.utc)
    conf = {} if distributed is None else {"spark.herken.distributed": "true" if distributed == "on" else "false"}
    options = ResolveOptions(run_dir=work / "run", engine=engine, spark_options={"master": master, "conf": conf})
    resolution = resolve(drop, options)
    stages = dict(resolution.timings)
    clock = time.perf_counter()
    store = open_store(f"sqlite:///{work / 'bench.db'}", migrate=True)
    publish_resolution(store, resolution, "bench-run", started, str(drop.resolve()))
    store.dispose()
    stages["publish"] = round(time.perf_counter() - clock, 3)
    (work / "result.json").write_text(json.dumps({"records": len(resolution.records),
                                                  "seconds": time.perf_counter() - start, "stages": stages}))


def _tree_rss_kb(root: int) -> int:
    """Return the summed resident memory (KiB) of a process and all its descendants."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        parents[int(entry)] = int(fields.get("PPid", "0").strip() or 0)
        rss[int(entry)] = int(fields.get("VmRSS", "0 kB").split()[0])
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        children = [p for p, parent in parents.items() if parent == pid and p not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(rss.get(pid, 0) for pid in tree)


def measure(engine: str, drop: Path, work: Path, master: str | None, distributed: str | None = None) -> dict:
    """Run one engine in a fresh process; return its figures (seconds, stages, peak MB of its process tree)."""
    work.mkdir(parents=True, exist_ok=True)
    for stale in ("bench.db", "bench.db-wal", "bench.db-shm", "result.json"):
        (work / stale).unlink(missing_ok=True)
    command = [sys.executable, str(Path(__file__).resolve()), "--child", engine, "--drop", str(drop),
               "--work", str(work)] + (["--spark-master", master] if master else []) \
        + (["--distributed", distributed] if distributed else [])
    print(f"resolving with {engine} ...", file=sys.stderr, flush=True)
    peak = 0
    with open(work / "child.log", "wb") as log_file:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT)
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.wait(0.2):
                peak = max(peak, _tree_rss_kb(process.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        process.wait()
        done.set()
        sampler.join()
        elapsed = time.perf_counter() - start
    if process.returncode != 0:
        tail = (work / "child.log").read_text(errors="replace").splitlines()[-25:]
        raise SystemExit(f"{engine} failed (exit {process.returncode}); last lines of {work / 'child.log'}:\n"
                         + "\n".join(tail))
    result = json.loads((work / "result.json").read_text())
    return {"records": result["records"], "seconds": round(result["seconds"], 1), "process_seconds": round(elapsed, 1),
            "peak_mb": round(peak / 1024), "stages": result["stages"]}


def bench(drop: Path, work: Path, master: str | None, distributed: str | None = None) -> dict:
    """Resolve the drop with each engine; print the comparison and return the figures."""
    from identity.evaluate import evaluate, pair_scores
    from profile_api.store import open_store, read_links

    truth_path = drop / "truth.csv"
    if not truth_path.is_file():
        raise SystemExit(f"{truth_path} not found: the benchmark needs a drop with ground truth "
                         "(one written by `herken generate`)")
    truth = pd.read_csv(truth_path, dtype=str)
    figures: dict[str, dict] = {}
    links: dict[str, pd.DataFrame] = {}
    for engine in ENGINES:
        figures[engine] = measure(engine, drop, work / engine, master, distributed)
        store = open_store(f"sqlite:///{work / engine / 'bench.db'}")
        links[engine] = read_links(store).sort_values(["source", "record_id"], ignore_index=True)
        store.dispose()
        figures[engine]["accuracy"] = evaluate(links[engine], truth).as_dict()
    duck, spark = links["duckdb"], links["spark"]
    same_records = duck[["source", "record_id"]].equals(spark[["source", "record_id"]])
    agreement = {
        "same_records": bool(same_records),
        "persons_f1": pair_scores(spark["customer_id"], duck["customer_id"]).f1 if same_records else None,
        "households_f1": pair_scores(spark["household_id"], duck["household_id"]).f1 if same_records else None,
    }
    print()
    print("| engine | records | seconds | process s | peak MB | person P | person R | person F1 | "
          "household P | household R | household F1 |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for engine, f in figures.items():
        p, h = f["accuracy"]["person"], f["accuracy"]["household"]
        print(f"| {engine} | {f['records']:,} | {f['seconds']:.1f} | {f['process_seconds']:.1f} | {f['peak_mb']:,} | "
              f"{p['precision']:.4f} | {p['recall']:.4f} | {p['f1']:.4f} | "
              f"{h['precision']:.4f} | {h['recall']:.4f} | {h['f1']:.4f} |")
    print("\nstage timings (seconds inside the child):")
    for engine, f in figures.items():
        print(f"- {engine}: " + ", ".join(f"{stage} {s:.1f}" for stage, s in f["stages"].items()))
    print(f"\nspark against duckdb: every record in both: {agreement['same_records']}; "
          f"pairwise F1 of the persons {agreement['persons_f1']}, of the households {agreement['households_f1']} "
          "(1.0: the same grouping)")
    delta_p = figures["spark"]["accuracy"]["person"]["f1"] - figures["duckdb"]["accuracy"]["person"]["f1"]
    delta_h = figures["spark"]["accuracy"]["household"]["f1"] - figures["duckdb"]["accuracy"]["household"]["f1"]
    print(f"F1 spark - duckdb: persons {delta_p:+.4f}, households {delta_h:+.4f}; "
          f"time spark / duckdb: {figures['spark']['seconds'] / figures['duckdb']['seconds']:.1f}x")
    return {"drop": str(drop), "master": master or "local (Spark's settings, else local[2])",
            "distributed": distributed or "Spark's settings (a cluster: on; local mode: off)",
            "engines": figures, "agreement": agreement}


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments and run the benchmark (or, with --child, one engine)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=30_000, help="households to generate (default 30000)")
    parser.add_argument("--seed", type=int, default=7, help="generator seed (default 7)")
    parser.add_argument("--drop", type=Path, help="use this existing drop instead of generating one")
    parser.add_argument("--spark-master", help="Spark master URL (default: Spark's own settings, else local[2])")
    parser.add_argument("--distributed", choices=("on", "off"),
                        help="spark.herken.distributed: standardise and cluster on the executors (on) or the driver "
                             "(off); default Spark's settings, where a cluster does and local mode does not")
    parser.add_argument("--out", type=Path, help="also write the figures as JSON here")
    parser.add_argument("--keep", type=Path, help="keep drop, stores and logs in this directory")
    parser.add_argument("--child", choices=ENGINES, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        run_child(args.child, args.drop, args.work, args.spark_master, args.distributed)
        return 0

    with tempfile.TemporaryDirectory(prefix="herken-bench-spark-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        if args.drop:
            drop = args.drop.resolve()
        else:
            from synth.writer import generate_drop

            drop = work / "drop"
            print(f"generating {args.households:,} households (seed {args.seed}) into {drop} ...",
                  file=sys.stderr, flush=True)
            generate_drop(drop, households=args.households, seed=args.seed)
        print(f"drop: {drop}" + ("" if args.drop else f" ({args.households:,} households, seed {args.seed})"))
        figures = bench(drop, work, args.spark_master, args.distributed)
    if args.out:
        args.out.write_text(json.dumps(figures, indent=2))
        print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
