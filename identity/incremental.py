"""Incremental resolution: a delta drop scored against the published records, only touched persons re-clustered.

A delta drop holds new and changed records (a record_id seen before replaces that record), new
interactions and preferences, and optionally ``deletions.csv``. With the published run's model
(no training), its standardised records (the store's linkage snapshot) and its measured rules:

1. the delta is standardised and completed as a full run would (postcodes and surnames known to
   the whole drop), and term frequencies are computed over every record, old and new;
2. Splink scores the delta, and the records joined or edited in real time since the last run
   (ResolveRecord with persist), against the existing records (``predict_between``); the persons of
   the existing records it may join, of the changed and deleted records, of the records written in
   real time, and of the records a data steward decided on, are *touched*;
3. the records of the touched persons and the delta are scored among themselves
   (``predict_within``) and clustered again under the same rules and steward decisions; every
   other person stays as it was;
4. households are grouped again for the persons re-clustered, those sharing an address, card,
   landline, e-mail or mobile with them, and the members of their households, from the edges on
   the values they hold (read from the records that decide them alone); every other household
   stays as it was.

The result is a :class:`identity.pipeline.Resolution` over all records, with what changed in
:class:`Delta`; publishing writes only that (``herken.publish_delta``).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from splink import Linker

from identity.addresses import complete_postcodes
from identity.bulk import isin
from identity.confidence import record_confidence
from identity.email_names import fill_surnames_from_email
from identity.engine import make_engine
from identity.erasure import erased_records, keep_out, withhold_erased
from identity.households import SharedValues, buildings, edges_around, group_households, household_anchors, person_links
from identity.ingest import read_drop
from identity.lifecycle import judged_afresh, taken_back_persons
from identity.link import NAME_COUNT_COLUMNS, SHARED_COLUMNS, model_for, prepare
from identity.pipeline import (
    PREDICT_THRESHOLD, SNAPSHOT_COLUMNS, Resolution, ResolveOptions, cluster_persons, edits_since, rule_fields_of,
    standardise_drop,
)
from identity.placeholder_values import without_placeholder_values
from identity.placeholders import without_placeholders
from identity.progress import NO_PROGRESS, Progress
from identity.quarantined import write_quarantine, write_set_aside
from identity.scoring import term_frequency_columns
from identity.rules import RuleBook
from identity.strictness import book_of_run, placeholder_values_of_run, placeholders_of_run
from identity.timing import Laps

log = logging.getLogger(__name__)


class IncrementalError(Exception):
    """An incremental run that cannot start (nothing published, no snapshot); the message says what to do."""


@dataclass
class Published:
    """What an incremental run starts from: the published run's records, model and rules."""

    records: pd.DataFrame     # SNAPSHOT_COLUMNS (NAME_COUNT_COLUMNS too where the snapshot has them) plus
                              # customer_id, household_id and confidence of every record
    model: dict
    rules: list[dict]         # run.rules_json
    written: set[str] = field(default_factory=set)   # unique_ids joined or edited in real time since the run
    # the snapshot's rows of those it held (edited in real time since): as the run saw them
    written_was: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["unique_id"]))


@dataclass
class Delta:
    """What an incremental run changed."""

    new: set[str] = field(default_factory=set)          # unique_ids of records seen for the first time
    changed: set[str] = field(default_factory=set)      # unique_ids replaced by the delta
    deleted: set[str] = field(default_factory=set)      # unique_ids deleted
    touched: set[str] = field(default_factory=set)      # unique_ids re-clustered (delta and touched persons)
    regrouped: set[str] = field(default_factory=set)    # unique_ids of the persons grouped into households again
    confidence_changed: set[str] = field(default_factory=set)   # kept unique_ids whose confidence moved
    realtime: set[str] = field(default_factory=set)     # unique_ids joined or edited in real time since the last run,
                                                        # scored again as the delta's records are


