"""synth.holdout: a drop with records held out, for resolving them one at a time afterwards."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from synth.holdout import hold_out
from synth.writer import generate_drop


def _keys(drop: Path, name: str) -> set[tuple[str, str]]:
    if name in ("pos", "webshop", "app", "service"):
        with (drop / f"{name}.csv").open() as f:
            return {(name, row["record_id"]) for row in csv.DictReader(f)}
    with (drop / f"{name}.csv").open() as f:
        return {(row["source"], row["record_id"]) for row in csv.DictReader(f)}


@pytest.fixture(scope="module")
def drop(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("drop")
    generate_drop(path, households=30, seed=4)
    return path


def test_held_out_records_leave_the_drop_with_their_rows_and_known_persons_keep_others(drop, tmp_path):
    held = hold_out(drop, tmp_path / "out", known=5, unknown=3, seed=1)
    assert [h.known for h in held] == [True] * 5 + [False] * 3
    records = set().union(*(_keys(tmp_path / "out", c) for c in ("pos", "webshop", "app", "service")))
    truth = {}
    with (tmp_path / "out" / "truth.csv").open() as f:
        for row in csv.DictReader(f):
            truth[(row["source"], row["record_id"])] = row["person_id"]
    assert set(truth) == records
    assert _keys(tmp_path / "out", "interactions") <= records
    for h in held:
        assert (h.source, h.row["record_id"]) not in records
        assert (h.person_id in truth.values()) == h.known
    assert held == hold_out(drop, tmp_path / "again", known=5, unknown=3, seed=1)


def test_asking_for_more_than_the_drop_holds_is_refused(drop, tmp_path):
    with pytest.raises(ValueError, match="too few persons"):
        hold_out(drop, tmp_path / "out", known=10_000, unknown=1)
