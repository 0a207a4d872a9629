"""Read a drop directory: validate every row, accept it or quarantine it with a reason.

A drop holds identity files (``pos``, ``webshop``, ``app``, ``service``; CSV or Parquet),
``interactions.csv``, ``preferences.csv``, optionally the retailer's category taxonomy
``categories.csv`` (``identity.categories``) and, in test data only, ``truth.csv``. Every row read is
either accepted or quarantined, so ``read == accepted + quarantined`` holds per file. A file that
lacks required columns is not a bad row but a bad drop: :class:`DropError` stops the run before
anything is written.

A birth date no calendar has (``1862-81-01``, ``31-02-1990``) is a typing slip in one field of a customer
who is otherwise well described: the row is accepted without it, and the value is *set aside* with its
reason (``Drop.set_aside``, the run's ``set_aside.csv``), so the customer is still recognised by name,
e-mail, phone and address. Quarantining the whole row lost such customers: 2,904 of Splink's
historical_50k records (persons F1 0.8166 on all its rows, 0.8754 on those accepted).

Two readers give the same rows, lines and reasons: a plain CSV (no quotes, no blank lines; the
interactions of a drop, hundreds of thousands of rows) is read by Arrow and checked once per
distinct value; every other file is read with the csv module and checked row by row.
"""

from __future__ import annotations

import csv
import io
import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from identity.bulk import frame_of, paused_gc
from identity.categories import (
    CATEGORY_COLUMNS, check_category_row, normalise_taxonomy, taxonomy_frame, unplaced_categories,
)
from identity.plain_csv import NOT_UTF8, WINDOWS_1252, arrow_frame, decode_csv, header_names, read_plain_csv
from identity.progress import NO_PROGRESS, Progress
from identity.row_checks import (  # CHANNELS: the rest of herken reads it from here
    CHANNELS, ROW_CHECKS, birth_date_aside, by_channel, check_identity, identities_ok, passes,
)
from identity.stamps import iso_stamps

log = logging.getLogger(__name__)

IDENTITY_COLUMNS: tuple[str, ...] = (
    "record_id", "first_name", "last_name", "birth_date", "email", "phone", "street",
    "house_number", "postcode", "city", "loyalty_card", "updated_at",
)
INTERACTION_COLUMNS: tuple[str, ...] = (
    "source", "record_id", "type", "occurred_at", "sku", "category", "size", "quantity",
    "amount_eur", "discount_eur", "store_id", "delivery_method",
)
PREFERENCE_COLUMNS: tuple[str, ...] = ("source", "record_id", "key", "value", "stated_at")
TRUTH_COLUMNS: tuple[str, ...] = ("source", "record_id", "person_id", "household_id")
DELETION_COLUMNS: tuple[str, ...] = ("source", "record_id")   # deletions.csv: records to delete (delta drops)




class DropError(Exception):
    """A drop that cannot be resolved at all (a missing directory, a file without required columns)."""


@dataclass(frozen=True)
class QuarantinedRow:
    """A row that was read but not accepted, with where it was and why."""

    file: str
    line: int
    reason: str
    raw: str
    # the row's values by column where the row had the header's shape: what an erasure's tombstones are checked
    # against (``identity.erasure.withhold_erased``); never written anywhere
    values: tuple[tuple[str, str], ...] | None = field(default=None, compare=False, repr=False)


@dataclass
class FileCounts:
    """How many rows of one file were read, accepted and quarantined, and how many accepted ones had a value set aside."""

    file: str
    read: int = 0
    accepted: int = 0
    quarantined: int = 0
    set_aside: int = 0


WITHHELD = "(withheld)"   # the raw text of a quarantined row whose content must not stay (a deleted or erased record)


@dataclass
class Drop:
    """The accepted contents of a drop, its quarantine and its counts."""

    records: pd.DataFrame          # identity rows: source, record_id, line and the raw columns
    interactions: pd.DataFrame
    preferences: pd.DataFrame
    truth: pd.DataFrame | None
    quarantine: list[QuarantinedRow] = field(default_factory=list)
    counts: list[FileCounts] = field(default_factory=list)
    # accepted identity rows whose birth date is no date, read as missing: the row as received and why
    set_aside: list[QuarantinedRow] = field(default_factory=list)
    ignored_files: list[str] = field(default_factory=list)
    # The category taxonomy: the accepted rows of categories.csv, or the built-in defaults without it.
    categories: pd.DataFrame = field(default_factory=taxonomy_frame)
    categories_given: bool = False
    # Categories of the interactions that the taxonomy does not name, with their interaction counts.
    unplaced_categories: list[tuple[str, int]] = field(default_factory=list)
    # deletions.csv: the records to delete (source, record_id), each known to the store or the drop.
    deletions: pd.DataFrame = field(default_factory=lambda: pd.DataFrame([], columns=list(DELETION_COLUMNS)))


