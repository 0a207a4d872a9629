"""A data steward's decisions: must-link and cannot-link between two records, kept with who, when and why.

Every run (full, incremental, real time) reads them (``decision_pairs``) and the clustering honours
them (``identity.cluster``): a must-link joins two records whatever the model says, a cannot-link
keeps them in two persons.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import select, text, tuple_
from sqlalchemy.engine import Connection, Engine

from profile_api.store.models import RecordLink, StewardDecision

MUST_LINK, CANNOT_LINK = "must_link", "cannot_link"
KINDS = (MUST_LINK, CANNOT_LINK)


class DecisionError(ValueError):
    """A decision that cannot be taken as given; the message says what to do instead."""


@dataclass(frozen=True)
class Decision:
    """A steward decision as stored."""

    decision_id: str
    kind: str
    record_a: str
    record_b: str
    reason: str
    decided_by: str
    decided_at: dt.datetime


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def parse_record(value: str) -> tuple[str, str]:
    """Return (source, record_id) of a ``SOURCE:RECORD_ID`` argument; raise DecisionError when it is not one."""
    source, sep, record_id = value.strip().partition(":")
    if not sep or not source or not record_id:
        raise DecisionError(f"'{value}' is not SOURCE:RECORD_ID (for example pos:NYMXB7F9A3)")
    return source, record_id


def _record_known(conn: Connection, source: str, record_id: str) -> bool:
    row = conn.execute(text("SELECT 1 FROM source_record WHERE source = :s AND record_id = :r"),
                       {"s": source, "r": record_id}).first()
    return row is not None


def _as_time(value: object) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    assert isinstance(value, dt.datetime)
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def add_decision(engine: Engine, kind: str, record_a: str, record_b: str, reason: str, decided_by: str,
                 now: dt.datetime | None = None) -> Decision:
    """Store a decision between two records of the store; return it.

    Raises:
        DecisionError: an unknown kind, a record the store does not hold, a record paired with
            itself, no reason, or the opposite decision already taken on the same pair.
    """
    if kind not in KINDS:
        raise DecisionError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if not reason.strip():
        raise DecisionError("a reason is required (--reason TEXT): explanations show it to colleagues")
    a, b = sorted([":".join(parse_record(record_a)), ":".join(parse_record(record_b))])
    if a == b:
        raise DecisionError(f"both records are {a}: a decision is between two records")
    now = now or dt.datetime.now(dt.timezone.utc)
    with engine.begin() as conn:
        for record in (a, b):
            if not _record_known(conn, *parse_record(record)):
                raise DecisionError(f"the store holds no record {record}; `herken links` lists the records it holds")
        for existing in _decisions(conn, a, b):
            if existing.kind == kind:
                raise DecisionError(f"{a} and {b} already have this decision ({existing.decision_id})")
            raise DecisionError(f"{a} and {b} have the opposite decision {existing.decision_id} ({existing.kind}); "
                                f"remove it first with `herken steward remove {existing.decision_id}`")
        clash = contradiction(_decisions(conn), kind, a, b)
        if clash:
            raise DecisionError(f"{kind} {a} {b} contradicts {' and '.join(clash)}: must-links join whole chains of "
                                f"records, so no run could honour all of them; remove one first with "
                                f"`herken steward remove DECISION_ID`")
        decision = Decision(f"SD-{uuid.uuid4().hex[:10].upper()}", kind, a, b, reason.strip(),
                            decided_by.strip() or "unknown", now)
        at = now.astimezone(dt.timezone.utc)
        conn.execute(StewardDecision.__table__.insert().values(
            decision_id=decision.decision_id, kind=kind, record_a=a, record_b=b, reason=decision.reason,
            decided_by=decision.decided_by,
            decided_at=at))
    return decision


def contradiction(decisions: list[Decision], kind: str, a: str, b: str) -> list[str]:
    """Return the IDs of the decisions a new one between a and b would contradict (none: it may stand).

    Must-links join their records into one person, chains of them too; a cannot-link between two records such a
    chain joins can never hold. The IDs named are the cannot-link broken and the must-links of the chain.
    """
    must = [d for d in decisions if d.kind == "must_link"] + ([Decision("new", kind, a, b, "", "", _EPOCH)]
                                                               if kind == "must_link" else [])
    cannot = [d for d in decisions if d.kind == "cannot_link"] + ([Decision("new", kind, a, b, "", "", _EPOCH)]
                                                                  if kind == "cannot_link" else [])
    links: dict[str, list[tuple[str, str]]] = {}
    for d in must:
        links.setdefault(d.record_a, []).append((d.record_b, d.decision_id))
        links.setdefault(d.record_b, []).append((d.record_a, d.decision_id))
    for d in cannot:
        path = _chain(links, d.record_a, d.record_b)
        if path is not None and (kind == "must_link" and "new" in path or d.decision_id == "new"):
            return [x for x in ([d.decision_id] + path) if x != "new"]
    return []


def _chain(links: dict[str, list[tuple[str, str]]], start: str, goal: str) -> list[str] | None:
    """Return the decision IDs of a chain of must-links from start to goal (breadth first), or None."""
    came: dict[str, tuple[str, str] | None] = {start: None}
    queue = [start]
    for record in queue:
        if record == goal:
            path = []
            while came[record] is not None:
                record, decision = came[record]     # type: ignore[misc]
                path.append(decision)
            return path[::-1]
        for other, decision in links.get(record, ()):
            if other not in came:
                came[other] = (record, decision)
                queue.append(other)
    return None


def _decisions(conn: Connection, a: str | None = None, b: str | None = None) -> list[Decision]:
    query = select(StewardDecision.__table__).order_by(StewardDecision.decided_at, StewardDecision.decision_id)
    if a is not None:
        query = query.where(StewardDecision.record_a == a, StewardDecision.record_b == b)
    return [Decision(r.decision_id, r.kind, r.record_a, r.record_b, r.reason, r.decided_by, _as_time(r.decided_at))
            for r in conn.execute(query)]


def list_decisions(engine: Engine) -> list[Decision]:
    """Return every decision, oldest first."""
    with engine.connect() as conn:
        return _decisions(conn)


def remove_decision(engine: Engine, decision_id: str) -> Decision:
    """Remove a decision; return it. Raises DecisionError for an unknown decision_id."""
    with engine.begin() as conn:
        found = [d for d in _decisions(conn) if d.decision_id == decision_id]
        if not found:
            raise DecisionError(f"no decision {decision_id!r}; `herken steward list` shows them")
        conn.execute(StewardDecision.__table__.delete().where(StewardDecision.decision_id == decision_id))
    return found[0]


def decision_pairs(decisions: list[Decision]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Return the (must-link, cannot-link) record pairs (``source:record_id``) of decisions."""
    must = [(d.record_a, d.record_b) for d in decisions if d.kind == MUST_LINK]
    cannot = [(d.record_a, d.record_b) for d in decisions if d.kind == CANNOT_LINK]
    return must, cannot


