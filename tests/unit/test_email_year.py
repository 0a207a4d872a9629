"""The e-mail year comparison (identity.model.email_year_comparison): which level two records reach, in DuckDB."""

from __future__ import annotations

import duckdb
import pytest

from identity.model import settings as model_settings

_LEVELS = next(c for c in model_settings().get_settings("duckdb").comparisons
               if c.output_column_name == "email_year").comparison_levels


def _level(left: dict, right: dict) -> str:
    """Return the label of the first level whose condition holds for the two records, as Splink takes them."""
    columns = ", ".join(f"?::VARCHAR AS {c}_{side}" for side in "lr" for c in ("email_local", "birth_date"))
    values = [record.get(c) for record in (left, right) for c in ("email_local", "birth_date")]
    for level in _LEVELS:
        if level.sql_condition == "ELSE":
            return level.label_for_charts
        if duckdb.execute(f"SELECT {level.sql_condition} FROM (SELECT {columns})", values).fetchone()[0]:
            return level.label_for_charts
    raise AssertionError("no level taken")


@pytest.mark.parametrize("email_local, born, level", [
    ("tara.devries93", "1993-03-14", "e-mail year is the birth year"),
    ("jan1985", "1985-07-01", "e-mail year is the birth year"),
    ("tara.devries93", "1985-03-14", "ELSE"),
    ("jan12", "1985-07-01", "ELSE"),                                   # a number that is no year counts against
    ("jan.devries", "1985-07-01", "no e-mail year against a birth date"),
    ("j12.devries34", "1934-07-01", "no e-mail year against a birth date"),   # two numbers: none is read
    ("jan1234", "1985-07-01", "no e-mail year against a birth date"),        # four digits that are no year
])
def test_a_year_in_one_sides_e_mail_is_read_against_the_other_sides_birth_date(email_local, born, level):
    expected = level if level != "ELSE" else _LEVELS[-1].label_for_charts
    assert _level({"email_local": email_local}, {"birth_date": born}) == expected
    assert _level({"birth_date": born}, {"email_local": email_local}) == expected     # either side


def test_where_both_sides_have_a_birth_date_the_birth_date_comparison_alone_weighs_them():
    assert _level({"email_local": "jan85", "birth_date": "1985-01-01"}, {"birth_date": "1990-01-01"}) \
        == "no e-mail year against a birth date"
    assert _level({"email_local": "jan85"}, {"email_local": "jan85"}) == "no e-mail year against a birth date"
