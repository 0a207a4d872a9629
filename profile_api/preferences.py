"""Remembered preferences, as pure rules: which statement is current, what a household shares.

Preferences hang on source records, never on a customer_id: a re-resolution that regroups records
takes their preferences along. Per key the latest ``stated_at`` wins (on a tie, the one stored
last); the channel it was stated in and the time are kept. A household shares the keys in
HOUSEHOLD_KEYS (the latest statement of any member wins) and the pets any member stated or any
member's purchases show, but for those a later statement of no pets (``pet`` = ``none``) hides. No
database and no gRPC here: ``profile_api.profiles`` reads the rows and ``profile_api.live`` keeps the
served profiles current.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from identity.categories import PET_NAMES, pet_name
from identity.standardise import parse_timestamp

__all__ = ["PreferenceValue", "HouseholdMember", "HouseholdSummary", "StatedPreference", "HOUSEHOLD_KEYS", "PET_KEY",
           "NO_PETS", "PET_NAMES", "iso_stamp", "merge_preferences", "shared_preferences", "household_summary",
           "household_pets", "stated_pets", "pet_name", "preferences_by_member"]

HOUSEHOLD_KEYS: tuple[str, ...] = ("delivery_method", "delivery_slot")
PET_KEY = "pet"
# What a pet statement says to tell there are no pets (any case): it hides the pets known before it.
NO_PETS: frozenset[str] = frozenset({"none", "no", "no pets", "geen", "geen huisdieren", "nee", "-"})


@dataclass(frozen=True)
class PreferenceValue:
    """A remembered preference: its current value, the channel it was stated in and when."""

    key: str
    value: str
    source: str
    stated_at: str


@dataclass(frozen=True)
class HouseholdMember:
    """A person of a household."""

    customer_id: str
    display_name: str


@dataclass(frozen=True)
class HouseholdSummary:
    """A household: its members, pets, delivery preference and the preferences its members share."""

    household_id: str
    members: list[HouseholdMember]
    pets: list[str]
    delivery_preference: str | None
    shared_preferences: list[PreferenceValue]


class StatedPreference(NamedTuple):
    """A preference as stored: key, value, the channel it was stated in, when, and its storage order."""

    key: str
    value: str
    source: str
    stated_at: str
    seq: int


def iso_stamp(stamp: str) -> str:
    """Return a stored timestamp in ISO 8601 (seconds); stored drop values may use other notations."""
    if len(stamp) == 19 and stamp[4] == "-" and stamp[10] == "T":
        return stamp
    try:
        parsed = parse_timestamp(stamp)
    except ValueError:
        return stamp
    return parsed.isoformat(timespec="seconds") if parsed else stamp


def merge_preferences(stated: Iterable[StatedPreference]) -> list[PreferenceValue]:
    """Return the current preferences: per key (in any case: "Shoe_Size" is shoe_size) the latest stated_at wins
    (a tie: the one stored last), by key, in lower case."""
    latest: dict[str, tuple[str, int, StatedPreference]] = {}
    for row in stated:
        key = row.key.strip().lower()
        rank = (iso_stamp(row.stated_at), row.seq, row)
        current = latest.get(key)
        if current is None or rank[:2] > current[:2]:
            latest[key] = rank
    return [PreferenceValue(key, row.value, row.source, stamp) for key, (stamp, _, row) in
            ((key, latest[key]) for key in sorted(latest))]


def shared_preferences(members: dict[str, list[PreferenceValue]]) -> list[PreferenceValue]:
    """Return the household keys' latest values over all members' current preferences (a tie: the member
    whose customer_id sorts first)."""
    best: dict[str, PreferenceValue] = {}
    for customer_id in sorted(members):
        for pref in members[customer_id]:
            if pref.key in HOUSEHOLD_KEYS and (pref.key not in best or pref.stated_at > best[pref.key].stated_at):
                best[pref.key] = pref
    return [best[key] for key in sorted(best)]


def household_summary(household_id: str, doc: dict, members: dict[str, list[PreferenceValue]]) -> HouseholdSummary:
    """Return a household summary from its precomputed part ({"members": [[customer_id, display_name], ...],
    "pets": [...], "delivery": ..., "pets_last": {pet: last kept purchase}}; the members may be left out, as for a
    live part, which lists none) and its members' current preferences."""
    shared = shared_preferences(members)
    delivery = next((p.value for p in shared if p.key == "delivery_method"), doc.get("delivery"))
    return HouseholdSummary(
        household_id=household_id,
        members=[HouseholdMember(cid, name) for cid, name in doc.get("members", ())],
        pets=household_pets(doc.get("pets") or (), doc.get("pets_last") or {},
                            [p for prefs in members.values() for p in prefs if p.key == PET_KEY]),
        delivery_preference=delivery,
        shared_preferences=shared,
    )


def stated_pets(value: str) -> list[str] | None:
    """Return the animals a pet statement names ("dog", "hond, kat"), or None when it says the household has none."""
    animals = [a.strip().lower() for a in value.split(",") if a.strip()]
    return None if not animals or all(a in NO_PETS for a in animals) else [pet_name(a) for a in animals
                                                                            if a not in NO_PETS]


def household_pets(inferred: Iterable[str], last_kept: dict[str, str], stated: Iterable[PreferenceValue]) -> list[str]:
    """Return a household's pets: those its members' current pet statements name and its purchases show, but for
    what a statement of no pets by any member came after (a later statement or purchase shows a pet again).

    Args:
        inferred: the pets the household's kept pet-food purchases show.
        last_kept: each of those pets' last kept purchase (ISO text); a pet without one counts as bought before
            any statement.
        stated: the members' current statements of ``PET_KEY``.
    """
    stated = list(stated)
    none_at = max((p.stated_at for p in stated if stated_pets(p.value) is None), default=None)
    pets = {animal for p in stated if none_at is None or p.stated_at > none_at for animal in stated_pets(p.value) or ()}
    pets.update(pet_name(pet) for pet in inferred if none_at is None or iso_stamp(last_kept.get(pet) or "") > none_at)
    return sorted(pets)


def preferences_by_member(rows: Iterable[tuple]) -> dict[str, list[PreferenceValue]]:
    """Return each member's current preferences from (customer_id, key, value, source, stated_at, seq) rows."""
    stated: dict[str, list[StatedPreference]] = {}
    for customer_id, key, value, source, stated_at, seq in rows:
        stated.setdefault(customer_id, []).append(StatedPreference(key, value, source, stated_at, seq))
    return {customer_id: merge_preferences(rows) for customer_id, rows in stated.items()}
