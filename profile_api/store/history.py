"""The store's memory of IDs: what the published run assigned, identity events, and IDs no longer current.

``previous_ids`` reads what a new run carries IDs over from (``identity.lifecycle``); ``write_history``
records a run's events and aliases on the publishing transaction; ``read_events`` and ``alias_of``
answer ``herken events``, ListIdentityEvents and GetProfile by an ID that was merged away.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import func, inspect, select, text, update
from sqlalchemy.engine import Connection, Engine

from identity.lifecycle import CUSTOMER, Event, PreviousIds
from profile_api.store.models import IdAlias, IdentityEvent, IdentityEventCustomer
from profile_api.store.read import driver_rows
from profile_api.store.write import bulk_insert



@functools.lru_cache(maxsize=4096)     # a run's persons and households share few distinct times
def _utc(value: object) -> dt.datetime | None:
    """Return a stored time as an aware UTC datetime (SQLite gives text or naive values)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    assert isinstance(value, dt.datetime)
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def previous_ids(engine: Engine, links: pd.DataFrame | None = None) -> PreviousIds:
    """Return the IDs of the published run (empty for a store that holds none).

    links: the published run's record links (unique_id, customer_id, household_id) when the caller has
    read them already (an incremental run, ``herken.publish_delta.published_state``): record_link is
    then not read again.
    """
    previous = PreviousIds()
    with engine.connect() as conn:
        if not inspect(conn).has_table(IdAlias.__tablename__):
            return previous
        if links is None:
            # the driver's own cursor: 100k rows as plain tuples, without SQLAlchemy's per-row work
            _, rows = driver_rows(conn, "SELECT source, record_id, customer_id, household_id FROM record_link")
            keys = [f"{source}:{record_id}" for source, record_id, _, _ in rows]
            previous.customer_of = dict(zip(keys, (row[2] for row in rows)))
            previous.household_of = dict(zip(keys, (row[3] for row in rows)))
        else:
            keys = links["unique_id"].tolist()
            previous.customer_of = dict(zip(keys, links["customer_id"].tolist()))
            previous.household_of = dict(zip(keys, links["household_id"].tolist()))
        _, persons = driver_rows(conn, "SELECT customer_id, household_id, first_seen_at FROM person")
        for customer, household, seen in persons:
            previous.customer_household[customer] = household
            if seen is not None:
                previous.customer_first_seen[customer] = _utc(seen)   # type: ignore[assignment]
        for household, seen in driver_rows(conn, "SELECT household_id, first_seen_at FROM household")[1]:
            if seen is not None:
                previous.household_first_seen[household] = _utc(seen)   # type: ignore[assignment]
        for old, kind, current in driver_rows(conn, "SELECT old_id, kind, current_id FROM id_alias")[1]:
            (previous.customers_taken if kind == CUSTOMER else previous.households_taken).add(old)
            if current is not None:
                (previous.customers_merged if kind == CUSTOMER else previous.households_merged).add(old)
    previous.customers_taken |= set(previous.customer_household)
    previous.households_taken |= set(previous.customer_household.values())
    return previous


def _stored_time(conn: Connection, when: dt.datetime) -> object:
    """Return a time as the dialect stores it (SQLite: naive UTC text)."""
    when = when.astimezone(dt.timezone.utc)
    return when.replace(tzinfo=None).isoformat(" ") if conn.dialect.name == "sqlite" else when


