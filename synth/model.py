"""The generator's model: addresses, households, persons, records, and weighted draws."""

from __future__ import annotations

import random
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date
from itertools import accumulate
from typing import Sequence


@dataclass(slots=True, eq=False)
class _Address:
    street: str
    number: int
    addition: str        # "", "A", "2", "hs", "bis", "II"
    postcode: str        # canonical "1234AB" or foreign digits
    city: str
    city_aliases: tuple[str, ...]
    country: str         # "NL", "BE", "DE"
    store: str


@dataclass(slots=True, eq=False)
class _Household:
    hid: str
    kind: str
    address: _Address
    old_address: _Address | None = None
    move_at: int = 0                 # seconds into the window; records before it are "old"
    landline: tuple[str, str] | None = None     # (country code, national significant number)
    old_landline: tuple[str, str] | None = None
    card: str = ""
    family_email: str = ""
    pet: str = ""                    # "", "dog", "cat", "both" (dog and cat), "bird", "rabbit"
    persons: list[_Person] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class _Person:
    pid: str
    household: _Household
    gender: str
    first: str
    alts: tuple[str, ...]            # roepnamen or spelling variants of the first name
    middles: tuple[str, ...]
    particle: str
    stem: str
    birth: date | None
    age: int
    partner: _Person | None = None
    child: bool = False              # a child of the household's parents
    double_surname: bool = False
    emails: list[str] = field(default_factory=list)
    mobile: tuple[str, str] | None = None
    card: str = ""
    size: int = 2                    # index into _LETTER_SIZES
    size_change: tuple[int, int] | None = None   # (at, new index)
    shoe: int = 40
    delivery: str = "home"
    delivery_change: tuple[int, str] | None = None
    slot: str = "evening"
    primary: bool = False
    records: list[_Record] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class _Record:
    channel: str
    person: _Person
    at: int                          # seconds into the window
    record_id: str = ""
    card: str = ""
    email: str = ""


def _pick(rng: random.Random, seq: Sequence):
    """rng.choice without its slow integer path; the float path is plenty for these sizes."""
    return seq[int(rng.random() * len(seq))]


def _below(rng: random.Random, a: int, b: int | None = None) -> int:
    """A random integer in [0, a) or, with two arguments, in [a, b)."""
    if b is None:
        return int(rng.random() * a)
    return a + int(rng.random() * (b - a))


def _randint(rng: random.Random, a: int, b: int) -> int:
    """A random integer in [a, b]."""
    return a + int(rng.random() * (b - a + 1))


class _Draw:
    """Weighted choice with cumulative weights computed once."""

    __slots__ = ("options", "cum", "total")

    def __init__(self, pairs: Sequence[tuple[object, float]]) -> None:
        self.options = [p[0] for p in pairs]
        self.cum = list(accumulate(p[1] for p in pairs))
        self.total = self.cum[-1]

    def __call__(self, rng: random.Random):
        return self.options[bisect_right(self.cum, rng.random() * self.total)]
