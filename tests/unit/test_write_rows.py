"""The store's writer turns frames into the driver's rows: missing values and empty strings become None,
every other value stays as it was (``profile_api.store.write._rows``)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from profile_api.store.write import _rows


def _by_value(frame: pd.DataFrame) -> list[tuple]:
    """The rows as the writer made them value by value before it went through Arrow."""
    columns = []
    for name in frame.columns:
        series = frame[name]
        columns.append([None if missing or value == "" else value
                        for value, missing in zip(series.tolist(), series.isna().tolist())])
    return list(zip(*columns))


def test_rows_of_every_kind_of_column() -> None:
    when = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.timezone.utc)
    frame = pd.DataFrame({
        "text": pd.Series(["a", "", None, "d"], dtype="str"),
        "objects": ["a", "", None, "é"],
        "number": [1.5, np.nan, 0.0, -2.25],
        "count": [1, 2, 3, 4],
        "flag": [True, None, False, True],
        "blob": [b"\x00\x01", b"", b"x", b"\xff"],
        "when": [when, when, None, when],
        "mixed": ["a", 1, None, 2.5],
        "nothing": [None, None, None, None],
    })
    rows = _rows(frame)
    assert rows == [
        ("a", "a", 1.5, 1, True, b"\x00\x01", when, "a", None),
        (None, None, None, 2, None, b"", when, 1, None),
        (None, None, 0.0, 3, False, b"x", None, None, None),
        ("d", "é", -2.25, 4, True, b"\xff", when, 2.5, None),
    ]
    assert rows == _by_value(frame)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.one_of(st.none(), st.text()), st.one_of(st.none(), st.floats(allow_nan=True)),
                          st.integers(-2**62, 2**62)), max_size=30))
def test_rows_as_value_by_value(values: list[tuple]) -> None:
    frame = pd.DataFrame(values, columns=["text", "number", "count"]).astype({"text": "str"})
    assert _rows(frame) == _by_value(frame)
