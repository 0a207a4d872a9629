"""Cannot-link rules: when two records are clearly not the same person. Pure functions.

A shared loyalty card, e-mail address, landline or address is household evidence, not proof of one
person. Clustering therefore refuses to join two groups of records when any record of one is
clearly incompatible with any record of the other: a different first name that is not a nickname,
initial or typo of it, or a different birth date that is not a typo or a day-month swap. This is
how a father and the son who carries his name, or twins, stay two customers.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

from identity.nicknames import are_name_variants, group_names, name_groups


@dataclass(frozen=True)
class NameAndBirth:
    """The fields a cannot-link rule looks at, taken from one standardised record."""

    given_first: str | None
    given: str | None
    initials: str | None
    surname_core: str | None
    birth_date: str | None  # ISO yyyy-mm-dd


def _typo(a: str, b: str) -> bool:
    """Return True when two names differ by what a typist does (one edit, or close spelling)."""
    distance = DamerauLevenshtein.distance(a, b)
    if distance <= 1 and min(len(a), len(b)) >= 3:
        return True
    return distance <= 2 and min(len(a), len(b)) >= 7 and JaroWinkler.similarity(a, b) >= 0.9


def _variant_typo(a: str, b: str) -> bool:
    """Return True when a is a typo of a known variant of b ("Tineje" of Tineke, for Christina)."""
    for group in name_groups(b):
        if any(_typo(a, variant) for variant in group_names(group)):
            return True
    return False


@lru_cache(maxsize=500_000)
def given_names_compatible(a_first: str, a_all: str, b_first: str, b_all: str) -> bool:
    """Return True when two given names may belong to one person.

    Compatible: equal, known variants (Hans, Johannes), a typo of either or of a known variant,
    one contained in the other (Max, Maximiliaan; Dini, Everdina), or a shared second given name.
    Unknown short forms are common, so only names that match none of these rule a pair out.
    """
    if a_first == b_first or are_name_variants(a_first, b_first) or _typo(a_first, b_first):
        return True
    short, long = sorted((a_first, b_first), key=len)
    if len(short) >= 3 and (short in long or _typo(short, long[-len(short):]) or _typo(short, long[:len(short)])):
        return True  # short forms are a name's head or tail: Dini for Everdina, Wil for Wilma
    if _variant_typo(a_first, b_first) or _variant_typo(b_first, a_first):
        return True
    a_words, b_words = set(a_all.split()), set(b_all.split())
    if len(a_words) > 1 or len(b_words) > 1:
        return bool(a_words & b_words)  # "Jan Peter" and "Peter": a second given name in use
    return False


def _name_initials(name: str) -> set[str]:
    """Return the letters a name may be abbreviated to: its own, and those of its formal names."""
    letters = {name[0]}
    for group in name_groups(name):
        letters.update(variant[0] for variant in group_names(group))
    return letters


def _initial_compatible(initials: str, other: NameAndBirth) -> bool:
    """Return True when written initials fit the other record's given names or initials.

    "P." fits "Nelly" because Nelly is short for Petronella, whose initial the till printed.
    """
    if other.given:
        return any(initials[0] in _name_initials(word) for word in other.given.split())
    if other.initials:
        return initials[0] == other.initials[0]
    return True


def _as_initials(a: NameAndBirth) -> NameAndBirth:
    """Return the record with a two-letter first name that is no known name read as initials ("ME")."""
    if a.given_first and len(a.given_first) == 2 and not name_groups(a.given_first) and a.given == a.given_first:
        return NameAndBirth(None, None, a.given_first, a.surname_core, a.birth_date)
    return a


def _names_compatible(a: NameAndBirth, b: NameAndBirth) -> bool:
    """Return True when the first names of two records do not rule out one person."""
    a, b = _as_initials(a), _as_initials(b)
    if a.given_first and b.given_first:
        return given_names_compatible(a.given_first, a.given or a.given_first,
                                      b.given_first, b.given or b.given_first)
    if a.initials and not a.given_first:
        return _initial_compatible(a.initials, b)
    if b.initials and not b.given_first:
        return _initial_compatible(b.initials, a)
    return True


def _swapped_compatible(a: NameAndBirth, b: NameAndBirth) -> bool:
    """Return True when a, read with first and last name swapped, fits b."""
    if not (a.surname_core and a.given_first):
        return False
    surname_fits = b.surname_core is None or a.given_first == b.surname_core or _typo(a.given_first, b.surname_core)
    return surname_fits and _names_compatible(_swapped(a), b)


def _swapped(a: NameAndBirth) -> NameAndBirth:
    """Return the record with its first and last name fields swapped (an agent's slip).

    An initial in the surname field ("Roukes, B.") becomes the initial of the first name.
    """
    core = a.surname_core or ""
    if len(core.replace(" ", "")) <= 2:
        return NameAndBirth(None, None, core.replace(" ", "") or None, a.given_first, a.birth_date)
    return NameAndBirth(core, core, core[0], a.given_first, a.birth_date)


@lru_cache(maxsize=500_000)
def birth_dates_compatible(a: str, b: str) -> bool:
    """Return True when two ISO birth dates are equal, one typo apart, or a day-month swap."""
    if a == b:
        return True
    da, db = a.replace("-", ""), b.replace("-", "")
    if DamerauLevenshtein.distance(da, db) <= 1:
        return True
    return da[:4] == db[:4] and da[4:6] == db[6:8] and da[6:8] == db[4:6]


def cannot_link_reason(a: NameAndBirth, b: NameAndBirth) -> str | None:
    """Return why two records cannot be one person, or None when nothing rules it out."""
    if a.birth_date and b.birth_date and not birth_dates_compatible(a.birth_date, b.birth_date):
        return f"different birth dates {a.birth_date} / {b.birth_date}"
    if not _names_compatible(a, b) and not _swapped_compatible(a, b) and not _swapped_compatible(b, a):
        return f"different first names {a.given_first or a.initials} / {b.given_first or b.initials}"
    return None
