"""Remembered preferences, as pure rules: which statement is current, what a household shares.

Preferences hang on source records, never on a customer_id: a re-resolution that regroups records
takes their preferences along. Per key the latest ``stated_at`` wins (on a tie, the one stored
last); the channel it was stated in and the time are kept. A household shares the keys in
HOUSEHOLD_KEYS (the latest statement of any member wins) and the pets any member stated or any
member's purchases show. No database and no gRPC here: ``profile_api.profiles`` reads the rows and
``profile_api.live`` keeps the served profiles current.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from identity.standardise import parse_timestamp

__all__ = ["PreferenceValue", "HouseholdMember", "HouseholdSummary", "StatedPreference", "HOUSEHOLD_KEYS", "PET_KEY",
           "iso_stamp", "merge_preferences", "shared_preferences", "household_summary", "preferences_by_member"]

HOUSEHOLD_KEYS: tuple[str, ...] = ("delivery_method", "delivery_slot")
PET_KEY = "pet"


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
    """Return the current preferences: per key the latest stated_at wins (a tie: the one stored last), by key."""
    latest: dict[str, tuple[str, int, StatedPreference]] = {}
    for row in stated:
        rank = (iso_stamp(row.stated_at), row.seq, row)
        current = latest.get(row.key)
        if current is None or rank[:2] > current[:2]:
            latest[row.key] = rank
    return [PreferenceValue(row.key, row.value, row.source, stamp) for stamp, _, row in
            (latest[key] for key in sorted(latest))]


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
    "pets": [...], "delivery": ...}; the members may be left out, as for a live part, which lists none)
    and its members' current preferences."""
    shared = shared_preferences(members)
    stated_pets = {p.value.strip().lower() for prefs in members.values() for p in prefs if p.key == PET_KEY}
    delivery = next((p.value for p in shared if p.key == "delivery_method"), doc.get("delivery"))
    return HouseholdSummary(
        household_id=household_id,
        members=[HouseholdMember(cid, name) for cid, name in doc.get("members", ())],
        pets=sorted(set(doc.get("pets") or ()) | stated_pets),
        delivery_preference=delivery,
        shared_preferences=shared,
    )


def preferences_by_member(rows: Iterable[tuple]) -> dict[str, list[PreferenceValue]]:
    """Return each member's current preferences from (customer_id, key, value, source, stated_at, seq) rows."""
    stated: dict[str, list[StatedPreference]] = {}
    for customer_id, key, value, source, stated_at, seq in rows:
        stated.setdefault(customer_id, []).append(StatedPreference(key, value, source, stated_at, seq))
    return {customer_id: merge_preferences(rows) for customer_id, rows in stated.items()}
