"""The synthetic drop: deterministic, well-formed, and as hard as real retail data."""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from identity.ingest import CHANNELS, IDENTITY_COLUMNS, INTERACTION_COLUMNS, PREFERENCE_COLUMNS, TRUTH_COLUMNS
from synth.config import DEFAULT_CONFIG, GenerateSummary, SynthConfig
from synth.population import _World, _build_household
from synth.writer import generate_drop

FILES = (*(f"{c}.csv" for c in CHANNELS), "interactions.csv", "preferences.csv", "truth.csv")
BIRTH_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y")
# A few official names with the roepnamen people use instead (the generator knows many more).
NICKNAMES = {
    "Johannes": {"Hans", "Jan", "Joop", "Johan"}, "Cornelis": {"Kees", "Cor", "Niels"},
    "Pieter": {"Piet", "Peter"}, "Willem": {"Wim", "Pim"}, "Hendrik": {"Henk", "Rik", "Henny"},
    "Jacobus": {"Koos", "Jaap", "Jaco"}, "Elisabeth": {"Lies", "Bep", "Els", "Liesbeth"},
    "Maria": {"Mieke", "Ria", "Marieke", "Mia"}, "Catharina": {"Karin", "Tineke", "Toos", "Ina"},
    "Johanna": {"Anneke", "Jo", "Hanneke", "Joke"}, "Gerardus": {"Gerard", "Gert"},
    "Theodorus": {"Theo", "Ruud"}, "Wilhelmina": {"Mien", "Willy", "Wilma"},
    "Antonius": {"Toon", "Ton", "Anton"}, "Alexander": {"Sander", "Alex"},
    "Nicolaas": {"Klaas", "Niek", "Nico"}, "Geertruida": {"Truus", "Trudy"},
}


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def header(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as fh:
        return next(csv.reader(fh))


def parse_birth(text: str) -> date | None:
    for fmt in BIRTH_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            pass
    return None


class Drop:
    """A generated drop read back: identity records joined to the truth."""

    def __init__(self, path: Path, summary: GenerateSummary) -> None:
        self.path = path
        self.summary = summary
        self.records = {c: read(path / f"{c}.csv") for c in CHANNELS}
        self.truth = read(path / "truth.csv")
        self.interactions = read(path / "interactions.csv")
        self.preferences = read(path / "preferences.csv")
        self.owner = {(t["source"], t["record_id"]): t for t in self.truth}
        self.by_person: dict[str, list[dict[str, str]]] = defaultdict(list)
        self.by_household: dict[str, set[str]] = defaultdict(set)
        for channel, rows in self.records.items():
            for row in rows:
                t = self.owner[(channel, row["record_id"])]
                self.by_person[t["person_id"]].append({**row, "source": channel})
                self.by_household[t["household_id"]].add(t["person_id"])


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Drop:
    path = tmp_path_factory.mktemp("small")
    return Drop(path, generate_drop(path, 150, seed=3))


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> Drop:
    path = tmp_path_factory.mktemp("large")
    return Drop(path, generate_drop(path, 1000, seed=11))


# ---- determinism -----------------------------------------------------------------------

def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    generate_drop(tmp_path / "a", 120, seed=7)
    generate_drop(tmp_path / "b", 120, seed=7)
    for name in FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_different_seeds_give_different_data(tmp_path: Path) -> None:
    generate_drop(tmp_path / "a", 120, seed=7)
    generate_drop(tmp_path / "b", 120, seed=8)
    for name in FILES:
        assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "b" / name).read_bytes(), name


# ---- shape -------------------------------------------------------------------------------

def test_headers_are_exact(small: Drop) -> None:
    for channel in CHANNELS:
        assert header(small.path / f"{channel}.csv") == list(IDENTITY_COLUMNS)
    assert header(small.path / "interactions.csv") == list(INTERACTION_COLUMNS)
    assert header(small.path / "preferences.csv") == list(PREFERENCE_COLUMNS)
    assert header(small.path / "truth.csv") == list(TRUTH_COLUMNS)
    assert IDENTITY_COLUMNS == (
        "record_id", "first_name", "last_name", "birth_date", "email", "phone", "street",
        "house_number", "postcode", "city", "loyalty_card", "updated_at",
    )


def test_every_row_has_every_column(small: Drop) -> None:
    for channel, rows in small.records.items():
        assert all(None not in row and len(row) == len(IDENTITY_COLUMNS) for row in rows), channel


