"""Birth dates a drop holds far more often than birthdays fall are read as missing (identity.placeholders)."""

from __future__ import annotations

import random

import pandas as pd

from identity.placeholders import MIN_PEOPLE, describe, placeholder_dates, without_placeholders
from identity.realtime import RecordIndex
from identity.strictness import book_of_run, placeholders_of_run, rules_of_run


def _records(n: int, seed: int = 3, placeholder: str | None = None, share: float = 0.0,
             year_only: bool = False) -> pd.DataFrame:
    rng = random.Random(seed)
    dates, given, surnames = [], [], []
    for _ in range(n):
        year, month, day = rng.randint(1940, 2005), rng.randint(1, 12), rng.randint(1, 28)
        if year_only:
            month = day = 1
        date = f"{year}-{month:02d}-{day:02d}"
        dates.append(placeholder if placeholder and rng.random() < share else date)
        given.append("".join(rng.choice(LETTERS) for _ in range(5)))
        surnames.append("".join(rng.choice(LETTERS) for _ in range(6)))
    return pd.DataFrame({"birth_date": dates, "given_first": given, "surname_core": surnames})


LETTERS = "abcdefghijklmnopqrstuvwxyz"


def test_a_drop_of_real_birthdays_has_no_placeholder():
    assert placeholder_dates(_records(20_000)) == {}


def test_a_date_held_by_far_more_people_than_birthdays_fall_is_a_placeholder():
    found = placeholder_dates(_records(20_000, placeholder="1900-01-01", share=0.03))
    assert list(found) == ["1900-01-01"]
    assert found["1900-01-01"] > 400


def test_dates_that_are_how_the_drop_writes_its_birth_dates_are_kept():
    # birth years written as 1 January (Splink's historical_50k: 32% of its dated records): they tell the year
    assert placeholder_dates(_records(20_000, year_only=True)) == {}
    mixed = pd.concat([_records(15_000), _records(5_000, seed=4, year_only=True)])
    assert placeholder_dates(mixed) == {}
    some = pd.concat([_records(19_000), _records(1_000, seed=4, year_only=True)])    # 5%, but in every year
    assert placeholder_dates(some) == {}
    sentinel = pd.concat([mixed, _records(600, seed=5).assign(birth_date="1111-11-11")])
    assert list(placeholder_dates(sentinel)) == ["1111-11-11"]                      # years, and a sentinel beside them


def test_one_persons_records_count_once_typos_and_all_and_a_small_drop_needs_enough_people():
    one_person = pd.DataFrame({"birth_date": ["1980-05-05"] * 40, "given_first": ["jan"] * 40,
                               "surname_core": [f"j{'a' * i}nsen" for i in range(40)]})     # 40 spellings of jansen
    assert placeholder_dates(pd.concat([_records(2_000), one_person])) == {}
    few = _records(MIN_PEOPLE - 1, seed=9).assign(birth_date="1900-01-01")
    assert placeholder_dates(pd.concat([_records(2_000), few])) == {}


def test_placeholders_are_read_as_missing_and_the_run_keeps_them():
    records = pd.DataFrame({"birth_date": ["1900-01-01", "1980-05-05", None], "given_first": ["a", "b", "c"],
                            "surname_core": ["a", "b", "c"]})
    out = without_placeholders(records, {"1900-01-01": 500})
    assert pd.isna(out["birth_date"].iloc[0]) and out["birth_date"].iloc[1] == "1980-05-05"
    assert without_placeholders(records, {}) is records
    book = book_of_run({}, [])
    book.placeholder_dates = {"1900-01-01": 500}
    kept = rules_of_run(book)
    assert placeholders_of_run(kept) == {"1900-01-01": 500}
    assert book_of_run({}, kept).placeholder_dates == {"1900-01-01": 500}
    birth = next(r for r in kept if r["rule"] == "birth_date")
    assert describe({"1900-01-01": 500}) in birth["description"]


def test_real_time_reads_a_placeholder_as_missing():
    index = RecordIndex([])
    raw = {"source": "pos", "record_id": "n1", "first_name": "Jan", "last_name": "Vries", "birth_date": "01-01-1900"}
    assert index.standardise(raw)[index_of("birth_date")] == "1900-01-01"
    index.placeholders = {"1900-01-01": 500}
    assert index.standardise(raw)[index_of("birth_date")] is None


def index_of(column: str) -> int:
    from identity.standardise import STANDARD_COLUMNS

    return STANDARD_COLUMNS.index(column)