def _untouched_households(records: pd.DataFrame, edges: pd.DataFrame, previous_home: dict[str, str],
                          homes_left: set[str]) -> tuple[dict[str, str], set[str]]:
    """Return the household_id of every person whose household the delta cannot have changed, and the
    unique_ids of the records of the others (grouped again).

    Grouped again: the re-clustered persons (labelled ``~``), the persons sharing a household value
    (address, card, landline, e-mail, mobile) with them, and every person of the households any of
    those (or a changed or deleted record, ``homes_left``) belonged to.
    """
    region = set(records.loc[records["person"].str.startswith("~").to_numpy(dtype=bool), "person"].tolist())
    shared = edges.loc[isin(edges["person"], region), ["kind", "value"]].drop_duplicates()
    region |= set(edges.merge(shared, on=["kind", "value"])["person"].tolist())
    region = _with_their_households(records, region, previous_home, homes_left)
    inside = isin(records["person"], region)
    outside = records.loc[~inside, ["unique_id", "person"]]
    fixed = dict(zip(outside["person"].tolist(), map(previous_home.__getitem__, outside["unique_id"].tolist())))
    return fixed, set(records.loc[inside, "unique_id"].tolist())


def _may_regroup(records: pd.DataFrame, building: pd.Series, previous_home: dict[str, str],
                 homes_left: set[str]) -> set[str]:
    """Return the persons ``_untouched_households`` may group again (and more): the re-clustered ones (labelled
    ``~``), the persons holding a value they hold, and every person of those persons' households and of
    ``homes_left``. ``building``: the records' ``identity.households.buildings``."""
    again = records["person"].str.startswith("~").to_numpy(dtype=bool)
    holding = again | SharedValues.of(records[again]).held(records, building).to_numpy()
    return _with_their_households(records, set(records.loc[holding, "person"].tolist()), previous_home, homes_left)


def _with_their_households(records: pd.DataFrame, persons: set[str], previous_home: dict[str, str],
                           homes_left: set[str]) -> set[str]:
    """Return persons with every person of the households their records (or a changed or deleted record,
    ``homes_left``) belonged to."""
    chosen = records.loc[isin(records["person"], persons), "unique_id"].tolist()
    homes = set(homes_left) | {previous_home[u] for u in chosen if u in previous_home}
    at_home = {u for u, home in previous_home.items() if home in homes}
    return persons | set(records.loc[isin(records["unique_id"], at_home), "person"].tolist())


def _group_again(records: pd.DataFrame, edges: pd.DataFrame, fixed: dict[str, str],
                 links: dict[tuple[str, str], float], threshold: float) -> dict[str, str]:
    """Return the household label of every person as ``group_households`` over every person and every record gives
    it; grouping only the persons not ``fixed`` and the kept households they may join.

    Grouped: the persons not fixed, those on an edge, and every member of their kept households. Every
    other kept household meets no edge here, and no orphan (an orphan joins the household of a person the
    model linked it to: a re-clustered one), so it stays whole and is labelled as ``group_households``
    labels it: by its smallest person.
    """
    persons = set(records["person"].unique().tolist())
    involved = {p for p in persons if p not in fixed} | set(edges["person"].tolist())
    homes = {fixed[p] for p in involved if p in fixed}
    members = {p: h for p, h in fixed.items() if h in homes}
    grouped = involved | set(members)
    anchored, surnames, hints = household_anchors(records[isin(records["person"], grouped)])
    household_of = group_households(sorted(grouped), edges, surnames, anchored, hints, fixed=members,
                                    links=links, link_threshold=threshold)
    first: dict[str, str] = {}
    for person, home in fixed.items():
        if home not in homes and (home not in first or person < first[home]):
            first[home] = person
    household_of.update({p: first[h] for p, h in fixed.items() if h not in homes})
    return household_of


def _full_names(records: pd.DataFrame) -> set[tuple[str, str]]:
    """Return the full names (given_first, surname_core) these records hold, as ``cluster_best_first`` reads
    them: both parts present and not empty."""
    return {(first, last) for first, last in zip(records["given_first"].tolist(), records["surname_core"].tolist())
            if isinstance(first, str) and isinstance(last, str) and first and last}


def _values_to_recount(records: pd.DataFrame, gone: pd.DataFrame) -> dict[str, set[str]]:
    """Return, per shared column, the values whose people counts may have changed: those of the records that
    carry no count (new, changed, joined in real time since the snapshot) and those of the records gone."""
    uncounted = records[[f"{column}_names" for column in SHARED_COLUMNS]].isna().any(axis=1)
    return {column: set(records.loc[uncounted, column].dropna()) | set(gone[column].dropna())
            for column in SHARED_COLUMNS}


