"""A drop that mistypes birth dates by two digits: a full run learns it, keeps it, and an incremental run applies it."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

from faker import Faker

from profile_api.store import latest_run, open_store, read_links
from tests.integration.resolving import resolve_drop

HEADER = ("record_id,first_name,last_name,birth_date,email,phone,street,house_number,postcode,city,"
          "loyalty_card,updated_at").split(",")
PEOPLE = 60


def _people(seed: int = 5) -> list[tuple[str, str, str, str, str]]:
    """Return (first name, surname, birth date, postcode, city) of distinct people."""
    fake, rng, seen, people = Faker("nl_NL"), random.Random(seed), set(), []
    Faker.seed(seed)
    while len(people) < PEOPLE:
        first, last = fake.first_name(), fake.last_name()
        if (first, last) in seen:
            continue
        seen.add((first, last))
        born = f"19{rng.randint(30, 99)}-{rng.randint(1, 12):02d}-{rng.randint(10, 28):02d}"
        people.append((first, last, born, f"{rng.randint(1000, 9999)}{rng.choice('ABCDEFGH')}{rng.choice('KLMNPRST')}",
                       fake.city()))
    return people


def _two_digits_off(born: str) -> str:
    """Return the date with the last digits of its year and its day mistyped (two digits apart)."""
    year, month, day = born.split("-")
    return f"{year[:3]}{(int(year[3]) + 3) % 10}-{month}-{day[0]}{(int(day[1]) + 5) % 10}"


def _write(drop: Path, rows: dict[str, list[list[str]]]) -> None:
    drop.mkdir(parents=True, exist_ok=True)
    for source, lines in rows.items():
        with open(drop / f"{source}.csv", "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(HEADER)
            writer.writerows(lines)


def _row(record_id: str, person: tuple[str, str, str, str, str], born: str, number: int) -> list[str]:
    first, last, _, postcode, city = person
    return [record_id, first, last, born, "", "", "", str(number), postcode, city, "", "2024-01-01"]


def test_a_drop_that_mistypes_dates_by_two_digits_joins_them_in_full_and_incremental_runs(tmp_path: Path) -> None:
    people = _people()
    _write(tmp_path / "day1", {
        "pos": [_row(f"p{i}", p, p[2], i + 1) for i, p in enumerate(people)],
        "webshop": [_row(f"w{i}", p, _two_digits_off(p[2]), i + 1) for i, p in enumerate(people)],
    })
    url = f"sqlite:///{tmp_path / 'store.db'}"
    resolve_drop(tmp_path / "day1", url, tmp_path / "runs")
    store = open_store(url)
    links = read_links(store)
    person = dict(zip(links["source"] + ":" + links["record_id"], links["customer_id"]))
    assert all(person[f"pos:p{i}"] == person[f"webshop:w{i}"] for i in range(PEOPLE))
    assert len(set(person.values())) == PEOPLE
    birth = next(r for r in json.loads(latest_run(store).rules_json) if r["rule"] == "birth_date")
    assert birth["date_typos"] == {"conflicts": PEOPLE, "two_digits": PEOPLE}
    assert "read as one person's typos" in birth["description"]

    # a delta with a third record of person 0, its date two digits off the other way, joins the published person
    _write(tmp_path / "day2", {"app": [_row("a0", people[0], _two_digits_off(_two_digits_off(people[0][2])), 1)]})
    resolve_drop(tmp_path / "day2", url, tmp_path / "runs", "--incremental")
    links = read_links(store)
    person = dict(zip(links["source"] + ":" + links["record_id"], links["customer_id"]))
    assert person["app:a0"] == person["pos:p0"] == person["webshop:w0"]
    kept = next(r for r in json.loads(latest_run(store).rules_json) if r["rule"] == "birth_date")
    assert kept["date_typos"] == birth["date_typos"]
    store.dispose()
