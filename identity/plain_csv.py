"""Plain CSV files read with Arrow: the fast path for a drop's large, machine-written files.

Interactions and preferences run to hundreds of thousands of rows, written by export jobs without
quotes. For such a file Arrow's multi-threaded reader yields exactly the values (and line numbers)
the csv module would, and checks can run once per distinct value instead of once per row. Pure
functions over bytes and Arrow tables; :mod:`identity.ingest` decides what a failing row means.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from identity.standardise import parse_timestamp


NOT_UTF8 = re.compile("[\udc80-\udcff]")     # bytes that are not UTF-8, as surrogateescape keeps them
_NOT_ASCII = re.compile("[^\x00-\x7f]")
WINDOWS_1252 = "windows-1252"
MOSTLY = 10   # bytes that are not UTF-8 per UTF-8 character, from which a file is read as Windows-1252


def decode_csv(data: bytes) -> tuple[str, str]:
    """Return a CSV file's text and the encoding it was read in.

    UTF-8 (a byte-order mark dropped) where the file is UTF-8. Excel on Windows saves "CSV" in
    Windows-1252 (José, Müller as single bytes): a file whose bytes that are not UTF-8 outnumber its UTF-8
    characters ``MOSTLY`` to one, and which Windows-1252 decodes, is read so (a Windows-1252 file can hold
    a pair of bytes that happens to be UTF-8: "RENÉ’S" holds C9 92). Any other file is read as UTF-8 with
    the bytes that are not kept as surrogates (U+DC80-U+DCFF), for its damaged rows to be quarantined.
    """
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8-sig", errors="surrogateescape")
    broken = len(NOT_UTF8.findall(text))
    if broken > MOSTLY * (len(_NOT_ASCII.findall(text)) - broken):
        try:
            return data.decode("cp1252"), WINDOWS_1252
        except UnicodeDecodeError:    # 0x81, 0x8D, 0x8F, 0x90 and 0x9D are not Windows-1252
            pass
    return text, "utf-8"


def header_names(names: Sequence[str]) -> list[str]:
    """Return a CSV header's column names as the contract spells them: no surrounding whitespace, lower case."""
    return [h.strip().lower() for h in names]


def read_plain_csv(path: Path, delimiter: str = ",") -> pa.Table | None:
    """Return every column of a plain CSV file as Arrow strings, or None when it is not plain.

    Plain: UTF-8 without quotes, NUL bytes, blank lines (LF or CRLF) or lone carriage returns, each row as wide
    as the header, no value with surrounding whitespace and no header name twice. For such a file
    the csv module would read exactly these values (stripping changes nothing) and data row k is
    on line k + 2, so Arrow's multi-threaded reader can take the place of reading row by row.
    Everything else (the identity files with quoted names, a damaged file) is read row by row.
    """
    if path.suffix != ".csv":
        return None
    data = path.read_bytes()
    if b'"' in data or b"\x00" in data or b"\n\n" in data or b"\r\n\r\n" in data \
            or data.count(b"\r") != data.count(b"\r\n"):
        return None
    first, _, rest = data.partition(b"\n")
    if not rest or rest.startswith((b"\n", b"\r\n")):
        return None
    try:
        header = header_names(first.decode("utf-8-sig").removesuffix("\r").split(delimiter))
    except UnicodeDecodeError:
        return None
    if len(set(header)) != len(header):
        return None
    try:
        table = pa_csv.read_csv(
            pa.py_buffer(data),
            read_options=pa_csv.ReadOptions(column_names=header, skip_rows=1),
            parse_options=pa_csv.ParseOptions(delimiter=delimiter, quote_char=False, double_quote=False, escape_char=False,
                                              newlines_in_values=False, ignore_empty_lines=True),
            convert_options=pa_csv.ConvertOptions(column_types={h: pa.large_string() for h in header},
                                                  strings_can_be_null=False, quoted_strings_can_be_null=False,
                                                  null_values=[]),
        )
    except pa.ArrowInvalid:  # a row of another width, bytes that are not UTF-8
        return None
    # Arrow's whitespace includes all of Python's (str.strip), so no change here means none there.
    for name in header:
        column = table[name]
        if len(column) and not pc.all(pc.equal(column, pc.utf8_trim_whitespace(column))).as_py():
            return None
    return table


