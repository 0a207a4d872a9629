"""Dates as a drop writes them: numbers in the contract's orders, or a month by its Dutch or English name.

A till or export writes ``yyyy-mm-dd``, ``dd-mm-yyyy`` or ``dd/mm/yyyy`` (and ``dd.mm.yyyy``,
``yyyy/mm/dd``, ``yyyymmdd``); a customer-service desk types ``12 maart 1985``, ``12 mrt. 1985`` or
``March 12, 1985``. A date no calendar has (``1985-02-31``) and anything else raise ValueError with
the reason, which ingest sets aside with the birth date, keeping its record (``identity.ingest``; its month-first
hint reads it), or with which it quarantines a row whose timestamp is no date.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

_MEMO = 100_000   # distinct date strings remembered: a drop's birth dates repeat across channels

_DATE_FORMATS = (
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"), ("y", "m", "d")),
    (re.compile(r"^(\d{1,2})-(\d{1,2})-(\d{4})$"), ("d", "m", "y")),
    (re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$"), ("d", "m", "y")),
    (re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$"), ("d", "m", "y")),
    (re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"), ("y", "m", "d")),
    (re.compile(r"^(\d{4})(\d{2})(\d{2})$"), ("y", "m", "d")),
)

# Month names and their usual abbreviations, Dutch and English (a leading part of the name, of at least three
# letters, is read as the month too: "sept", "febr").
MONTHS: dict[str, int] = {
    "januari": 1, "january": 1, "februari": 2, "february": 2, "maart": 3, "march": 3, "mrt": 3, "april": 4,
    "mei": 5, "may": 5, "juni": 6, "june": 6, "juli": 7, "july": 7, "augustus": 8, "august": 8,
    "september": 9, "oktober": 10, "october": 10, "november": 11, "december": 12,
}
_DAY_MONTH_YEAR = re.compile(r"^(\d{1,2})(?:e|st|nd|rd|th)?[\s.\-/]*([a-z]{3,})\.?[\s.\-/,]*(\d{4})$")
_MONTH_DAY_YEAR = re.compile(r"^([a-z]{3,})\.?\s*(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})$")


def month_number(name: str) -> int | None:
    """Return the month a Dutch or English month name (or its leading three letters or more) names, or None."""
    if name in MONTHS:
        return MONTHS[name]
    found = {number for full, number in MONTHS.items() if len(name) >= 3 and full.startswith(name)}
    return found.pop() if len(found) == 1 else None


def _named_month(value: str) -> tuple[int, int, int] | None:
    """Return (year, month, day) of a date written with its month's name, or None when it is not one."""
    lowered = value.lower()
    match = _DAY_MONTH_YEAR.match(lowered)
    if match:
        day, name, year = match.groups()
    else:
        match = _MONTH_DAY_YEAR.match(lowered)
        if not match:
            return None
        name, day, year = match.groups()
    month = month_number(name)
    return (int(year), month, int(day)) if month else None


@lru_cache(maxsize=_MEMO, typed=True)
def parse_date(text: str | None) -> dt.date | None:
    """Return the date written as yyyy-mm-dd, dd-mm-yyyy or dd/mm/yyyy (or with its month's name); raise
    ValueError if not a date."""
    if text is None:
        return None
    value = str(text).strip()
    if not value:
        return None
    named = _named_month(value) if any(ch.isalpha() for ch in value) else None
    if named:
        parts = dict(zip(("y", "m", "d"), named))
    else:
        value = value.split("T")[0].split(" ")[0]
        for pattern, order in _DATE_FORMATS:
            match = pattern.match(value)
            if match:
                parts = dict(zip(order, (int(g) for g in match.groups())))
                break
        else:
            raise ValueError(f"'{text}' is not a date (expected yyyy-mm-dd, dd-mm-yyyy or dd/mm/yyyy)")
    try:
        return dt.date(parts["y"], parts["m"], parts["d"])
    except ValueError:
        raise ValueError(f"'{text}' is not a calendar date") from None


