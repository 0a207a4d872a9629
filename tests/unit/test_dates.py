"""Dates as a drop writes them (identity.dates)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from identity.dates import month_number, parse_date, parse_timestamp


@pytest.mark.parametrize("text", [
    "1985-03-12", "12-03-1985", "12/03/1985", "12.03.1985", "1985/03/12", "19850312", "12-3-1985",
    "1985-03-12T10:00:00", "12/03/1985 00:00",
    "12 maart 1985", "12 mrt. 1985", "12 mrt 1985", "12-mrt-1985", "12 Mar 1985", "12 MARCH 1985", "12th March 1985",
    "March 12, 1985", "Mar. 12 1985", "maart 12 1985",
])
def test_a_date_in_the_contracts_orders_or_with_its_months_name_is_read(text):
    assert parse_date(text) == dt.date(1985, 3, 12)


@pytest.mark.parametrize("text, month", [("1 sept 2001", 9), ("3 OCT 1990", 10), ("3 okt 1990", 10), ("5 mei 1990", 5),
                                         ("5 May 1990", 5), ("1 jun 1990", 6), ("1 juli 1990", 7), ("1 febr 1990", 2)])
def test_dutch_and_english_month_names_and_their_abbreviations(text, month):
    assert parse_date(text).month == month


def test_what_is_no_month_or_no_calendar_date_is_refused_with_the_reason():
    assert month_number("ma") is None and month_number("ju") is None        # March or May; June or July
    with pytest.raises(ValueError, match="is not a date"):
        parse_date("31 foo 1990")
    with pytest.raises(ValueError, match="is not a calendar date"):
        parse_date("31 februari 1990")
    with pytest.raises(ValueError, match=r"expected yyyy-mm-dd, dd-mm-yyyy or dd/mm/yyyy"):   # the hint reads it
        parse_date("31-03-90")


def test_a_timestamp_keeps_its_time_and_a_named_date_reads_as_midnight():
    assert parse_timestamp("2024-01-01T10:00:00Z") == dt.datetime(2024, 1, 1, 10)
    assert parse_timestamp("1 jan 2024") == dt.datetime(2024, 1, 1)


@given(st.text(max_size=30))
def test_parse_date_returns_a_date_or_raises_value_error(text):
    try:
        assert parse_date(text) is None or isinstance(parse_date(text), dt.date)
    except ValueError:
        pass


def test_a_timestamp_with_an_offset_is_read_as_the_same_instant_in_utc():
    from identity.dates import parse_timestamp
    assert parse_timestamp("2025-06-01T11:00:00+02:00") == dt.datetime(2025, 6, 1, 9, 0)
    assert parse_timestamp("2025-06-01T09:30:00Z") == dt.datetime(2025, 6, 1, 9, 30)
    assert parse_timestamp("2025-06-01T11:00:00") == dt.datetime(2025, 6, 1, 11, 0)    # no offset: as written


@pytest.mark.parametrize("text, expected", [
    ("12-03-2024 16:00", dt.datetime(2024, 3, 12, 16, 0)),
    ("12/03/2024 14:05:33", dt.datetime(2024, 3, 12, 14, 5, 33)),
    ("12.03.2024 7:01", dt.datetime(2024, 3, 12, 7, 1)),
    ("12 maart 2025 9:30", dt.datetime(2025, 3, 12, 9, 30)),
    ("12-03-2024 16:00+01:00", dt.datetime(2024, 3, 12, 15, 0)),     # an offset: the same instant in UTC
    ("12-03-2024T08:15:00Z", dt.datetime(2024, 3, 12, 8, 15)),
])
def test_a_time_of_day_after_a_date_in_another_notation_is_kept_not_read_as_midnight(text, expected):
    assert parse_timestamp(text) == expected


def test_a_time_of_day_no_clock_shows_is_refused():
    with pytest.raises(ValueError, match="time of day"):
        parse_timestamp("12-03-2024 25:00")


@pytest.mark.parametrize("text, expected", [
    ("12-03-2024 4:00 PM", dt.datetime(2024, 3, 12, 16, 0)),
    ("12-03-2024 12:30 am", dt.datetime(2024, 3, 12, 0, 30)),
    ("12-03-2024 16:00 CET", dt.datetime(2024, 3, 12, 15, 0)),
    ("12-03-2024 16:00 CEST", dt.datetime(2024, 3, 12, 14, 0)),
    ("12-03-2024 16:00+01", dt.datetime(2024, 3, 12, 15, 0)),
    ("12.03.2024 16.00", dt.datetime(2024, 3, 12, 16, 0)),
])
def test_times_of_day_as_tills_and_exports_write_them_are_read_not_dropped(text, expected):
    """Review of session 33's diff: these were still stored as midnight."""
    assert parse_timestamp(text) == expected


@pytest.mark.parametrize("text", ["12-03-2024 16:00 XYZ", "12-03-2024 garbage", "12-03-2024 13:00 PM"])
def test_anything_after_a_date_that_is_no_time_of_day_is_refused_not_read_as_midnight(text):
    with pytest.raises(ValueError):
        parse_timestamp(text)
