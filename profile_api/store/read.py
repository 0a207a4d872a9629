"""Reading the published result back: links, the latest run, the review material."""

from __future__ import annotations

import pandas as pd
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from profile_api.store.models import RecordLink, Run


def read_links(engine: Engine) -> pd.DataFrame:
    """Return source, record_id, customer_id, household_id of every linked record, sorted."""
    with Session(engine) as session:
        rows = session.exec(
            select(RecordLink.source, RecordLink.record_id, RecordLink.customer_id, RecordLink.household_id)
            .order_by(RecordLink.source, RecordLink.record_id)
        ).all()
    return pd.DataFrame(rows, columns=["source", "record_id", "customer_id", "household_id"])


def latest_run(engine: Engine) -> Run | None:
    """Return the published run, or None when nothing was published yet."""
    with Session(engine) as session:
        return session.exec(select(Run).order_by(Run.finished_at.desc())).first()  # type: ignore[attr-defined]
