"""Day 2 of a store, in full and incrementally: how much faster is the delta, and is it as good?

    python bench/incremental.py --households 30000 --rounds 3 [--work DIR]

Generates a day-1 drop (30,000 households: about 100k records) and its day 2 (``herken generate-day2``:
2% new records, 1% changed, 0.5% deleted, 0.3% of households moving house), resolves day 1 once, then
per round, each from a copy of the day-1 store: ``herken resolve DAY2-FULL`` and ``herken resolve
DAY2-DELTA --incremental``, timed whole (process start to exit, as a user waits for it), alternately
so that both see the same machine. Prints the median wall seconds of each, the median of the paired
ratios full / incremental (target >= 5), and person F1 of each against day 2's truth.csv (target:
within 0.005).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pandas as pd  # noqa: E402

from bench.runner import day_drops, herken  # noqa: E402
from identity.evaluate import evaluate  # noqa: E402
from profile_api.store import open_store, read_links  # noqa: E402


def _timed(*args: str, work: Path) -> float:
    started = time.perf_counter()
    herken(*args, work=work)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=30000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--noise", choices=("v1", "v2"), default="v2")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--work", help="work folder (default: a new temporary folder); drops there are reused")
    args = parser.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="herken-incremental-"))
    work.mkdir(parents=True, exist_ok=True)
    day1, full, delta = day_drops(work, args.households, args.seed, args.noise)
    base = work / "day1.db"
    if not base.is_file():
        herken("resolve", str(day1), "--store", f"sqlite:///{base}", work=work)
    truth = pd.read_csv(full / "truth.csv", dtype=str)
    seconds: dict[str, list[float]] = {"full": [], "incremental": []}
    f1: dict[str, float] = {}
    for _ in range(args.rounds):
        for mode, drop, extra in (("full", full, ()), ("incremental", delta, ("--incremental",))):
            store = work / f"{mode}.db"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{store}{suffix}").unlink(missing_ok=True)
            shutil.copy(base, store)
            seconds[mode].append(_timed("resolve", str(drop), *extra, "--store", f"sqlite:///{store}", work=work))
            engine = open_store(f"sqlite:///{store}")
            f1[mode] = evaluate(read_links(engine), truth).person.f1
            engine.dispose()
    ratios = [f / i for f, i in zip(seconds["full"], seconds["incremental"])]
    print(json.dumps({
        "households": args.households, "rounds": args.rounds,
        "full_seconds_median": round(statistics.median(seconds["full"]), 2),
        "incremental_seconds_median": round(statistics.median(seconds["incremental"]), 2),
        "ratio_median": round(statistics.median(ratios), 2), "ratios": [round(r, 2) for r in ratios],
        "full_seconds": [round(s, 2) for s in seconds["full"]],
        "incremental_seconds": [round(s, 2) for s in seconds["incremental"]],
        "person_f1_full": f1["full"], "person_f1_incremental": f1["incremental"],
        "f1_difference": round(f1["full"] - f1["incremental"], 4),
    }, indent=2))


if __name__ == "__main__":
    main()
