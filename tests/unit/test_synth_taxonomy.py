"""The generator's renamed taxonomy: another retailer's category names, birds and rabbits, and their truth."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from identity.categories import GROUPS
from identity.ingest import read_drop
from synth.writer import generate_drop


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def renamed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("renamed")
    generate_drop(path, 300, seed=5, taxonomy="renamed")
    return path


def test_every_category_of_the_renamed_drop_is_in_its_categories_csv(renamed: Path) -> None:
    taxonomy = {row["category"]: (row["group"], row["pet"]) for row in read(renamed / "categories.csv")}
    used = Counter(row["category"] for row in read(renamed / "interactions.csv") if row["category"])
    assert set(used) <= set(taxonomy)
    assert {"clothing", "shoes", "pet_food/dog", "pet_food/cat", "pet_food/bird", "pet_food/rabbit"} <= set(used)
    assert not {"womens_clothing", "mens_clothing", "dog_food", "cat_food"} & set(used)
    assert {group for group, _ in taxonomy.values()} == set(GROUPS)
    assert {pet for group, pet in taxonomy.values() if group == "pet_food"} == {"dog", "cat", "bird", "rabbit"}
    drop = read_drop(renamed)
    assert drop.categories_given and not drop.unplaced_categories and not drop.quarantine


def test_the_attributes_truth_holds_every_person_with_sizes_and_the_households_pets(renamed: Path) -> None:
    persons = {row["person_id"] for row in read(renamed / "truth.csv")}
    truth = read(renamed / "attributes_truth.csv")
    assert {row["person_id"] for row in truth} == persons
    assert {row["clothing_size"] for row in truth} <= {"XS", "S", "M", "L", "XL", "XXL"}
    assert all(36 <= int(row["shoe_size"]) <= 46 for row in truth)
    pets = Counter(pet for row in truth for pet in row["pets"].split(",") if pet)
    assert set(pets) == {"dog", "cat", "bird", "rabbit"}


def test_the_default_taxonomy_writes_no_birds_rabbits_or_extra_files(tmp_path: Path) -> None:
    generate_drop(tmp_path, 300, seed=5)
    assert not (tmp_path / "categories.csv").exists() and not (tmp_path / "attributes_truth.csv").exists()
    used = {row["category"] for row in read(tmp_path / "interactions.csv")}
    assert {"dog_food", "cat_food"} <= used and not {"bird_food", "rabbit_food", "clothing"} & used


def test_an_unknown_taxonomy_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="taxonomy must be one of default, renamed"):
        generate_drop(tmp_path, 10, seed=1, taxonomy="mine")