# A time of day after a date in another notation: "12-03-2024 16:00", "12/03/2024 14:05:33", "12 maart 2025 9:30",
# "12.03.2024 16.00", "12-03-2024 4:00 PM", perhaps with an offset ("+01:00", "+01", "Z") or a zone's name (CET).
_TIME_OF_DAY = re.compile(
    r"^(?P<day>.*\d)(?:T|\s+)(?P<h>\d{1,2})[:.](?P<m>\d{2})(?:[:.](?P<s>\d{2})(?:[.,](?P<f>\d{1,6})\d*)?)?"
    r"\s*(?P<half>[ap]\.?m\.?)?\s*(?P<zone>Z|[+-]\d{2}(?::?\d{2})?|[a-z]{3,4})?$", re.IGNORECASE)
# Zones a till or export may name (a shop in the Netherlands or Belgium, or a server's clock).
_ZONES: dict[str, dt.timezone] = {
    "utc": dt.timezone.utc, "gmt": dt.timezone.utc, "z": dt.timezone.utc, "wet": dt.timezone.utc,
    "cet": dt.timezone(dt.timedelta(hours=1)), "mez": dt.timezone(dt.timedelta(hours=1)),
    "cest": dt.timezone(dt.timedelta(hours=2)), "mesz": dt.timezone(dt.timedelta(hours=2)),
    "west": dt.timezone(dt.timedelta(hours=1)),
}


def parse_timestamp(text: str | None) -> dt.datetime | None:
    """Return an ISO timestamp or date as a naive datetime (one with an offset in UTC); raise ValueError if not one.

    A date in another notation the ingest reads may carry a time of day ("12-03-2024 16:00"): it is kept, not read
    as midnight."""
    if text is None:
        return None
    value = str(text).strip()
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        parsed = _date_and_time(value)
    # with an offset: the same instant in UTC, as the API's stamps are (11:00+02:00 is 09:00)
    return parsed.astimezone(dt.timezone.utc).replace(tzinfo=None) if parsed and parsed.tzinfo else parsed


def _date_and_time(value: str) -> dt.datetime | None:
    """Return a date in a notation parse_date reads, with the time of day written after it if any; raise ValueError
    for anything after the date that is no time of day (it would be read as midnight)."""
    timed = _TIME_OF_DAY.match(value)
    if not timed:
        day = parse_date(value)
        numeric = not any(ch.isalpha() for ch in value) or _named_month(value) is None
        if day is not None and numeric and value.split("T")[0].split(" ")[0] != value:
            raise ValueError(f"'{value}' has a time of day herken cannot read (write 16:00, 16:00:00 or 4:00 PM)")
        return dt.datetime(day.year, day.month, day.day) if day else None
    try:
        day = parse_date(timed["day"])
    except ValueError as err:          # said of the whole value, as the row holds it
        raise ValueError(str(err).replace(f"'{timed['day']}'", f"'{value}'", 1)) from None
    if day is None:
        return None
    zone, half, hour = timed["zone"], (timed["half"] or "").lower()[:1], int(timed["h"])
    try:
        if half:                      # 12:30 AM is half past midnight, 12:30 PM half past noon
            if not 1 <= hour <= 12:
                raise ValueError(hour)
            hour = hour % 12 + (12 if half == "p" else 0)
        clock = dt.time(hour, int(timed["m"]), int(timed["s"] or 0), int((timed["f"] or "0").ljust(6, "0")))
        if zone is None:
            tz = None
        elif zone.lower() in _ZONES:
            tz = _ZONES[zone.lower()]
        elif zone[0] in "+-":
            tz = dt.datetime.strptime(zone.replace(":", "").ljust(5, "0"), "%z").tzinfo
        else:
            raise ValueError(zone)
    except ValueError:
        raise ValueError(f"'{value}' has no time of day a clock shows") from None
    return dt.datetime.combine(day, clock, tz)
