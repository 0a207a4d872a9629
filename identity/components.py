"""Best-first clustering by connected component, on the engine's workers.

Best-first clustering (:func:`identity.cluster.cluster_best_first`) joins two records only through
a chain of pairs scored at or above the lowest probability that may join anything (the match
threshold, or ``KEEP_TOGETHER`` beside a published run), a steward's must-link, or an edited record
going back to the person it was with. So the connected components of those links never exchange a
record, and each can be clustered on its own with the same result, given what crosses between
them: whether a third person elsewhere in the drop holds a full name (``names_elsewhere``, counted
here over the whole drop as ``name_holders``).

The components are found by Splink's connected-components SQL on the engine
(``cluster_pairwise_predictions_at_threshold``), and each component's records and pairs go to one
call of :func:`cluster_group`, a pure function over two pandas frames, through the engine's
:meth:`identity.engine.Engine.map_groups`, in buckets of many components (:data:`BUCKETS_PER_WORKER`):
Spark runs them on its executors (``applyInPandas``), DuckDB one after the other in this process. What comes back is one frame of labels, merges and
refusals (:data:`OUTCOME_COLUMNS`).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, fields
from functools import partial

import pandas as pd

from identity.cluster import (
    NAMES_ONLY_THRESHOLD, Clustering, Edited, Merge, Refusal, cluster_best_first, full_name,
)
from identity.engine import Engine
from identity.rules import NameAndBirth, RuleBook

log = logging.getLogger(__name__)

FIELDS: tuple[str, ...] = tuple(f.name for f in fields(NameAndBirth))
WAS = "was_"   # prefix of the published version's rule fields of an edited record

# The records' frame: a record's rule fields, the person it was in the published run (``previous``), the person
# it was with before its customer edited it and the fields it had then (``edited``), and how many records of
# the drop, outside it included, hold its full name.
RECORD_COLUMNS: tuple[str, ...] = ("unique_id", *FIELDS, "previous", "edited_person", "edited_known",
                                   *(WAS + f for f in FIELDS), "name_holders")
# The pairs' frame: scored pairs with the clustering's flags, and a steward's decisions (kind "must"/"cannot").
PAIR_COLUMNS: tuple[str, ...] = ("unique_id_l", "unique_id_r", "match_probability", "names_only", "nameless", "kind",
                                  "position")   # position: the order given (a must-link's order picks its merges)
# What each component gives back: kind "label" (unique_id_l's label in unique_id_r), "merge" or "refusal".
OUTCOME_COLUMNS: tuple[str, ...] = ("kind", "unique_id_l", "unique_id_r", "match_probability", "reason", "rule")
OUTCOME_SCHEMA = ("kind string, unique_id_l string, unique_id_r string, match_probability double, "
                  "reason string, rule string")


@dataclass(frozen=True)
class GroupSettings:
    """What every component is clustered under: the drop's rules and the thresholds."""

    rules: RuleBook
    threshold: float
    names_only_threshold: float = NAMES_ONLY_THRESHOLD


def _value(v: object) -> object:
    """Return a frame's cell as Python: None for a missing value."""
    return None if v is None or (isinstance(v, float) and v != v) or v is pd.NA else v


def _record(row: Mapping[str, object], prefix: str = "") -> NameAndBirth:
    """Return the rule fields of a row of the records' frame."""
    values = {f: _value(row[prefix + f]) for f in FIELDS}
    values["mobile_shared"] = bool(values["mobile_shared"])
    return NameAndBirth(**values)  # type: ignore[arg-type]


def cluster_group(records: pd.DataFrame, pairs: pd.DataFrame, settings: GroupSettings) -> pd.DataFrame:
    """Return the clustering of one component (records: RECORD_COLUMNS, pairs: PAIR_COLUMNS) as OUTCOME_COLUMNS."""
    pairs = pairs.sort_values("position", kind="stable")    # a shuffle (Spark's cogroup) keeps no order
    rows = records.to_dict("records")
    fields_of = {str(r["unique_id"]): _record(r) for r in rows}
    previous = {str(r["unique_id"]): str(r["previous"]) for r in rows if _value(r["previous"]) is not None}
    edited = {str(r["unique_id"]): Edited(str(r["edited_person"]), _record(r, WAS) if r["edited_known"] else None)
              for r in rows if _value(r["edited_person"]) is not None}
    here = Counter(name for name in (full_name(f) for f in fields_of.values()) if name)
    elsewhere = {name for name, holders in ((full_name(fields_of[str(r["unique_id"])]), r["name_holders"])
                                            for r in rows) if name and int(holders) > here[name]}
    kinds = pairs["kind"].tolist()
    ends = list(zip(pairs["unique_id_l"].tolist(), pairs["unique_id_r"].tolist()))
    scored = [(a, b, p) for (a, b), p, k in zip(ends, pairs["match_probability"].tolist(), kinds) if k == "pair"]
    flagged = lambda column: {e for e, flag, k in zip(ends, pairs[column].tolist(), kinds) if k == "pair" and flag}  # noqa: E731
    clustering = cluster_best_first(
        fields_of, scored, threshold=settings.threshold,
        must_link=[e for e, k in zip(ends, kinds) if k == "must"],
        cannot_link=[e for e, k in zip(ends, kinds) if k == "cannot"],
        names_only=flagged("names_only"), names_only_threshold=settings.names_only_threshold,
        rules=settings.rules, nameless=flagged("nameless"),
        previous=previous or None, names_elsewhere=elsewhere, edited=edited or None,
    )
    return outcome_frame(clustering)


