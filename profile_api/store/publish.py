"""Publishing a resolution: one transaction replaces the previous run's result.

Either everything of the new run is visible or nothing is: a run that fails before or during
publishing leaves the previous published result in place.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable

import pandas as pd
from sqlalchemy import delete, insert
from sqlalchemy.engine import Engine
from sqlmodel import Session

from identity.pipeline import Resolution
from profile_api.store.models import (
    Household, Interaction, MatchEdge, Person, Preference, QuarantinedRow, RecordLink, Run, SourceRecord,
)

log = logging.getLogger(__name__)

CHUNK = 5_000
REVIEW_BAND = (0.3, 0.7)   # match probabilities a steward should look at
REVIEW_SAMPLE = 200


def _clean(rows: list[dict]) -> list[dict]:
    """Return rows with pandas missing values and empty strings turned into None."""
    return [{k: (None if (v is None or v is pd.NA or (isinstance(v, float) and v != v) or v == "") else v)
             for k, v in row.items()} for row in rows]


def _insert(session: Session, table, rows: Iterable[dict]) -> int:  # type: ignore[no-untyped-def]
    """Insert rows in chunks; return how many."""
    batch: list[dict] = []
    total = 0
    for row in rows:
        batch.append(row)
        if len(batch) >= CHUNK:
            session.execute(insert(table.__table__), _clean(batch))
            total += len(batch)
            batch = []
    if batch:
        session.execute(insert(table.__table__), _clean(batch))
        total += len(batch)
    return total


def _number(value: str | None) -> float | None:
    """Return a decimal written with a point or a comma, or None when empty."""
    return float(value.replace(",", ".")) if value else None


def publish_resolution(
    engine: Engine, resolution: Resolution, run_id: str, started_at: dt.datetime, drop_path: str
) -> None:
    """Replace the store's published result with this resolution, in one transaction."""
    drop, records = resolution.drop, resolution.records
    raw = drop.records.drop(columns=["line"])
    std = records[["source", "record_id", "given_first", "surname_core", "birth_date", "email", "mobile",
                   "landline", "postcode", "house_number", "loyalty_card", "customer_id", "household_id"]]
    joined = raw.merge(std, on=["source", "record_id"], how="left", suffixes=("", "_std"))

    with Session(engine) as session, session.begin():
        for table in (RecordLink, Person, Household, SourceRecord, Interaction, QuarantinedRow, MatchEdge, Run):
            session.execute(delete(table))
        session.execute(delete(Preference).where(Preference.origin == "drop"))

        _insert(session, SourceRecord, (
            {
                "source": r["source"], "record_id": r["record_id"], "first_name": r["first_name"],
                "last_name": r["last_name"], "birth_date": r["birth_date"], "email": r["email"],
                "phone": r["phone"], "street": r["street"], "house_number": r["house_number"],
                "postcode": r["postcode"], "city": r["city"], "loyalty_card": r["loyalty_card"],
                "updated_at": r["updated_at"], "std_given": r["given_first"], "std_surname": r["surname_core"],
                "std_birth_date": r["birth_date_std"], "std_email": r["email_std"],
                "std_phone": r["mobile"] if isinstance(r["mobile"], str) else r["landline"],
                "std_postcode": r["postcode_std"], "std_house_number": r["house_number_std"],
                "std_loyalty_card": r["loyalty_card_std"],
            }
            for r in joined.to_dict("records")
        ))
        _insert(session, RecordLink, (
            {"source": s, "record_id": r, "customer_id": c, "household_id": h, "run_id": run_id}
            for s, r, c, h in records[["source", "record_id", "customer_id", "household_id"]].itertuples(index=False)
        ))
        persons = records.groupby(["customer_id", "household_id"]).size().reset_index(name="n")
        _insert(session, Person, (
            {"customer_id": c, "household_id": h, "record_count": int(n), "run_id": run_id}
            for c, h, n in persons.itertuples(index=False)
        ))
        households = persons.groupby("household_id").size().reset_index(name="n")
        _insert(session, Household, (
            {"household_id": h, "person_count": int(n), "run_id": run_id} for h, n in households.itertuples(index=False)
        ))
        _insert(session, Interaction, (
            {**r, "quantity": _number(r["quantity"]), "amount_eur": _number(r["amount_eur"]),
             "discount_eur": _number(r["discount_eur"])}
            for r in drop.interactions.to_dict("records")
        ))
        _insert(session, Preference, ({**r, "origin": "drop"} for r in drop.preferences.to_dict("records")))
        _insert(session, QuarantinedRow, (
            {"run_id": run_id, "file": q.file, "line": q.line, "reason": q.reason, "raw": q.raw}
            for q in drop.quarantine
        ))
        _insert(session, MatchEdge, _edges(resolution, run_id))
        session.add(Run(
            run_id=run_id, started_at=started_at, finished_at=dt.datetime.now(dt.timezone.utc), drop_path=drop_path,
            records=len(records), persons=resolution.persons, households=resolution.households,
            quarantined=len(drop.quarantine), trained=resolution.trained,
            model_json=json.dumps(resolution.model),
            counts_json=json.dumps([c.__dict__ for c in drop.counts]),
            timings_json=json.dumps(resolution.timings),
        ))
    log.info("published run %s", run_id)


def _edges(resolution: Resolution, run_id: str) -> Iterable[dict]:
    """Yield the merges, the refusals and a sample of borderline pairs of a run."""
    weights = {
        (a, b): w for a, b, w in resolution.pairs[["unique_id_l", "unique_id_r", "match_weight"]].itertuples(index=False)
    }
    for m in resolution.clustering.merges:
        yield {"run_id": run_id, "kind": "merge", "unique_id_l": m.unique_id_l, "unique_id_r": m.unique_id_r,
               "match_probability": m.match_probability, "match_weight": weights.get((m.unique_id_l, m.unique_id_r)),
               "reason": None}
    for r in resolution.clustering.refusals:
        yield {"run_id": run_id, "kind": "refused", "unique_id_l": r.unique_id_l, "unique_id_r": r.unique_id_r,
               "match_probability": r.match_probability, "reason": r.reason,
               "match_weight": weights.get((r.unique_id_l, r.unique_id_r))}
    pairs = resolution.pairs
    band = pairs[(pairs["match_probability"] >= REVIEW_BAND[0]) & (pairs["match_probability"] <= REVIEW_BAND[1])]
    band = band.sort_values(["unique_id_l", "unique_id_r"])
    sample = band.sample(n=min(REVIEW_SAMPLE, len(band)), random_state=0) if len(band) else band
    for a, b, p, w in sample[["unique_id_l", "unique_id_r", "match_probability", "match_weight"]].itertuples(index=False):
        yield {"run_id": run_id, "kind": "review", "unique_id_l": a, "unique_id_r": b,
               "match_probability": float(p), "match_weight": float(w), "reason": None}
