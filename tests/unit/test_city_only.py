"""A record with only a city is compared on it apart from full addresses (``city_only``), so EM learns how often
one person's records agree on the city where that is all one of them says; and a shared postcode weighs by how many
records of the drop carry it, a street's stretch (a Dutch postcode) much, a town (a Belgian or German one) little."""

from __future__ import annotations

import math

import pytest

from identity.compiled_model import ModelScorer, compile_condition
from identity.model import settings
from identity.realtime import COLUMNS

COLUMN_INDEX = {name: i for i, name in enumerate(COLUMNS)}


def _record(**values: object) -> tuple:
    record = [None] * len(COLUMNS)
    for name, value in values.items():
        record[COLUMN_INDEX[name]] = value
    return tuple(record)


def _level(comparison: str, a: tuple, b: tuple) -> str:
    """Return the label of the first level of a comparison whose condition holds for the pair."""
    model = settings().create_settings_dict("duckdb")
    levels = next(c for c in model["comparisons"] if c["output_column_name"] == comparison)["comparison_levels"]
    for level in levels:
        if compile_condition(level["sql_condition"], COLUMN_INDEX)(a, b) is True:
            return level["label_for_charts"]
    return levels[-1]["label_for_charts"]


FULL = _record(city="delft", postcode="2613EN", street="mickring", house_number="12", address_key="2613EN|12")
CITY = _record(city="delft")


def test_a_city_only_record_meets_a_full_address_in_city_only_not_in_address():
    assert _level("city_only", CITY, FULL) == "same city"
    assert _level("city_only", FULL, CITY) == "same city"
    assert _level("address", CITY, FULL).startswith("missing")


def test_two_city_only_records_are_compared_on_the_city():
    assert _level("city_only", CITY, _record(city="delft")) == "same city"
    assert _level("city_only", CITY, _record(city="leiden")) == "All other comparisons"


def test_two_full_addresses_leave_city_only_out():
    other = _record(city="delft", postcode="2611AA", street="markt", house_number="1", address_key="2611AA|1")
    assert _level("city_only", FULL, other).startswith("missing")
    assert _level("address", FULL, other) == "same city"


def test_a_record_without_a_city_leaves_city_only_out():
    assert _level("city_only", CITY, _record(given_first="jan")).startswith("missing")



def _scorer(frequencies: dict) -> "ModelScorer":
    """Return a scorer of the model with every level's m and u set (as a trained model has them)."""
    model = settings().create_settings_dict("duckdb")
    for comparison in model["comparisons"]:
        levels = [level for level in comparison["comparison_levels"] if not level.get("is_null_level")]
        for i, level in enumerate(levels):
            level.setdefault("m_probability", 0.9 if i == 0 else 0.1 / len(levels))
            level.setdefault("u_probability", 1e-5 if i < len(levels) - 1 else 0.99)
    return ModelScorer(model, list(COLUMNS), frequencies)


def test_a_postcode_weighs_by_how_many_records_carry_it_so_a_towns_postcode_says_little():
    # A Dutch postcode names a stretch of one street: a dozen records in a drop. Antwerp's 2000 covers the city
    # centre: two customers on two streets there share it as they share the city.
    scorer = _scorer({"postcode": {"2613EN": 1e-5, "2000": 4e-4}, "city": {"delft": 1e-2, "antwerpen": 4e-4}})
    near = _record(city="delft", postcode="2613EN", street="mickring", house_number="30", address_key="2613EN|30")
    one = _record(city="antwerpen", postcode="2000", street="statiestraat", house_number="121",
                  address_key="2000|statiestraat|121|")
    other = _record(city="antwerpen", postcode="2000", street="kapelsestraat", house_number="102",
                    address_key="2000|kapelsestraat|102|")
    assert _level("address", FULL, near) == _level("address", one, other) == "same postcode"
    street = scorer.score(FULL, near).weights[scorer.names.index("address")]
    town = scorer.score(one, other).weights[scorer.names.index("address")]
    level = scorer.levels(FULL, near)[scorer.names.index("address")]
    assert street == pytest.approx(level.weight)                   # as common as the level's u: its own weight
    assert town == pytest.approx(street - math.log2(4e-4 / 1e-5))  # forty times as common: 5.3 bits less