def test_record_ids_are_unique_per_file_and_do_not_leak_the_person(small: Drop) -> None:
    for channel, rows in small.records.items():
        ids = [r["record_id"] for r in rows]
        assert len(ids) == len(set(ids)), channel
        assert all(ids), channel
    person_ids = {t["person_id"] for t in small.truth}
    household_ids = {t["household_id"] for t in small.truth}
    all_ids = {r["record_id"] for rows in small.records.values() for r in rows}
    assert not all_ids & (person_ids | household_ids)


def test_rows_are_not_grouped_by_person(small: Drop) -> None:
    order = [small.owner[("pos", r["record_id"])]["person_id"] for r in small.records["pos"]]
    assert order != sorted(order)


def test_truth_covers_every_identity_record_exactly_once(small: Drop) -> None:
    truth_keys = Counter((t["source"], t["record_id"]) for t in small.truth)
    assert all(n == 1 for n in truth_keys.values())
    record_keys = {(c, r["record_id"]) for c, rows in small.records.items() for r in rows}
    assert set(truth_keys) == record_keys


def test_interactions_and_preferences_reference_existing_records(small: Drop) -> None:
    keys = {(c, r["record_id"]) for c, rows in small.records.items() for r in rows}
    assert small.interactions and small.preferences
    assert all((i["source"], i["record_id"]) in keys for i in small.interactions)
    assert all((p["source"], p["record_id"]) in keys for p in small.preferences)


def test_summary_matches_the_files(small: Drop) -> None:
    s = small.summary
    assert s.households == 150
    assert len({t["household_id"] for t in small.truth}) == 150
    assert s.persons == len({t["person_id"] for t in small.truth})
    assert s.records == {c: len(rows) for c, rows in small.records.items()}
    assert s.interactions == len(small.interactions)
    assert s.preferences == len(small.preferences)


def test_birth_dates_are_real_dates_in_the_three_formats(large: Drop) -> None:
    births = [r["birth_date"] for rows in large.records.values() for r in rows if r["birth_date"]]
    assert births
    assert all(parse_birth(b) is not None for b in births)
    used = {fmt for b in births for fmt in BIRTH_FORMATS if _fits(b, fmt)}
    assert used == set(BIRTH_FORMATS)


def _fits(text: str, fmt: str) -> bool:
    try:
        datetime.strptime(text, fmt)
    except ValueError:
        return False
    return True


def test_timestamps_lie_within_the_last_four_years(small: Drop) -> None:
    end = DEFAULT_CONFIG.as_of
    start = end - timedelta(days=DEFAULT_CONFIG.history_days)
    stamps = [r["updated_at"] for rows in small.records.values() for r in rows]
    stamps += [i["occurred_at"] for i in small.interactions]
    stamps += [p["stated_at"] for p in small.preferences]
    assert all(start <= datetime.fromisoformat(s) < end for s in stamps)


def test_interactions_look_like_a_retailer(large: Drop) -> None:
    rows = large.interactions
    assert {i["type"] for i in rows} == {"purchase", "return", "view", "contact"}
    assert {i["source"] for i in rows if i["type"] == "contact"} == {"service"}
    pos_buys = [i for i in rows if i["source"] == "pos" and i["type"] == "purchase"]
    assert pos_buys and all(re.fullmatch(r"S\d{3}", i["store_id"]) for i in pos_buys)
    web_buys = [i for i in rows if i["source"] == "webshop" and i["type"] == "purchase"]
    assert {i["delivery_method"] for i in web_buys} == {"home", "pickup_point", "store_pickup"}
    for i in rows:
        if i["type"] in ("purchase", "return"):
            assert float(i["amount_eur"]) >= 0 and float(i["discount_eur"]) >= 0
            assert int(i["quantity"]) >= 1
    shoes = {i["size"] for i in rows if i["category"] == "shoes" and i["type"] == "purchase"}
    assert shoes <= {str(n) for n in range(36, 47)}
    views = Counter(i["source"] for i in rows if i["type"] == "view")
    assert set(views) <= {"app", "webshop"}


def test_returns_are_mostly_of_a_wrong_size(large: Drop) -> None:
    """A person's usual size is the one they keep; returns are mostly another size."""
    kept: dict[tuple[str, str], Counter] = defaultdict(Counter)
    returns = []
    for i in large.interactions:
        if i["category"] not in ("shoes", "mens_clothing", "womens_clothing") or not i["size"]:
            continue
        person = large.owner[(i["source"], i["record_id"])]["person_id"]
        key = (person, i["category"] + ("#" if i["size"].isdigit() else ""))
        if i["type"] == "purchase":
            kept[key][i["size"]] += 1
        elif i["type"] == "return":
            kept[key][i["size"]] -= 1
            returns.append((key, i["size"]))
    usual = {k: c.most_common(1)[0][0] for k, c in kept.items() if c.total() >= 3}
    judged = [(key, size) for key, size in returns if key in usual]
    wrong = sum(1 for key, size in judged if size != usual[key])
    assert len(judged) >= 20 and wrong / len(judged) > 0.5