def write_history(conn: Connection, events: Iterable[Event], aliases: Iterable[tuple[str, str, str | None, str]],
                  run_id: str, occurred_at: dt.datetime) -> int:
    """Record a run's events and aliases on conn's transaction; return how many events.

    Args:
        aliases: (kind, old_id, current_id or None, reason) of each ID no longer current. An alias
            that led to an old_id is moved on to its current_id, so every alias stays one read. One whose
            current_id is its old_id is current again: its alias goes.
    """
    events = list(events)
    start = (conn.execute(select(func.max(IdentityEvent.seq))).scalar() or 0) + 1
    at = _stored_time(conn, occurred_at)
    rows = pd.DataFrame({
        "seq": range(start, start + len(events)),
        "event_id": [f"{run_id}:{i:07d}" for i in range(1, len(events) + 1)],
        "run_id": run_id, "occurred_at": [at] * len(events),
        "kind": [e.kind for e in events],
        "customer_ids_before": [" ".join(e.before) for e in events],
        "customer_ids_after": [" ".join(e.after) for e in events],
        "household_id": [e.household_id for e in events],
        "reason": [e.reason for e in events],
    })
    bulk_insert(conn, IdentityEvent, rows)
    named = sorted({(customer, seq) for seq, e in zip(rows["seq"], events) for customer in (*e.before, *e.after)})
    bulk_insert(conn, IdentityEventCustomer, pd.DataFrame(named, columns=["customer_id", "seq"]))
    when = occurred_at.astimezone(dt.timezone.utc)   # SQLAlchemy binds it as the dialect stores it
    for kind, old, current, reason in aliases:
        if current == old:      # current again (identity.lifecycle.carry_ids: revivable)
            conn.execute(IdAlias.__table__.delete().where(IdAlias.old_id == old))
            continue
        # earlier aliases of old now lead where old leads
        conn.execute(update(IdAlias).where(IdAlias.current_id == old)
                     .values(current_id=current, run_id=run_id, changed_at=when, reason=reason))
        conn.execute(IdAlias.__table__.delete().where(IdAlias.old_id == old))
        conn.execute(IdAlias.__table__.insert().values(old_id=old, kind=kind, current_id=current, run_id=run_id,
                                                       changed_at=when, reason=reason))
    return len(events)


@dataclass(frozen=True)
class Alias:
    """Where an ID no longer current leads (None: its records were all deleted), and why."""

    old_id: str
    current_id: str | None
    reason: str
    run_id: str


def alias_of(conn: Connection, old_id: str) -> Alias | None:
    """Return the alias of an ID that is no longer current, or None for an ID never retired."""
    row = conn.execute(text("SELECT old_id, current_id, reason, run_id FROM id_alias WHERE old_id = :old"),
                       {"old": old_id}).first()
    return Alias(*row) if row else None


@dataclass(frozen=True)
class StoredEvent:
    """An identity event as stored."""

    seq: int
    event_id: str
    kind: str
    occurred_at: dt.datetime
    before: tuple[str, ...]
    after: tuple[str, ...]
    household_id: str | None
    reason: str
    run_id: str


def former_ids(conn: Connection, customer_id: str) -> set[str]:
    """Return the customer IDs merged into this one that lead to it now (their aliases name it as current)."""
    return {row[0] for row in conn.execute(text("SELECT old_id FROM id_alias WHERE kind = 'customer' AND "
                                                "current_id = :c"), {"c": customer_id})}


def read_events(conn: Connection, *, since: dt.datetime | None = None, customer_id: str | None = None,
                after_seq: int = 0, limit: int | None = None) -> list[StoredEvent]:
    """Return events in recording order, after ``after_seq``, at or after ``since``, naming ``customer_id``."""
    query = select(IdentityEvent.__table__).where(IdentityEvent.seq > after_seq).order_by(IdentityEvent.seq)
    if since is not None:
        query = query.where(IdentityEvent.occurred_at >= since.astimezone(dt.timezone.utc))
    if customer_id:
        query = query.where(IdentityEvent.seq.in_(   # type: ignore[attr-defined]
            select(IdentityEventCustomer.seq).where(IdentityEventCustomer.customer_id == customer_id)))
    if limit is not None:
        query = query.limit(limit)
    return [StoredEvent(e.seq, e.event_id, e.kind, _utc(e.occurred_at), tuple((e.customer_ids_before or '').split()),
                        tuple((e.customer_ids_after or '').split()), e.household_id, e.reason, e.run_id)
            for e in conn.execute(query)]