def outcome_frame(clustering: Clustering) -> pd.DataFrame:
    """Return a clustering as one frame of OUTCOME_COLUMNS."""
    rows = [("label", uid, label, None, None, None) for uid, label in clustering.labels.items()]
    rows += [("merge", m.unique_id_l, m.unique_id_r, m.match_probability, m.reason, None) for m in clustering.merges]
    rows += [("refusal", r.unique_id_l, r.unique_id_r, r.match_probability, r.reason, r.rule)
             for r in clustering.refusals]
    return pd.DataFrame(rows, columns=list(OUTCOME_COLUMNS)).astype({"match_probability": "float64"})


def clustering_of(outcome: pd.DataFrame) -> Clustering:
    """Return the Clustering of the components' outcomes: merges and refusals by falling probability.

    The same merges and refusals as clustering all at once, in another order: cluster_best_first lists its
    merges by how they were made (a steward's first, then the model's by falling probability, then the sole
    holders' and the edited accounts'), which the buckets interleave.
    """
    rows = outcome.to_dict("records")
    labels = {r["unique_id_l"]: r["unique_id_r"] for r in rows if r["kind"] == "label"}
    merges = [Merge(r["unique_id_l"], r["unique_id_r"], float(r["match_probability"]), _value(r["reason"]))
              for r in rows if r["kind"] == "merge"]
    refusals = [Refusal(r["unique_id_l"], r["unique_id_r"], float(r["match_probability"]), r["reason"],
                        _value(r["rule"]) or "") for r in rows if r["kind"] == "refusal"]
    order = lambda x: (-x.match_probability, x.unique_id_l, x.unique_id_r)  # noqa: E731
    return Clustering(labels=labels, merges=sorted(merges, key=order), refusals=sorted(refusals, key=order))


def records_frame(records: Mapping[str, NameAndBirth], previous: Mapping[str, str] | None = None,
                  edited: Mapping[str, Edited] | None = None,
                  names_elsewhere: Collection[tuple[str, str]] = frozenset()) -> pd.DataFrame:
    """Return the records' frame (RECORD_COLUMNS) of the clustering's inputs."""
    previous, edited = previous or {}, edited or {}
    holders = Counter(name for name in map(full_name, records.values()) if name)
    elsewhere = set(names_elsewhere)
    columns: dict[str, list] = {c: [] for c in RECORD_COLUMNS}
    empty = NameAndBirth(None, None, None, None, None)
    for uid, record in records.items():
        name = full_name(record)
        edit = edited.get(uid)
        was = edit.was if edit is not None and edit.was is not None else empty
        columns["unique_id"].append(uid)
        for f in FIELDS:
            columns[f].append(getattr(record, f))
            columns[WAS + f].append(getattr(was, f))
        columns["previous"].append(previous.get(uid))
        columns["edited_person"].append(edit.person if edit is not None else None)
        columns["edited_known"].append(edit is not None and edit.was is not None)
        columns["name_holders"].append(holders[name] + (name in elsewhere) if name else 0)
    frame = pd.DataFrame(columns)
    for c in ("unique_id", "previous", "edited_person", *(f for f in FIELDS if f != "mobile_shared"),
              *(WAS + f for f in FIELDS if f != "mobile_shared")):
        frame[c] = frame[c].astype("string")
    return frame.astype({"mobile_shared": bool, WAS + "mobile_shared": bool, "edited_known": bool,
                         "name_holders": "int64"})


def pairs_frame(pairs: Iterable[tuple[str, str, float]], names_only: Collection[tuple[str, str]],
                nameless: Collection[tuple[str, str]], must_link: Iterable[tuple[str, str]] = (),
                cannot_link: Iterable[tuple[str, str]] = ()) -> pd.DataFrame:
    """Return the pairs' frame (PAIR_COLUMNS): scored pairs with their flags, then the steward's decisions."""
    rows = [(a, b, p, (a, b) in names_only, (a, b) in nameless, "pair") for a, b, p in pairs]
    rows += [(a, b, 1.0, False, False, "must") for a, b in must_link]
    rows += [(a, b, 0.0, False, False, "cannot") for a, b in cannot_link]
    frame = pd.DataFrame(rows, columns=list(PAIR_COLUMNS[:-1])).astype(
        {"unique_id_l": "string", "unique_id_r": "string", "match_probability": "float64",
         "names_only": bool, "nameless": bool, "kind": "string"})
    return frame.assign(position=range(len(frame))).astype({"position": "int64"})


