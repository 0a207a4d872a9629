"""Benchmark herken against the two baselines on one synthetic drop: speed, memory, accuracy.

    python bench/resolve.py --households 30000 --seed 7 [--out results.json] [--skip-vanilla]
    python bench/resolve.py --drop DIR                  # an existing drop with truth.csv

Each approach runs in a fresh child process (this script, with the hidden ``--child`` option), so
its peak memory is its own: the parent reads it from ``os.wait4``, as ``/usr/bin/time`` does.

- herken: ``resolve()`` and publishing to a fresh SQLite store, as ``herken resolve`` does; its
  accuracy is scored on the links read back from that store.
- vanilla Splink: the same ingest and standardisation, then :func:`baselines.vanilla_splink` (bench/baselines.py).
- deterministic graph: the same ingest and standardisation, then
  :func:`baselines.deterministic_graph`.

"seconds" is the work inside the child (drop read to result ready), "process s" adds the
interpreter start and imports.
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
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

RUNS: dict[str, str] = {
    "herken": "herken (resolve + publish to SQLite)",
    "vanilla": "vanilla Splink (EM, connected components at 0.95)",
    "deterministic": "deterministic graph (shared e-mail, phone, card)",
}


# --- the child: one approach, timed, writing links.csv and result.json into its work directory ---

def _quiet_splink() -> None:
    """Keep Splink's progress output out of the benchmark's own."""
    import splink  # noqa: F401  (Splink sets its logger level on import; override it afterwards)

    logging.getLogger("splink").setLevel(logging.ERROR)


def _child_herken(drop: Path, work: Path, stages: dict[str, float]) -> tuple[int, pd.DataFrame | None]:
    """Resolve and publish like ``herken resolve``; return the record count (links come from the store)."""
    from herken.publish import publish_resolution
    from identity.pipeline import ResolveOptions, resolve
    from profile_api.store import open_store

    started = dt.datetime.now(dt.timezone.utc)
    resolution = resolve(drop, ResolveOptions(run_dir=work / "run"))
    stages.update(resolution.timings)
    clock = time.perf_counter()
    store = open_store(f"sqlite:///{work / 'bench.db'}", migrate=True)
    publish_resolution(store, resolution, "bench-run", started, str(drop.resolve()))
    stages["publish"] = round(time.perf_counter() - clock, 3)
    return len(resolution.records), None


def _child_baseline(kind: str, drop: Path, stages: dict[str, float]) -> tuple[int, pd.DataFrame]:
    """Ingest, standardise and link with one baseline; return the record count and the links."""
    from baselines import deterministic_graph, vanilla_splink  # bench/ is on the path: this script runs as one
    from identity.engine import make_engine
    from identity.ingest import read_drop
    from identity.pipeline import standardise_drop
    from identity.timing import Laps

    lap = Laps()
    raw = read_drop(drop)
    lap("ingest")
    records = standardise_drop(raw)
    lap("standardise")
    links = vanilla_splink(make_engine("duckdb"), records) if kind == "vanilla" else deterministic_graph(records)
    lap("link")
    stages.update(lap.laps)
    return len(records), links


def run_child(kind: str, drop: Path, work: Path) -> None:
    """Run one approach and write result.json (and links.csv for the baselines) into work."""
    _quiet_splink()
    stages: dict[str, float] = {}
    start = time.perf_counter()
    if kind == "herken":
        records, links = _child_herken(drop, work, stages)
    else:
        records, links = _child_baseline(kind, drop, stages)
    seconds = time.perf_counter() - start
    if links is not None:
        links.to_csv(work / "links.csv", index=False)
    (work / "result.json").write_text(json.dumps({"records": records, "seconds": seconds, "stages": stages}))


# --- the parent: generate, run each child, score, print ---

@dataclass
class Run:
    """The measured figures of one approach."""

    name: str
    label: str
    records: int
    seconds: float
    process_seconds: float
    peak_rss_mb: float
    stages: dict[str, float]
    other_cpu: float | None        # cores busy with other processes during the run: they skew times
    accuracy: dict = field(default_factory=dict)

    @property
    def records_per_s(self) -> float:
        """Return records resolved per second of work."""
        return self.records / self.seconds if self.seconds else 0.0


def _busy_cpu_seconds() -> float | None:
    """Return CPU seconds the whole machine has spent busy since boot (Linux), or None."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)    # idle and iowait
    busy = sum(fields[:8]) - idle                                 # guest time is already in user
    return busy / os.sysconf("SC_CLK_TCK")


def measure(kind: str, drop: Path, work: Path) -> Run:
    """Run one approach in a fresh process; return its time, peak memory and stage timings."""
    work.mkdir(parents=True, exist_ok=True)
    for stale in ("bench.db", "bench.db-wal", "bench.db-shm", "links.csv", "result.json"):
        (work / stale).unlink(missing_ok=True)   # a kept directory from an earlier run: start fresh
    command = [sys.executable, str(Path(__file__).resolve()), "--child", kind, "--drop", str(drop),
               "--work", str(work)]
    print(f"running {RUNS[kind]} ...", file=sys.stderr, flush=True)
    busy_before = _busy_cpu_seconds()
    with open(work / "child.log", "wb") as log_file:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.perf_counter() - start
    busy_after = _busy_cpu_seconds()
    other = None
    if busy_before is not None and busy_after is not None:
        other = round(max(0.0, busy_after - busy_before - usage.ru_utime - usage.ru_stime) / elapsed, 2)
    if process.returncode != 0:
        tail = (work / "child.log").read_text(errors="replace").splitlines()[-25:]
        raise SystemExit(f"{RUNS[kind]} failed (exit {process.returncode}); last lines of {work / 'child.log'}:\n"
                         + "\n".join(tail))
    result = json.loads((work / "result.json").read_text())
    return Run(kind, RUNS[kind], result["records"], round(result["seconds"], 2), round(elapsed, 2),
               round(usage.ru_maxrss / 1024, 1), result["stages"], other)  # ru_maxrss is in KiB on Linux


