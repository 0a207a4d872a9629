"""Whose rows are whose: a person's records and what identifies them, read from the store (``read_person``), and
whether a quarantined row is theirs (``Person.holds``). Read by the erasure (``profile_api.store.erase``), which
deletes what is theirs, and the export (``profile_api.store.export``), which shows it."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection

from identity.erasure import name_birth_key
from identity.ingest import CHANNELS, IDENTITY_COLUMNS
from identity.nicknames import canonical_given_name


def person_records(conn: Connection, customer_id: str) -> list[tuple[str, str]]:
    """Return (source, record_id) of the person's records, sorted."""
    rows = conn.execute(text("SELECT source, record_id FROM record_link WHERE customer_id = :c "
                             "ORDER BY source, record_id"), {"c": customer_id}).all()
    return [(source, record_id) for source, record_id in rows]


def rows_in(conn: Connection, sql: str, **params: object) -> list[tuple]:
    """Return the rows of SQL, a list or set parameter bound as an IN list."""
    statement = text(sql)
    for name, value in params.items():
        if isinstance(value, (list, tuple, set, frozenset)):
            statement = statement.bindparams(bindparam(name, expanding=True))
    return [tuple(row) for row in conn.execute(statement, params)]


_STD = ("std_email", "std_phone", "std_loyalty_card")
_KIND_OF = {"std_email": "email", "std_phone": "phone", "std_loyalty_card": "loyalty_card"}
_RAW_OF = {"std_email": "email", "std_phone": "phone", "std_loyalty_card": "loyalty_card"}


@dataclass
class Person:
    """The person's records and what identifies them, read before anything is deleted."""

    customer_id: str
    household_id: str
    keys: list[tuple[str, str]]
    records: pd.DataFrame
    own: dict[str, set[str]]            # kind -> standardised values no other person uses
    own_raw: set[str]                   # the raw forms of those values
    name_keys: set[str]                 # name-and-birth-date keys no other person has
    names: list[tuple[str, str]]        # (raw first name, raw last name) of their records
    own_surnames: set[str]              # surnames (raw and standard) no other person has

    @property
    def uids(self) -> list[str]:
        return [f"{s}:{r}" for s, r in self.keys]

    def needles(self) -> set[str]:
        """Return the lower-case texts that mark a row or file as theirs."""
        found = {v.lower() for values in self.own.values() for v in values} | {v.lower() for v in self.own_raw}
        return {n for n in found if len(n) >= 5}

    def holds(self, file_stem: str, raw: str) -> bool:
        """Return True when a quarantined row (its file's stem, its raw text) is theirs."""
        low = raw.lower()
        values = _RAW_FIELDS.split(raw)   # a row keeps its file's separator (identity.ingest.DELIMITERS)
        fields = {value.strip() for value in values}
        # their record_id, in a file of its channel or beside its source (interactions, preferences, deletions), in
        # whatever order the file's columns come
        if any(record_id in fields and (source == file_stem or source in fields) for source, record_id in self.keys):
            return True
        if any(n in low for n in self.needles()) and not self._someone_else(file_stem, values):
            return True
        lowered = {value.lower() for value in fields}
        return any(given.lower() in lowered and surname.lower() in lowered for given, surname in self.names)


    def _someone_else(self, file_stem: str, values: list[str]) -> bool:
        """Return True when a channel's row in the contract's column order names a first name none of their records
        goes by: a housemate's row with the family's card or e-mail is not theirs (as ``Tombstones.hit`` reads it)."""
        if file_stem not in CHANNELS or len(values) != len(IDENTITY_COLUMNS):
            return False
        given = values[IDENTITY_COLUMNS.index("first_name")].strip()
        if not given:
            return False
        theirs = {form for name, _ in self.names for form in (name.lower(), canonical_given_name(name.lower()) or "")}
        return not ({given.lower(), canonical_given_name(given.lower()) or ""} - {""}) & theirs


_RAW_FIELDS = re.compile(r"[,;\t]")


def read_person(conn: Connection, customer_id: str) -> Person:
    """Return the person's records and their own identifiers."""
    household = conn.execute(text("SELECT household_id FROM person WHERE customer_id = :c"),
                             {"c": customer_id}).scalar()
    keys = person_records(conn, customer_id)
    rows = []
    for source in sorted({s for s, _ in keys}):
        rows += rows_in(conn, "SELECT source, record_id, first_name, last_name, email, phone, loyalty_card, "
                          "std_given, std_surname, std_birth_date, std_email, std_phone, std_loyalty_card "
                          "FROM source_record WHERE source = :s AND record_id IN :ids",
                    s=source, ids=[r for s, r in keys if s == source])
    records = pd.DataFrame(rows, columns=["source", "record_id", "first_name", "last_name", "email", "phone",
                                          "loyalty_card", "std_given", "std_surname", "std_birth_date", "std_email",
                                          "std_phone", "std_loyalty_card"]).astype(object)
    own: dict[str, set[str]] = {}
    own_raw: set[str] = set()
    for column in _STD:
        values = sorted({v for v in records[column] if isinstance(v, str) and v})
        if not values:
            continue
        shared = {row[0] for row in rows_in(conn, f"""SELECT DISTINCT r.{column} FROM source_record r
            JOIN record_link l ON l.source = r.source AND l.record_id = r.record_id
            WHERE r.{column} IN :v AND l.customer_id <> :c""", v=values, c=customer_id)}
        mine = set(values) - shared
        own[_KIND_OF[column]] = mine
        own_raw |= {raw for raw, std in zip(records[_RAW_OF[column]], records[column])
                    if std in mine and isinstance(raw, str) and raw.strip()}
    name_keys = set()
    for given, surname, birth in zip(records["std_given"], records["std_surname"], records["std_birth_date"]):
        key = name_birth_key(given, surname, birth)
        if key is None:
            continue
        others = rows_in(conn, """SELECT 1 FROM source_record r
            JOIN record_link l ON l.source = r.source AND l.record_id = r.record_id
            WHERE r.std_given = :g AND r.std_surname = :s AND r.std_birth_date = :b AND l.customer_id <> :c LIMIT 1""",
                     g=given, s=surname, b=birth, c=customer_id)
        if not others:
            name_keys.add(key)
    surnames = sorted({v for v in records["std_surname"] if isinstance(v, str) and v})
    shared_surnames = {row[0] for row in rows_in(conn, """SELECT DISTINCT r.std_surname FROM source_record r
        JOIN record_link l ON l.source = r.source AND l.record_id = r.record_id
        WHERE r.std_surname IN :v AND l.customer_id <> :c""", v=surnames, c=customer_id)} if surnames else set()
    own_surnames = {s for s in surnames if s not in shared_surnames}
    own_surnames |= {raw.strip() for raw, std in zip(records["last_name"], records["std_surname"])
                     if std in own_surnames and isinstance(raw, str) and raw.strip()}
    names = [(g.strip(), s.strip()) for g, s in zip(records["first_name"], records["last_name"])
             if isinstance(g, str) and isinstance(s, str) and g.strip() and s.strip()]
    return Person(customer_id, household, keys, records, own, own_raw, name_keys, names, own_surnames)


