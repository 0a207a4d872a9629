"""A second full run of a drop keeps its refusals: the pairs a rule refuses that the published run kept apart too."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from herken.cli import main
from profile_api.store import open_store


def _refused(url: str) -> set[tuple[str, str]]:
    with open_store(url).connect() as conn:
        return {(a, b) for a, b in conn.execute(text(
            "SELECT unique_id_l, unique_id_r FROM match_edge WHERE kind = 'refused' AND run_id = "
            "(SELECT max(run_id) FROM run)"))}


def test_the_second_full_run_of_a_drop_refuses_what_the_first_did(small_drop, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("HERKEN_RUNS_DIR", str(tmp_path / "runs"))
    url = f"sqlite:///{tmp_path / 'store.db'}"
    assert main(["resolve", str(small_drop), "--store", url]) == 0
    first = _refused(url)
    assert first
    assert main(["resolve", str(small_drop), "--store", url]) == 0
    second = _refused(url)
    assert len(second) >= len(first) // 2 and second & first    # was none: the published persons kept them apart unasked