def rulebook_of(records: pd.DataFrame, rules: list[dict]) -> RuleBook:
    """Return the published run's rule book over these records: their first-name counts, its measured strictness."""
    return book_of_run(records["given_first"].value_counts().to_dict(), rules)


def resolve_incremental(drop_dir: Path, published: Published, options: ResolveOptions,
                        progress: Progress = NO_PROGRESS) -> tuple[Resolution, Delta]:
    """Return the resolution of the published records with a delta drop applied, and what the delta changed."""
    lap = Laps()
    existing = published.records
    drop = read_drop(drop_dir, progress, known=zip(existing["source"].tolist(), existing["record_id"].tolist()))
    lap("ingest")

    fresh = standardise_drop(drop, progress=progress)
    # the identifiers the published run read as placeholders, before the erasure check and the completions read
    # them (identity.placeholder_values)
    fresh = without_placeholder_values(fresh, placeholder_values_of_run(published.rules))
    no_ones = placeholders_of_run(published.rules)
    fresh = keep_out(drop, fresh, erased_records(fresh, options.tombstones, no_ones))
    drop.quarantine = withhold_erased(drop.quarantine, options.tombstones, no_ones)
    drop.set_aside = withhold_erased(drop.set_aside, options.tombstones, no_ones)
    options.run_dir.mkdir(parents=True, exist_ok=True)
    write_quarantine(drop.quarantine, options.run_dir / "quarantine.csv")
    write_set_aside(drop.set_aside, options.run_dir / "set_aside.csv")
    delta = Delta()
    known = set(existing["unique_id"].tolist())
    fresh_ids = set(fresh["unique_id"].tolist())
    delta.deleted = set((drop.deletions["source"] + ":" + drop.deletions["record_id"]).tolist())
    delta.changed = (fresh_ids & known) - delta.deleted
    delta.new = fresh_ids - known - delta.deleted
    fresh = fresh[~isin(fresh["unique_id"], delta.deleted)]
    fresh_ids -= delta.deleted
    # A record ResolveRecord joined or edited since the last run was placed by one record's look at its neighbours:
    # it is scored against every record as the delta's are, so that it may join two persons it fits or take its
    # person along to a new address, as a batch run would have it.
    delta.realtime = published.written - fresh_ids - delta.deleted
    replaced = isin(existing["unique_id"], delta.changed | delta.deleted)
    kept, gone_before = existing[~replaced], existing[replaced]
    # Completions see every record; only the delta's own rows are completed.
    both = pd.concat([kept[list(SNAPSHOT_COLUMNS[:-2])], fresh], ignore_index=True)
    is_fresh = isin(both["unique_id"], fresh_ids)
    fresh = fill_surnames_from_email(complete_postcodes(both, only=is_fresh), only=is_fresh)[is_fresh]
    # the birth dates the published run read as placeholders are read so here too (identity.placeholders)
    fresh = without_placeholders(fresh, placeholders_of_run(published.rules))
    counted = [c for c in NAME_COUNT_COLUMNS if c in kept.columns]     # a snapshot of an older herken has none
    everything = pd.concat([kept[[*SNAPSHOT_COLUMNS, *counted]], fresh[list(SNAPSHOT_COLUMNS)]], ignore_index=True)
    lap("standardise")

    engine = make_engine(options.engine, **options.engine_options())
    prepared = prepare(engine, everything, recount=_values_to_recount(everything, gone_before)
                       if len(counted) == len(NAME_COUNT_COLUMNS) else None)
    api = engine.splink_api()
    settings = model_for(json.loads(json.dumps(published.model)), engine.dialect)
    # the published run's own model, validated when it was trained
    linker = Linker(api.register(engine.table(prepared)), settings, validate_settings=False)
    for column in term_frequency_columns(published.model):   # the columns the published model weighs by frequency
        linker.table_management.compute_tf_table(column)
    is_delta = isin(prepared["unique_id"], fresh_ids | delta.realtime)
    progress.step("scoring the delta against the published records", unit="pairs")
    between = linker.inference.predict_between(
        api.register(engine.table(prepared[is_delta])), api.register(engine.table(prepared[~is_delta])),
        threshold_match_probability=options.match_threshold, warning_mode="never",
    ).as_pandas_dataframe()
    lap("predict")

    kept_ids = kept["unique_id"].tolist()
    previous_person = dict(zip(kept_ids, kept["customer_id"].tolist()))
    touched_persons = {previous_person[u] for side in ("unique_id_l", "unique_id_r") for u in between[side].tolist()
                       if u in previous_person}
    touched_persons |= set(gone_before["customer_id"].tolist())
    touched_persons |= {previous_person[uid] for uid in delta.realtime if uid in previous_person}
    # a steward's decisions apply from the next run, whatever the delta holds: their persons are touched, and those of
    # the records a decision taken back since had joined or kept apart, which are judged afresh
    decided = {uid for pair in (*options.must_link, *options.cannot_link) for uid in pair} | options.taken_back
    touched_persons |= {previous_person[uid] for uid in decided if uid in previous_person}
    touched = fresh_ids | set(kept.loc[isin(kept["customer_id"], touched_persons), "unique_id"].tolist())
    delta.touched = touched
    subset = prepared[isin(prepared["unique_id"], touched)]
    progress.step(f"scoring {len(subset):,} records of the touched persons among themselves", unit="pairs")
    pairs = linker.inference.predict_within(api.register(engine.table(subset)), threshold_match_probability=PREDICT_THRESHOLD,
                                            warning_mode="never").as_pandas_dataframe()
    lap("predict")

    rules = rulebook_of(prepared, published.rules)
    rule_fields = rule_fields_of(subset)
    untouched = prepared.loc[~isin(prepared["unique_id"], touched), ["given_first", "surname_core"]]
    replaced = dict(zip(gone_before["unique_id"].tolist(), gone_before["customer_id"].tolist()))
    afresh = taken_back_persons({**previous_person, **replaced}, options.taken_back)
    edited = edits_since(gone_before, judged_afresh({uid: customer for uid, customer in replaced.items()
                                                     if uid in delta.changed}, afresh))
    # a record written in real time is judged as a new one, and kept with its person as an edited account is
    # when no pair joins it to anyone: checked for a conflict on the fields its edit changed (all, for one new since)
    realtime = {uid: previous_person[uid] for uid in delta.realtime}
    edited.update(edits_since(published.written_was, judged_afresh(realtime, afresh)))
    clustering = cluster_persons(rule_fields, pairs, rules, options, progress,
                                 previous=judged_afresh({uid: person for uid, person in previous_person.items()
                                                         if uid not in realtime}, afresh),
                                 names_elsewhere=_full_names(untouched), edited=edited)
    # Untouched persons keep their customer_id as label; re-clustered ones are labelled by a record.
    labels = dict(previous_person)
    labels.update({uid: f"~{label}" for uid, label in clustering.labels.items()})
    uid_list = prepared["unique_id"].tolist()
    prepared["person"] = [labels.get(u) for u in uid_list]
    # Re-clustered records take their confidence from their pairs; the others keep the one they had.
    confidence = dict(zip(kept_ids, kept["confidence"].tolist())) if "confidence" in kept else {}
    found = record_confidence(clustering.labels, pairs, clustering.merges)
    delta.confidence_changed = {uid for uid, c in found.items() if uid in confidence and confidence[uid] != c}
    confidence.update(found)
    prepared["confidence"] = np.array([confidence.get(u, np.nan) for u in uid_list], dtype=float)
    lap("cluster")

    progress.step("grouping persons into households", unit="persons")
    previous_home = dict(zip(kept_ids, kept["household_id"].tolist()))
    homes_left = set(gone_before["household_id"].tolist())
    building = buildings(prepared)
    edges = edges_around(engine, prepared, _may_regroup(prepared, building, previous_home, homes_left),
                         gone_before, building, rules.caps)
    del linker
    engine.close()
    fixed, delta.regrouped = _untouched_households(prepared, edges, previous_home, homes_left)
    household_of = _group_again(prepared, edges, fixed, person_links(prepared, pairs), options.match_threshold)
    prepared["household"] = prepared["person"].map(household_of)
    progress.advance(len(household_of))
    lap("households")
    progress.close()
    log.info("incremental: %d new, %d changed, %d deleted records, %d written in real time since the last run; "
             "%d records of touched persons re-clustered", len(delta.new), len(delta.changed), len(delta.deleted),
             len(delta.realtime), len(touched))
    resolution = Resolution(drop, prepared, pairs, clustering, published.model, False, lap.laps, rules)
    return resolution, delta