def holds(column: pa.ChunkedArray | pa.Array, test: Callable[[str], bool],
          surely: Callable[[pa.ChunkedArray | pa.Array], pa.ChunkedArray | pa.Array] | None = None,
          ) -> pa.ChunkedArray | pa.Array:
    """Return per value whether test holds, running test once per distinct value.

    ``surely`` (optional) marks, all at once, values for which test is known to hold (a fast
    path for the common form of a value, such as :func:`iso_timestamps`); test runs only on the rest.
    """
    if surely is None:
        rest, known = column, None
    else:
        known = surely(column)
        rest = pc.filter(column, pc.invert(known))
    good = [v for v in pc.unique(rest).to_pylist() if test(v)]
    found = pc.is_in(column, value_set=pa.array(good, pa.large_string()))
    return found if known is None else pc.or_(known, found)


# yyyy-mm-dd, optionally with a time of day to the second (hh:mm or hh:mm:ss, after a T or a space):
# the form drops write timestamps in. Python's datetime.fromisoformat reads every such text whose
# date is a calendar date (which iso_timestamps asks of each distinct date).
ISO_TIMESTAMP = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ](?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9])?)?$"


def iso_timestamps(column: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """Return per value True when it is an ISO date or timestamp as :func:`parse_timestamp` reads it; False: unknown.

    Vectorised: a pattern for the common form, and the calendar checked once per distinct date,
    so that "2023-02-30T10:00:00" is not passed. A value this does not pass may still be a
    timestamp in another notation; the caller checks those one by one.
    """
    shaped = pc.match_substring_regex(column, ISO_TIMESTAMP)
    days = pc.utf8_slice_codeunits(column, 0, 10)
    calendar = [day for day in pc.unique(pc.filter(days, shaped)).to_pylist() if _is_day(day)]
    return pc.and_(shaped, pc.is_in(days, value_set=pa.array(calendar, pa.large_string())))


def _is_day(text: str) -> bool:
    """Return True when a yyyy-mm-dd text is a calendar date."""
    try:
        dt.date.fromisoformat(text)
        return True
    except ValueError:
        return False


def timestamp_given(text: str) -> bool:
    """Return True when text is a timestamp (as the interaction check asks of occurred_at)."""
    try:
        dt.datetime.fromisoformat(text.replace("Z", "+00:00"))  # the common case, as parse_timestamp reads it
        return True
    except ValueError:
        pass
    try:
        return parse_timestamp(text) is not None
    except ValueError:
        return False


def number_or_empty(text: str) -> bool:
    """Return True when text is empty or a decimal with a point or a comma (not "nan" or "inf")."""
    try:
        return not text or math.isfinite(float(text.replace(",", ".")))
    except ValueError:
        return False


def number_at_most(text: str, limit: float) -> bool:
    """Return True when text is empty or a decimal (:func:`number_or_empty`) of at most ``limit`` either side of 0."""
    return number_or_empty(text) and (not text or abs(float(text.replace(",", "."))) <= limit)


def decimals(column: pa.ChunkedArray | pa.Array, digits: int = 6) -> pa.ChunkedArray | pa.Array:
    """Return per value True when it is empty or up to ``digits`` digits with one decimal point or comma
    (surely :func:`number_at_most` a limit of that many digits and more)."""
    return pc.match_substring_regex(column, rf"^(?:[0-9]{{1,{digits}}}(?:[.,][0-9]+)?)?$")


def arrow_frame(table: pa.Table, names: Sequence[str]) -> pd.DataFrame:
    """Return Arrow string columns as the frame pandas builds from the same values as Python strings."""
    if not table.num_rows:
        return pd.DataFrame([], columns=list(names))
    dtype = pd.Series(["x"]).dtype  # what pandas makes of a column of strings
    if isinstance(dtype, pd.StringDtype):
        return pd.DataFrame({c: pd.array(table[c].combine_chunks(), dtype=dtype) for c in names},
                            columns=list(names))
    return pd.DataFrame({c: table[c].to_pylist() for c in names}, columns=list(names))
