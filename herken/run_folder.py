"""A run's folder (model.json, quarantine.csv) appears under its own name only once the run is published.

A run writes into ``RUNS/RUN_ID.partial`` and renames it to ``RUNS/RUN_ID`` after its publish has
committed, so a folder named after a run is always one whose result was published. A run killed
half-way leaves its ``.partial`` folder behind (with the quarantined rows of the drop, personal
data); the next run clears it away: a partial folder whose run is the store's published one (killed
between the commit and the rename) is finished, those of other runs that no longer run are removed.
Whether a run still runs is read from the ``owner`` file in its folder (process id and host).
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
from pathlib import Path

log = logging.getLogger(__name__)

PARTIAL = ".partial"
OWNER = "owner"


def partial_folder(runs_dir: Path, run_id: str) -> Path:
    """Make and return the folder a run writes into until it is published, marked with its owner."""
    folder = runs_dir / f"{run_id}{PARTIAL}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / OWNER).write_text(f"{os.getpid()} {socket.gethostname()}\n")
    return folder


def finish(folder: Path) -> Path:
    """Give a published run's partial folder its own name; return that."""
    final = folder.with_name(folder.name.removesuffix(PARTIAL))
    (folder / OWNER).unlink(missing_ok=True)
    folder.rename(final)
    return final


def _running(folder: Path) -> bool:
    """Return whether the run writing into folder may still be running (not known to have ended)."""
    try:
        pid, host = (folder / OWNER).read_text().split()
    except (OSError, ValueError):
        return False             # no owner: a folder left by a run killed as it made it
    if host != socket.gethostname():
        return True              # another machine's run: leave it to that machine
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError):
        return True
    return True


def clear_leftovers(runs_dir: Path, published_run: str | None) -> list[Path]:
    """Finish the published run's partial folder, remove those of runs that ended unpublished; return what was done."""
    done = []
    for folder in sorted(runs_dir.glob(f"*{PARTIAL}")) if runs_dir.is_dir() else []:
        if not folder.is_dir() or _running(folder):
            continue
        if folder.name.removesuffix(PARTIAL) == published_run:
            done.append(finish(folder))
            log.info("the folder of the published run %s is complete: %s", published_run, done[-1])
        else:
            shutil.rmtree(folder, ignore_errors=True)
            done.append(folder)
            log.warning("removed %s: its run ended before it was published", folder)
    return done