def links_between(records: pd.DataFrame, pairs: pd.DataFrame, lowest: float) -> pd.DataFrame:
    """Return the links (unique_id_l, unique_id_r) that may put two records in one person: scored pairs from
    ``lowest``, must-links, and an edited record to every record of the person it was with."""
    scored = pairs[(pairs["kind"] == "pair") & (pairs["match_probability"] >= lowest)]
    links = [scored[["unique_id_l", "unique_id_r"]], pairs.loc[pairs["kind"] == "must", ["unique_id_l", "unique_id_r"]]]
    edited = records.loc[records["edited_person"].notna(), ["unique_id", "edited_person"]]
    if len(edited):
        # a person's records, as _keep_edited finds them: unchanged ones by their previous person, edited ones
        # by the person they were with (every record of a person may have been edited)
        homes = pd.concat([records.loc[records["previous"].notna(), ["unique_id", "previous"]]
                           .rename(columns={"previous": "person"}),
                           edited.rename(columns={"edited_person": "person"})], ignore_index=True)
        back = edited.merge(homes, left_on="edited_person", right_on="person", suffixes=("_l", "_r"))
        links.append(back.loc[back["unique_id_l"] != back["unique_id_r"], ["unique_id_l", "unique_id_r"]])
    return pd.concat(links, ignore_index=True).astype("string")


# Components per call of cluster_group: a call has a fixed cost (a pandas frame per group, Spark's Arrow
# batches), and a drop has tens of thousands of components, most of one or two records; so components go
# in BUCKETS_PER_WORKER buckets per worker of the engine, by a hash of their label, and one call clusters a
# bucket (its components never link to each other, so together they cluster as each would alone).
BUCKETS_PER_WORKER = 4


def buckets_of(component: pd.Series, buckets: int) -> pd.Series:
    """Return the bucket (0 .. buckets - 1) of each component label, the same in every run."""
    hashed = pd.util.hash_array(component.astype(str).to_numpy(dtype=object), categorize=False)
    return pd.Series(hashed % max(buckets, 1), index=component.index).astype("int64")


def cluster_by_component(engine: Engine, records: pd.DataFrame, pairs: pd.DataFrame, lowest: float,
                         settings: GroupSettings) -> Clustering:
    """Return the clustering of the records (RECORD_COLUMNS) from their pairs (PAIR_COLUMNS), by connected
    component (of :func:`links_between`), the components spread over the engine's workers in buckets."""
    outcome = map_by_component(engine, records, "unique_id", pairs, "unique_id_l",
                               links_between(records, pairs, lowest), _per_bucket(settings), OUTCOME_SCHEMA, "records")
    return clustering_of(outcome)


def map_by_component(engine: Engine, nodes: pd.DataFrame, node: str, rows: pd.DataFrame, row_node: str,
                     links: pd.DataFrame, function: Callable[[pd.DataFrame, pd.DataFrame], pd.DataFrame],
                     schema: str, what: str) -> pd.DataFrame:
    """Return function(nodes, rows) of every bucket of connected components, one frame after the other.

    The components are those the links (unique_id_l, unique_id_r) make of the nodes (their ``node`` column),
    found by the engine; a row goes with the component of its ``row_node``. Each frame reaches the function
    with its ``bucket`` column (:func:`without_bucket` leaves it out); ``what`` names the nodes in the log.
    """
    started = time.perf_counter()
    component = engine.components(nodes[[node]].rename(columns={node: "unique_id"}), links)
    found = time.perf_counter()
    buckets = engine.workers * BUCKETS_PER_WORKER
    bucket = pd.DataFrame({"node": component["unique_id"], "bucket": buckets_of(component["component"], buckets)})
    outcome = engine.map_groups(nodes.merge(bucket.rename(columns={"node": node}), on=node),
                                rows.merge(bucket.rename(columns={"node": row_node}), on=row_node),
                                "bucket", function, schema)
    log.info("%d %s by component: %d components in %.1f s, done in %d buckets in %.1f s", len(nodes), what,
             component["component"].nunique(), found - started, buckets, time.perf_counter() - found)
    return outcome


def without_bucket(function: Callable[[pd.DataFrame, pd.DataFrame], pd.DataFrame]
                   ) -> Callable[[pd.DataFrame, pd.DataFrame], pd.DataFrame]:
    """Return function as the engine calls it per bucket: a closure of two frames whose ``bucket`` column it leaves
    out (Spark tells a function of the group's key from one without by its arguments, and pickles it to its workers)."""
    def per_bucket(nodes: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
        return function(nodes.drop(columns=["bucket"]), rows.drop(columns=["bucket"]))
    return per_bucket


def _per_bucket(settings: GroupSettings) -> Callable[[pd.DataFrame, pd.DataFrame], pd.DataFrame]:
    """Return cluster_group under these settings as the engine calls it per bucket."""
    return without_bucket(partial(cluster_group, settings=settings))
