"""How far a long job has got: the steps library code reports, for whoever shows them.

Library code prints nothing (tests, benchmarks and the server run it too): a long job reports its
steps to the :class:`Progress` it is given, and the command line draws them as bars.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


class Progress:
    """Hears of a job's steps and how far each has got; this base class ignores them.

    A step has a size in units (records, pairs, bytes) when it is known beforehand, or none (a
    Splink query). Report per chunk of work, not per row: a step over 100,000 records advances
    a few dozen times, so that reporting costs nothing measurable.
    """

    def step(self, name: str, total: int | None = None, unit: str = "") -> None:
        """Begin a step, which ends the one before; ``total`` is its size in ``unit``, None if unknown."""

    def advance(self, n: int = 1) -> None:
        """Count ``n`` more units of the current step as done."""

    def close(self) -> None:
        """End the current step (the job's last one; ``step`` ends the others)."""


NO_PROGRESS = Progress()


def counted(items: Iterable[T], progress: Progress, every: int = 1000) -> Iterator[T]:
    """Yield the items, telling progress of each ``every`` of them as done (and of the rest at the end)."""
    done = 0
    for done, item in enumerate(items, 1):
        yield item
        if done % every == 0:
            progress.advance(every)
    if done % every:
        progress.advance(done % every)
