"""Stage timings of a run: one lap per step, in seconds."""

from __future__ import annotations

import logging
import time

log = logging.getLogger(__name__)


class Laps:
    """Times consecutive steps; ``laps[name]`` is the seconds the step took."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._clock = time.perf_counter()

    def __call__(self, name: str) -> None:
        """Close the current step under a name and start the next one."""
        now = time.perf_counter()
        self.laps[name] = round(now - self._clock, 3)
        self._clock = now
        log.info("%s took %.1f s", name, self.laps[name])
