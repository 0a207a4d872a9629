"""Identifiers a drop holds for far more people than share one at home: placeholders, read as missing.

A till that asks for a loyalty card gets the shop's own card for customers without one; a web form
that insists on an e-mail address gets "geen@email.nl"; a service desk types the branch's number in
the phone field. Such a value says nothing of who the customer is, yet the model weighs it as what
the records say: one record of a person with the default card and another with their own card
disagree on the card, and its block pairs every till customer who got it with every other.
Measured on our 100k drop (seed 7) with the default card on 3% of the till records and one e-mail
address on 3% of the webshop records: persons F1 0.9629 -> 0.9594 (the same records with the
values blanked: 0.9622), so most of the loss is the disagreement, not the values lost.

Learnt from the drop in front of us, as the household caps are (:mod:`identity.household_caps`):
people are told apart as for placeholder birth dates (:mod:`identity.placeholders`: the first
letter of the first name and the first two of the surname; without a surname by the first name, so
one person's app accounts under a first name alone count once), and per kind of identifier the
values held by two people or more, and by three or more, give the most people one value of it may
hold (``HouseholdCaps.measure``). A value held by more people than that, and by at least
``MIN_PEOPLE``, is read as missing: for the model, the rules,
the households and the profile alike. A family card, a family e-mail address or a household's
landline is held by a handful (the largest at 100k: 8 people by those keys) and is kept.

Likewise a till's name for a customer it does not know ("Klant Onbekend"): a first name and a surname
that stand together on most of the records of each, on the records of at least ``MIN_PEOPLE`` people
(distinct birth dates), are read as missing, and the record is a nameless one to the rules. Measured on
the 100k drop with "Klant Onbekend" on 3% of the till records: persons F1 0.9574 against 0.9613 with the
names left empty. The run keeps the values, so delta runs, real time and explanations read them the
same way.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from identity.household_caps import HouseholdCaps
from identity.placeholders import MIN_PEOPLE

# per identifier column of standardised records, the columns derived from it (read as missing with it)
IDENTIFIER_COLUMNS: dict[str, tuple[str, ...]] = {
    "email": ("email", "email_local", "email_domain", "email_domain_head", "email_year"),
    "mobile": ("mobile",), "landline": ("landline",), "loyalty_card": ("loyalty_card",),
}
# A till's name for a customer it does not know ("Klant Onbekend", "Test Test"): a first name and a surname that
# stand together on the records of many people and hardly ever apart. Its value: "given_first|surname_core".
FULL_NAME = "full_name"
NAME_COLUMNS: tuple[str, ...] = ("given", "given_first", "given_canonical", "initials", "initial", "particles",
                                 "surname_core", "surname_first", "surname_last")
# most of: the share of a first name's records that carry the surname, and of the surname's that carry the first name
TOGETHER = 0.5


def people_per_value(records: pd.DataFrame, column: str) -> pd.Series:
    """Return, per value of a column the records hold, how many people hold it: distinct first letter of the first
    name and first two of the surname; without a surname, distinct first names (one person's app accounts under a
    first name alone count once); a record with no name at all counts alone."""
    if column not in records:
        return pd.Series([], dtype="int64")
    held = records.loc[records[column].notna()]
    if held.empty:
        return pd.Series([], dtype="int64")
    given = held["given_first"] if "given_first" in held else pd.Series(None, index=held.index, dtype=object)
    surname = held["surname_core"] if "surname_core" in held else pd.Series(None, index=held.index, dtype=object)
    has_surname = surname.notna()
    keys = pd.DataFrame({"value": held[column], "given": given.where(~has_surname, None), "surname": surname})
    keys.loc[has_surname, "given"] = given[has_surname].str.slice(0, 1)
    keys.loc[has_surname, "surname"] = surname[has_surname].str.slice(0, 2)
    named = has_surname | given.notna()
    return (keys[named].drop_duplicates().groupby("value", sort=False).size()
            .add(keys[~named].groupby("value", sort=False).size(), fill_value=0).astype("int64"))


def placeholder_names(records: pd.DataFrame) -> dict[str, int]:
    """Return the full names ("given_first|surname_core") a till gives customers it does not know: held by at least
    MIN_PEOPLE people (distinct birth dates), the first name standing with that surname on most of its records and the
    surname with that first name on most of its; with the people holding each. A real name, however common, is shared
    with other surnames and first names ("jan" with every surname), and one person's records hold a date or two."""
    if not {"given_first", "surname_core", "birth_date"} <= set(records.columns):
        return {}
    named = records.loc[records["given_first"].notna() & records["surname_core"].notna(),
                        ["given_first", "surname_core", "birth_date"]]
    if named.empty:
        return {}
    people = named.groupby(["given_first", "surname_core"], sort=False)["birth_date"].nunique()
    many = people[people >= MIN_PEOPLE]
    if many.empty:
        return {}
    pairs = named.groupby(["given_first", "surname_core"], sort=False).size()
    given = named.groupby("given_first", sort=False).size()
    surname = named.groupby("surname_core", sort=False).size()
    found = {}
    for (first, last), held in many.items():
        together = int(pairs[(first, last)])
        if together >= TOGETHER * given[first] and together >= TOGETHER * surname[last]:
            found[f"{first}|{last}"] = int(held)
    return dict(sorted(found.items(), key=lambda kv: (-kv[1], kv[0])))


