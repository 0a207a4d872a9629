"""The model's birth-date levels: a date with one of its three parts replaced keeps the other two, and the model
weighs that apart from dates that share only the year, as the cannot-link rules already take it for one person's."""

from __future__ import annotations

import duckdb
import pytest

from identity.model import TWO_DATE_PARTS, settings
from identity.rules import birth_dates_compatible

_LEVELS = next(c for c in settings().get_settings("duckdb").comparisons
               if c.output_column_name == "birth_date").comparison_levels


def _level(left: str | None, right: str | None) -> str:
    """Return the label of the first birth-date level whose condition holds for the two dates, as DuckDB reads it."""
    for level in _LEVELS:
        if level.sql_condition == "ELSE":
            return level.label_for_charts
        found = duckdb.execute(f"SELECT {level.sql_condition} FROM (SELECT ?::VARCHAR AS birth_date_l, "
                               "?::VARCHAR AS birth_date_r)", [left, right]).fetchone()[0]
        if found:
            return level.label_for_charts
    raise AssertionError("no level taken")


@pytest.mark.parametrize("left, right", [
    ("1949-11-16", "2003-11-16"),     # the year replaced (R's RLdata: KAI KLEIN)
    ("1927-04-29", "1927-12-29"),     # the month replaced
    ("1980-04-06", "1980-04-27"),     # the day replaced
])
def test_a_date_with_one_part_replaced_reaches_the_two_parts_level_and_the_rules_take_it_for_one_persons(left, right):
    assert _level(left, right) == TWO_DATE_PARTS
    assert birth_dates_compatible(left, right)


def test_the_stricter_levels_come_first_and_one_shared_part_is_no_more_than_it_was():
    assert _level("1980-04-26", "1980-04-26") == "Exact match on birth_date"
    assert _level("1980-04-26", "1980-04-29") == "typo or day-month swap"      # one digit: a typo, as before
    assert _level("1980-04-06", "1980-06-04") == "typo or day-month swap"
    assert _level("1980-04-26", "1980-07-13") == "same year"                   # only the year: kin as often
    assert _level("1960-05-12", "1990-06-12") == "All other comparisons"       # only the day
    assert _level("1960-05-12", "1991-07-13") == "All other comparisons"
    assert _level(None, "1991-07-13") == "missing"
