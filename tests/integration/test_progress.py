"""Progress of `resolve`, publishing and `generate`: the steps and counts the library reports, and what a user sees."""

from __future__ import annotations

import datetime as dt
import os
import pty
import subprocess
import sys
from pathlib import Path

import pandas as pd

import identity.pipeline as pipeline
from herken.cli import main
from herken.publish import publish_resolution
from identity.ingest import read_drop
from identity.pipeline import ResolveOptions, resolve
from identity.progress import Progress
from profile_api.store import open_store

BAR_CHARACTERS = ("\r", "%|", "█", "▏", "it/s", "[00:")


class Recorder(Progress):
    """Keeps every step with its total, unit and the advances it received."""

    def __init__(self) -> None:
        self.steps: list[dict] = []
        self.closed = 0

    def step(self, name: str, total: int | None = None, unit: str = "") -> None:
        self.steps.append({"name": name, "total": total, "unit": unit, "advances": []})

    def advance(self, n: int = 1) -> None:
        self.steps[-1]["advances"].append(n)

    def close(self) -> None:
        self.closed += 1

    def named(self, start: str) -> dict:
        return next(step for step in self.steps if step["name"].startswith(start))


def test_resolve_and_publish_report_their_steps_with_counts(small_drop, tmp_path):
    progress = Recorder()
    resolution = resolve(small_drop, ResolveOptions(run_dir=tmp_path / "run"), progress)
    records, pairs = len(resolution.records), len(resolution.pairs)
    assert [step["name"] for step in progress.steps] == [
        "reading the drop", f"standardising {records:,} records", "training the model", "scoring candidate pairs",
        f"clustering {pairs:,} pairs into persons", "grouping persons into households",
    ]
    reading = progress.named("reading")
    assert reading["unit"] == "B" and sum(reading["advances"]) == reading["total"] == sum(
        path.stat().st_size for path in small_drop.iterdir())
    assert len(reading["advances"]) == len(list(small_drop.iterdir()))   # one per file
    standardising = progress.named("standardising")
    assert standardising["total"] == sum(standardising["advances"]) == records
    assert progress.named("training")["total"] is None
    assert progress.named("scoring")["advances"] == [pairs]
    clustering = progress.named("clustering")
    assert clustering["total"] == sum(clustering["advances"]) == pairs
    assert progress.named("grouping")["advances"] == [resolution.persons]
    assert progress.closed == 1

    progress = Recorder()
    publish_resolution(open_store(f"sqlite:///{tmp_path / 'herken.db'}"), resolution, "run-1",
                       dt.datetime.now(dt.timezone.utc), str(small_drop), progress)
    assert [step["name"] for step in progress.steps] == [
        f"building the profiles of {resolution.persons:,} persons", "writing to the store"]
    writing = progress.named("writing")
    assert writing["unit"] == "rows" and writing["total"] == sum(writing["advances"])
    assert len(writing["advances"]) == 10   # one per table, the profiles last
    assert writing["advances"][-1] == resolution.persons and writing["advances"][0] == records
    assert progress.closed == 1


def test_the_forked_standardisation_counts_chunk_by_chunk_and_keeps_the_order(small_drop, monkeypatch):
    drop = read_drop(small_drop)
    serial = pipeline.standardise_drop(drop, workers=1)
    monkeypatch.setattr(pipeline, "PARALLEL_MIN_RECORDS", 10)
    monkeypatch.setattr(pipeline, "STANDARDISE_CHUNK", 50)
    progress = Recorder()
    forked = pipeline.standardise_drop(drop, workers=2, progress=progress)
    pd.testing.assert_frame_equal(forked, serial)
    advances = progress.steps[0]["advances"]
    assert sum(advances) == len(drop.records) and len(advances) == -(-len(drop.records) // 50)


def test_the_cli_prints_one_line_per_step_and_no_bar_when_stderr_is_not_a_terminal(small_drop, tmp_path, monkeypatch,
                                                                                     capsys):
    monkeypatch.setenv("HERKEN_RUNS_DIR", str(tmp_path / "runs"))
    assert main(["resolve", str(small_drop), "--store", f"sqlite:///{tmp_path / 'herken.db'}"]) == 0
    err = capsys.readouterr().err
    assert not [c for c in BAR_CHARACTERS if c in err], err
    lines = err.splitlines()
    records = len(pd.read_csv(small_drop / "truth.csv"))
    assert [line.split("] ", 1)[1] for line in lines][:3] == [
        "reading the drop", f"standardising {records:,} records", "training the model"]
    assert lines[-1].endswith("] done") and all(line.startswith("[") for line in lines)

    assert main(["generate", str(tmp_path / "drop"), "--households", "30"]) == 0
    err = capsys.readouterr().err
    assert not [c for c in BAR_CHARACTERS if c in err], err
    assert "building 30 households" in err


def test_on_a_terminal_generate_draws_bars_with_counts(tmp_path):
    leader, follower = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "herken.cli", "generate", str(tmp_path / "drop"),
                                "--households", "40"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=follower)
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:   # the terminal's other end closed (Linux)
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert process.wait(timeout=60) == 0 and b"wrote" in process.stdout.read()
    screen = shown.decode("utf-8")
    assert "building 40 households: 100%|" in screen and "40/40" in screen
    assert "interactions of" in screen and "writing" in screen