def full_names(records: pd.DataFrame) -> pd.Series:
    """Return each record's full name as FULL_NAME's values write it (missing without a first name or surname)."""
    return (records["given_first"] + "|" + records["surname_core"]).where(
        records["given_first"].notna() & records["surname_core"].notna(), None)


def placeholder_values(records: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Return, per identifier column, the values standardised records hold for more people than the drop shows one
    value of that kind held by (and for at least MIN_PEOPLE), with the people holding each, most held first; and
    under FULL_NAME, the names a till gives customers it does not know (``placeholder_names``)."""
    people = {column: people_per_value(records, column) for column in IDENTIFIER_COLUMNS if column in records}
    caps = HouseholdCaps.measure({column: (int((held >= 2).sum()), int((held >= 3).sum()))
                                  for column, held in people.items()})
    found: dict[str, dict[str, int]] = {}
    for column, held in people.items():
        line = max(MIN_PEOPLE, caps.of(column) + 1)
        over = held[held >= line].sort_values(ascending=False, kind="stable")
        if len(over):
            found[column] = {str(value): int(n) for value, n in over.items()}
    names = placeholder_names(records)
    if names:
        found[FULL_NAME] = names
    return found


def without_placeholder_values(records: pd.DataFrame, values: Mapping[str, Mapping[str, int]]) -> pd.DataFrame:
    """Return the records with the identifiers among ``values`` (per column) read as missing, with what derives
    from them (the frame itself when none is)."""
    hits = {column: records[column].isin(list(found)) for column, found in values.items()
            if found and column in records and column in IDENTIFIER_COLUMNS}
    if values.get(FULL_NAME) and {"given_first", "surname_core"} <= set(records.columns):
        hits[FULL_NAME] = full_names(records).isin(list(values[FULL_NAME]))
    if not any(hit.any() for hit in hits.values()):
        return records
    out = records.copy()
    for column, hit in hits.items():
        for derived in IDENTIFIER_COLUMNS.get(column, NAME_COLUMNS):
            if derived in out:
                out[derived] = out[derived].where(~hit, None)
    return out


def without_placeholders_in_row(row: dict[str, object], values: Mapping[str, Mapping[str, int]]) -> None:
    """Read one standardised record's placeholders as missing in place, as ``without_placeholder_values`` reads a
    frame's (real time: one record at a time)."""
    for column, found in values.items():
        if column in IDENTIFIER_COLUMNS and row.get(column) in found:
            row.update(dict.fromkeys(IDENTIFIER_COLUMNS[column]))
    names = values.get(FULL_NAME)
    if names and row.get("given_first") and row.get("surname_core") \
            and f"{row['given_first']}|{row['surname_core']}" in names:
        row.update(dict.fromkeys(NAME_COLUMNS))


def describe_values(values: Mapping[str, Mapping[str, int]], shown: int = 3) -> str:
    """Return the line the run's output and report carry: the values read as placeholders, per kind."""
    parts = []
    for column, found in values.items():
        listed = ", ".join(f"{value.replace('|', ' ') if column == FULL_NAME else value} ({held:,} people)"
                           for value, held in list(found.items())[:shown])
        more = f" and {len(found) - shown} more" if len(found) > shown else ""
        parts.append(f"{column.replace('_', ' ')}: {listed}{more}")
    count = sum(len(found) for found in values.values())
    return (f"placeholder identifiers: {count} value{'s' if count != 1 else ''} held by more people than share one "
            f"at home, read as missing: " + "; ".join(parts))
