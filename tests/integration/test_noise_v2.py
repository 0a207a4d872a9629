"""A drop of the default generator (--noise v2) resolves end to end, its noisiest records included.

The other integration tests run on the v1 drop (tests/conftest.py), the data they were written for;
this one holds the resolver to the same floors on v2 data.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from herken.cli import main

CONTACT = ["birth_date", "email", "phone", "street", "house_number", "postcode", "loyalty_card"]


def test_a_v2_drop_resolves_with_every_record_linked(tmp_path: Path, monkeypatch, capsys) -> None:
    drop, url = tmp_path / "drop", f"sqlite:///{tmp_path / 'herken.db'}"
    monkeypatch.setenv("HERKEN_RUNS_DIR", str(tmp_path / "runs"))
    assert main(["generate", str(drop), "--households", "200", "--seed", "11", "--noise", "v2"]) == 0
    assert main(["resolve", str(drop), "--store", url]) == 0
    assert main(["links", "--store", url, "--out", str(tmp_path / "links.csv")]) == 0
    linked = pd.read_csv(tmp_path / "links.csv", dtype=str)
    truth = pd.read_csv(drop / "truth.csv", dtype=str)
    assert len(linked) == len(truth) and linked["customer_id"].notna().all()

    # The records with only a name and a city are read and linked like any other.
    sparse = pd.concat([pd.read_csv(drop / f"{c}.csv", dtype=str, keep_default_na=False).assign(source=c)
                        for c in ("pos", "service")])
    sparse = sparse[(sparse[CONTACT] == "").all(axis=1) & (sparse["city"] != "")]
    assert len(sparse) >= 5
    assert set(zip(sparse["source"], sparse["record_id"])) <= set(zip(linked["source"], linked["record_id"]))

    capsys.readouterr()
    assert main(["evaluate", str(drop / "truth.csv"), "--store", url, "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert scores["person"]["f1"] > 0.85 and scores["household_pairs_merged"] < 0.05
    assert scores["person"]["precision"] > 0.97   # noisier names must not make the resolver merge more
