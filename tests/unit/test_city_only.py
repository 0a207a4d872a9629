"""A record with only a city is compared on it apart from full addresses (``city_only``), so EM learns how often
one person's records agree on the city where that is all one of them says."""

from __future__ import annotations

from identity.compiled_model import compile_condition
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