def test_persons_interact_six_to_ten_times_on_average_and_some_never(large: Drop) -> None:
    per_person = Counter(large.owner[(i["source"], i["record_id"])]["person_id"]
                         for i in large.interactions)
    persons = large.summary.persons
    assert 6 <= len(large.interactions) / persons <= 10
    assert any(p not in per_person for p in large.by_person)


def test_preferences_use_known_keys_and_a_third_of_persons_state_one(large: Drop) -> None:
    keys = {p["key"] for p in large.preferences}
    assert {"clothing_size", "shoe_size", "delivery_method", "delivery_slot", "pet"} <= keys
    assert keys - {"clothing_size", "shoe_size", "delivery_method", "delivery_slot", "pet"}
    assert {p["value"] for p in large.preferences if p["key"] == "pet"} <= {"dog", "cat"}
    stating = {large.owner[(p["source"], p["record_id"])]["person_id"] for p in large.preferences}
    assert 0.28 <= len(stating) / large.summary.persons <= 0.45


def test_some_persons_restate_a_changed_preference_in_another_channel(large: Drop) -> None:
    stated: dict[tuple[str, str], list[tuple[str, str, str]]] = defaultdict(list)
    for p in large.preferences:
        person = large.owner[(p["source"], p["record_id"])]["person_id"]
        stated[(person, p["key"])].append((p["stated_at"], p["source"], p["value"]))
    changed = [v for v in stated.values()
               if len({value for _, _, value in v}) > 1 and len({src for _, src, _ in v}) > 1]
    assert changed


# ---- the difficulties that make resolution hard ---------------------------------------------

def test_about_three_records_per_household(large: Drop) -> None:
    per_household = sum(large.summary.records.values()) / large.summary.households
    assert 2.9 <= per_household <= 3.7
    counts = Counter(len(rows) for rows in large.by_person.values())
    assert counts[1] > 0 and sum(n for k, n in counts.items() if k >= 3) > 0


def test_loyalty_cards_are_shared_by_different_persons(large: Drop) -> None:
    holders: dict[str, set[str]] = defaultdict(set)
    for person, rows in large.by_person.items():
        for r in rows:
            if r["source"] == "pos":
                holders[r["loyalty_card"]].add(person)
    assert sum(1 for h in holders.values() if len(h) > 1) >= 20


def test_surname_particles_are_written_many_ways(large: Drop) -> None:
    last = [r["last_name"] for rows in large.records.values() for r in rows]
    first = [r["first_name"] for rows in large.records.values() for r in rows]
    assert any(n.startswith(("v.d. ", "vd ", "v/d ")) for n in last)
    assert any(re.search(r", (van|de|ter|ten|van der|van den|van de)$", n) for n in last)
    assert any(n.startswith(("Van ", "De ")) for n in last)
    assert any(re.search(r" (van|de|van der|van den)$", n) for n in first)
    assert any(re.fullmatch(r"[A-Z]\.([A-Z]\.)*|[A-Z]{2,3}", n) for n in first)   # initials
    assert any(n.isupper() and len(n) > 3 for n in last)


def test_persons_appear_under_official_name_and_nickname(large: Drop) -> None:
    both = 0
    for rows in large.by_person.values():
        names = {r["first_name"] for r in rows}
        both += any(n in names and names & alts for n, alts in NICKNAMES.items())
    assert both >= 10


def test_married_women_sometimes_use_a_double_surname(large: Drop) -> None:
    persons = 0
    for rows in large.by_person.values():
        names = {r["last_name"] for r in rows if r["last_name"]}
        if any("-" in n for n in names) and any("-" not in n for n in names):
            persons += 1
    assert persons >= 5


def test_twins_share_household_surname_and_birth_date(large: Drop) -> None:
    twins = 0
    for persons in large.by_household.values():
        births: dict[date, set[str]] = defaultdict(set)
        for person in persons:
            dates = Counter(parse_birth(r["birth_date"]) for r in large.by_person[person]
                            if r["birth_date"])
            if dates:
                births[dates.most_common(1)[0][0]].add(person)
        twins += sum(1 for group in births.values() if len(group) > 1)
    assert twins >= 1


