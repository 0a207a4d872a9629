"""Keeping an erased person out: the salted keys of a tombstone, and a drop's records that carry one.

Pure: no file or database. The store keeps the salt and the hashes (``profile_api.store.erase``);
a run reads them and hands them in (``ResolveOptions.tombstones``). A record is the erased person's
when any of its keys hashes to a tombstone: its standardised e-mail, phone (mobile or landline),
loyalty card, name-and-birth-date (first name + surname core + birth date) or source:record_id.
Which of an erased person's keys become tombstones is the eraser's choice: only those no other
person holds, so that a family card or a shared e-mail does not keep the rest of a household out.

An e-mail address, phone or card may still be a household's after the erasure: a housemate who used
only the erased person's card so far brings it on a record of their own. Such an identifier keeps a
record out only when the record's first name is missing or is one the erased person went by (a form
of it: the name, its formal name, its initial). The erasure keeps a salted hash of each identifier
together with each such name (``identifier_name``), never of a name alone, and a mark that it did
(``identifier_named``): a later erasure of a housemate who took the identifier on adds their names to
it. A record ID, or a name with a birth date, keeps a record out whatever else it holds. An identifier
erased before these hashes were kept keeps out every record that carries it, as it did.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

import pandas as pd

from identity.ingest import CHANNELS, IDENTITY_COLUMNS, WITHHELD, Drop, FileCounts, QuarantinedRow
from identity.nicknames import canonical_given_name
from identity.placeholders import without_placeholders
from identity.standardise import standardise_record

ERASED_REASON = "erased person"
KINDS: tuple[str, ...] = ("email", "phone", "loyalty_card", "name_birth_date", "source_record")
SHARED_KINDS: frozenset[str] = frozenset({"email", "phone", "loyalty_card"})   # identifiers a household may share
NAMED = "identifier_named"   # the mark that an erasure kept the first names its person used an identifier under
BY_NAME = "identifier_name"  # an identifier with a first name its erased person went by


def key_hash(salt: str, kind: str, value: str) -> str:
    """Return the hex sha256 of a salted key (kind and value as ``record_keys`` gives them)."""
    return hashlib.sha256(f"{salt}\x1f{kind}\x1f{value}".encode()).hexdigest()


def _text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return None
    text = str(value).strip()
    return text or None


def record_keys(record: Mapping[str, object]) -> list[tuple[str, str]]:
    """Return (kind, value) of every key of a standardised record.

    The record holds the linkage's names (``identity.standardise.STANDARD_COLUMNS``: source,
    record_id, email, mobile, landline, loyalty_card, given_first, surname_core, birth_date).
    """
    keys: list[tuple[str, str]] = []
    source, record_id = _text(record.get("source")), _text(record.get("record_id"))
    if source and record_id:
        keys.append(("source_record", f"{source}:{record_id}"))
    for kind, columns in (("email", ("email",)), ("phone", ("mobile", "landline")), ("loyalty_card", ("loyalty_card",))):
        for column in columns:
            value = _text(record.get(column))
            if value:
                keys.append((kind, value))
    name_birth = name_birth_key(record.get("given_first"), record.get("surname_core"), record.get("birth_date"))
    if name_birth:
        keys.append(("name_birth_date", name_birth))
    return keys


def name_birth_key(given: object, surname: object, birth_date: object) -> str | None:
    """Return the name-and-birth-date key of standardised values, or None when one of them is missing."""
    parts = [_text(given), _text(surname), _text(birth_date)]
    return "|".join(parts) if all(parts) else None  # type: ignore[arg-type]


def identifier_name_keys(identifiers: Iterable[tuple[str, str]], givens: Iterable[object]) -> list[tuple[str, str]]:
    """Return the keys that tie an erased person's identifiers of a shared kind to the first names they went by:
    each (kind, value) marked as named, and with each form of each name (the name, its formal name
    (``identity.nicknames``), its initial)."""
    forms: set[str] = set()
    for given in givens:
        text = _text(given)
        if text:
            forms |= {text, canonical_given_name(text), text[0]}
    keys: list[tuple[str, str]] = []
    for kind, value in identifiers:
        if kind in SHARED_KINDS:
            keys.append(named_key(kind, value))
            keys += [_by_name(kind, value, form) for form in sorted(forms)]
    return keys


def named_key(kind: str, value: str) -> tuple[str, str]:
    """Return the key that marks an identifier as tied to the first names of the person erased with it."""
    return NAMED, f"{kind}|{value}"


def _by_name(kind: str, value: str, form: str) -> tuple[str, str]:
    """Return the key of an identifier together with one form of a first name."""
    return BY_NAME, f"{kind}|{value}|{form}"


def _record_given_forms(given: str) -> set[str]:
    """Return the forms of a record's first name looked up among an erased person's (not its initial: the
    initial of "johan" is no sign of "jan")."""
    return {given, canonical_given_name(given)}


def candidate_keys(record: Mapping[str, object]) -> list[tuple[str, str]]:
    """Return every key a record's tombstone check may look up: its own keys, and for each identifier of a shared
    kind its named mark and its pairs with the record's first name (for a store to fetch the hashes at once)."""
    keys = record_keys(record)
    given = _text(record.get("given_first"))
    for kind, value in list(keys):
        if kind in SHARED_KINDS:
            keys.append(named_key(kind, value))
            if given:
                keys += [_by_name(kind, value, form) for form in sorted(_record_given_forms(given))]
    return keys


