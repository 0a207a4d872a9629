"""IDs that last: carry the previous run's customer and household IDs over to this run's clusters.

Pure: given which records each new cluster holds and which ID each record had before, decide each
cluster's ID and what happened to the old ones, as others in the field do it:

- an old ID goes with the cluster that holds most of its (still present) records;
- a cluster that holds several old IDs that way keeps the one first seen (the others are merged
  into it and redirect to it);
- a cluster that holds none gets a new ID, never one issued before;
- an old ID none of whose records is left was deleted.

Events say what happened (``created``, ``merged``, ``split``, ``deleted``; ``household_changed``
from :func:`household_moves`); applied in order (remove the IDs before, add the IDs after) to the
previous run's IDs they give this run's.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

CREATED, MERGED, SPLIT, HOUSEHOLD_CHANGED, DELETED = "created", "merged", "split", "household_changed", "deleted"
EVENT_KINDS: tuple[str, ...] = (CREATED, MERGED, SPLIT, HOUSEHOLD_CHANGED, DELETED)
# The order events of one run are recorded (and reconciled) in.
_EVENT_ORDER = {SPLIT: 0, MERGED: 1, CREATED: 2, DELETED: 3, HOUSEHOLD_CHANGED: 4}


def stable_id(prefix: str, key: str) -> str:
    """Return a short ID derived from a key, the same for the same key in every run."""
    return prefix + hashlib.sha1(key.encode("utf-8")).hexdigest()[:12].upper()


# An ID issued for a record whose own stable_id was taken is that of "record#n", the first n free (``carry_ids``;
# ``profile_api.resolve_record._fresh_id`` likewise). The IDs told to have been issued for a record are those
# up to this n: a record deleted and added again, or split off again and again, that many times over.
ISSUED_SUFFIXES = 8


def issued_for(prefix: str, record: str) -> tuple[str, ...]:
    """Return the IDs that may have been issued for a record: its stable_id, then those of "record#1" and on."""
    return (stable_id(prefix, record), *(stable_id(prefix, f"{record}#{n}") for n in range(1, ISSUED_SUFFIXES + 1)))


@dataclass
class PreviousIds:
    """The published run's IDs: per record, when each ID was first seen, and every ID ever issued."""

    customer_of: dict[str, str] = field(default_factory=dict)     # "source:record_id" -> customer_id
    household_of: dict[str, str] = field(default_factory=dict)    # "source:record_id" -> household_id
    customer_first_seen: dict[str, dt.datetime] = field(default_factory=dict)
    household_first_seen: dict[str, dt.datetime] = field(default_factory=dict)
    customer_household: dict[str, str] = field(default_factory=dict)   # customer_id -> household_id
    customers_taken: set[str] = field(default_factory=set)        # current and aliased customer IDs
    households_taken: set[str] = field(default_factory=set)
    # IDs merged into another (not deleted, not erased): one comes back when its first record is apart again
    customers_merged: set[str] = field(default_factory=set)
    households_merged: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Event:
    """One thing that happened to IDs in a run."""

    kind: str
    before: tuple[str, ...]
    after: tuple[str, ...]
    reason: str
    household_id: str | None = None


@dataclass
class Carried:
    """The IDs of a run's clusters and what became of the previous run's IDs."""

    ids: dict[str, str]                             # cluster label -> ID
    first_seen: dict[str, dt.datetime]              # ID -> when first published
    merged_into: dict[str, str] = field(default_factory=dict)     # old ID -> the ID that absorbed it
    split_into: dict[str, list[str]] = field(default_factory=dict)  # old ID -> the IDs of its parts (keeper first)
    split_records: dict[str, dict[str, int]] = field(default_factory=dict)  # old ID -> part's ID -> its old records
    deleted: list[str] = field(default_factory=list)              # old IDs with no record left
    created: list[str] = field(default_factory=list)              # IDs of clusters made of new records only
    new_ids: set[str] = field(default_factory=set)                 # IDs issued in this run
    revived: list[str] = field(default_factory=list)              # merged-away IDs current again


