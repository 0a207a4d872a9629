"""Running the `herken` command from a benchmark, as a user would, and printing what a benchmark measured."""
from __future__ import annotations

import csv
import json
import os
import random
import shutil
import subprocess
import sys
from collections.abc import Callable, Collection
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


def write_variant(drop: Path, out: Path, sources: Collection[str], share: float, rng: random.Random,
                  edit: Callable[[str, list[str]], Callable[[list[str]], None]]) -> dict[str, int]:
    """Write a copy of a drop to out in which a share of the rows of these channel files are edited (each row drawn on
    its own, in file order); every other file is copied as it is. ``edit(source, header)`` gives what is done to a
    drawn row (in place). Return how many rows of each edited file were drawn."""
    out.mkdir(parents=True, exist_ok=True)
    changed = {}
    for path in sorted(drop.iterdir()):
        if path.stem not in sources:
            if path.is_file():
                shutil.copy(path, out / path.name)
            continue
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        change = edit(path.stem, rows[0])
        changed[path.stem] = 0
        for row in rows[1:]:
            if rng.random() < share:
                change(row)
                changed[path.stem] += 1
        with (out / path.name).open("w", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerows(rows)
    return changed
