"""Test-only: `herken resolve` pauses at a named point of its run, so that a test can kill it there.

With ``HERKEN_PAUSE_AT=POINT`` (the setting ``pause_at``) a run that reaches POINT writes
``herken: paused at POINT`` to stderr and sleeps ``HERKEN_PAUSE_SECONDS`` (default 600) before it goes
on: time enough to SIGKILL it at a known moment (``tests/integration/test_kill_resolve.py``,
``bench/kill_resolve.py``). Without the setting nothing changes. The points are read off the steps
the run reports (``identity.progress``), so the pipeline and the publish carry no test code:

- ``linking``: the drop is read and standardised, Splink is about to train (or load) the model;
  nothing is in the store or the runs folder but the quarantine file.
- ``run-folder``: the run's folder holds its model and quarantine file; the pairs are about to be
  scored; nothing is published.
- ``publishing``: inside the publish's transaction, after the first table's rows were written.
- ``committing``: inside the transaction, every row written (the profiles last), just before the commit.
- ``writing``: a full run has read the published IDs and built its profiles, and is about to open the publish's
  transaction; nothing is written.
- ``delta-scoring``: an incremental run has read the published state and its delta, and is about to score it;
  nothing is written.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from identity.progress import Progress

POINTS = ("linking", "run-folder", "publishing", "committing")    # a full run's, where a kill is tested
MORE_POINTS = ("writing", "delta-scoring")    # where a test does something beside a paused run

# Where each point is: the step's name starts with this; None: at its start, "first": at its first
# advance, "last": at the advance that completes it.
_WHERE: dict[str, tuple[tuple[str, ...], str | None]] = {
    "linking": (("training the model", "loading the model"), None),
    "run-folder": (("scoring candidate pairs",), None),
    "publishing": (("writing to the store",), "first"),
    "committing": (("writing to the store",), "last"),
    "writing": (("writing to the store",), None),
    "delta-scoring": (("scoring the delta",), None),
}


class PausingProgress(Progress):
    """Passes every report on to progress, and pauses when the run reaches one of the points."""

    def __init__(self, progress: Progress, points: set[str], seconds: float, stream: TextIO | None = None) -> None:
        unknown = points - set(POINTS + MORE_POINTS)
        if unknown:
            raise ValueError(f"HERKEN_PAUSE_AT: {', '.join(sorted(unknown))} is not a point; "
                             f"use {', '.join(POINTS + MORE_POINTS)}")
        self._progress, self._points, self._seconds = progress, points, seconds
        self._stream = stream or sys.stderr
        self._step, self._total, self._done, self._advances = "", None, 0, 0

    def __getattr__(self, name: str) -> object:     # the CLI's bars have more (stop)
        return getattr(self._progress, name)

    def step(self, name: str, total: int | None = None, unit: str = "") -> None:
        self._progress.step(name, total, unit)
        self._step, self._total, self._done, self._advances = name, total, 0, 0
        self._reached(None)

    def advance(self, n: int = 1) -> None:
        self._progress.advance(n)
        self._done += n
        self._advances += 1
        if self._advances == 1:
            self._reached("first")
        if self._total is not None and self._done >= self._total:
            self._reached("last")

    def close(self) -> None:
        self._progress.close()

    def _reached(self, moment: str | None) -> None:
        for point in self._points:
            starts, at = _WHERE[point]
            if at == moment and self._step.startswith(starts):
                print(f"herken: paused at {point} (HERKEN_PAUSE_AT) for {self._seconds:g} s", file=self._stream,
                      flush=True)
                time.sleep(self._seconds)


def pausing(progress: Progress, pause_at: str, seconds: float) -> Progress:
    """Return progress, made to pause at the comma-separated points of pause_at (itself when there are none)."""
    points = {p.strip() for p in pause_at.split(",") if p.strip()}
    return PausingProgress(progress, points, seconds) if points else progress
