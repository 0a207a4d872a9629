"""The live part of served profiles, kept current: what the stated preferences make of each profile.

A profile is served as two encoded parts (``profile_api.messages``): the part fixed for the run and
the live part (the person's preferences; the household's pets, delivery preference and shared
preferences). Both are kept in the person's ``profile`` row, so that a read is one row by its key.
Whatever writes preferences brings the live part of every member of the households concerned up
to date in its own transaction: ``UpdatePreferences`` (``ProfileStore.update_preferences``) and a
publish (``profile_api.store.write.write_profiles``), and later erasure; a change made to the
preference table by hand needs ``refresh_live`` afterwards.

Concurrent writers: on PostgreSQL a writer locks the household's profile rows before it reads the
preferences (so two updates in one household cannot each write a view without the other's
statement; this relies on READ COMMITTED, PostgreSQL's default, where each statement sees what
committed before it). A publish encodes the new run's live parts before its transaction, from the
drop's preferences and the API preferences stored then; inside the transaction it locks the
preference table against new statements and compares the API preferences again: a statement made
(or removed) in between makes it encode the live parts again from the store. A statement made
while the lock is held waits (at most ``ProfileStore``'s write wait) and then refreshes the new
run's rows. SQLite has one writer at a time.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection

from profile_api.messages import encode_household_live, encode_own_preferences
from profile_api.preferences import household_summary, preferences_by_member

__all__ = ["live_parts", "refresh_live", "stated_preferences", "lock_preferences", "api_preferences",
           "API_PREFERENCE_COLUMNS"]

API_PREFERENCE_COLUMNS = ("id", "source", "record_id", "key", "value", "said_in", "stated_at")
_API = text("SELECT id, source, record_id, key, value, coalesce(channel, source), stated_at "
            "FROM preference WHERE origin = 'api'")

_STATED = """
SELECT l.household_id, l.customer_id, p.key, p.value, coalesce(p.channel, p.source), p.stated_at, p.id
FROM preference p JOIN record_link l ON l.source = p.source AND l.record_id = p.record_id"""
_STATED_IN = text(_STATED + " WHERE l.household_id IN :households").bindparams(
    bindparam("households", expanding=True))
_HOUSEHOLDS_OF = text("SELECT DISTINCT household_id FROM record_link WHERE source = :source AND record_id = :record_id")
_PROFILES_IN = "SELECT customer_id, household_id, household_inferred FROM profile WHERE household_id IN :households " \
               "ORDER BY customer_id"
_WRITE = text("UPDATE profile SET encoded_live = :live WHERE customer_id = :customer_id")


def live_parts(profiles: Iterable[tuple[str, str, str]], stated: Iterable[tuple]) -> dict[str, bytes]:
    """Return the encoded live part of each profile.

    Args:
        profiles: (customer_id, household_id, household_inferred JSON of the profile row) of every profile
            wanted.
        stated: (household_id, customer_id, key, value, source, stated_at, seq) of every preference
            stated in those households (others are ignored); a household without any gets the live
            part of nothing stated.
    """
    by_household: dict[str, list[tuple]] = {}
    for household_id, *row in stated:
        by_household.setdefault(household_id, []).append(row)
    parts: dict[str, bytes] = {}
    households: dict[str, tuple[dict, bytes]] = {}    # the household's part is encoded once for all members
    for customer_id, household_id, inferred in profiles:
        if household_id not in households:
            members = preferences_by_member(by_household.get(household_id, ()))
            summary = household_summary(household_id, json.loads(inferred), members)
            households[household_id] = members, encode_household_live(summary)
        members, shared = households[household_id]
        own = members.get(customer_id)
        parts[customer_id] = (encode_own_preferences(own) if own else b"") + shared
    return parts


def stated_preferences(conn: Connection, households: Collection[str] | None = None) -> list[tuple]:
    """Return the rows ``live_parts`` takes for these households (every household when None)."""
    if households is None:
        return [tuple(row) for row in conn.execute(text(_STATED))]
    if not households:
        return []
    return [tuple(row) for row in conn.execute(_STATED_IN, {"households": sorted(households)})]


def api_preferences(conn: Connection) -> frozenset[tuple]:
    """Return the preferences stored through the API, whole (API_PREFERENCE_COLUMNS): a publish encodes from
    them before its transaction and compares them again inside it (an id alone may be reused)."""
    return frozenset(tuple(row) for row in conn.execute(_API))


def lock_preferences(conn: Connection) -> None:
    """Hold back new statements of preferences until conn's transaction ends (PostgreSQL; SQLite has one writer)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("LOCK TABLE preference IN SHARE MODE"))


def refresh_live(conn: Connection, households: Collection[str] = (),
                 records: Iterable[tuple[str, str]] = ()) -> int:
    """Bring the live part of every profile of these households up to date, on conn's transaction.

    Args:
        households: household_ids.
        records: (source, record_id) pairs: their households now (a preference hangs on a record;
            a record that is not in the published run has no profile to refresh).

    Returns:
        the number of profiles written.
    """
    wanted = set(households)
    for source, record_id in records:
        wanted.update(row[0] for row in conn.execute(_HOUSEHOLDS_OF, {"source": source, "record_id": record_id}))
    if not wanted:
        return 0
    lock = " FOR UPDATE" if conn.dialect.name == "postgresql" else ""
    profiles = [tuple(row) for row in conn.execute(
        text(_PROFILES_IN + lock).bindparams(bindparam("households", expanding=True)), {"households": sorted(wanted)})]
    parts = live_parts(profiles, stated_preferences(conn, wanted))
    if parts:
        conn.execute(_WRITE, [{"customer_id": customer_id, "live": live} for customer_id, live in parts.items()])
    return len(parts)