@dataclass(frozen=True)
class Tombstones:
    """The store's salt and the hashes of erased persons' keys."""

    salt: str
    hashes: frozenset[str] = field(default_factory=frozenset)
    erasures: frozenset[str] = field(default_factory=frozenset)   # the erasures they come from (erasure_id)

    def __bool__(self) -> bool:
        return bool(self.hashes)

    def hit(self, record: Mapping[str, object]) -> bool:
        """Return True when a standardised record is an erased person's: a key of it is a tombstone, and for an
        identifier a household may share, its first name is missing or one the erased person went by (or the
        erasure kept no names with it)."""
        given = _text(record.get("given_first"))
        for kind, value in record_keys(record):
            if key_hash(self.salt, kind, value) not in self.hashes:
                continue
            if kind not in SHARED_KINDS or not given or not self._hashed(named_key(kind, value)):
                return True
            if any(self._hashed(_by_name(kind, value, form)) for form in _record_given_forms(given)):
                return True
        return False

    def _hashed(self, key: tuple[str, str]) -> bool:
        return key_hash(self.salt, *key) in self.hashes

    def holds(self, kind: str, value: str | None) -> bool:
        """Return True when a key (kind and value as ``record_keys`` gives them) is a tombstone."""
        return bool(value) and self._hashed((kind, value))  # type: ignore[arg-type]


def withhold_erased(rows: list[QuarantinedRow], tombstones: Tombstones | None,
                    placeholders: Collection[str] = ()) -> list[QuarantinedRow]:
    """Return quarantined or set-aside rows with those of erased persons withheld: file and line kept, the reason
    ERASED_REASON, nothing of the row (``WITHHELD``).

    Whose a row is: an identity row as its record would be (``Tombstones.hit`` on it standardised), an interaction
    or preference by the record it names; a row without the header's shape by any of its values that is an erased
    record, e-mail address, phone number or card (whatever first name it holds: such a row is refused anyway).
    Without this, a drop sent again after an erasure brought the person's name, birth date, e-mail and purchases back
    into the store's quarantine and the runs folder through its rows that were quarantined or set aside.
    """
    if not tombstones:
        return rows
    return [QuarantinedRow(row.file, row.line, ERASED_REASON, WITHHELD)
            if row.raw != WITHHELD and _erased_row(row, tombstones, frozenset(placeholders)) else row
            for row in rows]


