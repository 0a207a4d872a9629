"""Why a row of a drop cannot be accepted: the checks of each file's rows, pure of reading files.

Row by row (``check_*``, for the rows that fail the fast check) and at once over a whole Arrow table (``passes``),
the same checks: an identity row's record_id and dates, an interaction's source, record, type, time and amounts, a
preference's key, value and time, a deletion's record.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from identity.plain_csv import decimals, holds, iso_timestamps, number_at_most, number_or_empty
from identity.stamps import iso_not_future, stamp, stamp_given
from identity.standardise import parse_date, parse_timestamp

CHANNELS: tuple[str, ...] = ("pos", "webshop", "app", "service")
INTERACTION_TYPES: frozenset[str] = frozenset({"purchase", "return", "view", "contact"})
# What a set-aside value's reason adds to the parser's word on it.
KEPT_WITHOUT = "the record is kept without it"

# The most one interaction row may hold: more is a slip (a card number in the quantity column), which would otherwise
# overflow the profile queries after the whole linkage has run. Decimals of up to 6 digits are surely within them.
LIMITS: dict[str, float] = {"quantity": 1_000_000, "amount_eur": 10_000_000, "discount_eur": 10_000_000}


def check_identity(row: dict[str, str], seen: set[str]) -> str | None:
    """Return why an identity row cannot be accepted, or None when it can."""
    record_id = row["record_id"]
    if not record_id:
        return "record_id is empty"
    if record_id in seen:
        return f"record_id '{record_id}' appears more than once; the first row was kept"
    try:
        parse_timestamp(row["updated_at"])
    except ValueError as err:
        return f"updated_at {err}"
    return None


def birth_date_aside(text: str) -> str | None:
    """Return why a birth date is set aside (no date, none the calendar has, or one still to come), or None when it
    is read."""
    try:
        birth_date_of(text)
    except ValueError as err:
        return f"birth_date {err}; {KEPT_WITHOUT}"
    return None


def birth_date_of(text: str) -> dt.date | None:
    """Return a birth date as parse_date reads it; raise ValueError for one after today (a typo: 2090 for 1990)."""
    born = parse_date(text)
    if born is not None and born > dt.date.today():
        raise ValueError(f"'{text}' is in the future")
    return born


def check_interaction(row: dict[str, str], known: set[tuple[str, str]]) -> str | None:
    """Return why an interaction row cannot be accepted, or None when it can."""
    if row["source"] not in CHANNELS:
        return f"source '{row['source']}' is not one of {', '.join(CHANNELS)}"
    if (row["source"], row["record_id"]) not in known:
        return f"record_id '{row['record_id']}' is not an accepted record of {row['source']}"
    if row["type"] not in INTERACTION_TYPES:
        return f"type '{row['type']}' is not one of {', '.join(sorted(INTERACTION_TYPES))}"
    try:
        if stamp(row["occurred_at"]) is None:
            return "occurred_at is empty"
    except ValueError as err:
        return f"occurred_at {err}"
    for column in ("quantity", "amount_eur", "discount_eur"):
        if row[column]:
            if not number_or_empty(row[column]):
                return f"{column} '{row[column]}' is not a number"
            if not number_at_most(row[column], LIMITS[column]):
                return (f"{column} '{row[column]}' is more than {LIMITS[column]:,} "
                        f"{'items' if column == 'quantity' else 'euro'} on one row: not a till's or a webshop's figure")
            if _negative(row[column]) and (column == "discount_eur" or row["type"] == "purchase"):
                return f"{column} '{row[column]}' is below zero" + (
                    "" if column == "discount_eur" else " on a purchase (a refund is a row of type return)")
    return None


def _negative(text: str) -> bool:
    """Return True when a number's text has a minus sign ('-5', ' -0,50')."""
    return text.strip().startswith("-")


def identities_ok(columns: dict[str, list[str]]) -> list[bool]:
    """Return, per identity row, True when its dates certainly pass :func:`check_identity`.

    The record_id is checked row by row in :func:`_validate`, which knows the ids seen so far.
    Vectorised: a birth date is checked once per distinct value, an updated_at in ISO form all at
    once (:func:`iso_timestamps`) and any other once per distinct value.
    """
    try:
        births = pa.array(columns["birth_date"], pa.large_string())
        updates = pa.array(columns["updated_at"], pa.large_string())
    except (pa.ArrowException, UnicodeError):   # a value Arrow cannot hold: check row by row
        return [_date_given(b) and timestamp_or_empty(u) for b, u in zip(columns["birth_date"], columns["updated_at"])]
    ok = pc.and_(holds(births, _date_given), holds(updates, timestamp_or_empty, surely=iso_timestamps))
    return ok.to_pylist()


