"""Timestamps a drop may carry: read in any notation the ingest accepts, none later than now, written as ISO text.

Pure (no I/O): the ingest checks each row's occurred_at and stated_at with ``stamp`` (``stamp_given`` and
``iso_not_future`` the same check per distinct value and all at once) and writes every accepted timestamp with
``iso_stamps`` before the run stores it, so that the profile's SQL reads each as the ingest did.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from identity.dates import parse_timestamp
from identity.plain_csv import ISO_TIMESTAMP, iso_timestamps

# A timestamp later than now by more than this is a typo (2099 for 2019) or a clock set wrong: it would outrank
# every true statement and move every profile's "as of" into the future. The grace is a day's time zones.
FUTURE_GRACE = dt.timedelta(days=1)


def _latest_allowed() -> dt.datetime:
    """Return the latest naive UTC timestamp a drop may carry now."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) + FUTURE_GRACE


def stamp(text: str) -> dt.datetime | None:
    """Return a timestamp as parse_timestamp reads it; raise ValueError for one after now (``FUTURE_GRACE``)."""
    read = parse_timestamp(text)
    if read is not None and read > _latest_allowed():
        raise ValueError(f"'{text}' is in the future")
    return read


def stamp_given(text: str) -> bool:
    """Return True when text is a timestamp no later than now (as the checks of occurred_at and stated_at ask)."""
    try:
        return stamp(text) is not None
    except ValueError:
        return False


def iso_not_future(column: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """Return per value True when it is an ISO timestamp no later than now (False: unknown; see holds)."""
    limit = _latest_allowed().isoformat(timespec="seconds")
    written = pc.replace_substring(column, " ", "T", max_replacements=1)     # "2026-12-08 23:59" as "…T23:59"
    return pc.and_(iso_timestamps(column), pc.less_equal(written, limit))


def iso_stamps(values: pd.Series) -> pd.Series:
    """Return accepted timestamps written as ISO text (yyyy-mm-ddThh:mm:ss, UTC where an offset was given).

    A drop may write "12 maart 2025", "01-10-2025" or "2025-06-01T11:00:00+02:00"; the profile's SQL reads ISO
    text. Values already ISO (the common case) are kept as they are; the rest are read once per distinct value.
    """
    text = values.astype("string")
    odd = text.notna() & (text != "") & ~text.str.match(ISO_TIMESTAMP).fillna(False)
    if not odd.any():
        return values
    written = {v: parse_timestamp(v).isoformat(timespec="seconds") for v in text[odd].unique()}  # type: ignore[union-attr]
    out = values.copy()
    out[odd] = text[odd].map(written)
    return out
