"""How much memory a run may use: sizes as people write them, and the share each part of a run gets.

A run is Python (the drop's frames, clustering, encoding) around a SQL engine (DuckDB: Splink's
tables, the household and profile queries). The engine is the part that can spill: bounded, DuckDB
writes what does not fit to its temporary directory instead of failing or taking the machine. The
Python side cannot spill, so the engine gets a share of the cap and the rest is left for Python.
"""

from __future__ import annotations

import os
import re

_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2, "g": 1000**3, "gb": 1000**3,
          "t": 1000**4, "tb": 1000**4, "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4}

# The engine's share of a run's cap. Measured at a million records (1M, seed 11): the Python side
# (the drop's frames, scored pairs, clustering) holds about 4 GB while Splink predicts; with DuckDB
# at 4.8 GB the run peaked at 8.4 GB. At 40% of the default cap (3.2 GB on a 24 GB machine) the two
# together stay under 8 GB; DuckDB spills the rest.
ENGINE_SHARE = 0.4
ENGINE_FLOOR = 256 * 1000**2     # DuckDB needs some room for any query at all
# Without --memory-limit a run may use a third of the machine (DuckDB alone would take 80% of it).
DEFAULT_SHARE_OF_MACHINE = 1 / 3


class MemorySizeError(ValueError):
    """A memory size that cannot be read."""


def parse_size(text: str) -> int:
    """Return the bytes of a size written as "2GB", "500 MB", "1.5GiB" or a plain byte count."""
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*", text or "")
    unit = match.group(2).lower() if match else ""
    if not match or unit not in _UNITS:
        raise MemorySizeError(f"'{text}' is not a memory size; write it like 2GB, 500MB or 1.5GiB")
    size = int(float(match.group(1)) * _UNITS[unit])
    if size <= 0:
        raise MemorySizeError(f"'{text}' is not a memory size above zero; write it like 2GB")
    return size


def machine_memory() -> int:
    """Return the machine's physical memory in bytes (or its cgroup's limit when lower)."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    try:
        with open("/sys/fs/cgroup/memory.max") as f:
            value = f.read().strip()
        if value.isdigit():
            total = min(total, int(value))
    except OSError:
        pass
    return total


def run_cap(limit: str | None) -> int:
    """Return the bytes a run may use: the given limit, or a share of the machine without one."""
    return parse_size(limit) if limit else int(machine_memory() * DEFAULT_SHARE_OF_MACHINE)


def engine_limit(cap: int) -> str:
    """Return the engine's memory limit for a run capped at ``cap`` bytes, as DuckDB takes it."""
    return f"{max(int(cap * ENGINE_SHARE), ENGINE_FLOOR) // 1000**2}MB"
