"""Drops at the edge of what can be trained on: no records, one, two exact duplicates, a few."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from herken.cli import main
from profile_api.store import latest_run, open_store, read_links

HEADER = ("record_id,first_name,last_name,birth_date,email,phone,street,house_number,postcode,city,"
          "loyalty_card,updated_at").split(",")
JAN = ["Jan", "Jansen", "1980-01-01", "jan@example.nl", "0612345678", "Dorpsstraat", "1", "1234AB", "Ede", "",
       "2024-01-01"]
PIET = ["Piet", "Pietersen", "1970-02-02", "piet@example.nl", "", "Kerkstraat", "2", "2345BC", "Baarn", "",
        "2024-01-01"]


def _drop(path: Path, rows: list[list[str]]) -> Path:
    path.mkdir(parents=True)
    with open(path / "pos.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows([[f"r{i}", *row] for i, row in enumerate(rows)])
    return path


@pytest.mark.parametrize("rows", [[], [JAN]], ids=["no records", "one record"])
def test_a_drop_too_small_to_train_on_says_so_and_publishes_nothing(tmp_path: Path, monkeypatch, capsys, rows) -> None:
    monkeypatch.setenv("HERKEN_RUNS_DIR", str(tmp_path / "runs"))
    url = f"sqlite:///{tmp_path / 'store.db'}"
    assert main(["resolve", str(_drop(tmp_path / "drop", rows)), "--store", url]) == 2
    err = capsys.readouterr().err
    if rows:
        assert f"the drop holds {len(rows)} record(s) to resolve" in err and "--model" in err
    else:       # a model would not help: nothing would be published but no one
        assert "no record of the drop was accepted (0 row(s) quarantined); nothing was published" in err
    assert "Traceback" not in err
    assert latest_run(open_store(url, migrate=True)) is None


def test_two_exact_duplicates_two_strangers_and_both_resolve(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HERKEN_RUNS_DIR", str(tmp_path / "runs"))
    for name, rows, persons in (("two", [JAN, JAN], 1), ("three", [JAN, JAN, PIET], 2), ("strangers", [JAN, PIET], 2)):
        url = f"sqlite:///{tmp_path / name}.db"
        assert main(["resolve", str(_drop(tmp_path / name, rows)), "--store", url]) == 0
        links = read_links(open_store(url))
        assert len(links) == len(rows) and links["customer_id"].nunique() == persons
