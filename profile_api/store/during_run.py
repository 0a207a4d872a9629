"""Real-time writes (ResolveRecord with persist) made while a run runs.

A run reads the published state when it starts and publishes minutes later; a server may persist records in
between (``person_written`` numbers each such write). Without care those writes met a result that did not know
them: a delta failed on a second profile for one person or linked a record to an ID it had just retired, and a
full run dropped the persons made meanwhile without an event.

- A delta (cheap to run again) refuses to publish when anything was written since it started
  (``realtime_unchanged``): nothing changes, the store stays as it was, and the message says to run it again.
- A full run takes the drop as the whole truth, as it does for records persisted before it started (their persons
  not in the drop get ``deleted`` events): ``written_since`` reads, with the writers held back, whom the writes
  since its start named, and ``account_for_written`` records what became of them once the run's IDs are written —
  an alias and a ``merged`` event where their records live on under another ID, else a ``deleted`` event — so
  that events still reconcile and GetProfile by such an ID answers where it went.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

from identity.lifecycle import CREATED, CUSTOMER, DELETED, MERGED, SPLIT, Event
from profile_api.store import realtime
from profile_api.store.db import StoreError
from profile_api.store.history import write_history


class WrittenDuringRun(StoreError):
    """Records were persisted in real time while a delta ran: it published nothing."""


def written_mark(engine: Engine) -> int:
    """Return the number of the last real-time write so far (0: none since the published run, or no such table)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("person_written"):
            return 0
        return int(conn.execute(text("SELECT coalesce(max(seq), 0) FROM person_written")).scalar() or 0)


def hold_writers(conn: Connection) -> None:
    """Hold real-time writes back until conn's transaction ends (they take the same lock first)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("LOCK TABLE source_record, record_link IN SHARE ROW EXCLUSIVE MODE"))
    else:
        conn.execute(text("DELETE FROM record_link WHERE 1 = 0"))    # the driver begins; SQLite's write lock


def realtime_unchanged(mark: int):  # type: ignore[no-untyped-def]
    """Return a guard for a delta's transaction: it holds real-time writers back, then raises WrittenDuringRun when
    one wrote since ``mark`` (``written_mark`` as the run started)."""
    def guard(conn: Connection) -> None:
        hold_writers(conn)
        written = conn.execute(text("SELECT count(*) FROM person_written WHERE seq > :m"), {"m": mark}).scalar()
        if written:
            raise WrittenDuringRun(
                f"{written} record write(s) were made in real time (ResolveRecord with persist) while this delta ran; "
                "its result does not know them, so nothing was published and the store is unchanged: run the delta "
                "again")
    return guard


class PublishedDuringRun(StoreError):
    """Another run published, or a steward decision was made or taken back, while a run ran: it published nothing."""


def published_run_id(engine: Engine) -> str | None:
    """Return the run the store publishes (None: none yet, or no run table), on any schema version."""
    with engine.connect() as conn:
        return realtime.published_run_id(conn) if inspect(conn).has_table("run") else None


def decision_ids(engine: Engine) -> frozenset[str] | None:
    """Return the IDs of the steward decisions stored now (None: a store without the table)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("steward_decision"):
            return None
        return frozenset(row[0] for row in conn.execute(text("SELECT decision_id FROM steward_decision")))


