"""Publishing a resolution: one transaction replaces the previous run's result.

Either everything of the new run is visible or nothing is: a run that fails before or during
publishing leaves the previous published result in place. That includes the precomputed profiles
(``profile_api.precompute``), built before the transaction (encoded by a second process while the other
tables are written) and written inside it. This module turns a resolution (``identity.pipeline``)
into the store's rows; the store's writer (``profile_api.store.write``) writes them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import replace
import io
import json
import logging
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.engine import Connection, Engine

from identity.bulk import give_back_memory, isin
from identity.engine import Engine as SQLEngine
from identity.lifecycle import Assignment, PreviousIds, assign_ids
from identity.link import NAME_COUNT_COLUMNS
from identity.pipeline import SNAPSHOT_COLUMNS, Resolution
from identity.progress import NO_PROGRESS, Progress
from identity.strictness import rules_of_run
from profile_api.live import API_PREFERENCE_COLUMNS, api_preferences
from profile_api.profile_build import ProfileBuild
from profile_api.store.during_run import account_for_written, hold_writers, written_since
from profile_api.store.history import previous_ids, write_history
from profile_api.store.write import write_run

log = logging.getLogger(__name__)

REVIEW_BAND = (0.3, 0.7)   # match probabilities a steward should look at
REVIEW_SAMPLE = 200        # borderline pairs kept (a random sample when the band holds more)


def _number(series: pd.Series) -> pd.Series:
    """Return decimals written with a point or a comma as floats (empty as missing)."""
    try:    # in Arrow, a column of four million at C speed; a value it cannot read sends the column below
        text = pc.replace_substring(pa.array(series.astype("string"), from_pandas=True), ",", ".")
        text = pc.if_else(pc.equal(text, ""), pa.scalar(None, text.type), text)
        return pd.Series(pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False), index=series.index).astype("Float64")
    except (pa.ArrowException, TypeError, ValueError):
        pass
    return pd.to_numeric(series.astype("string").str.replace(",", ".", regex=False).replace("", None),
                         errors="coerce")


def _source_records(resolution: Resolution) -> pd.DataFrame:
    """Return the source_record rows: raw values plus the standardised values used for look-ups."""
    raw = resolution.drop.records.drop(columns=["line"])
    std = resolution.records
    phone = std["mobile"].where(std["mobile"].notna(), std["landline"])
    mobile = std["mobile"].notna().astype(object).where(phone.notna(), None)
    std = pd.DataFrame({
        "source": std["source"], "record_id": std["record_id"], "std_given": std["given_first"],
        "std_surname": std["surname_core"], "std_particles": std["particles"],
        "std_birth_date": std["birth_date"], "std_email": std["email"], "std_phone": phone,
        "std_phone_mobile": mobile, "std_postcode": std["postcode"], "std_house_number": std["house_number"],
        "std_loyalty_card": std["loyalty_card"],
    })
    return raw.merge(std, on=["source", "record_id"], how="left")


def borderline(pairs: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, object]]:
    """Return the borderline pairs kept for review (a random sample of REVIEW_SAMPLE when there are more)
    and what they are: {"band": REVIEW_BAND, "pairs": how many pairs the band held, "kept": how many were kept}."""
    band = pairs[pairs["match_probability"].between(*REVIEW_BAND)].sort_values(["unique_id_l", "unique_id_r"])
    kept = band.sample(n=min(REVIEW_SAMPLE, len(band)), random_state=0) if len(band) else band
    return kept, {"band": list(REVIEW_BAND), "pairs": len(band), "kept": len(kept)}


def _edges(resolution: Resolution, run_id: str, review: pd.DataFrame) -> pd.DataFrame:
    """Return the merges, the refusals and the borderline pairs kept (``borderline``) of a run."""
    weights = resolution.pairs[["unique_id_l", "unique_id_r", "match_weight"]]
    merges = pd.DataFrame(
        [(m.unique_id_l, m.unique_id_r, m.match_probability, m.reason) for m in resolution.clustering.merges]
        + [(r.unique_id_l, r.unique_id_r, r.match_probability, r.reason) for r in resolution.clustering.refusals],
        columns=["unique_id_l", "unique_id_r", "match_probability", "reason"],
    )
    merges["kind"] = ["merge"] * len(resolution.clustering.merges) + ["refused"] * len(resolution.clustering.refusals)
    # a join, not a reindex by a million tuples; each pair is scored once, so the merges keep their order and count
    merges = merges.merge(weights, on=["unique_id_l", "unique_id_r"], how="left", validate="many_to_one")
    review = review[["unique_id_l", "unique_id_r", "match_probability", "match_weight"]].assign(kind="review",
                                                                                                 reason=None)
    edges = pd.concat([merges, review], ignore_index=True)
    edges["run_id"] = run_id
    edges["match_probability"] = edges["match_probability"].astype(float)
    edges["match_weight"] = edges["match_weight"].astype(float).replace({np.nan: None})
    return edges[["run_id", "kind", "unique_id_l", "unique_id_r", "match_probability", "match_weight", "reason"]]


def stated_before(engine: Engine, preferences: pd.DataFrame,
                  links: pd.DataFrame) -> tuple[list[tuple], frozenset[tuple]]:
    """Return the preferences a run's profiles will show, as ``profile_api.live.live_parts`` takes them, and
    the stored API preferences among them (``profile_api.live.api_preferences``).

    These are the drop's preferences (stored after every stored one: publishing inserts them anew)
    and the API preferences in the store now, on the run's links; ``write_profiles`` checks inside
    its transaction that the API preferences are still exactly these.
    """
    with engine.connect() as conn:
        stored = api_preferences(conn)
    api = pd.DataFrame(sorted(stored), columns=list(API_PREFERENCE_COLUMNS))
    first = int(api["id"].max()) + 1 if len(api) else 1
    drop = preferences.assign(id=range(first, first + len(preferences)), said_in=preferences["source"])
    stated = pd.concat([api, drop[list(api.columns)]], ignore_index=True).merge(
        links[["source", "record_id", "customer_id", "household_id"]], on=["source", "record_id"])
    rows = list(stated[["household_id", "customer_id", "key", "value", "said_in", "stated_at", "id"]]
                .itertuples(index=False, name=None))
    return rows, stored


def carry_over(resolution: Resolution, previous: PreviousIds, now: dt.datetime,
               only: set[str] | None = None, gone: set[str] = frozenset()) -> Assignment:  # type: ignore[assignment]
    """Give the resolution's persons and households the IDs they had in the previous run (``identity.lifecycle``).

    Sets the records' customer_id and household_id; returns the assignment with its events and aliases.

    Args:
        only: the unique_ids whose persons and households may have changed (an incremental run);
            every other record keeps its previous IDs. None: every record.
        gone: the unique_ids deleted since the previous run (with ``only``).
    """
    records = resolution.records
    # an incremental run: only the records that may have changed are assigned (the others keep their IDs)
    chosen = records if only is None else records[isin(records["unique_id"], only)]
    persons: dict[str, list[str]] = {}
    households: dict[str, list[str]] = {}
    household_of_person: dict[str, str] = {}
    for uid, person, household in zip(chosen["unique_id"].tolist(), chosen["person"].tolist(),
                                      chosen["household"].tolist()):
        persons.setdefault(person, []).append(uid)
        households.setdefault(household, []).append(uid)
        household_of_person[person] = household
    before = previous
    if only is not None:
        named = only | set(gone)     # a few thousand of the run's records: looked up, not the previous run walked
        customer_of = {u: previous.customer_of[u] for u in named if u in previous.customer_of}
        household_of = {u: previous.household_of[u] for u in named if u in previous.household_of}
        customers = set(customer_of.values())
        previous = replace(previous, customer_of=customer_of, household_of=household_of,
                           customer_household={c: previous.customer_household[c] for c in customers
                                               if c in previous.customer_household})
    assignment = assign_ids(persons, households, household_of_person, previous, now)
    new_customer, new_household = assignment.customer_ids, assignment.household_ids
    person_list, household_list = records["person"].tolist(), records["household"].tolist()
    if only is None:
        records["customer_id"] = [new_customer.get(p) for p in person_list]
        records["household_id"] = [new_household.get(h) for h in household_list]
    else:    # the others keep what they had
        uids = records["unique_id"].tolist()
        again = np.flatnonzero(isin(records["unique_id"], only).to_numpy()).tolist()
        for column, new, old, labels in (("customer_id", new_customer, before.customer_of, person_list),
                                         ("household_id", new_household, before.household_of, household_list)):
            ids = list(map(old.get, uids))
            for i in again:
                ids[i] = new.get(labels[i])
            records[column] = ids
    return assignment


def snapshot_bytes(records: pd.DataFrame) -> bytes:
    """Return the records as the linkage saw them (SNAPSHOT_COLUMNS, and their people counts per shared value,
    NAME_COUNT_COLUMNS, where they have them) in Parquet, for the next incremental run."""
    buffer = io.BytesIO()
    counts = [c for c in NAME_COUNT_COLUMNS if c in records.columns]
    records[[*SNAPSHOT_COLUMNS, *counts]].to_parquet(buffer, index=False)
    return buffer.getvalue()


def _stored_times(engine: Engine, times: pd.Series) -> pd.Series:
    """Return aware datetimes as the store keeps them (SQLite: naive UTC text)."""
    if engine.dialect.name != "sqlite":
        return times
    # a run's times are few distinct instants (when each ID was first seen): convert each once
    codes, instants = pd.factorize(times)
    texts = np.array([None] + [d.astimezone(dt.timezone.utc).replace(tzinfo=None).isoformat(" ") for d in instants],
                     dtype=object)
    return pd.Series(texts[codes + 1], index=times.index, dtype=object)


def publish_resolution(
    engine: Engine, resolution: Resolution, run_id: str, started_at: dt.datetime, drop_path: str,
    progress: Progress = NO_PROGRESS, guard: Callable[[Connection], object] | None = None,
    work_dir: Path | None = None, memory_limit: str | None = None, release: bool = False,
    profile_engine: SQLEngine | None = None, realtime_mark: int | None = None,
) -> None:
    """Replace the store's published result with this resolution, in one transaction.

    realtime_mark: the last real-time write when the run started (``profile_api.store.during_run``): the persons
    written since get events saying where they went.

    Progress hears of two steps: building the profiles (of unknown length) and writing the rows.
    guard: runs first in the transaction and may refuse the publish (``write_run``).
    work_dir: where the profiles are built (``profile_api.profile_build``; a temporary folder when None).
    memory_limit: what the profile build's engine may use (it spills beyond it).
    release: let go of the resolution's bulk (``Resolution.release``) once it is turned into rows, before the
        profile workers start, and stream the source records and interactions to the store from the files
        the profile build reads: at a million records the publishing process then holds 2.5-2.7 GB
        beside the workers instead of 4.5-4.9 (the run's peak was there). The resolution keeps its counts only.
    profile_engine: the run's engine when it is not DuckDB (Spark): the profile queries run on it
        (``profile_api.profile_build``), which the caller closes; None: DuckDB's worker processes.
    """
    progress.step(f"building the profiles of {resolution.persons:,} persons")
    drop, records = resolution.drop, resolution.records
    published_at = dt.datetime.now(dt.timezone.utc)
    assignment = carry_over(resolution, previous_ids(engine), published_at)
    links = records[["source", "record_id", "customer_id", "household_id", "confidence"]].assign(run_id=run_id)
    persons = records.groupby(["customer_id", "household_id"]).size().reset_index(name="record_count")
    persons["first_seen_at"] = _stored_times(engine, persons["customer_id"].map(assignment.customer_first_seen))
    households = persons.groupby("household_id").size().reset_index(name="person_count")
    households["first_seen_at"] = _stored_times(engine, households["household_id"].map(assignment.household_first_seen))
    interactions = drop.interactions.assign(**{c: _number(drop.interactions[c])
                                               for c in ("quantity", "amount_eur", "discount_eur")})
    quarantine = pd.DataFrame(
        [(run_id, q.file, q.line, q.reason, q.raw) for q in drop.quarantine],
        columns=["run_id", "file", "line", "reason", "raw"],
    )
    review, review_summary = borderline(resolution.pairs)
    edges = _edges(resolution, run_id, review)
    run = pd.DataFrame([{
        "run_id": run_id, "started_at": started_at, "finished_at": dt.datetime.now(dt.timezone.utc),
        "drop_path": drop_path, "records": len(records), "persons": resolution.persons,
        "households": resolution.households, "quarantined": len(drop.quarantine), "trained": resolution.trained,
        "model_json": json.dumps(resolution.model), "counts_json": json.dumps([c.__dict__ for c in drop.counts]),
        "timings_json": json.dumps(resolution.timings),
        "rules_json": json.dumps(rules_of_run(resolution.rules)),
        "review_json": json.dumps(review_summary),
        "categories_json": json.dumps(drop.categories.values.tolist()),
        "unplaced_categories_json": json.dumps([list(c) for c in drop.unplaced_categories]),
    }])
    if engine.dialect.name == "sqlite":  # SQLite stores datetimes as text
        run["started_at"] = run["started_at"].map(lambda d: d.astimezone(dt.timezone.utc).replace(tzinfo=None).isoformat(" "))
        run["finished_at"] = run["finished_at"].map(lambda d: d.astimezone(dt.timezone.utc).replace(tzinfo=None).isoformat(" "))

    snapshot = snapshot_bytes(records)
    source_records = _source_records(resolution)
    stated, stored_api_preferences = stated_before(engine, drop.preferences, links)
    rows = sum(map(len, (source_records, links, persons, households, interactions, drop.preferences, quarantine,
                         edges, run))) + resolution.persons
    if release:
        del records, review
        resolution.release()
    scratch = None if work_dir is not None else tempfile.TemporaryDirectory(prefix="herken-profiles-")
    profiles = ProfileBuild(source_records, links, interactions, drop.categories,
                            folder=(work_dir or Path(scratch.name)) / "profiles", stated=stated,  # type: ignore[union-attr]
                            memory_limit=memory_limit, engine=profile_engine)
    records_rows: pd.DataFrame | Iterator[pd.DataFrame] = source_records
    interaction_rows: pd.DataFrame | Iterator[pd.DataFrame] = interactions
    if release:    # the build wrote them to files; read back a chunk at a time as they are inserted
        del source_records, interactions
        records_rows, interaction_rows = profiles.input_frames("records"), profiles.input_frames("interactions")
        give_back_memory()
    log.info("publish: rows prepared")
    progress.step("writing to the store", total=rows, unit="rows")
    written: dict[str, list[str]] = {}

    def guarded(conn: Connection) -> None:
        """The caller's guard, then real-time writers held back and those since the run started read."""
        if guard is not None:
            guard(conn)
        if realtime_mark is not None:
            hold_writers(conn)
            written.update(written_since(conn, realtime_mark))

    try:
        write_run(engine, source_records=records_rows, links=links, persons=persons.assign(run_id=run_id),
                  households=households.assign(run_id=run_id), interactions=interaction_rows,
                  preferences=drop.preferences, quarantine=quarantine, edges=edges, run=run,
                  profiles=profiles.frames, live_from=stored_api_preferences, progress=progress,
                  history=lambda conn: (write_history(conn, assignment.events, assignment.aliases, run_id, published_at),
                                        account_for_written(conn, written, run_id, published_at)),
                  snapshot=snapshot, guard=guarded)
    finally:
        profiles.close()
        if scratch is not None:
            scratch.cleanup()
    progress.close()
    log.info("published run %s: %d identity events", run_id, len(assignment.events))
