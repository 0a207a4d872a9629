"""Running the `herken` command from a benchmark, as a user would, and printing what a benchmark measured."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def herken(*args: str, work: Path) -> None:
    """Run a herken command with its runs under ``work``; stop the benchmark when it fails."""
    env = {**os.environ, "HERKEN_RUNS_DIR": str(work / "runs")}
    print("$ herken " + " ".join(args), file=sys.stderr, flush=True)
    with open(work / "setup.log", "ab") as log:
        status = subprocess.run([sys.executable, "-m", "herken.cli", *args], env=env, stdout=log,
                                stderr=subprocess.STDOUT).returncode
    if status != 0:
        raise SystemExit(f"`herken {' '.join(args)}` failed (exit {status}); see {work / 'setup.log'}")


def day_drops(work: Path, households: int, seed: int, noise: str) -> tuple[Path, Path, Path]:
    """Return a generated day-1 drop and its day 2 (full and delta) under work, made once and reused."""
    day1, full, delta = work / "day1", work / "day2-full", work / "day2-delta"
    if not (day1 / "truth.csv").is_file():
        herken("generate", str(day1), "--households", str(households), "--seed", str(seed), "--noise", noise,
               work=work)
    if not (delta / "deletions.csv").is_file():
        herken("generate-day2", str(day1), "--full", str(full), "--delta", str(delta), "--seed", str(seed + 1),
               work=work)
    return day1, full, delta


def print_figures(figures: dict, out: Path | None) -> None:
    """Print a benchmark's figures as JSON, and write them to out as well when given."""
    text = json.dumps(figures, indent=2)
    print(text)
    if out:
        out.write_text(text + "\n")