def _reads(parse: Callable[[str], object]) -> Callable[[str], bool]:
    """Return a test of whether a parser reads a text (an empty text included) without ValueError."""
    def test(text: str) -> bool:
        try:
            parse(text)
            return True
        except ValueError:
            return False
    return test


_date_given = _reads(birth_date_of)               # parse_date reads it, and it is no later than today
timestamp_or_empty = _reads(parse_timestamp)   # parse_timestamp reads it


def check_preference(row: dict[str, str], known: set[tuple[str, str]]) -> str | None:
    """Return why a preference row cannot be accepted, or None when it can."""
    if row["source"] not in CHANNELS:
        return f"source '{row['source']}' is not one of {', '.join(CHANNELS)}"
    if (row["source"], row["record_id"]) not in known:
        return f"record_id '{row['record_id']}' is not an accepted record of {row['source']}"
    if not row["key"]:
        return "key is empty"
    if not row["value"]:
        return "value is empty"
    try:
        if stamp(row["stated_at"]) is None:
            return "stated_at is empty"
    except ValueError as err:
        return f"stated_at {err}"
    return None


def by_channel(known: set[tuple[str, str]]) -> dict[str, pa.Array]:
    """Return the known record_ids of each channel, as Arrow strings."""
    ids: dict[str, list[str]] = {channel: [] for channel in CHANNELS}
    for source, record_id in known:
        if source in ids:
            ids[source].append(record_id)
    return {channel: pa.array(values, pa.large_string()) for channel, values in ids.items()}


def passes(stem: str, table: pa.Table, known: dict[str, pa.Array]) -> np.ndarray:
    """Return per row of an interactions or preferences table whether all its checks pass.

    The same checks as :func:`check_interaction` and :func:`check_preference`, run on each
    distinct value rather than on each row (timestamps and amounts in their usual form all at
    once); only the rows that fail are looked at one by one.
    """
    ok = pa.chunked_array([pa.array(np.zeros(table.num_rows, dtype=bool))])
    for channel in CHANNELS:  # known pairs are (channel, record_id): the source is checked too
        ok = pc.or_(ok, pc.and_(pc.equal(table["source"], channel),
                                pc.is_in(table["record_id"], value_set=known[channel])))
    if stem == "interactions":
        ok = pc.and_(ok, pc.is_in(table["type"], value_set=pa.array(sorted(INTERACTION_TYPES), pa.large_string())))
        ok = pc.and_(ok, holds(table["occurred_at"], stamp_given, surely=iso_not_future))
        for column in ("quantity", "amount_eur", "discount_eur"):
            ok = pc.and_(ok, holds(table[column], lambda text, limit=LIMITS[column]: number_at_most(text, limit),
                                   surely=decimals))
            # a minus sign: the row is looked at one by one (a return's amount may be written negative)
            ok = pc.and_(ok, pc.invert(pc.starts_with(pc.utf8_trim_whitespace(table[column]), "-")))
    else:
        ok = pc.and_(ok, pc.not_equal(table["key"], ""))
        ok = pc.and_(ok, pc.not_equal(table["value"], ""))
        ok = pc.and_(ok, holds(table["stated_at"], stamp_given, surely=iso_not_future))
    return ok.to_numpy()


def check_deletion(row: dict[str, str], known: set[tuple[str, str]]) -> str | None:
    """Return why a deletions.csv row cannot be accepted, or None when it can."""
    if row["source"] not in CHANNELS:
        return f"source '{row['source']}' is not one of {', '.join(CHANNELS)}"
    if not row["record_id"]:
        return "record_id is empty"
    if (row["source"], row["record_id"]) not in known:
        return f"record_id '{row['record_id']}' is not a record of {row['source']} in the store or the drop"
    return None


ROW_CHECKS: dict[str, Callable[[dict[str, str], set[tuple[str, str]]], str | None]] = {
    "interactions": check_interaction, "preferences": check_preference, "deletions": check_deletion,
}