def carry_ids(
    members: Mapping[str, Iterable[str]],
    previous: Mapping[str, str],
    first_seen: Mapping[str, dt.datetime],
    prefix: str,
    now: dt.datetime,
    taken: Iterable[str] = (),
    previous_ids: Iterable[str] | None = None,
    revivable: Collection[str] = (),
) -> Carried:
    """Return each cluster's ID, carried over from the previous run where its records had one.

    Args:
        members: the records (keys such as ``source:record_id``) of each cluster, by cluster label.
        previous: the ID each record had in the previous run (records new in this run are absent).
        first_seen: when each previous ID was first published; an ID missing here counts as
            seen at ``now``.
        prefix: the first letter of IDs issued here ("C" customers, "H" households).
        now: when this run publishes (the first_seen of new IDs).
        taken: every ID issued before, current or not: a new ID is never one of them.
        previous_ids: the previous run's IDs; by default those ``previous`` names. An ID here none
            of whose records is in ``members`` was deleted.
        revivable: IDs merged into another earlier. A cluster that holds no previous ID but the record an
            ID of these was first issued for (``issued_for``) takes that ID again: a person merged by
            mistake and split off later gets their own ID back, and its redirect goes.
    """
    clusters = {label: sorted(records) for label, records in members.items()}
    overlap: dict[str, Counter[str]] = {}          # old ID -> cluster label -> records
    for label, records in clusters.items():
        for record in records:
            old = previous.get(record)
            if old is not None:
                overlap.setdefault(old, Counter())[label] += 1

    def seen(old: str) -> tuple:
        return (first_seen.get(old, now), -sum(overlap[old].values()), old)

    holder: dict[str, str] = {}                    # old ID -> the cluster holding most of its records
    for old, labels in overlap.items():
        most = max(labels.values())
        tied = [label for label, n in labels.items() if n == most]
        if len(tied) > 1:      # a tie: the part holding the record the ID was issued for keeps it
            founders = [label for label in tied
                        if any(previous.get(r) == old and old in issued_for(prefix, r) for r in clusters[label])]
            tied = founders or tied
        holder[old] = min(tied, key=lambda label: clusters[label][0])
    held: dict[str, list[str]] = {}
    for old, label in holder.items():
        held.setdefault(label, []).append(old)

    taken = taken if isinstance(taken, (set, frozenset)) else set(taken)
    used = set(overlap)                            # and taken: every ID issued before
    carried = Carried(ids={}, first_seen={})
    for label in sorted(clusters, key=lambda label: clusters[label][0]):
        olds = sorted(held.get(label, ()), key=seen)
        if olds:
            kept = olds[0]
            carried.ids[label] = kept
            carried.first_seen[kept] = first_seen.get(kept, now)
            for old in olds[1:]:
                carried.merged_into[old] = kept
            continue
        new = _revived(clusters[label], prefix, revivable, used) if revivable else None
        if new is not None:
            carried.revived.append(new)
        else:
            key, n = clusters[label][0], 0
            new = stable_id(prefix, key)
            while new in used or new in taken:
                n += 1
                new = stable_id(prefix, f"{key}#{n}")
            carried.new_ids.add(new)
        used.add(new)
        carried.ids[label] = new
        carried.first_seen[new] = now
        if not any(record in previous for record in clusters[label]):
            carried.created.append(new)
    for old, labels in overlap.items():
        if len(labels) > 1:
            keeper = carried.ids[holder[old]]
            parts = sorted({carried.ids[label] for label in labels} - {keeper})
            carried.split_into[old] = [keeper, *parts]
            carried.split_records[old] = {carried.ids[label]: n for label, n in labels.items()}
    olds = set(previous.values()) if previous_ids is None else set(previous_ids)
    carried.deleted = sorted(olds - set(overlap))
    return carried


def _revived(records: Iterable[str], prefix: str, revivable: Collection[str], used: Collection[str]) -> str | None:
    """Return the merged-away ID first issued for one of records, if any is not in use in this run."""
    for record in records:
        for old in issued_for(prefix, record):
            if old in revivable and old not in used:
                return old
    return None