# the joins and refusals a steward's decision made in the published run (identity.cluster: a must-link's merge, a
# cannot-link's refusal), as match_edge keeps them
_DECIDED_EDGES = text("SELECT unique_id_l, unique_id_r, kind FROM match_edge "
                      "WHERE (kind = 'merge' AND reason = :joined) OR (kind = 'refused' AND reason = :apart)")


def taken_back_records(conn: Connection, decisions: list[Decision]) -> frozenset[str]:
    """Return the records a steward's decision joined or kept apart in the published run that no current decision
    accounts for: a decision taken back since; the next run judges their persons afresh.

    A must-link's join is current while a decision names its two records. A cannot-link's refusal stands on the pair
    the run tried to join, one record of each side, not always the decided records: it is current while a decision
    names a record of each of the two persons (as the published run has them)."""
    from identity.cluster import STEWARD_JOINED
    from identity.rule_measures import RULE_TITLES, STEWARD

    joined_by = {frozenset((d.record_a, d.record_b)) for d in decisions if d.kind == MUST_LINK}
    apart = [(d.record_a, d.record_b) for d in decisions if d.kind == CANNOT_LINK]
    edges = conn.execute(_DECIDED_EDGES, {"joined": STEWARD_JOINED, "apart": RULE_TITLES[STEWARD]}).all()
    refused = [(a, b) for a, b, kind in edges if kind == "refused"]
    person = _persons_of(conn, {uid for pair in (*refused, *apart) for uid in pair})
    kept_apart = {frozenset((person.get(a), person.get(b))) for a, b in apart}
    taken_back: set[str] = set()
    for a, b, kind in edges:
        current = frozenset((a, b)) in joined_by if kind == "merge" \
            else frozenset((person.get(a), person.get(b))) in kept_apart
        if not current:
            taken_back.update((a, b))
    return frozenset(taken_back)


def _persons_of(conn: Connection, uids: set[str]) -> dict[str, str]:
    """Return the customer_id of each of these records (``source:record_id``) the published run placed."""
    keys = sorted(tuple(uid.split(":", 1)) for uid in uids if ":" in uid)
    found: dict[str, str] = {}
    for start in range(0, len(keys), 400):
        query = select(RecordLink.source, RecordLink.record_id, RecordLink.customer_id).where(
            tuple_(RecordLink.source, RecordLink.record_id).in_(keys[start:start + 400]))
        found.update({f"{source}:{record_id}": customer for source, record_id, customer in conn.execute(query)})
    return found


def in_effect(conn: Connection, decisions: list[Decision]) -> dict[str, bool | None]:
    """Return, per decision_id, whether the published persons follow it: a must-link's two records in one person, a
    cannot-link's in two; None where a record is not in the published run (deleted since, or erased)."""
    person = _persons_of(conn, {uid for d in decisions for uid in (d.record_a, d.record_b)})
    found: dict[str, bool | None] = {}
    for d in decisions:
        a, b = person.get(d.record_a), person.get(d.record_b)
        found[d.decision_id] = None if a is None or b is None else (a == b) == (d.kind == MUST_LINK)
    return found
