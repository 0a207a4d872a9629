"""Consent statements in the store: recorded on a record of the person (as preferences are), and each
person's consent as it stands kept in their profile row (``profile.consent``), so that a profile is
still read in one row. A publish and a rebuild of households bring the column up to date for the
persons they write (``refresh_consent``), as customer IDs may change between runs."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection

from sqlalchemy import bindparam, insert, inspect, text
from sqlalchemy.engine import Connection

from profile_api.consent import Statement, state_json, state_of
from profile_api.store.models import ConsentStatement

_STATEMENTS = """
SELECT l.customer_id, c.purpose, c.granted, c.channel, c.stated_at, c.id
FROM consent c JOIN record_link l ON l.source = c.source AND l.record_id = c.record_id"""
_OF_PERSON = text(_STATEMENTS + " WHERE l.customer_id = :id")
_IN_HOUSEHOLDS = text(_STATEMENTS + " WHERE l.household_id IN :households").bindparams(
    bindparam("households", expanding=True))
_WRITE = text("UPDATE profile SET consent = :consent WHERE customer_id = :customer_id")


def record_consent(conn: Connection, customer_id: str, record: tuple[str, str], entries: list[tuple[str, bool]],
                   *, channel: str, token_id: str | None, stated_at: dt.datetime) -> dict[str, Statement]:
    """Store a person's statements on one of their records and update their profile's consent; return
    their consent as it now stands ({purpose: (granted, channel, stated_at)})."""
    conn.execute(insert(ConsentStatement.__table__), [
        {"source": record[0], "record_id": record[1], "purpose": purpose, "granted": granted,
         "stated_at": stated_at, "channel": channel, "token_id": token_id} for purpose, granted in entries])
    state = state_of(tuple(row[1:]) for row in conn.execute(_OF_PERSON, {"id": customer_id}))
    conn.execute(_WRITE, {"customer_id": customer_id, "consent": state_json(state)})
    return state


def refresh_consent(conn: Connection, households: Collection[str] | None = None) -> int:
    """Write the consent column of every profile with a statement (in these households; all when None).

    Profiles are written with no consent; only those with statements need a value. Returns how many.
    A store being migrated from before schema 9 has no consent table yet: nothing to write.
    """
    if not inspect(conn).has_table("consent"):
        return 0
    if households is None:
        rows = conn.execute(text(_STATEMENTS))
    elif not households:
        return 0
    else:
        rows = conn.execute(_IN_HOUSEHOLDS, {"households": sorted(households)})
    by_person: dict[str, list[tuple]] = defaultdict(list)
    for customer_id, *statement in rows:
        by_person[customer_id].append(tuple(statement))
    if by_person:
        conn.execute(_WRITE, [{"customer_id": customer_id, "consent": state_json(state_of(statements))}
                              for customer_id, statements in by_person.items()])
    return len(by_person)
