"""The year in an e-mail address (identity.standardise.email_year) and the comparison that reads it against the other
record's birth date (identity.model.email_year_comparison), its levels evaluated by DuckDB."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from identity.model import settings as model_settings
from identity.standardise import current_standardised, email_year, standardise_record

_LEVELS = next(c for c in model_settings().get_settings("duckdb").comparisons
               if c.output_column_name == "email_year").comparison_levels
_COLUMNS = ("email_year", "birth_date")


@pytest.mark.parametrize("local, year", [
    ("tara.devries93", "93"), ("jan1985", "1985"), ("2001.kees", "2001"), ("piet_07_jansen", "07"),
    ("jan.devries", None), ("jan12b34", None),            # two numbers: no year is read
    ("jan1234", None), ("jan123", None), ("jan5", None),   # four digits that are no year, three digits, one
    ("", None), (None, None),
])
def test_an_e_mail_holds_a_year_in_one_run_of_two_digits_or_a_year_of_19xx_or_20xx(local, year):
    assert email_year(local) == year


def test_the_standardised_record_carries_its_e_mail_year():
    row = {"source": "app", "record_id": "1", "first_name": "Tara"}
    record = standardise_record({**row, "email": " Tara.DeVries93@Ziggo.nl "})
    assert record["email_local"] == "tara.devries93" and record["email_year"] == "93"
    assert standardise_record({**row, "email": ""})["email_year"] is None


def test_a_snapshot_an_older_herken_kept_gets_its_e_mail_years_from_its_local_parts():
    older = pd.DataFrame({"unique_id": ["a", "b", "c"], "email_local": ["jan85", "jan", None], "city": [None] * 3})
    years = current_standardised(older)["email_year"]
    assert [y if isinstance(y, str) else None for y in years.tolist()] == ["85", None, None]
    current = older.assign(email_year=["85", None, None])
    assert current_standardised(current) is current      # nothing to add: the frame as it is


def _level(left: dict, right: dict) -> str:
    """Return the label of the first level whose condition holds for the two records, as Splink takes them."""
    columns = ", ".join(f"?::VARCHAR AS {c}_{side}" for side in "lr" for c in _COLUMNS)
    values = [record.get(c) for record in (left, right) for c in _COLUMNS]
    for level in _LEVELS:
        if level.sql_condition == "ELSE":
            return level.label_for_charts
        if duckdb.execute(f"SELECT {level.sql_condition} FROM (SELECT {columns})", values).fetchone()[0]:
            return level.label_for_charts
    raise AssertionError("no level taken")


@pytest.mark.parametrize("local, born, level", [
    ("tara.devries93", "1993-03-14", "e-mail year is the birth year"),
    ("jan1985", "1985-07-01", "e-mail year is the birth year"),
    ("tara.devries93", "1985-03-14", "ELSE"),
    ("jan12", "1985-07-01", "ELSE"),                                   # a number that is no year counts against
    ("jan.devries", "1985-07-01", "no e-mail year against a birth date"),
    ("j12.devries34", "1934-07-01", "no e-mail year against a birth date"),   # two numbers: none is read
])
def test_a_year_in_one_sides_e_mail_is_read_against_the_other_sides_birth_date(local, born, level):
    expected = level if level != "ELSE" else _LEVELS[-1].label_for_charts
    assert _level({"email_year": email_year(local)}, {"birth_date": born}) == expected
    assert _level({"birth_date": born}, {"email_year": email_year(local)}) == expected     # either side


def test_where_both_sides_have_a_birth_date_the_birth_date_comparison_alone_weighs_them():
    assert _level({"email_year": "85", "birth_date": "1985-01-01"}, {"birth_date": "1990-01-01"}) \
        == "no e-mail year against a birth date"
    assert _level({"email_year": "85"}, {"email_year": "85"}) == "no e-mail year against a birth date"
