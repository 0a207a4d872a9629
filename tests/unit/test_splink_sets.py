"""bench/splink_sets.py maps Splink's public example sets onto the drop contract without losing a row."""

import csv
import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))   # the bench scripts import their neighbours

from identity.ingest import read_drop  # noqa: E402
from splink_sets import load, write_drop  # noqa: E402


def test_each_set_becomes_a_drop_whose_truth_is_the_sets_clusters(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    pd.DataFrame({"unique_id": ["0", "1", "2"], "first_name": ["Robert", "Rob", None], "surname": ["Allen", "Allen", "Kelly"],
                  "dob": ["1971-06-24", "1971-05-24", "1991-04-26"], "city": ["London", None, "Hull"],
                  "email": ["robert255@smith.net", None, "grace.kelly52@jones.com"], "group": ["0", "0", "1"]}
                 ).to_csv(data / "fake_20000.csv", index=False)
    pd.DataFrame({"unique_id": ["Q1-1", "Q1-2", "Q2-1"], "cluster": ["Q1", "Q1", "Q2"],
                  "first_name": ["thomas", "sir", "mary"], "surname": ["chudleigh", "chudleigh", None],
                  "dob": ["1630-08-01", "1630-81-01", None], "birth_place": ["devon", "devon", "york"],
                  "postcode_fake": ["tq13 8df", None, "yo1 7hh"], "gender": ["male", None, "female"]}
                 ).to_parquet(data / "historical_figures_with_errors_50k.parquet")
    for name, accepted in (("fake_20000", 3), ("historical_50k", 3)):
        frame = load(name, data)
        drop = tmp_path / name
        write_drop(name, frame, drop)
        read = read_drop(drop)
        assert len(read.records) == accepted and read.quarantine == []
        with open(drop / "truth.csv", newline="", encoding="utf-8") as fh:
            truth = {row["record_id"]: row["person_id"] for row in csv.DictReader(fh)}
        assert truth == {u: f"P{c}" for u, c in zip(frame["unique_id"], frame["cluster"])}
    assert "not a calendar date" in read.set_aside[0].reason       # historical_50k's 1630-81-01: the record kept
    by_id = read.records.set_index("record_id")
    assert by_id.loc["Q1-1", "postcode"] == "tq13 8df" and by_id.loc["Q1-1", "city"] == "devon"


def test_a_set_only_in_splinks_demos_needs_its_folder(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="splink_demos"):
        load("fake_20000", None)
    with pytest.raises(SystemExit, match="fake_1000.csv"):
        load("fake_1000", tmp_path)