def _split_reason(parts: list[str], records: Mapping[str, int]) -> str:
    """Return why the first of parts kept the ID of a person split into them (records: each part's records of it)."""
    said = f"its records now belong to {len(parts)} persons"
    if not records:
        return f"{said}; {parts[0]} kept most of them"
    kept, total = records.get(parts[0], 0), sum(records.values())
    others = max((n for part, n in records.items() if part != parts[0]), default=0)
    if kept > others:
        return f"{said}; {parts[0]} kept most of them ({kept} of {total})"
    if kept == others:
        return f"{said}; {parts[0]} kept {kept} of {total}, as many as another part, and keeps the ID"
    return f"{said}; {parts[0]} kept {kept} of {total}"


def split_events(old: str, parts: Sequence[str], reason: str, household_of: Mapping[str, str]) -> list[Event]:
    """Return the events of a person split into parts (the first keeps its ID): the split, naming the keeper's
    household, and for each part living in another household a household_changed event saying where."""
    events = [Event(SPLIT, (old,), tuple(parts), reason, household_of.get(parts[0]))]
    for part in parts[1:]:
        if household_of.get(part) is not None and household_of.get(part) != household_of.get(parts[0]):
            events.append(Event(HOUSEHOLD_CHANGED, (part,), (part,),
                                f"{part}, split off from {old}, lives in household {household_of[part]}",
                                household_of[part]))
    return events


def identity_events(people: Carried, household_of: Mapping[str, str] | None = None) -> list[Event]:
    """Return the created, merged, split and deleted events of carried customer IDs, in recording order.

    Args:
        household_of: the household ID of each of this run's customer IDs (named in the events).
    """
    household_of = household_of or {}
    events: list[Event] = []
    for old, parts in sorted(people.split_into.items()):
        events += split_events(old, parts, _split_reason(parts, people.split_records.get(old, {})), household_of)
    absorbed: dict[str, list[str]] = {}
    for old, kept in people.merged_into.items():
        absorbed.setdefault(kept, []).append(old)
    for kept, olds in sorted(absorbed.items()):
        olds = sorted(olds)
        events.append(Event(MERGED, (kept, *olds), (kept,),
                            f"{', '.join(olds)} {'was' if len(olds) == 1 else 'were'} found to be the same person "
                            f"as {kept}; {kept} was seen first and stays",
                            household_of.get(kept)))
    for new in sorted(people.created):
        events.append(Event(CREATED, (), (new,), "a person seen for the first time", household_of.get(new)))
    for old in people.deleted:
        events.append(Event(DELETED, (old,), (), "every record of this person was deleted"))
    return sorted(events, key=lambda e: _EVENT_ORDER[e.kind])


def household_moves(
    previous_household: Mapping[str, str], household_of: Mapping[str, str], households: Carried,
) -> list[Event]:
    """Return a household_changed event for each customer ID kept from the previous run whose household changed.

    Args:
        previous_household: the household ID of each previous customer ID.
        household_of: the household ID of each of this run's customer IDs.
        households: the carried household IDs (a move into a household that absorbed the old one
            is not a move).
    """
    events = []
    for customer, new in sorted(household_of.items()):
        old = previous_household.get(customer)
        if old is None or old == new:
            continue
        if households.merged_into.get(old) == new:
            reason = f"household {old} was found to be one household with {new}"
        elif new in households.split_into.get(old, ()):
            reason = f"household {old} split; this person now lives in {new}"
        else:
            reason = f"moved from household {old} to {new}"
        events.append(Event(HOUSEHOLD_CHANGED, (customer,), (customer,), reason, new))
    return events


def reconcile(ids: Iterable[str], events: Iterable[Event]) -> set[str]:
    """Return the IDs that result from applying events to ids (remove the IDs before, add those after)."""
    current = set(ids)
    for event in events:
        current -= set(event.before)
        current |= set(event.after)
    return current


CUSTOMER, HOUSEHOLD = "customer", "household"


@dataclass
class Assignment:
    """A run's IDs, carried over from the previous run, and what became of the previous ones."""

    customer_ids: dict[str, str]             # person label -> customer_id
    household_ids: dict[str, str]            # household label -> household_id
    customer_first_seen: dict[str, dt.datetime]
    household_first_seen: dict[str, dt.datetime]
    events: list[Event]
    aliases: list[tuple[str, str, str | None, str]]   # (kind, old_id, current_id or None, reason); old_id itself: current again


