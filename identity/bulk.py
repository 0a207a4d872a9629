"""Helpers for bulk work over a whole drop in plain Python."""

from __future__ import annotations

import ctypes
import gc
import os
import signal
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector for a block that builds many objects but no cycles.

    Reading or standardising a drop allocates millions of lists, tuples and dicts; every few
    thousand allocations the collector walks all live containers, which for a 100k-record drop
    costs more than the work itself. Reference counting still frees everything as usual.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


_PR_SET_PDEATHSIG = 1     # linux/prctl.h


def die_with_parent(parent: int) -> None:
    """Make this forked worker end with SIGKILL when its parent process (pid parent) ends; Linux only.

    A worker forked by a run inherits the run's open files and sockets, among them the store's
    database connection. Had it outlived a run killed with SIGKILL, it would keep that connection
    open, and with it the run's unfinished transaction and its locks (PostgreSQL ends a session
    only when its socket closes), so the next run would wait for ever; and it would itself wait for
    work for ever. Call it first thing in the worker (a ProcessPoolExecutor's initializer), in a
    worker forked by the main thread: the signal comes when the thread that forked it ends.
    """
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        return
    if os.getppid() != parent:      # the parent ended before the line above
        os._exit(1)


def frame_of(columns: Mapping[str, list], names: Sequence[str]) -> pd.DataFrame:
    """Return a frame of Python lists, typed as pandas would type them, with string columns built faster.

    pandas turns a list of strings into Arrow strings value by value; pyarrow reads the list in
    one pass. A column of nothing but missing values is a string column too, so that frames built
    in chunks have the same types; other columns that are not all strings are left to pandas.
    """
    dtype = pd.Series(["x"]).dtype   # how this pandas stores a column of strings
    data: dict[str, object] = {}
    for name in names:
        values = columns[name]
        data[name] = values
        if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow" and len(values):
            try:
                array = pa.array(values)
            except (pa.ArrowException, UnicodeError, TypeError, ValueError):
                continue
            if pa.types.is_string(array.type) or pa.types.is_large_string(array.type) or pa.types.is_null(array.type):
                data[name] = pd.array(array.cast(pa.large_string()), dtype=dtype)
    return pd.DataFrame(data, columns=list(names))


def emptied(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a frame of no rows with this frame's columns and types, sharing none of its memory (a slice of
    it, even of no rows, keeps its Arrow buffers and arrays alive)."""
    return pd.DataFrame({name: pd.Series([], dtype=dtype) for name, dtype in frame.dtypes.items()},
                        columns=frame.columns)


def give_back_memory() -> None:
    """Collect garbage and hand what is free back to the system.

    Arrow's allocator and glibc's heap keep freed memory for reuse; a process that has just let go
    of gigabytes and starts workers beside it would otherwise still be counted for them.
    """
    gc.collect()
    pa.default_memory_pool().release_unused()
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):    # not glibc: nothing to trim
            pass


def isin(column: pd.Series, values: object) -> pd.Series:
    """Return column.isin(values) as a boolean Series, computed in Arrow for a column of Arrow strings.

    pandas' own isin on Arrow strings turns the values into a Python list of scalars first, which for
    a set of a hundred thousand IDs costs more than the test; Arrow's is_in hashes them in C.
    """
    array = column.array
    if isinstance(column.dtype, pd.StringDtype) and column.dtype.storage == "pyarrow" and hasattr(array, "_pa_array"):
        wanted = list(values) if not isinstance(values, (list, pa.Array)) else values
        try:
            found = pc.is_in(array._pa_array, value_set=pa.array(wanted, type=pa.large_string()))
        except (pa.ArrowException, TypeError, ValueError):
            return column.isin(values)
        return pd.Series(found.to_numpy(zero_copy_only=False).astype(bool, copy=False), index=column.index,
                         name=column.name)
    return column.isin(values)