def _find(drop_dir: Path, stem: str) -> Path | None:
    """Return the CSV or Parquet file for a stem; raise DropError when the drop holds both (which is current?), or
    names one that cannot be read (a link to a file no longer there, a file this user may not read, a folder):
    read as missing, a run would publish the drop without it (every purchase gone from every profile)."""
    named = [drop_dir / f"{stem}{suffix}" for suffix in (".csv", ".parquet")]
    for path in named:
        if path.is_symlink() and not path.exists():
            raise DropError(f"{path}: a link to {os.readlink(path)}, which is not there; put the file in the drop, or "
                            "take the link out to leave the file out")
        if path.exists() and not path.is_file():
            raise DropError(f"{path}: not a file")
        if path.is_file() and not os.access(path, os.R_OK):
            raise DropError(f"{path}: this user may not read it; give it read access")
    found = [path for path in named if path.is_file()]
    if len(found) > 1:
        raise DropError(f"{drop_dir}: both {stem}.csv and {stem}.parquet are in the drop; keep the one to read")
    return found[0] if found else None


@dataclass
class _Table:
    """The rows of one file: those of the right shape column by column, and those that were unreadable."""

    read: int                                  # rows read; blank lines are not rows
    lines: list[int]                           # the line each well-formed row starts on
    columns: dict[str, list[str]]              # required column -> its values in the well-formed rows
    raws: list[Sequence[str]]                  # the values as read of each well-formed row (for quarantine)
    unreadable: list[QuarantinedRow]           # rows with the wrong number of columns or undecodable bytes


def _missing_columns(path: Path, header: list[str], required: tuple[str, ...]) -> None:
    """Raise DropError when a header lacks required columns."""
    missing = [c for c in required if c not in header]
    if missing:
        raise DropError(
            f"{path.name}: missing required column(s) {', '.join(missing)}; "
            f"expected the header {','.join(required)}"
        )


# What separates a CSV file's values: a comma, or the semicolon a Dutch Excel writes (the comma being its decimal
# mark), or a tab; read off the header, the first that gives every required column.
DELIMITERS: tuple[str, ...] = (",", ";", "\t")


def check_header(path: Path, required: tuple[str, ...]) -> str:
    """Return the file's delimiter (a Parquet file: ","); raise DropError when the file is empty or lacks required
    columns. Reads no more than the header."""
    if path.suffix == ".parquet":
        try:
            names = pq.read_schema(path).names
        except (pa.ArrowException, OSError) as err:
            raise DropError(f"{path.name}: not a readable Parquet file ({err}); write it again, or give the "
                            "data as CSV") from None
        _missing_columns(path, header_names(names), required)
        _no_column_twice(path, header_names(names), required)
        return ","
    with path.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
        first = handle.readline()
    if not first:
        raise DropError(f"{path.name}: the file is empty; expected the header {','.join(required)}")
    headers = {d: header_names(next(csv.reader([first], delimiter=d))) for d in DELIMITERS}
    found = max(DELIMITERS, key=lambda d: len(set(required) & set(headers[d])))   # the first of the best
    _missing_columns(path, headers[found], required)
    _no_column_twice(path, headers[found], required)
    return found


def _no_column_twice(path: Path, header: list[str], required: tuple[str, ...]) -> None:
    """Raise DropError when a required column appears twice in a header: which of them holds the values?"""
    twice = sorted({c for c in required if header.count(c) > 1})
    if twice:
        raise DropError(f"{path.name}: column(s) {', '.join(twice)} appear more than once (names are read in "
                        "lower case); keep one of each")


_NUL_REASON = "contains a NUL character (shown as \\0), which no database keeps; remove it"