def nothing_published_since(run_id: str | None, decisions: frozenset[str] | None):  # type: ignore[no-untyped-def]
    """Return a guard for a run's transaction: it holds real-time writers back (and so any other run's publish, which
    takes the same locks first), then raises PublishedDuringRun when the published run is no longer ``run_id`` (the
    one this run started from; None: none) or the steward's decisions are no longer ``decisions`` (None: not
    checked). Two runs on one store at once: the later to publish would otherwise replace the other's result
    with one that never saw it (IDs it issued gone without an event, the snapshot of its records rolled back); a
    decision applied meanwhile would be undone."""
    def guard(conn: Connection) -> None:
        hold_writers(conn)
        if conn.dialect.name == "postgresql" and decisions is not None:
            conn.execute(text("LOCK TABLE steward_decision IN SHARE MODE"))   # decisions wait for this publish
        now = conn.execute(text("SELECT max(run_id) FROM run")).scalar()
        if now != run_id:
            raise PublishedDuringRun(
                f"another run ({now}) was published to this store while this one ran (it started from "
                f"{run_id or 'an empty store'}); its result does not know that one, so nothing was published and the "
                "store is unchanged: run this one again (one run at a time per store)")
        if decisions is not None:
            stored = frozenset(row[0] for row in conn.execute(text("SELECT decision_id FROM steward_decision")))
            if stored != decisions:
                made, taken = sorted(stored - decisions), sorted(decisions - stored)
                said = "; ".join(part for part in (f"made: {', '.join(made)}" if made else "",
                                                   f"taken back: {', '.join(taken)}" if taken else "") if part)
                raise PublishedDuringRun(
                    f"steward decisions changed while this run ran ({said}); its result does not honour them, so "
                    "nothing was published and the store is unchanged: run it again")
    return guard


def written_since(conn: Connection, mark: int) -> dict[str, list[str]]:
    """Return, writers held back (``hold_writers``), each person written in real time since mark with its records
    (``source:record_id``) as published now."""
    rows = conn.execute(text(
        "SELECT w.customer_id, l.source, l.record_id FROM person_written w "
        "LEFT JOIN record_link l ON l.customer_id = w.customer_id WHERE w.seq > :m"), {"m": mark}).all()
    found: dict[str, list[str]] = {}
    for customer_id, source, record_id in rows:
        found.setdefault(customer_id, [])
        if source is not None:
            found[customer_id].append(f"{source}:{record_id}")
    return found


def account_for_written(conn: Connection, written: Mapping[str, Iterable[str]], run_id: str,
                        now: dt.datetime) -> int:
    """Record what became of persons written in real time during a full run that the run's IDs do not hold: merged
    into the person now holding one of their records, else deleted; and of a person merged away in real time
    meanwhile whose ID the run made current again (split off again, its alias gone). Return how many events."""
    if not written:
        return 0
    current = {row[0] for row in conn.execute(text("SELECT customer_id FROM person"))}
    aliases_now = dict(conn.execute(text("SELECT old_id, current_id FROM id_alias WHERE kind = 'customer'")).all())
    aliased = set(aliases_now)
    events: list[Event] = []
    aliases: list[tuple[str, str, str | None, str]] = []
    # merged into another in real time meanwhile, but current again: the run's drop keeps its records apart
    for old in sorted(current & aliased):
        target = aliases_now[old]
        reason = (f"customer {old} was merged into {target} in real time while a full run ran; the run's drop keeps "
                  f"its records apart")
        events.append(Event(SPLIT, (target,), (target, old), reason) if target in current
                      else Event(CREATED, (), (old,), reason))
        aliases.append((CUSTOMER, old, old, reason))     # current again: its alias goes (write_history)
    for customer_id, records in sorted(written.items()):
        if customer_id in current or customer_id in aliased:
            continue
        now_in = _current_person(conn, records)
        if now_in is not None:
            reason = f"customer {customer_id} was made in real time while a full run ran; its records are {now_in}'s"
            events.append(Event(MERGED, (now_in, customer_id), (now_in,), reason))
            aliases.append((CUSTOMER, customer_id, now_in, reason))
        else:
            reason = (f"customer {customer_id} was made in real time while a full run ran, and the run's drop does not "
                      "hold its records")
            events.append(Event(DELETED, (customer_id,), (), reason))
            aliases.append((CUSTOMER, customer_id, None, reason))
    return write_history(conn, events, aliases, run_id, now) if events else 0


def _current_person(conn: Connection, records: Iterable[str]) -> str | None:
    """Return the customer_id the published links give one of these records, or None."""
    for record in sorted(records):
        source, _, record_id = record.partition(":")
        found = conn.execute(text("SELECT customer_id FROM record_link WHERE source = :s AND record_id = :r"),
                             {"s": source, "r": record_id}).scalar()
        if found is not None:
            return found
    return None
