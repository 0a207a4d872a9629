"""Access: everything the store holds on one person, as one JSON document (ExportCustomer, ``herken export``)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import astuple
from typing import Any

from sqlalchemy import Boolean, bindparam, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

from profile_api.messages import profile_of_encoded
from profile_api.store import models as _tables  # noqa: F401  (their columns: _BOOLEANS)
from profile_api.store.history import former_ids
from profile_api.store.theirs import person_records, read_person

__all__ = ["NoSuchCustomer", "find_customer", "export_customer", "export_json", "person_records"]


class NoSuchCustomer(LookupError):
    """No person has this customer_id now: never known, retired without a successor, or erased (the message says)."""


def find_customer(conn: Connection, customer_id: str) -> str:
    """Return the current customer_id of an ID, following an alias as GetProfile does.

    Raises:
        NoSuchCustomer: the message says whether the ID was never known, leads nowhere (erased, or
            every record deleted), or leads to an ID that is not in the published result.
    """
    if conn.execute(text("SELECT 1 FROM person WHERE customer_id = :c"), {"c": customer_id}).first():
        return customer_id
    alias = conn.execute(text("SELECT current_id, reason FROM id_alias WHERE old_id = :c"), {"c": customer_id}).first()
    if alias is None:
        raise NoSuchCustomer(f"no customer {customer_id!r}")
    current, reason = alias
    if current is None:
        raise NoSuchCustomer(f"customer {customer_id!r} no longer exists: {reason}")
    if not conn.execute(text("SELECT 1 FROM person WHERE customer_id = :c"), {"c": current}).first():
        raise NoSuchCustomer(f"customer {customer_id!r} now is {current!r}, which is not in the published result")
    return current


def _dicts(conn: Connection, sql: str, **params: Any) -> list[dict[str, Any]]:
    """Return the rows of a query as dicts of JSON-ready values (times as ISO text, bytes left out)."""
    statement = text(sql)
    for name, value in params.items():
        if isinstance(value, (list, tuple, set)):
            statement = statement.bindparams(bindparam(name, expanding=True))
    result = conn.execute(statement, params)
    out = []
    for row in result.mappings():
        out.append({key: _plain(key, value) for key, value in row.items()
                    if not isinstance(value, (bytes, memoryview))})
    return out


# Columns the store declares Boolean: SQLite hands them back as 1 and 0, PostgreSQL as true and false; the export
# says true and false on both. Lists of IDs kept as space-separated text are lists, as `herken events --json` has.
_BOOLEANS = frozenset(c.name for t in SQLModel.metadata.tables.values() for c in t.columns if isinstance(c.type, Boolean))
_ID_LISTS = frozenset({"customer_ids_before", "customer_ids_after"})


def _plain(key: str, value: Any) -> Any:
    """Return a stored value as the export writes it (one layout whatever the store)."""
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if key in _BOOLEANS and isinstance(value, int):
        return bool(value)
    if key in _ID_LISTS:
        return value.split() if isinstance(value, str) else []
    return value


def _by_record(conn: Connection, table: str, keys: list[tuple[str, str]], order: str) -> list[dict[str, Any]]:
    """Return the rows of a table that hang on the records (source, record_id)."""
    found: list[dict[str, Any]] = []
    for source in sorted({s for s, _ in keys}):
        ids = [r for s, r in keys if s == source]
        found.extend(_dicts(conn, f"SELECT * FROM {table} WHERE source = :source AND record_id IN :ids "
                                  f"ORDER BY {order}", source=source, ids=ids))
    return found


def export_customer(engine: Engine, customer_id: str, now: dt.datetime | None = None) -> dict[str, Any]:
    """Return everything the store holds on the person (an alias is followed) as one JSON-ready document.

    It holds: the household_id; every record of theirs from every source with its raw and
    standardised values and its link; their interactions, preferences (from the drop and through
    the API) and consent statements; their profile as served (golden record, attributes, household,
    consent); the identity events and the aliases naming their ID; the audit entries naming their
    ID; the steward decisions and the scored pairs (match explanations) on their records.

    Raises:
        NoSuchCustomer: no person has this ID now (the message says why).
    """
    with engine.connect() as conn:
        current = find_customer(conn, customer_id)
        keys = person_records(conn, current)
        uids = [f"{s}:{r}" for s, r in keys]
        person = _dicts(conn, "SELECT * FROM person WHERE customer_id = :c", c=current)[0]
        records = _by_record(conn, "source_record", keys, "record_id")
        links = {(l["source"], l["record_id"]): l for l in _by_record(conn, "record_link", keys, "record_id")}
        for record in records:
            link = links.get((record["source"], record["record_id"]), {})
            record["link"] = {k: link.get(k) for k in ("customer_id", "household_id", "confidence", "run_id")}
        profile = [_profile_document(*row) for row in conn.execute(text(
            "SELECT display_name, encoded, household_inferred, consent FROM profile WHERE customer_id = :c"),
            {"c": current})]
        # the IDs that lead to them now (merged into them): their events and audit entries are theirs too
        named = sorted({customer_id, current} | former_ids(conn, current))
        events = _dicts(conn, "SELECT DISTINCT e.* FROM identity_event e JOIN identity_event_customer c "
                              "ON c.seq = e.seq WHERE c.customer_id IN :named ORDER BY e.seq", named=named)
        document = {
            "customer_id": current,
            "asked_for": customer_id,
            "exported_at": (now or dt.datetime.now(dt.timezone.utc)).isoformat(timespec="seconds"),
            "household_id": person["household_id"],
            "person": person,
            "records": records,
            "interactions": _by_record(conn, "interaction", keys, "occurred_at, id"),
            "preferences": _by_record(conn, "preference", keys, "stated_at, id"),
            "consents": _by_record(conn, "consent", keys, "stated_at, id"),
            "profile": profile[0] if profile else None,
            "identity_events": events,
            "aliases": _dicts(conn, "SELECT * FROM id_alias WHERE current_id = :c OR old_id IN :named "
                                    "ORDER BY changed_at, old_id", c=current, named=named),
            "audit": _dicts(conn, "SELECT * FROM audit_log WHERE customer_id IN :named ORDER BY seq", named=named),
            # rows of the published run's drop that were refused or set aside and are theirs, as the erasure tells
            # them (a purchase dated 2099 on one of their records, a record of theirs with a bad date)
            "quarantined": _quarantined(conn, current),
            "steward_decisions": _dicts(conn, "SELECT * FROM steward_decision WHERE record_a IN :u OR record_b IN :u "
                                              "ORDER BY decided_at", u=uids) if uids else [],
            "match_explanations": _dicts(conn, "SELECT kind, unique_id_l, unique_id_r, match_probability, "
                                               "match_weight, reason, run_id FROM match_edge WHERE unique_id_l IN :u "
                                               "OR unique_id_r IN :u ORDER BY id", u=uids) if uids else [],
        }
    return document


def _quarantined(conn: Connection, customer_id: str) -> list[dict[str, Any]]:
    """Return the store's quarantined rows that are the person's (``profile_api.store.theirs.Person.holds``)."""
    person = read_person(conn, customer_id)
    return [row for row in _dicts(conn, "SELECT run_id, file, line, reason, raw FROM quarantine ORDER BY file, line")
            if person.holds(str(row["file"]).rsplit(".", 1)[0], row["raw"] or "")]


def _profile_document(display_name: str, encoded: bytes, household_inferred: str,
                      consent: str | None) -> dict[str, Any]:
    """Return a stored profile row as the export shows it: its golden record, attributes and household as
    JSON values ({field: [value, source, record_id, updated_at, confidence]}, [[name, value, {evidence}]],
    {"members": [[customer_id, display_name]], "pets": [...], "delivery": ...}) and its consent."""
    profile = profile_of_encoded(bytes(encoded), household_inferred, {})
    golden = {name: list(astuple(value)) for name, value in vars(profile.golden).items() if value is not None}
    household = profile.household
    return {
        "display_name": display_name,
        "golden": golden,
        "attributes": [[a.name, a.value, a.evidence] for a in profile.attributes],
        "household": {"members": [[m.customer_id, m.display_name] for m in household.members],
                      "pets": household.pets, "delivery": household.delivery_preference},
        "consent": json.loads(consent) if consent else consent,
    }


def export_json(engine: Engine, customer_id: str) -> str:
    """Return ``export_customer`` as indented JSON text."""
    return json.dumps(export_customer(engine, customer_id), indent=2, ensure_ascii=False, default=str)