def _erased_row(row: QuarantinedRow, tombstones: Tombstones, placeholders: frozenset[str]) -> bool:
    """Return True when a quarantined or set-aside row is an erased person's (``withhold_erased``)."""
    stem = row.file.rsplit(".", 1)[0]
    if row.values is not None:
        values = {name: _text(value) for name, value in row.values}
        if stem not in CHANNELS:
            return tombstones.holds("source_record", f"{values.get('source')}:{values.get('record_id')}")
        record = None
        # a quarantined or set-aside row may hold a birth date no standardiser reads: read it without; failing that,
        # its values one by one, below
        for birth_date in (values.get("birth_date"), None):
            try:
                record = standardise_record({"source": stem, **{c: values.get(c) for c in IDENTITY_COLUMNS},
                                             "birth_date": birth_date, "updated_at": None})
                break
            except ValueError:
                continue
        if record is not None:
            if record.get("birth_date") in placeholders:
                record["birth_date"] = None
            return tombstones.hit(record)
    cells = [cell for cell in (_text(c) for c in re.split(r"[,;\t]", row.raw)) if cell]
    pairs = [f"{a}:{b}" for a, b in zip(cells, cells[1:])] + ([f"{stem}:{c}" for c in cells] if stem in CHANNELS else [])
    if any(tombstones.holds("source_record", pair) for pair in pairs):
        return True
    for cell in cells:
        try:
            read = standardise_record({"source": stem, "record_id": "-", "email": cell, "phone": cell,
                                       "loyalty_card": cell})
        except ValueError:
            continue
        if any(tombstones.holds(kind, read.get(column)) for kind, column in
               (("email", "email"), ("phone", "mobile"), ("phone", "landline"), ("loyalty_card", "loyalty_card"))):
            return True
    return False


def erased_records(standardised: pd.DataFrame, tombstones: Tombstones | None,
                   placeholders: Collection[str] = ()) -> set[str]:
    """Return the unique_ids of the standardised records that carry a tombstone.

    placeholders: birth dates that are no one's (identity.placeholders): a name with one of them is no key, in
    the batch as in real time, where the record arrives with the date read as missing already.
    """
    if not tombstones or standardised.empty:
        return set()
    columns = [c for c in ("unique_id", "source", "record_id", "email", "mobile", "landline", "loyalty_card",
                           "given_first", "surname_core", "birth_date") if c in standardised.columns]
    if "birth_date" in standardised.columns:
        standardised = without_placeholders(standardised, placeholders)
    rows = standardised[columns].astype(object).where(standardised[columns].notna(), None)
    return {row["unique_id"] for row in rows.to_dict("records") if tombstones.hit(row)}


def keep_out(drop: Drop, standardised: pd.DataFrame, erased: set[str]) -> pd.DataFrame:
    """Quarantine the erased records of a drop, with their interactions and preferences; return the
    standardised records without them. Changes drop in place.

    A quarantined row keeps the file and line and the reason "erased person", and nothing of what
    the row held: the point is that nothing readable of the person stays.
    """
    if not erased:
        return standardised
    files = {c.file.rsplit(".", 1)[0]: c.file for c in drop.counts}
    keys = drop.records["source"] + ":" + drop.records["record_id"]
    gone = keys.isin(erased)
    rows = [QuarantinedRow(files.get(source, f"{source}.csv"), int(line), ERASED_REASON, WITHHELD)
            for source, line in zip(drop.records.loc[gone, "source"], drop.records.loc[gone, "line"])]
    moved = {f"{source}.csv": count for source, count in drop.records.loc[gone, "source"].value_counts().items()}
    drop.records = drop.records[~gone]
    for name in ("interactions", "preferences"):
        frame = getattr(drop, name)
        theirs = (frame["source"] + ":" + frame["record_id"]).isin(erased)
        rows.extend(QuarantinedRow(files.get(name, f"{name}.csv"), 0, ERASED_REASON, WITHHELD) for _ in range(int(theirs.sum())))
        if theirs.any():
            moved[f"{name}.csv"] = int(theirs.sum())
        setattr(drop, name, frame[~theirs])
    drop.quarantine = [q for q in drop.quarantine] + rows
    drop.counts = [_moved(c, moved) for c in drop.counts]
    return standardised[~standardised["unique_id"].isin(erased)].reset_index(drop=True)


def _moved(count: FileCounts, moved: Mapping[str, int]) -> FileCounts:
    """Return a file's counts with its rows of erased records counted as quarantined (matched on the stem)."""
    stem = count.file.rsplit(".", 1)[0]
    n = next((n for name, n in moved.items() if name.rsplit(".", 1)[0] == stem), 0)
    return FileCounts(count.file, count.read, count.accepted - n, count.quarantined + n)


def hashes_of(salt: str, keys: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Return {hash: kind} of keys under a salt."""
    return {key_hash(salt, kind, value): kind for kind, value in keys}
