"""The baselines run on a real (small) generated drop and keep their defining promises."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))   # the baselines are the benchmarks' own
from baselines import deterministic_graph, vanilla_splink  # noqa: E402
from identity.engine import make_engine
from identity.ingest import read_drop
from identity.pipeline import standardise_drop
from synth.writer import generate_drop


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """Return the standardised records of a 150-household drop."""
    drop = tmp_path_factory.mktemp("drop")
    generate_drop(Path(drop), households=150, seed=11)
    return standardise_drop(read_drop(Path(drop)))


@pytest.fixture(scope="module")
def deterministic(records: pd.DataFrame) -> pd.DataFrame:
    """Return the deterministic graph's links."""
    return deterministic_graph(records)


@pytest.fixture(scope="module")
def vanilla(records: pd.DataFrame) -> pd.DataFrame:
    """Return vanilla Splink's links."""
    return vanilla_splink(make_engine("duckdb"), records)


@pytest.mark.parametrize("baseline", ["deterministic", "vanilla"])
def test_one_link_per_record_with_ids(baseline: str, records: pd.DataFrame, request: pytest.FixtureRequest) -> None:
    links: pd.DataFrame = request.getfixturevalue(baseline)
    assert len(links) == len(records)
    assert set(links["unique_id"]) == set(records["unique_id"])
    for column in ("customer_id", "household_id"):
        assert links[column].notna().all()
        assert (links[column].str.len() > 1).all()


@pytest.mark.parametrize("baseline", ["deterministic", "vanilla"])
def test_each_person_lies_in_one_household(baseline: str, request: pytest.FixtureRequest) -> None:
    links: pd.DataFrame = request.getfixturevalue(baseline)
    assert (links.groupby("customer_id")["household_id"].nunique() == 1).all()


def test_deterministic_graph_merges_records_sharing_an_email(records: pd.DataFrame, deterministic: pd.DataFrame) -> None:
    person = dict(zip(deterministic["unique_id"], deterministic["customer_id"]))
    shared = records.dropna(subset=["email"]).groupby("email")["unique_id"].agg(list)
    shared = shared[shared.map(len) > 1]
    assert len(shared) > 0, "the drop should contain shared e-mail addresses"
    for email, ids in shared.items():
        assert len({person[i] for i in ids}) == 1, f"records sharing {email} were not merged"


def test_baselines_find_fewer_persons_than_records(deterministic: pd.DataFrame, vanilla: pd.DataFrame) -> None:
    for links in (deterministic, vanilla):
        assert links["customer_id"].nunique() < len(links)
        assert links["household_id"].nunique() <= links["customer_id"].nunique()