def _read_parquet(path: Path, required: tuple[str, ...]) -> _Table:
    """Return the rows of a Parquet file (every row has the right shape; values are not stripped)."""
    frame = pd.read_parquet(path)
    frame.columns = header_names([str(c) for c in frame.columns])
    twice = sorted({c for c in required if list(frame.columns).count(c) > 1})
    if twice:
        raise DropError(f"{path.name}: column(s) {', '.join(twice)} appear more than once (names are read in "
                        "lower case); keep one of each")
    _missing_columns(path, list(frame.columns), required)
    frame = frame[list(required)]
    for column in frame.columns:    # whole numbers with gaps are floats in pandas: 15.0 is house number 15
        values = frame[column]
        given = values.dropna() if pd.api.types.is_float_dtype(values) else None
        if given is not None and bool(((given % 1 == 0) & (given.abs() < 2 ** 53)).all()):    # exact as floats
            frame[column] = values.astype("Int64")
    frame = frame.astype("string").fillna("")
    rows = [tuple(str(v) for v in row) for row in frame.itertuples(index=False)]
    lines = list(range(2, len(rows) + 2))
    unreadable = [QuarantinedRow(path.name, line, _NUL_REASON, ",".join(row).replace("\x00", "\\0"))
                  for line, row in zip(lines, rows) if any("\x00" in v for v in row)]
    if unreadable:
        bad = {q.line for q in unreadable}
        kept = [(n, r) for n, r in zip(lines, rows) if n not in bad]
        lines, rows = [n for n, _ in kept], [r for _, r in kept]
    columns = {c: [row[i] for row in rows] for i, c in enumerate(required)}
    return _Table(len(rows) + len(unreadable), lines, columns, list(rows), unreadable)


# A field may be as long as a file holds (the csv module's default limit, 128 KiB, ends a read with a traceback).
csv.field_size_limit(2**31 - 1)


def _read_table(path: Path, required: tuple[str, ...], delimiter: str = ",") -> _Table:
    """Return the rows of a CSV or Parquet file; raise DropError when it lacks required columns.

    The CSV is parsed whole and handled column by column (a drop's interactions run to hundreds
    of thousands of rows); only rows that are not well formed are looked at one by one.
    """
    if path.suffix == ".parquet":
        return _read_parquet(path, required)
    text, encoding = decode_csv(path.read_bytes())
    if encoding == WINDOWS_1252:
        log.warning("%s is not UTF-8 but reads as Windows-1252, as Excel saves CSV on Windows: read so (save it as "
                    "UTF-8 to be sure of every character)", path.name)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = header_names(next(reader))
    except StopIteration:
        raise DropError(f"{path.name}: the file is empty; expected the header {','.join(required)}") from None
    _missing_columns(path, header, required)
    extra = [h for h in header if h not in required]
    if extra:
        log.info("%s: column(s) %s are not part of the contract and were ignored", path.name, ", ".join(extra))
    rows: list[list[str]] = []
    ends: list[int] = [reader.line_num]
    try:
        for values in reader:  # line_num is where each row ends; a quoted field may span lines
            rows.append(values)
            ends.append(reader.line_num)
    except csv.Error as err:
        raise DropError(f"{path.name} line {reader.line_num + 1}: not readable as CSV ({err}); nothing was "
                        "published: correct the file and run again") from None
    width, undecodable, nul = len(header), NOT_UTF8.search(text) is not None, "\x00" in text
    # A quote opened and never closed folds the lines after it into one field: those lines are read again one by one.
    folded = any(len(values) != width and ends[i + 1] - ends[i] > 1 for i, values in enumerate(rows))
    physical = io.StringIO(text, newline="").readlines() if folded else []
    del text
    keep: list[int] = []
    unreadable: list[QuarantinedRow] = []
    again: list[tuple[int, list[str]]] = []      # (line, values) of the lines of a folded row, read one by one
    read = 0
    for i, values in enumerate(rows):
        if folded and len(values) != width and ends[i + 1] - ends[i] > 1:
            start, end = ends[i] + 1, ends[i + 1]
            for line in range(start, end + 1):
                one = next(csv.reader([physical[line - 1]], delimiter=delimiter), [])
                if line == start:
                    read += 1
                    unreadable.append(QuarantinedRow(
                        path.name, line, f"a quote opened on this line is not closed (up to line {end}); the lines "
                        "after it were read one by one", delimiter.join(one)[:1000]))
                elif one and not (len(one) == 1 and not one[0].strip()):
                    again.append((line, one))
            continue
        if len(values) == width and not (undecodable and NOT_UTF8.search(",".join(values))) \
                and not (nul and "\x00" in "".join(values)):
            keep.append(i)
            read += 1
            continue
        if not values or (len(values) == 1 and not values[0].strip()):
            continue  # blank line: nothing was read
        read += 1
        raw, start = delimiter.join(values), ends[i] + 1
        if len(values) != width:
            unreadable.append(QuarantinedRow(path.name, start, f"has {len(values)} columns, the header has {width}", raw))
        elif nul and "\x00" in raw:
            unreadable.append(QuarantinedRow(path.name, start, _NUL_REASON, raw.replace("\x00", "\\0")))
        else:
            unreadable.append(QuarantinedRow(
                path.name, start, "contains bytes that are not UTF-8; save the file as UTF-8",
                raw.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="replace")))
    first_line = {i: ends[i] + 1 for i in keep}
    for line, values in again:
        read += 1
        if len(values) == width and not (nul and "\x00" in "".join(values)):
            first_line[len(rows)] = line
            keep.append(len(rows))
            rows.append(values)
        else:
            unreadable.append(QuarantinedRow(path.name, line, f"has {len(values)} columns, the header has {width}",
                                             delimiter.join(values)))
    if len(keep) < len(rows):
        rows = [rows[i] for i in keep]
    lines = [first_line[i] for i in keep]
    by_position = list(zip(*rows)) if rows else [() for _ in header]
    columns = {c: list(map(str.strip, by_position[header.index(c)])) for c in required}
    return _Table(read, lines, columns, rows, unreadable)


