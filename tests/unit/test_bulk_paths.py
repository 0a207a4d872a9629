"""The bulk paths of ingest, standardisation and prepare give exactly what the row-by-row functions give.

Each fast path (a vectorised date check, a memo per distinct value, one phone spelling per number,
people counted per distinct value) is checked against the plain function it stands in for, on
tricky values and on values hypothesis makes up.
"""

import datetime as dt

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from identity.row_checks import birth_date_of, identities_ok, timestamp_or_empty
from identity.link import SHARED_COLUMNS, count_people, prepare
from identity.plain_csv import decimals, holds, iso_timestamps, number_or_empty, timestamp_given
from identity.phones import _read_phone
from identity.standardise import (
    STANDARD_COLUMNS, _phone_spelling, parse_date, parse_timestamp, standardise_columns,
    standardise_record,
)

TRICKY_TIMES = [
    "2023-02-28T10:00:00", "2023-02-30T10:00:00", "2024-02-29", "2023-02-29", "0000-01-01T00:00:00",
    "2023-13-01T00:00:00", "2023-00-10", "2023-01-01 10:00", "2023-01-01T10:00:60", "2023-01-01T24:00:00",
    "2023-01-01T23:59:59", "2023-01-01T10", "2023-01-01T10:00:00Z", "2023-01-01T10:00:00+01:00",
    "2023-01-01T10:00:00.5", "20230101", "01-02-2023", "31/12/1999", "", " 2023-01-01", "2023-1-1",
    "２０２３-01-01", "2023-01-01T10:00:00\n", "9999-12-31T23:59:59", "2023-W01-1", "2023-01-01X10:00",
]
times = st.one_of(st.sampled_from(TRICKY_TIMES),
                  st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2})?)?", fullmatch=True),
                  st.text(alphabet="0123456789-: TZ+./", max_size=22))


_parses = timestamp_or_empty   # parse_timestamp reads it, row by row


@settings(max_examples=200, deadline=None)
@given(st.lists(times, max_size=30))
def test_the_iso_fast_path_passes_only_timestamps_and_changes_no_answer(values):
    column = pa.chunked_array([pa.array(values, pa.large_string())])
    surely = iso_timestamps(column).to_pylist()
    assert all(timestamp_given(v) and _parses(v) for v, sure in zip(values, surely) if sure)
    assert holds(column, timestamp_given, surely=iso_timestamps).to_pylist() == [timestamp_given(v) for v in values]


def test_impossible_dates_in_iso_form_are_not_passed():
    column = pa.array(["2023-02-30T10:00:00", "2023-02-28T10:00:00", "2023-04-31", "2023-02-28T24:00:00"],
                      pa.large_string())
    assert iso_timestamps(column).to_pylist() == [False, True, False, False]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.text(alphabet="0123456789.,-e ", max_size=8), st.sampled_from(["", "1,5", "1.", ".5"])),
                max_size=20))
def test_the_decimal_fast_path_changes_no_answer(values):
    column = pa.array(values, pa.large_string())
    assert all(number_or_empty(v) for v, sure in zip(values, decimals(column).to_pylist()) if sure)
    assert holds(column, number_or_empty, surely=decimals).to_pylist() == [number_or_empty(v) for v in values]


def _identity_ok(birth: str, updated: str) -> bool:
    try:
        birth_date_of(birth)          # read, and not still to come
        parse_timestamp(updated)
        return True
    except ValueError:
        return False


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.one_of(times, st.sampled_from(["14-10-1968", "30-02-1968", "1968/10/14", "19681014"])),
                          times), max_size=20))
def test_identity_dates_are_checked_as_row_by_row(rows):
    columns = {"birth_date": [b for b, _ in rows], "updated_at": [u for _, u in rows]}
    assert identities_ok(columns) == [_identity_ok(b, u) for b, u in rows]


PHONES = ["06 1234 5678", "06-12345678", "+31612345678", "0031 6 12345678", "+31 (0)6 12345678", "(010) 546 88 44",
          "0 031612345678", "0612345678 12#", "061234567", "06123456789", "+44 7911 123456", "0191 234567",
          "06 0000 0000", "0123456789", "+31 0 612345678", "12", "1 2", "- 0612345678", "0612345678-", "+316",
          "020-1234567", "+32 470 12 34 56", "06 12 34 56 78 x12", "0800-1234", "+800 1234 5678"]


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.sampled_from(PHONES), st.from_regex(r"\+?[0-9 \-]{0,16}", fullmatch=True),
                 st.text(alphabet="0123456789 -+()", max_size=18)))
