"""Running the `herken` command from a benchmark, as a user would."""
from __future__ import annotations

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