def _read_plain(stem: str, path: Path, table: pa.Table, required: tuple[str, ...],
                known: set[tuple[str, str]], known_ids: dict[str, pa.Array], delimiter: str = ",",
                ) -> tuple[pd.DataFrame, list[QuarantinedRow]]:
    """Return the accepted rows of a plain CSV file (see :func:`read_plain_csv`) and its quarantined rows.

    known_ids: the record_ids of known, channel by channel (:func:`by_channel`).
    """
    extra = [h for h in table.column_names if h not in required]
    if extra:
        log.info("%s: column(s) %s are not part of the contract and were ignored", path.name, ", ".join(extra))
    if stem not in ROW_CHECKS:  # truth: nothing to check
        return arrow_frame(table, required), []
    ok = passes(stem, table, known_ids)
    rejected: list[QuarantinedRow] = []
    if not ok.all():
        ok = ok.copy()
        failed = np.flatnonzero(~ok)
        for i, row in zip(failed, table.take(pa.array(failed)).to_pylist()):
            problem = ROW_CHECKS[stem]({c: row[c] for c in required}, known)
            if problem is None:
                ok[i] = True
            else:
                rejected.append(QuarantinedRow(path.name, int(i) + 2, problem, delimiter.join(row.values()),
                                               tuple(row.items())))
        table = table.filter(pa.array(ok))
    return arrow_frame(table, required), rejected


def read_drop(drop_dir: Path, progress: Progress = NO_PROGRESS, known: Iterable[tuple[str, str]] = ()) -> Drop:
    """Return the validated contents of a drop directory; raise DropError when it cannot be read.

    Progress hears of the step once every header is checked, in bytes, one file at a time.

    Args:
        known: (source, record_id) of records known already (a delta drop's store): interactions,
            preferences and deletions may name them as well as the drop's own records.
    """
    with paused_gc():
        return _read_drop(Path(drop_dir), progress, set(known))