def test_household_members_can_share_a_first_name(large: Drop) -> None:
    """Sons named after their father, or an elderly parent living in: same name, same address."""
    households = 0
    for persons in large.by_household.values():
        names: dict[str, set[str]] = defaultdict(set)
        for person in persons:
            for r in large.by_person[person]:
                if len(r["first_name"]) > 2:
                    names[r["first_name"].lower()].add(person)
        households += any(len(v) > 1 for v in names.values())
    assert households >= 1


def test_movers_show_an_old_and_a_new_address(large: Drop) -> None:
    movers = 0
    for rows in large.by_person.values():
        postcodes = {re.sub(r"\s", "", r["postcode"]).upper() for r in rows if r["postcode"]}
        movers += len(postcodes) > 1
    assert movers / large.summary.persons > 0.02


def test_households_never_share_a_dwelling_by_chance() -> None:
    """One household per dwelling (street, number and addition), however many the drop holds.

    The town and street pools do not grow with the drop: 20,000 households drew 390 dwellings
    twice before numbers moved to a free one, and a million records put 36% of households at the
    same door as a stranger. Only a leaver's old address is meant to be another household's.
    """
    w = _World(5, SynthConfig())
    households = [_build_household(w, i) for i in range(20_000)]
    dwellings = Counter((a.city, a.street, a.number, a.addition)
                        for h in households for a in (h.address, h.old_address) if a is not None)
    assert max(dwellings.values()) == 1


def test_two_street_stretches_never_share_a_postcode() -> None:
    """A Dutch postcode and a number name one address; a drawn postcode already taken moves on."""
    w = _World(5, SynthConfig())
    w.postcodes_used.update({"1011AB", "1011AC", "1011ZZ"})
    assert w._free_postcode("1011AB") == "1011AD"
    assert w._free_postcode("1011ZZ") == "1012AA"
    assert w._free_postcode("2000KL") == "2000KL"
    w.postcodes_used.add("3000RZ")
    assert w._free_postcode("3000RZ") == "3000SB"     # never SA, SD or SS
    households = [_build_household(w, i) for i in range(5_000)]
    stretches = [pc for city in w.pools.cities for pc in city.postcodes.values()]
    assert households and len(stretches) == len(set(stretches))


def test_a_full_street_stretch_moves_a_household_into_a_free_flat() -> None:
    """A million records fill the first numbers of busy streets: the next household gets a flat there.

    Before, a full stretch of 40 numbers gave the taken dwelling again: 17,892 of 294,996 addresses
    of the 1M drop held more than one household, against "one household per dwelling".
    """
    w = _World(5, SynthConfig())
    block = range(1, 40)
    w.dwellings.update(("Ede", "Kerkstraat", n, "") for n in block)
    assert w._free_dwelling("Ede", "Kerkstraat", 7, "", block) == (7, "A")
    w.dwellings.update(("Ede", "Kerkstraat", 7, flat) for flat in ("A", "B", "C", "1", "2", "3", "hs", "bis", "II", "bg"))
    assert w._free_dwelling("Ede", "Kerkstraat", 7, "", block) == (7, "4")
    assert w._free_dwelling("Ede", "Kerkstraat", 7, "B", block) == (8, "B")


def test_phones_and_postcodes_come_in_many_notations(large: Drop) -> None:
    phones = [r["phone"] for rows in large.records.values() for r in rows if r["phone"]]
    assert any(re.fullmatch(r"06\d{8}", p) for p in phones)
    assert any(re.fullmatch(r"06-\d{8}", p) for p in phones)
    assert any(p.startswith("+31 (0)") for p in phones)
    assert any(p.startswith("0031") for p in phones)
    assert any(p.startswith(("+32", "+49", "0032", "0049")) for p in phones)
    postcodes = [r["postcode"] for rows in large.records.values() for r in rows if r["postcode"]]
    assert any(re.fullmatch(r"\d{4} [A-Z]{2}", p) for p in postcodes)
    assert any(re.fullmatch(r"\d{4}[A-Z]{2}", p) for p in postcodes)
    assert any(re.fullmatch(r"\d{4}[a-z]{2}", p) for p in postcodes)


def test_app_records_are_sparse_and_service_records_messy(large: Drop) -> None:
    def missing(channel: str, column: str) -> float:
        rows = large.records[channel]
        return sum(1 for r in rows if not r[column].strip()) / len(rows)

    assert missing("app", "street") > 0.7 and missing("app", "last_name") > 0.4
    assert missing("app", "email") == 0.0 and missing("webshop", "email") == 0.0
    assert missing("service", "birth_date") > 0.4 and missing("webshop", "birth_date") < 0.6
    service_streets = [r for r in large.records["service"] if r["street"] and not r["house_number"]]
    assert service_streets   # "Kerkstraat 12A" typed into the street field