def test_one_spelling_per_phone_number_reads_as_the_text(text):
    assert _read_phone(_phone_spelling(text), "NL")[0] == _read_phone(text, "NL")[0]


RAW = ["source", "record_id", "first_name", "last_name", "birth_date", "email", "phone", "street", "house_number",
       "postcode", "city", "loyalty_card", "updated_at"]
field = st.one_of(st.just(""), st.sampled_from(["Jan", "van der Berg", "Berg, van der", "Dhr. J. de Vries", "ANNA",
                                                "jan@example.nl", " Jan@Example.NL ", "06 1234 5678", "+31612345678",
                                                "Dorpsstraat 12a", "12 a", "1234 ab", "NL-1234AB", "'s-Gravenhage",
                                                "1234 5678-9", "Sint-Jansstraat"]),
                st.text(max_size=12))
dates = st.sampled_from(["", "14-10-1968", "1968-10-14", "2022-06-08T14:15:57", "2022-06-08 14:15"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.fixed_dictionaries({**{c: field for c in RAW if c not in ("birth_date", "updated_at")},
                                       "birth_date": dates, "updated_at": dates}), max_size=12))
def test_standardising_by_column_gives_what_standardising_by_row_gives(rows):
    expected = [standardise_record(row) for row in rows]
    memo: dict = {}
    for _ in range(2):   # a second call answers from the memo
        columns = standardise_columns({c: [row[c] for row in rows] for c in RAW}, memo)
        assert list(columns) == list(STANDARD_COLUMNS)
        assert [dict(zip(columns, values)) for values in zip(*columns.values())] == expected


def _prepared_row_by_row(frame: pd.DataFrame) -> pd.DataFrame:
    """prepare's people counts as they were first written: one set of first names per value, in Python."""
    out = frame.sort_values("unique_id", kind="stable").reset_index(drop=True)
    named = out[out["given_first"].notna()]
    for column in SHARED_COLUMNS:
        names_of: dict[str, set[str]] = {}
        for value, first in zip(named[column], named["given_first"]):
            if not pd.isna(value):
                names_of.setdefault(value, set()).add(first)
        counts = {value: count_people(sorted(names)) for value, names in names_of.items()}
        out[f"{column}_names"] = out[column].map(counts).fillna(0).astype("int64")
    return out


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([None, "jan", "johannes", "anna", "toos", "antonia", "piet"]),
                          *[st.sampled_from([None, "a", "b", "c"]) for _ in SHARED_COLUMNS]), max_size=25))
def test_people_per_shared_value_are_counted_as_row_by_row(rows):
    frame = pd.DataFrame({"unique_id": [f"pos:{i:03d}" for i in range(len(rows))][::-1],
                          "given_first": [r[0] for r in rows],
                          **{c: [r[1 + i] for r in rows] for i, c in enumerate(SHARED_COLUMNS)}})
    pd.testing.assert_frame_equal(prepare(None, frame), _prepared_row_by_row(frame))  # type: ignore[arg-type]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=6)), max_size=40),
       st.sets(st.text(max_size=6), max_size=20), st.booleans())
def test_isin_in_arrow_equals_pandas_isin(column, wanted, sliced):
    """bulk.isin (Arrow's is_in) gives exactly pandas' isin, missing values and a sliced column included."""
    from identity.bulk import frame_of, isin

    series = frame_of({"x": column}, ["x"])["x"]
    if sliced and len(series) > 2:
        series = series.iloc[1:-1]
    expected = series.isin(wanted)
    found = isin(series, wanted)
    assert found.dtype == bool
    assert found.tolist() == expected.tolist()
    assert found.index.equals(series.index)
    assert isin(pd.Series([1, 2, None]), {1}).tolist() == [True, False, False]


def test_an_emptied_frame_keeps_the_columns_and_types_and_none_of_the_memory():
    """bulk.emptied: no rows, the same columns and types, and the Arrow buffers of the frame are not kept alive
    (a slice of no rows would keep them)."""
    from identity.bulk import emptied, frame_of

    frame = frame_of({"s": ["a" * 1000] * 2000, "n": list(range(2000))}, ["s", "n"])
    before = pa.total_allocated_bytes()
    empty = emptied(frame)
    assert list(empty.columns) == ["s", "n"] and len(empty) == 0
    assert empty.dtypes.tolist() == frame.dtypes.tolist()
    del frame
    assert pa.total_allocated_bytes() <= before - 2_000_000    # the strings' two MB went with the frame