def links_of(run: Run, work: Path) -> pd.DataFrame:
    """Return the links an approach produced: herken's as published in its store."""
    if run.name == "herken":
        from profile_api.store import open_store, read_links

        return read_links(open_store(f"sqlite:///{work / 'bench.db'}"))
    return pd.read_csv(work / "links.csv", dtype=str)


def markdown(runs: list[Run]) -> str:
    """Return the comparison table, one row per approach."""
    head = ("| approach | records | seconds | process s | records/s | peak RSS MB | person P | person R | "
            "person F1 | household P | household R | household F1 | same-household pairs merged |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in runs:
        p, h = r.accuracy["person"], r.accuracy["household"]
        lines.append(
            f"| {r.label} | {r.records:,} | {r.seconds:.1f} | {r.process_seconds:.1f} | {r.records_per_s:,.0f} | "
            f"{r.peak_rss_mb:,.0f} | {p['precision']:.3f} | {p['recall']:.3f} | {p['f1']:.3f} | "
            f"{h['precision']:.3f} | {h['recall']:.3f} | {h['f1']:.3f} | {r.accuracy['household_pairs_merged']:.1%} |"
        )
    return "\n".join(lines)


def stage_lines(runs: list[Run]) -> str:
    """Return one line of stage timings per approach."""
    return "\n".join(
        f"- {r.name}: " + ", ".join(f"{stage} {seconds:.1f} s" for stage, seconds in r.stages.items())
        for r in runs
    )


def bench(drop: Path, work: Path, skip_vanilla: bool) -> dict:
    """Run every approach on the drop; print the tables and return the figures."""
    from identity.evaluate import evaluate

    truth_path = drop / "truth.csv"
    if not truth_path.is_file():
        raise SystemExit(f"{truth_path} not found: the benchmark needs a drop with ground truth "
                         "(one written by `herken generate`)")
    truth = pd.read_csv(truth_path, dtype=str)
    kinds = [k for k in RUNS if not (skip_vanilla and k == "vanilla")]
    runs: list[Run] = []
    for kind in kinds:
        run = measure(kind, drop, work / kind)
        run.accuracy = evaluate(links_of(run, work / kind), truth).as_dict()
        runs.append(run)

    by_name = {r.name: r for r in runs}
    ratio = by_name["herken"].seconds / by_name["vanilla"].seconds if "vanilla" in by_name else None
    print()
    print(markdown(runs))
    print()
    if ratio is not None:
        print(f"herken time / vanilla Splink time: {ratio:.2f} "
              f"(process: {by_name['herken'].process_seconds / by_name['vanilla'].process_seconds:.2f})")
    print("\nstage timings (seconds inside the child):")
    print(stage_lines(runs))
    busy = [f"{r.name} {r.other_cpu:.1f}" for r in runs if r.other_cpu and r.other_cpu > 0.2]
    if busy:
        print(f"\nnote: other processes kept cores busy during the runs ({', '.join(busy)} of "
              f"{os.cpu_count()} cores on average); those times are inflated")
    return {
        "drop": str(drop),
        "records": by_name["herken"].records,
        "herken_over_vanilla_time": round(ratio, 3) if ratio is not None else None,
        "runs": {r.name: {"label": r.label, "records": r.records, "seconds": r.seconds,
                          "process_seconds": r.process_seconds, "records_per_s": round(r.records_per_s, 1),
                          "peak_rss_mb": r.peak_rss_mb, "stages": r.stages, "other_cpu_cores": r.other_cpu,
                          "accuracy": r.accuracy}
                 for r in runs},
    }


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments and run the benchmark (or, with --child, one approach)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=30_000, help="households to generate (default 30000)")
    parser.add_argument("--seed", type=int, default=7, help="generator seed (default 7)")
    parser.add_argument("--noise", choices=("v1", "v2"),
                        help="generator noise version, as `herken generate --noise` (default v2)")
    parser.add_argument("--drop", type=Path, help="use this existing drop instead of generating one")
    parser.add_argument("--out", type=Path, help="also write the figures as JSON here")
    parser.add_argument("--skip-vanilla", action="store_true", help="leave out vanilla Splink")
    parser.add_argument("--keep", type=Path, help="keep drop, stores and logs in this directory")
    parser.add_argument("--child", choices=list(RUNS), help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        run_child(args.child, args.drop, args.work)
        return 0

    with tempfile.TemporaryDirectory(prefix="herken-bench-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        setup: dict = {}
        if args.drop:
            drop = args.drop.resolve()
            setup["source"] = "existing drop"
        else:
            from synth.config import SynthConfig
            from synth.writer import generate_drop

            drop = work / "drop"
            print(f"generating {args.households:,} households (seed {args.seed}) into {drop} ...",
                  file=sys.stderr, flush=True)
            clock = time.perf_counter()
            config = SynthConfig() if args.noise is None else SynthConfig(noise=args.noise)
            generate_drop(drop, households=args.households, seed=args.seed, config=config)
            setup.update(households=args.households, seed=args.seed, noise=config.noise,
                         generate_seconds=round(time.perf_counter() - clock, 1))
        print(f"drop: {drop}" + (f" ({args.households:,} households, seed {args.seed})" if not args.drop else ""))
        figures = {**setup, **bench(drop, work, args.skip_vanilla)}
    if args.out:
        args.out.write_text(json.dumps(figures, indent=2))
        print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