def _read_drop(drop_dir: Path, progress: Progress, known: set[tuple[str, str]]) -> Drop:
    """Return the validated contents of a drop directory (see :func:`read_drop`)."""
    if not drop_dir.is_dir():
        raise DropError(f"{drop_dir}: no such directory; give the folder that holds pos.csv, webshop.csv, ...")
    identity_files = {c: _find(drop_dir, c) for c in CHANNELS}
    if not any(identity_files.values()) and not (known and any(_find(drop_dir, stem) for stem in
                                                              ("deletions", "interactions", "preferences"))):
        raise DropError(
            f"{drop_dir}: no identity file found; expected one or more of "
            + ", ".join(f"{c}.csv" for c in CHANNELS)
        )
    known_names = {f"{stem}{suffix}" for stem in (*CHANNELS, "interactions", "preferences", "categories", "truth",
                                                  "deletions")
                   for suffix in (".csv", ".parquet")}
    ignored = sorted(p.name for p in drop_dir.iterdir() if p.is_file() and p.name not in known_names)
    for name in ignored:
        log.warning("%s is not part of the drop contract and was ignored", name)

    # Validate every header before reading rows: a broken file stops the run before any work.
    plan: list[tuple[str, Path, tuple[str, ...]]] = []
    for channel, path in identity_files.items():
        if path:
            plan.append((channel, path, IDENTITY_COLUMNS))
    for stem, columns in (("interactions", INTERACTION_COLUMNS), ("preferences", PREFERENCE_COLUMNS),
                          ("categories", CATEGORY_COLUMNS), ("truth", TRUTH_COLUMNS),
                          ("deletions", DELETION_COLUMNS)):
        path = _find(drop_dir, stem)
        if path:
            plan.append((stem, path, columns))
    delimiters = {path: check_header(path, columns) for _, path, columns in plan}
    sizes = {path: path.stat().st_size for _, path, _ in plan}
    progress.step("reading the drop", total=sum(sizes.values()), unit="B")

    quarantine: list[QuarantinedRow] = []
    set_aside: list[QuarantinedRow] = []
    counts: list[FileCounts] = []
    identity: dict[str, list] = {c: [] for c in ("source", "line", *IDENTITY_COLUMNS)}
    tables: dict[str, pd.DataFrame] = {}
    known_ids: dict[str, pa.Array] | None = None
    for stem, path, columns in plan:
        delimiter = delimiters[path]
        plain = None if stem in CHANNELS or stem in ("categories", "deletions") else read_plain_csv(path, delimiter)
        if plain is not None:
            if known_ids is None:   # the identity files come first in the plan: known is complete now
                known_ids = by_channel(known)
            tables[stem], rejected = _read_plain(stem, path, plain, columns, known, known_ids, delimiter)
            quarantine.extend(rejected)
            count = FileCounts(file=path.name, read=plain.num_rows, accepted=len(tables[stem]),
                               quarantined=len(rejected))
            counts.append(count)
            log.info("%s: read %d, accepted %d, quarantined %d", path.name, count.read, count.accepted,
                     count.quarantined)
            progress.advance(sizes[path])
            continue
        table = _read_table(path, columns, delimiter)
        rejected: list[QuarantinedRow] = list(table.unreadable)
        aside: list[QuarantinedRow] = []
        accepted = _validate(stem, path.name, table, known, rejected, aside)
        if stem in CHANNELS:
            known.update((stem, record_id) for record_id in (table.columns["record_id"][i] for i in accepted))
        picked = _pick(table.columns, accepted, len(table.lines))
        if stem in CHANNELS:
            identity["source"].extend([stem] * len(accepted))
            identity["line"].extend(_pick({"line": table.lines}, accepted, len(table.lines))["line"])
            for c in IDENTITY_COLUMNS:
                identity[c].extend(picked[c])
        else:
            tables[stem] = _frame(picked, columns)
        rejected.sort(key=lambda q: q.line)
        quarantine.extend(rejected)
        set_aside.extend(aside)
        count = FileCounts(file=path.name, read=table.read, accepted=len(accepted), quarantined=len(rejected),
                           set_aside=len(aside))
        counts.append(count)
        log.info("%s: read %d, accepted %d, quarantined %d", path.name, count.read, count.accepted, count.quarantined)
        if aside:
            log.warning("%s: %d birth date(s) no calendar has (such as %r), set aside: their records are kept "
                        "without them", path.name, len(aside), aside[0].reason.split("'")[1])
        progress.advance(sizes[path])

    records = _frame(identity, ["source", "line", *IDENTITY_COLUMNS])
    records["updated_at"] = iso_stamps(records["updated_at"])
    for stem, column in (("interactions", "occurred_at"), ("preferences", "stated_at")):
        if stem in tables:
            tables[stem][column] = iso_stamps(tables[stem][column])
    deletions = tables.get("deletions", _frame(None, DELETION_COLUMNS))
    if len(deletions):
        files = {stem: path.name for stem, path, _ in plan}
        records = _leave_out_deleted(records, tables, deletions, files, quarantine, counts)
    interactions = tables.get("interactions", _frame(None, INTERACTION_COLUMNS))
    given = "categories" in tables
    categories = normalise_taxonomy(tables["categories"]) if given else taxonomy_frame()
    unplaced = unplaced_categories(interactions, categories)
    if unplaced:
        log.info("%s does not place %d categories (counted as other): %s",
                 "categories.csv" if given else "the built-in taxonomy", len(unplaced),
                 ", ".join(f"{c} ({n:,} interactions)" for c, n in unplaced))
    return Drop(
        records=records,
        interactions=interactions,
        preferences=tables.get("preferences", _frame(None, PREFERENCE_COLUMNS)),
        truth=tables["truth"] if "truth" in tables else None,
        quarantine=quarantine,
        counts=counts,
        set_aside=set_aside,
        ignored_files=ignored,
        categories=categories,
        categories_given=given,
        unplaced_categories=unplaced,
        deletions=deletions,
    )


