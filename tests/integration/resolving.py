"""Resolving a drop into a store through the command line, as the integration tests' fixtures do."""

from __future__ import annotations

from pathlib import Path

import pytest

from herken.cli import main


def resolve_drop(drop: Path, url: str, runs: Path, *options: str) -> None:
    """Run `herken resolve DROP --store URL [options]` with its runs under runs; fail the test when it fails."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HERKEN_RUNS_DIR", str(runs))
        assert main(["resolve", str(drop), "--store", url, *options]) == 0
