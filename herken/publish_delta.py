"""Publishing an incremental run: the rows of what changed, written by ``profile_api.store.write_delta``.

IDs are carried over as for a full run (``herken.publish.carry_over``); only the records, links,
persons, households and profiles the delta touched are written, in one transaction, so a failed run
leaves the published result as it was.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
import io
import json
import logging

import pandas as pd
from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection, Engine

from herken.publish import _edges, _number, _source_records, _stored_times, borderline, carry_over, snapshot_bytes
from identity.bulk import isin
from identity.engine import Engine as QueryEngine
from identity.incremental import Delta, IncrementalError, Published
from identity.ingest import IDENTITY_COLUMNS
from identity.pipeline import SNAPSHOT_COLUMNS, Resolution
from identity.placeholder_values import without_placeholder_values
from identity.placeholders import without_placeholders
from identity.standardise import STANDARD_COLUMNS, current_standardised, standardise_record
from identity.progress import NO_PROGRESS, Progress
from identity.strictness import placeholder_values_of_run, placeholders_of_run, rules_of_run
from profile_api.store.history import previous_ids, write_history
from profile_api.store.read import latest_run, query_frame
from profile_api.store.realtime import record_times, written_since
from profile_api.store.write_delta import write_increment

log = logging.getLogger(__name__)


def _key(uid: str) -> tuple[str, str]:
    source, _, record_id = uid.partition(":")
    return source, record_id


def publish_increment(engine: Engine, resolution: Resolution, delta: Delta, run_id: str, started_at: dt.datetime,
                      drop_path: str, progress: Progress = NO_PROGRESS,
                      guard: Callable[[Connection], object] | None = None,
                      published: Published | None = None,
                      profile_engine: QueryEngine | None = None) -> dict[str, int]:
    """Write what an incremental run changed to the store, in one transaction; return counts of what was written.

    guard: runs first in the transaction and may refuse the write (``write_increment``).
    published: what the run started from (``published_state``), whose links are the previous IDs; None:
        they are read from the store again.
    profile_engine: the run's engine when it is not DuckDB (Spark): the touched profiles' queries run on it, as a
        full publish's do (``write_increment``); None: on a DuckDB of their own.
    """
    progress.step("working out what changed")
    previous = previous_ids(engine, None if published is None else published.records[
        ["unique_id", "customer_id", "household_id"]])
    published_at = dt.datetime.now(dt.timezone.utc)
    assignment = carry_over(resolution, previous, published_at, only=delta.regrouped, gone=delta.deleted)
    records, drop = resolution.records, resolution.drop
    # only the records grouped again took new IDs (carry_over): the others' links are as they were
    again = records[isin(records["unique_id"], delta.regrouped)]
    now_customer = dict(zip(again["unique_id"].tolist(), again["customer_id"].tolist()))
    now_household = dict(zip(again["unique_id"].tolist(), again["household_id"].tolist()))
    relinked = {u for u, c in now_customer.items() if (previous.customer_of.get(u), previous.household_of.get(u))
                != (c, now_household[u])} | delta.changed | delta.confidence_changed
    fed = {f"{s}:{r}" for s, r in zip(drop.interactions["source"].tolist(), drop.interactions["record_id"].tolist())} \
        | {f"{s}:{r}" for s, r in zip(drop.preferences["source"].tolist(), drop.preferences["record_id"].tolist())}
    customers_before = {previous.customer_of[u] for u in relinked | delta.deleted | fed if u in previous.customer_of}
    households = set(records.loc[isin(records["unique_id"], relinked | fed), "household_id"].tolist()) \
        | {previous.customer_household[c] for c in customers_before if c in previous.customer_household}
    # every person of a touched household is written again: a household's members show in each profile
    in_households = records[isin(records["household_id"], households)]
    persons = in_households.groupby(["customer_id", "household_id"]).size().reset_index(name="record_count")
    persons["run_id"] = run_id
    persons["first_seen_at"] = _stored_times(engine, persons["customer_id"].map(
        {**previous.customer_first_seen, **assignment.customer_first_seen}))
    homes = persons.groupby("household_id").size().reset_index(name="person_count")
    homes["run_id"] = run_id
    homes["first_seen_at"] = _stored_times(engine, homes["household_id"].map(
        {**previous.household_first_seen, **assignment.household_first_seen}))
    gone_persons = customers_before | set(persons["customer_id"]) | {
        c for c, h in previous.customer_household.items() if h in households}
    links = records[isin(records["unique_id"], relinked)][["source", "record_id", "customer_id", "household_id"]] \
        .assign(run_id=run_id)
    if "confidence" in records:
        links["confidence"] = records.loc[links.index, "confidence"]
    fresh = set((drop.records["source"] + ":" + drop.records["record_id"]).tolist()) - delta.deleted
    source_records = _source_records(resolution)
    source_records = source_records[isin(source_records["source"] + ":" + source_records["record_id"], fresh)]
    interactions = drop.interactions.assign(**{c: _number(drop.interactions[c])
                                               for c in ("quantity", "amount_eur", "discount_eur")})
    quarantine = pd.DataFrame([(run_id, q.file, q.line, q.reason, q.raw) for q in drop.quarantine],
                              columns=["run_id", "file", "line", "reason", "raw"])
    review, review_summary = borderline(resolution.pairs)
    edges = _edges(resolution, run_id, review)
    before = latest_run(engine)
    run = pd.DataFrame([{
        "run_id": run_id, "started_at": started_at, "finished_at": dt.datetime.now(dt.timezone.utc),
        "drop_path": drop_path, "records": len(records), "persons": resolution.persons,
        "households": resolution.households, "quarantined": len(drop.quarantine), "trained": False,
        "model_json": json.dumps(resolution.model), "counts_json": json.dumps([c.__dict__ for c in drop.counts]),
        "timings_json": json.dumps({**resolution.timings, "incremental": 1}),
        "rules_json": json.dumps(rules_of_run(resolution.rules)),
        "review_json": json.dumps(review_summary),
        "categories_json": json.dumps(drop.categories.values.tolist()) if drop.categories_given
        else (before.categories_json if before else None),
        "unplaced_categories_json": json.dumps([list(c) for c in drop.unplaced_categories]),
    }])
    run["started_at"] = _stored_times(engine, run["started_at"])
    run["finished_at"] = _stored_times(engine, run["finished_at"])
    total = sum(map(len, (source_records, links, persons, homes, interactions, drop.preferences, quarantine, edges)))
    progress.step("writing what changed to the store", total=total, unit="rows")
    rebuilt = write_increment(
        engine, source_records=source_records, replaced={_key(u) for u in delta.changed | delta.deleted},
        links=links, unlinked={_key(u) for u in relinked | delta.deleted}, persons=persons, persons_gone=gone_persons,
        households=homes, households_gone=households, interactions=interactions, preferences=drop.preferences,
        deleted={_key(u) for u in delta.deleted}, quarantine=quarantine, edges=edges,
        edges_of=delta.touched | delta.deleted, run=run,
        history=lambda conn: write_history(conn, assignment.events, assignment.aliases, run_id, published_at),
        snapshot=snapshot_bytes(records), progress=progress, guard=guard,
        profile_engine=profile_engine)
    progress.close()
    counts = {"records_written": len(source_records), "links_written": len(links), "persons_written": len(persons),
              "households_written": len(homes), "profiles_rebuilt": rebuilt, "events": len(assignment.events)}
    log.info("published incremental run %s: %s", run_id, counts)
    return counts


def published_state(engine: Engine) -> Published:
    """Return what an incremental run starts from; raise IncrementalError when the store cannot give it."""
    run = latest_run(engine)
    if run is None:
        raise IncrementalError("the store holds no published run to add a delta to; run `herken resolve DROP` "
                               "(a full drop) first")
    with engine.connect() as conn:
        row = conn.execute(text("SELECT records FROM linkage_snapshot")).first()
        links = query_frame(conn, "SELECT source, record_id, customer_id, household_id, confidence FROM record_link")
        times = record_times(conn)
    if row is None:
        raise IncrementalError("the published run kept no linkage snapshot (it was published by an older herken); "
                               "run one full `herken resolve DROP`, then deltas can follow")
    records = current_standardised(pd.read_parquet(io.BytesIO(bytes(row[0]))))   # kept by an older herken, perhaps
    links["unique_id"] = links["source"] + ":" + links["record_id"]
    # records joined or edited in real time (ResolveRecord with persist) since the snapshot: the snapshot holds
    # none of them, or an edited one as it was
    since = links[isin(links["unique_id"], written_since(records, times))]
    edited = isin(records["unique_id"], since["unique_id"].tolist())
    written_was, records = records[edited], records[~edited]
    rules = json.loads(run.rules_json or "[]")
    if len(since):
        # standardised again from their raw values: the run's placeholder birth dates and identifiers are read as
        # missing again
        joined = without_placeholder_values(without_placeholders(_standardised(engine, since), placeholders_of_run(rules)),
                                            placeholder_values_of_run(rules))
        records = pd.concat([records, joined], ignore_index=True)
    records = records.merge(links.drop(columns=["source", "record_id"]), on="unique_id", how="inner")
    return Published(records, json.loads(run.model_json), rules, set(since["unique_id"].tolist()), written_was)


def _standardised(engine: Engine, records: pd.DataFrame) -> pd.DataFrame:
    """Return the linkage fields of stored records (standardised from their raw values as a run does)."""
    query = text(f"SELECT source, {', '.join(IDENTITY_COLUMNS)} FROM source_record "
                 "WHERE source = :source AND record_id IN :ids").bindparams(bindparam("ids", expanding=True))
    found = []
    with engine.connect() as conn:
        for source, ids in records.groupby("source")["record_id"]:
            found.extend(map(tuple, conn.execute(query, {"source": source, "ids": sorted(ids)})))
    raw = pd.DataFrame(found, columns=["source", *IDENTITY_COLUMNS]).astype(object)
    rows = [standardise_record(row) for row in raw.where(raw.notna(), None).to_dict("records")]
    frame = pd.DataFrame(rows, columns=list(STANDARD_COLUMNS))
    frame["postcode_from_street"] = False
    frame["surname_from_email"] = False
    return frame[list(SNAPSHOT_COLUMNS)]
