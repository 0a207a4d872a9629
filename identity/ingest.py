"""Read a drop directory: validate every row, accept it or quarantine it with a reason.

A drop holds identity files (``pos``, ``webshop``, ``app``, ``service``; CSV or Parquet),
``interactions.csv``, ``preferences.csv`` and, in test data only, ``truth.csv``. Every row read is
either accepted or quarantined, so ``read == accepted + quarantined`` holds per file. A file that
lacks required columns is not a bad row but a bad drop: :class:`DropError` stops the run before
anything is written.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from identity.standardise import parse_date, parse_timestamp

log = logging.getLogger(__name__)

CHANNELS: tuple[str, ...] = ("pos", "webshop", "app", "service")
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
INTERACTION_TYPES: frozenset[str] = frozenset({"purchase", "return", "view", "contact"})


_UNDECODABLE = re.compile("[\udc80-\udcff]")  # bytes that were not UTF-8, kept as surrogates


class DropError(Exception):
    """A drop that cannot be resolved at all (a missing directory, a file without required columns)."""


@dataclass(frozen=True)
class QuarantinedRow:
    """A row that was read but not accepted, with where it was and why."""

    file: str
    line: int
    reason: str
    raw: str


@dataclass
class FileCounts:
    """How many rows of one file were read, accepted and quarantined."""

    file: str
    read: int = 0
    accepted: int = 0
    quarantined: int = 0


@dataclass
class Drop:
    """The accepted contents of a drop, its quarantine and its counts."""

    records: pd.DataFrame          # identity rows: source, record_id, line and the raw columns
    interactions: pd.DataFrame
    preferences: pd.DataFrame
    truth: pd.DataFrame | None
    quarantine: list[QuarantinedRow] = field(default_factory=list)
    counts: list[FileCounts] = field(default_factory=list)
    ignored_files: list[str] = field(default_factory=list)


def _find(drop_dir: Path, stem: str) -> Path | None:
    """Return the CSV or Parquet file for a stem, preferring CSV."""
    for suffix in (".csv", ".parquet"):
        candidate = drop_dir / f"{stem}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def _rows(path: Path, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str] | None, str, str | None]]:
    """Yield (line, row or None, raw text, problem) for every data row of a CSV or Parquet file."""
    if path.suffix == ".parquet":
        frame = pd.read_parquet(path)
        missing = [c for c in required if c not in frame.columns]
        if missing:
            raise DropError(
                f"{path.name}: missing required column(s) {', '.join(missing)}; "
                f"expected the header {','.join(required)}"
            )
        frame = frame.astype("string").fillna("")
        for number, values in enumerate(frame[list(required)].itertuples(index=False), start=2):
            row = {c: str(v) for c, v in zip(required, values)}
            yield number, row, ",".join(row.values()), None
        return
    text = path.read_bytes().decode("utf-8-sig", errors="surrogateescape")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise DropError(f"{path.name}: the file is empty; expected the header {','.join(required)}") from None
    missing = [c for c in required if c not in header]
    if missing:
        raise DropError(
            f"{path.name}: missing required column(s) {', '.join(missing)}; "
            f"expected the header {','.join(required)}"
        )
    extra = [h for h in header if h not in required]
    if extra:
        log.info("%s: column(s) %s are not part of the contract and were ignored", path.name, ", ".join(extra))
    positions = [header.index(c) for c in required]
    line = reader.line_num
    for values in reader:
        start, line = line + 1, reader.line_num
        raw = ",".join(values)
        if not values or (len(values) == 1 and not values[0].strip()):
            continue  # blank line: nothing was read
        if len(values) != len(header):
            yield start, None, raw, f"has {len(values)} columns, the header has {len(header)}"
            continue
        if _UNDECODABLE.search(raw):
            yield start, None, raw.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="replace"), \
                "contains bytes that are not UTF-8; save the file as UTF-8"
            continue
        yield start, {c: values[p].strip() for c, p in zip(required, positions)}, raw, None


def _check_identity(row: dict[str, str], seen: set[str]) -> str | None:
    """Return why an identity row cannot be accepted, or None when it can."""
    record_id = row["record_id"]
    if not record_id:
        return "record_id is empty"
    if record_id in seen:
        return f"record_id '{record_id}' appears more than once; the first row was kept"
    try:
        parse_date(row["birth_date"])
    except ValueError as err:
        return f"birth_date {err}"
    try:
        parse_timestamp(row["updated_at"])
    except ValueError as err:
        return f"updated_at {err}"
    return None


def _check_interaction(row: dict[str, str], known: set[tuple[str, str]]) -> str | None:
    """Return why an interaction row cannot be accepted, or None when it can."""
    if row["source"] not in CHANNELS:
        return f"source '{row['source']}' is not one of {', '.join(CHANNELS)}"
    if (row["source"], row["record_id"]) not in known:
        return f"record_id '{row['record_id']}' is not an accepted record of {row['source']}"
    if row["type"] not in INTERACTION_TYPES:
        return f"type '{row['type']}' is not one of {', '.join(sorted(INTERACTION_TYPES))}"
    try:
        if parse_timestamp(row["occurred_at"]) is None:
            return "occurred_at is empty"
    except ValueError as err:
        return f"occurred_at {err}"
    for column in ("quantity", "amount_eur", "discount_eur"):
        if row[column]:
            try:
                float(row[column].replace(",", "."))
            except ValueError:
                return f"{column} '{row[column]}' is not a number"
    return None


def _check_preference(row: dict[str, str], known: set[tuple[str, str]]) -> str | None:
    """Return why a preference row cannot be accepted, or None when it can."""
    if row["source"] not in CHANNELS:
        return f"source '{row['source']}' is not one of {', '.join(CHANNELS)}"
    if (row["source"], row["record_id"]) not in known:
        return f"record_id '{row['record_id']}' is not an accepted record of {row['source']}"
    if not row["key"]:
        return "key is empty"
    try:
        if parse_timestamp(row["stated_at"]) is None:
            return "stated_at is empty"
    except ValueError as err:
        return f"stated_at {err}"
    return None


def read_drop(drop_dir: Path) -> Drop:
    """Return the validated contents of a drop directory; raise DropError when it cannot be read."""
    drop_dir = Path(drop_dir)
    if not drop_dir.is_dir():
        raise DropError(f"{drop_dir}: no such directory; give the folder that holds pos.csv, webshop.csv, ...")
    identity_files = {c: _find(drop_dir, c) for c in CHANNELS}
    if not any(identity_files.values()):
        raise DropError(
            f"{drop_dir}: no identity file found; expected one or more of "
            + ", ".join(f"{c}.csv" for c in CHANNELS)
        )
    known_names = {f"{stem}{suffix}" for stem in (*CHANNELS, "interactions", "preferences", "truth")
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
                          ("truth", TRUTH_COLUMNS)):
        path = _find(drop_dir, stem)
        if path:
            plan.append((stem, path, columns))
    for _, path, columns in plan:
        next(_rows(path, columns), None)

    quarantine: list[QuarantinedRow] = []
    counts: list[FileCounts] = []
    identity_rows: list[dict[str, str | int]] = []
    known: set[tuple[str, str]] = set()
    tables: dict[str, list[dict[str, str]]] = {"interactions": [], "preferences": [], "truth": []}
    for stem, path, columns in plan:
        count = FileCounts(file=path.name)
        seen: set[str] = set()
        for line, row, raw, problem in _rows(path, columns):
            count.read += 1
            if problem is None and row is not None:
                if stem in CHANNELS:
                    problem = _check_identity(row, seen)
                elif stem == "interactions":
                    problem = _check_interaction(row, known)
                elif stem == "preferences":
                    problem = _check_preference(row, known)
            if problem is not None or row is None:
                quarantine.append(QuarantinedRow(path.name, line, problem or "unreadable row", raw))
                count.quarantined += 1
                continue
            count.accepted += 1
            if stem in CHANNELS:
                seen.add(row["record_id"])
                known.add((stem, row["record_id"]))
                identity_rows.append({"source": stem, "line": line, **row})
            else:
                tables[stem].append(row)
        counts.append(count)
        log.info("%s: read %d, accepted %d, quarantined %d", path.name, count.read, count.accepted, count.quarantined)

    records = pd.DataFrame(identity_rows, columns=["source", "line", *IDENTITY_COLUMNS])
    return Drop(
        records=records,
        interactions=pd.DataFrame(tables["interactions"], columns=list(INTERACTION_COLUMNS)),
        preferences=pd.DataFrame(tables["preferences"], columns=list(PREFERENCE_COLUMNS)),
        truth=pd.DataFrame(tables["truth"], columns=list(TRUTH_COLUMNS)) if _find(drop_dir, "truth") else None,
        quarantine=quarantine,
        counts=counts,
        ignored_files=ignored,
    )


def write_quarantine(rows: list[QuarantinedRow], path: Path) -> None:
    """Write quarantined rows to a CSV file with file, line, reason and the raw row."""
    with Path(path).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "line", "reason", "raw"])
        for row in rows:
            writer.writerow([row.file, row.line, row.reason, row.raw])
