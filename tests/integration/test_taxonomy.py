"""A drop whose retailer names its own categories: a real Splink run, a real SQLite store, through the CLI."""

from __future__ import annotations

import contextlib
import io
import shutil
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text

from herken.cli import main
from profile_api._generated.herken.v1 import profile_service_pb2 as pb
from tests.integration.resolving import settled_digest
from profile_api.store.write import rebuild_profiles
from profile_api.profiles import ProfileStore
from profile_api.store import open_store, read_links

SIZES = ("clothing_size", "shoe_size", "pets")


@pytest.fixture(scope="module")
def renamed(tmp_path_factory) -> tuple[Path, str, str, Path]:
    """Return (drop, store URL, resolve output, work dir) of a renamed drop whose categories.csv lacks garden."""
    tmp = tmp_path_factory.mktemp("taxonomy")
    drop = tmp / "drop"
    assert main(["generate", str(drop), "--households", "150", "--seed", "4", "--taxonomy", "renamed"]) == 0
    rows = (drop / "categories.csv").read_text(encoding="utf-8").splitlines()
    assert "garden,other," in rows and "pet_food/bird,pet_food,bird" in rows
    (drop / "categories.csv").write_text("\n".join(r for r in rows if r != "garden,other,") + "\n", encoding="utf-8")
    url = f"sqlite:///{tmp / 'herken.db'}"
    mp = pytest.MonkeyPatch()
    mp.setenv("HERKEN_RUNS_DIR", str(tmp / "runs"))
    try:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main(["resolve", str(drop), "--store", url]) == 0
    finally:
        mp.undo()
    return drop, url, out.getvalue(), tmp


def attributes_by_customer(url: str) -> dict[str, dict[str, str]]:
    engine = open_store(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT customer_id, encoded FROM profile ORDER BY customer_id")).all()
    engine.dispose()
    return {c: {a.name: a.value for a in pb.Profile.FromString(bytes(encoded)).attributes} for c, encoded in rows}


def test_sizes_and_pets_of_every_animal_are_derived_through_the_drops_taxonomy(renamed):
    drop, url, _, _ = renamed
    derived = attributes_by_customer(url)
    truth = pd.read_csv(drop / "truth.csv", dtype=str)
    people = pd.read_csv(drop / "attributes_truth.csv", dtype=str, keep_default_na=False).set_index("person_id")
    links = read_links(open_store(url)).merge(truth, on=["source", "record_id"])
    person_of = links.groupby("customer_id")["person_id"].agg(lambda s: s.mode().iloc[0])
    for name in SIZES:
        values = {c: a[name] for c, a in derived.items() if name in a}
        assert len(values) >= 40, name          # 150 households: many persons have each attribute
        if name == "pets":
            animals = {animal for v in values.values() for animal in v.split(",")}
            assert {"dog", "cat", "bird", "rabbit"} <= animals
            right = sum(set(v.split(",")) <= set(people.loc[person_of[c], "pets"].split(",")) for c, v in values.items())
        else:
            column = "clothing_size" if name == "clothing_size" else "shoe_size"
            right = sum(v in {people.loc[person_of[c], column], people.loc[person_of[c], "clothing_size_before"]}
                        for c, v in values.items())
        assert right / len(values) >= 0.85, name


def test_the_run_lists_the_categories_the_taxonomy_does_not_place(renamed):
    drop, url, out, tmp = renamed
    garden = int((pd.read_csv(drop / "interactions.csv", dtype=str)["category"] == "garden").sum())
    assert garden > 0
    assert f"categories that categories.csv does not place count as other (interactions): garden ({garden:,})" in out
    page_path = tmp / "report.html"
    assert main(["report", "--store", url, "--out", str(page_path)]) == 0
    page = page_path.read_text(encoding="utf-8")
    assert 'id="categories"' in page and "derived through categories.csv" in page
    assert f"<td><code>garden</code></td><td class=\"num\">{garden}</td>" in page


def test_profiles_rebuilt_later_keep_the_runs_taxonomy(renamed):
    _, url, _, _ = renamed
    before = attributes_by_customer(url)
    engine = open_store(url)
    with engine.begin() as conn:     # as a migration that changes the profile table rebuilds them
        assert rebuild_profiles(conn) == len(before)
    engine.dispose()
    assert attributes_by_customer(url) == before
    assert sum("clothing_size" in a for a in before.values()) > 0     # not the built-in taxonomy's empty result


def test_a_categories_csv_without_its_columns_stops_the_run_before_anything_is_written(renamed, monkeypatch, capsys):
    drop, url, _, tmp = renamed
    store = Path(url.removeprefix("sqlite:///"))
    before = settled_digest(store)
    broken = tmp / "broken"
    shutil.copytree(drop, broken)
    (broken / "categories.csv").write_text("category,group\nclothing,clothing\n", encoding="utf-8")
    monkeypatch.setenv("HERKEN_RUNS_DIR", str(tmp / "runs"))
    capsys.readouterr()
    assert main(["resolve", str(broken), "--store", url]) == 2
    err = capsys.readouterr().err
    assert "categories.csv: missing required column(s) pet" in err and "unchanged" in err
    assert settled_digest(store) == before
    assert ProfileStore(open_store(url)).get_profile(next(iter(attributes_by_customer(url)))) is not None


RECORD_HEADER = "record_id,first_name,last_name,birth_date,email,phone,street,house_number,postcode,city,loyalty_card," \
                "updated_at\n"


def test_an_incremental_drops_taxonomy_derives_the_profiles_it_rebuilds(renamed, tmp_path, monkeypatch):
    """A delta that carries its own categories.csv (bird food now for a parrot) and one purchase of a bird
    owner: the owner's household is rebuilt through the delta's taxonomy, not the one published before."""
    drop, url, _, _ = renamed
    store = tmp_path / "herken.db"
    shutil.copy(url.removeprefix("sqlite:///"), store)
    url = f"sqlite:///{store}"
    before = attributes_by_customer(url)
    owner = next(c for c, a in sorted(before.items()) if "bird" in a.get("pets", "").split(","))
    links = read_links(open_store(url))
    source, record_id = links.loc[links["customer_id"] == owner, ["source", "record_id"]].iloc[0]
    delta = tmp_path / "delta"
    delta.mkdir()
    for name in ("pos", "webshop", "app", "service"):
        (delta / f"{name}.csv").write_text(RECORD_HEADER)
    header = (drop / "interactions.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "source,record_id,type,occurred_at,sku,category,size,quantity,amount_eur,discount_eur,store_id," \
                     "delivery_method"
    (delta / "interactions.csv").write_text(
        f"{header}\n{source},{record_id},purchase,2026-11-30T10:00:00,BRD1,pet_food/bird,,1,4.99,0.00,S001,\n")
    taxonomy = (drop / "categories.csv").read_text(encoding="utf-8")
    assert "pet_food/bird,pet_food,bird\n" in taxonomy
    (delta / "categories.csv").write_text(taxonomy.replace("pet_food/bird,pet_food,bird\n",
                                                           "pet_food/bird,pet_food,parrot\n"))
    monkeypatch.setenv("HERKEN_RUNS_DIR", str(tmp_path / "runs"))
    assert main(["resolve", str(delta), "--incremental", "--store", url]) == 0
    after = attributes_by_customer(url)
    pets = set(after[owner]["pets"].split(","))
    assert "parrot" in pets and "bird" not in pets