def _aliases(kind: str, carried: Carried, what: str) -> list[tuple[str, str, str | None, str]]:
    """Return the aliases of the IDs a carry retired."""
    return ([(kind, old, kept, f"{what} {old} was merged into {kept}") for old, kept in sorted(carried.merged_into.items())]
            + [(kind, old, None, f"every record of {what} {old} was deleted") for old in carried.deleted]
            + [(kind, old, old, f"{what} {old} is apart again") for old in sorted(carried.revived)])


def assign_ids(persons: Mapping[str, Iterable[str]], households: Mapping[str, Iterable[str]],
               household_of_person: Mapping[str, str], previous: PreviousIds, now: dt.datetime) -> Assignment:
    """Return the IDs of a run's persons and households, carried over from the previous run.

    Args:
        persons: the records of each person, by person label.
        households: the records of each household, by household label.
        household_of_person: the household label of each person label.
    """
    people = carry_ids(persons, previous.customer_of, previous.customer_first_seen, "C", now,
                       taken=previous.customers_taken, previous_ids=previous.customer_household,
                       revivable=previous.customers_merged)
    homes = carry_ids(households, previous.household_of, previous.household_first_seen, "H", now,
                      taken=previous.households_taken, previous_ids=set(previous.customer_household.values()),
                      revivable=previous.households_merged)
    household_of = {people.ids[p]: homes.ids[h] for p, h in household_of_person.items()}
    events = identity_events(people, household_of) + household_moves(previous.customer_household, household_of, homes)
    return Assignment(people.ids, homes.ids, people.first_seen, homes.first_seen, events,
                      _aliases(CUSTOMER, people, "customer") + _aliases(HOUSEHOLD, homes, "household"))


def unchanged_records(records: "pd.DataFrame", published: "pd.DataFrame", columns: Iterable[str]) -> dict[str, str]:
    """Return the published customer_id of every record whose linkage fields are as the published run had them.

    Args:
        records: this run's standardised records (unique_id and ``columns``).
        published: the published run's (unique_id, customer_id and ``columns``: its linkage snapshot).
        columns: the fields compared (the time a record was updated is not one: a record saved
            again unchanged is unchanged).
    """
    import pandas as pd

    compared = [c for c in columns if c not in ("unique_id", "source", "record_id", "updated_at")
                and c in records.columns and c in published.columns]
    joined = records[["unique_id", *compared]].merge(published[["unique_id", "customer_id", *compared]],
                                                     on="unique_id", suffixes=("", "_was"))
    same = pd.Series(True, index=joined.index)
    for c in compared:
        now, was = joined[c].astype(object), joined[f"{c}_was"].astype(object)
        same &= (now.isna() & was.isna()) | (now.astype(str) == was.astype(str))
    return dict(zip(joined.loc[same, "unique_id"], joined.loc[same, "customer_id"]))


def taken_back_persons(placed: Mapping[str, str], taken_back: Collection[str]) -> set[str]:
    """Return the published persons (``placed``: record -> published person) holding a record a steward's decision,
    taken back since, had joined or kept apart."""
    return {placed[uid] for uid in taken_back if uid in placed}


def judged_afresh(placed: Mapping[str, str], persons: Collection[str]) -> dict[str, str]:
    """Return ``placed`` (record -> published person: the unchanged records a run keeps to their persons, or the
    edited ones it takes back to theirs) without the records of these persons (``taken_back_persons``): the model
    judges them again as if no run had placed them (two persons a cannot-link split may join again; a must-link's
    person splits where the model does not join it)."""
    return {uid: person for uid, person in placed.items() if person not in persons}


def edited_records(records: "pd.DataFrame", published: "pd.DataFrame", unchanged: Mapping[str, str]) -> dict[str, str]:
    """Return the published customer_id of every record of this run that the published run placed and that
    has changed since (in ``published`` but not in ``unchanged``, :func:`unchanged_records`)."""
    present = set(records["unique_id"].tolist())
    return {uid: customer for uid, customer in zip(published["unique_id"].tolist(), published["customer_id"].tolist())
            if uid in present and uid not in unchanged}