def _leave_out_deleted(records: pd.DataFrame, tables: dict[str, pd.DataFrame], deletions: pd.DataFrame,
                       files: dict[str, str], quarantine: list[QuarantinedRow], counts: list[FileCounts]) -> pd.DataFrame:
    """Quarantine the rows of a drop that its own deletions.csv deletes: records it both holds and deletes, and
    interactions and preferences of deleted records (kept, they would belong to no record); return the records
    without them. Nothing of their rows is kept (``WITHHELD``): a deletion may be a person's request. Changes
    tables, quarantine and counts in place."""
    gone = set(zip(deletions["source"], deletions["record_id"]))
    moved: dict[str, int] = {}

    def deleted(frame: pd.DataFrame) -> np.ndarray:
        return np.fromiter((k in gone for k in zip(frame["source"], frame["record_id"])), bool, len(frame))

    hit = deleted(records)
    for row in records[hit].itertuples(index=False):
        file = files.get(row.source, f"{row.source}.csv")
        quarantine.append(QuarantinedRow(file, int(row.line), "deleted by this drop's deletions.csv", WITHHELD))
        moved[file] = moved.get(file, 0) + 1
    for stem in ("interactions", "preferences"):
        frame = tables.get(stem)
        if frame is None or not len(frame):
            continue
        theirs = deleted(frame)
        if theirs.any():
            file = files[stem]
            quarantine.extend(QuarantinedRow(file, 0, f"record_id '{r.record_id}' of {r.source} is deleted by this "
                                             "drop's deletions.csv", WITHHELD)
                              for r in frame[theirs].itertuples(index=False))
            moved[file] = int(theirs.sum())
            tables[stem] = frame[~theirs].reset_index(drop=True)
    for i, count in enumerate(counts):
        n = moved.get(count.file, 0)
        if n:
            counts[i] = FileCounts(count.file, count.read, count.accepted - n, count.quarantined + n, count.set_aside)
    return records[~hit].reset_index(drop=True)


def _validate(stem: str, file: str, table: _Table, known: set[tuple[str, str]],
              rejected: list[QuarantinedRow], set_aside: list[QuarantinedRow] | None = None) -> list[int]:
    """Return the indices of the well-formed rows of a file that are accepted; add the others to rejected.

    An accepted identity row whose birth date is no date loses it (its column's value is emptied) and is
    added to set_aside, as received and with the reason.
    """
    columns, names = table.columns, list(table.columns)
    identity = stem in CHANNELS
    dates_ok = identities_ok(columns) if identity else []
    check = ROW_CHECKS.get(stem)
    accepted: list[int] = []
    seen: set[str] = set()
    for i in range(len(table.lines)):
        if identity:
            record_id = columns["record_id"][i]
            if dates_ok[i] and record_id and record_id not in seen:  # the common case, without a row dict
                seen.add(record_id)
                accepted.append(i)
                continue
            row = {c: columns[c][i] for c in names}
            problem = check_identity(row, seen)
        else:
            row = {c: columns[c][i] for c in names}
            if stem == "categories":
                problem = check_category_row(row, seen)
            else:
                problem = check(row, known) if check else None
        if problem is not None:
            rejected.append(QuarantinedRow(file, table.lines[i], problem, ",".join(table.raws[i]), tuple(row.items())))
            continue
        if identity:
            aside = birth_date_aside(row["birth_date"])
            if aside is not None:
                if set_aside is not None:
                    set_aside.append(QuarantinedRow(file, table.lines[i], aside, ",".join(table.raws[i]),
                                                    tuple(row.items())))
                columns["birth_date"][i] = ""
        if identity or stem == "categories":
            seen.add(row["record_id" if identity else "category"])
        accepted.append(i)
    return accepted


def _pick(columns: dict[str, list], rows: list[int], total: int) -> dict[str, list]:
    """Return the columns restricted to the given row indices (the same lists when all are given)."""
    if len(rows) == total:
        return columns
    return {c: [values[i] for i in rows] for c, values in columns.items()}


def _frame(columns: dict[str, list] | None, names: Sequence[str]) -> pd.DataFrame:
    """Return a frame of the given columns, or an empty one with those column names."""
    if not columns or not len(next(iter(columns.values()))):
        return pd.DataFrame([], columns=list(names))
    return frame_of(columns, names)
