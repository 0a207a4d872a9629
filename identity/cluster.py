"""Constrained best-first clustering of scored pairs into persons.

Connected components at a threshold chain a whole family into one person as soon as a shared card
links each member to the next. Here pairs are taken in order of falling match probability and two
clusters are joined only when no record of one is ruled out by a cannot-link rule against any
record of the other (see :mod:`identity.rules`). Every accepted join is kept as an explanation.

The edge list is small next to the record table (only pairs above the threshold), so this runs in
Python after the engine has done the scoring. Components interact only through the sole holders of
a full name (``_join_sole_holders``): a run over part of the records passes the full names held by
the rest (``names_elsewhere``).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

from identity.graph import UnionFind
from identity.progress import NO_PROGRESS, Progress, counted
from identity.rules import (
    NAMELESS, NAMES_ONLY, RULE_TITLES, STEWARD, STRICT, NameAndBirth, RuleBook, edit_conflict, first_conflict,
)

# A pair on which nothing but the names agrees joins only when its two persons are the only holders of its
# full name (``_join_sole_holders``), whatever the model's probability: among tens of thousands of
# customers "Khadija Benali" or "Jan de Vries" is often two people, and the model, which weighs a first name
# and a surname as if independent, is surest of such pairs where names cluster (by origin, by family). Until
# session 17 such a pair also joined from match probability 0.8; of those joins 20% were wrong at 300,000
# records (137 of 671) and 12% at 100,000, growing with the drop. Measured by clustering the same scored pairs
# both ways: persons F1 0.9567 -> 0.9568 at 100k (seed 7), 0.9507 -> 0.9511 at 300k (seed 3); Febrl1-4
# unchanged. A caller may still pass a threshold (``names_only_threshold``) from which such pairs join anyway.
NAMES_ONLY_THRESHOLD = math.inf
# Hysteresis for a run over records a published run already placed (``previous``): unchanged records
# that were one person are joined again first, without the rules, as long as the model scores them
# at KEEP_TOGETHER or more; unchanged records that were two persons are not joined directly. A
# retrained model, term frequencies and spelling counts of a new drop move borderline pairs and
# rule decisions a little either way; without this, every run would rename a few hundred persons
# whose records did not change (measured: 100 merges and 80 splits among 55,000 persons). New and
# changed records are scored as any, so new evidence still joins persons and separates records.
KEEP_TOGETHER = 0.2
NAME_COMPARISONS: tuple[str, ...] = ("given_name", "surname")
PROGRESS_EVERY = 5_000   # pairs taken in between two reports to progress


def names_only_pairs(pairs: pd.DataFrame) -> set[tuple[str, str]]:
    """Return the scored pairs on which no comparison but the names agrees (gamma > 0)."""
    others = [c for c in pairs.columns if c.startswith("gamma_") and c[len("gamma_"):] not in NAME_COMPARISONS]
    if not others or pairs.empty:
        return set()
    lone = (pairs[others] <= 0).all(axis=1)
    return set(zip(pairs.loc[lone, "unique_id_l"], pairs.loc[lone, "unique_id_r"]))


PERSONAL_COLUMNS: tuple[str, ...] = ("birth_date", "mobile", "email")


def nameless_ambiguous_pairs(pairs: pd.DataFrame, rules: RuleBook, threshold: float) -> set[tuple[str, str]]:
    """Return the pairs of a record without a first name that cannot tell household members apart.

    A record with a surname and an address but no first name fits every member of that household
    equally well. When its likely partners carry two first names that cannot be one person, only a
    pair that also agrees on something personal (birth date, mobile, e-mail) may join it.
    """
    needed = {"given_first_l", "given_first_r", "initials_l", "initials_r"}
    if pairs.empty or not needed <= set(pairs.columns):
        return set()
    likely = pairs[pairs["match_probability"] >= threshold]
    personal = pd.Series(False, index=likely.index)
    for column in PERSONAL_COLUMNS:
        if f"{column}_l" in likely.columns:
            personal |= likely[f"{column}_l"].notna() & (likely[f"{column}_l"] == likely[f"{column}_r"])
    partners: dict[str, set[str]] = {}
    impersonal: list[tuple[str, str, str]] = []   # (nameless side, id_l, id_r)
    for side, other in (("l", "r"), ("r", "l")):
        nameless = likely[f"given_first_{side}"].isna() & likely[f"initials_{side}"].isna()
        named = nameless & likely[f"given_first_{other}"].notna()
        for uid, name in zip(likely.loc[named, f"unique_id_{side}"], likely.loc[named, f"given_first_{other}"]):
            partners.setdefault(uid, set()).add(name)
        for uid, a, b in zip(likely.loc[nameless & ~personal, f"unique_id_{side}"],
                             likely.loc[nameless & ~personal, "unique_id_l"],
                             likely.loc[nameless & ~personal, "unique_id_r"]):
            impersonal.append((uid, a, b))

    def ambiguous(names: set[str]) -> bool:
        ordered = sorted(names)
        return any(not rules.given_compatible(x, x, y, y) for i, x in enumerate(ordered) for y in ordered[i + 1:])

    unclear = {uid for uid, names in partners.items() if len(names) > 1 and ambiguous(names)}
    return {(a, b) for uid, a, b in impersonal if uid in unclear}


@dataclass(frozen=True)
class Edited:
    """A record the published run placed that its customer has edited since: the person it was with, and the
    rule fields it had then (None when they are not known)."""

    person: str
    was: NameAndBirth | None = None


@dataclass(frozen=True)
class Merge:
    """One accepted join: the pair that justified it, its match probability, and why when not the model's score
    (``EDITED_ACCOUNT``)."""

    unique_id_l: str
    unique_id_r: str
    match_probability: float
    reason: str | None = None


# Why a steward's must-link joined two records, as the run's merges keep it: a later run reads them to cluster their
# persons again once the decision is taken back (``identity.incremental``), and explanations say so.
STEWARD_JOINED = "joined by a data steward's must-link"
# Why an edited record went back to its person (_keep_edited), as the run's merges and explanations say it.
EDITED_ACCOUNT = "the same account, edited since, was this person's in the run before"


@dataclass(frozen=True)
class Refusal:
    """A high-scoring pair that was not joined, and the rule that refused it."""

    unique_id_l: str
    unique_id_r: str
    match_probability: float
    reason: str
    rule: str = ""     # a key of identity.rules.RULE_TITLES


@dataclass
class Clustering:
    """The outcome: a cluster label per record, the merges made and the merges refused."""

    labels: dict[str, str]
    merges: list[Merge]
    refusals: list[Refusal]


def with_steward_refusals(clustering: Clustering, cannot_link: Iterable[tuple[str, str]],
                          probability: Mapping[frozenset[str], float]) -> Clustering:
    """Return the clustering with a refusal for every steward's cannot-link it honoured that no merge it tried
    refused (two persons kept apart by the published persons, or never scored together): the run keeps every decision
    it honoured, so that the next run knows one taken back since (``profile_api.store.steward.taken_back_records``).
    ``probability``: the scored pairs' match probabilities, by pair (0 for a pair never scored)."""
    refused = {frozenset((r.unique_id_l, r.unique_id_r)) for r in clustering.refusals if r.rule == STEWARD}
    added = [Refusal(a, b, probability.get(frozenset((a, b)), 0.0), RULE_TITLES[STEWARD], STEWARD)
             for a, b in dict.fromkeys(cannot_link) if frozenset((a, b)) not in refused]
    return Clustering(clustering.labels, clustering.merges, clustering.refusals + added) if added else clustering


def cluster_best_first(
    records: dict[str, NameAndBirth],
    pairs: Iterable[tuple[str, str, float]],
    threshold: float,
    must_link: Iterable[tuple[str, str]] = (),
    cannot_link: Iterable[tuple[str, str]] = (),
    names_only: Collection[tuple[str, str]] = (),
    names_only_threshold: float = NAMES_ONLY_THRESHOLD,
    rules: RuleBook = STRICT,
    nameless: Collection[tuple[str, str]] = (),
    progress: Progress = NO_PROGRESS,
    previous: Mapping[str, str] | None = None,
    names_elsewhere: Collection[tuple[str, str]] = frozenset(),
    edited: Mapping[str, Edited] | None = None,
) -> Clustering:
    """Return clusters built from pairs (id_l, id_r, probability) in order of falling probability.

    Args:
        records: the rule fields of every record, by unique_id.
        pairs: scored pairs; those below ``threshold`` are ignored.
        threshold: the lowest match probability that may join two clusters.
        must_link: pairs a data steward joined; applied first, without rules.
        cannot_link: pairs a data steward separated; never in one cluster.
        names_only: pairs (id_l, id_r) on which only the names agree; they join only from
            ``names_only_threshold`` up, or from ``threshold`` when the two persons are the only
            ones holding the pair's full name once every other pair is taken (:func:`_join_sole_holders`).
        names_elsewhere: full names (given_first, surname_core) held by records of the drop that are
            not in ``records`` (an incremental run clusters only the touched persons' records): a
            pair of such a name is never the only holder of it.
        nameless: pairs (id_l, id_r) of a record without a first name that fits several
            household members (:func:`nameless_ambiguous_pairs`); never joined.
        rules: the cannot-link rules as measured on the drop; a rule the drop showed to be
            mostly noise gives way to a pair the model is sure of (``RuleBook.waived``).
        progress: told of the pairs as they are taken in, per ``PROGRESS_EVERY``; those below
            the threshold count as done once the pairs are sorted.
        previous: the person each unchanged record belonged to in the published run: such records
            that were one person are joined again first (from KEEP_TOGETHER, without the rules but
            never against a steward's cannot-link), and such records that were two persons are not
            joined directly (hysteresis: IDs do not flicker with the model's retraining).
        edited: the records the published run placed that their customers have edited since, with the
            person each was with: such a record that no pair joins to anyone goes back to that person
            (:func:`_keep_edited`).

    Returns:
        Clustering whose labels are the smallest unique_id of each cluster, so that the same
        input always gives the same labels.
    """
    sets = UnionFind(records, keep_members=True)
    forbidden: dict[str, set[str]] = {}
    for a, b in cannot_link:
        forbidden.setdefault(a, set()).add(b)
        forbidden.setdefault(b, set()).add(a)

    merges: list[Merge] = []
    refusals: list[Refusal] = []
    for a, b in must_link:
        if sets.find(a) != sets.find(b):
            sets.union(a, b)
            merges.append(Merge(a, b, 1.0, STEWARD_JOINED))

    pairs = list(pairs)
    before = previous or {}
    kept_together = []
    for a, b, p in sorted(((a, b, p) for a, b, p in pairs if a in sets and b in sets
                           and before.get(a) is not None and before.get(a) == before.get(b) and p >= KEEP_TOGETHER),
                          key=lambda t: (-t[2], t[0], t[1])):
        if sets.find(a) != sets.find(b) and not _steward_apart(sets.members(a), sets.members(b), forbidden):
            sets.union(a, b)
            kept_together.append(Merge(a, b, p))
    merges.extend(kept_together)

    def joinable(a: str, b: str, p: float) -> bool:
        was_a, was_b = before.get(a), before.get(b)
        return p >= threshold and (was_a is None or was_b is None or was_a == was_b)

    ordered = sorted(
        ((p, a, b) for a, b, p in pairs if a in sets and b in sets and joinable(a, b, p)),
        key=lambda t: (-t[0], t[1], t[2]),
    )
    progress.advance(len(pairs) - len(ordered))
    for probability, a, b in counted(ordered, progress, PROGRESS_EVERY):
        ra, rb = sets.find(a), sets.find(b)
        if ra == rb:
            continue
        if probability < names_only_threshold and (a, b) in names_only:
            refusals.append(Refusal(a, b, probability, RULE_TITLES[NAMES_ONLY], NAMES_ONLY))
            continue
        if (a, b) in nameless:
            refusals.append(Refusal(a, b, probability, RULE_TITLES[NAMELESS], NAMELESS))
            continue
        found = _refusal_of_pair(sets, a, b, probability, records, forbidden, rules)
        if found:
            refusals.append(Refusal(a, b, probability, found[1], found[0]))
            continue
        sets.union(ra, rb)
        merges.append(Merge(a, b, probability))
    refusals = _join_sole_holders(sets, records, forbidden, rules, merges, refusals, names_elsewhere)
    if edited:
        _keep_edited(sets, records, forbidden, rules, before, edited, pairs, merges)
    kept_apart = [t for t in pairs if t[2] >= threshold and t[0] in sets and t[1] in sets and not joinable(*t)]
    refusals.extend(_refused_as_published(sets, kept_apart, records, forbidden, rules))
    return Clustering(labels=sets.labels(), merges=merges, refusals=refusals)


def _refused_as_published(sets: UnionFind, kept_apart: list[tuple[str, str, float]], records: dict[str, NameAndBirth],
                          forbidden: dict[str, set[str]], rules: RuleBook) -> list[Refusal]:
    """Return the refusals of the pairs the model joins that the published run kept apart (``kept_apart``: those
    ``cluster``'s joinable left out) and that stay apart: a rule refuses them now as it did then. Saying so keeps a
    run's refusals (its report's rules against the model, match_edge) from the second full run on, which otherwise
    held none of them."""
    found = []
    for a, b, p in sorted(kept_apart, key=lambda t: (-t[2], t[0], t[1])):
        if sets.find(a) == sets.find(b):
            continue
        refused = _refusal_of_pair(sets, a, b, p, records, forbidden, rules)
        if refused:
            found.append(Refusal(a, b, p, refused[1], refused[0]))
    return found


def _keep_edited(sets: UnionFind, records: dict[str, NameAndBirth], forbidden: dict[str, set[str]], rules: RuleBook,
                 before: Mapping[str, str], edited: Mapping[str, Edited], pairs: list[tuple[str, str, float]],
                 merges: list[Merge]) -> None:
    """Put each edited record that is alone back with the person it was, unless its edit conflicts with them.

    A record is an account (a webshop login, a loyalty card): when its customer writes a new
    e-mail address or mobile number into it, the value that tied it to their other records may be
    gone, but the account is still theirs (Senzing's advice: key on the source record, not the
    entity). So an edited record that no pair joined to anyone returns to the part of its old person
    holding most of that person's other records, unless a steward separated them or the edit itself
    conflicts with them: a first name, birth date or surname it changed to one the rules say is
    someone else's (the account changed hands). A conflict on a value the edit left as it was was
    there when the published run put them together, and a new mobile number is what a customer who
    changed numbers writes, so neither sends it away. A record that new evidence joined to someone
    stays where the evidence put it. The join is recorded as a merge with the member of that part it
    scores best against among the pairs clustered (0.0 when none reached the clustering; then a
    member of its old person), at that score, which is what its confidence then says.
    """
    homes: dict[str, list[str]] = {}
    for uid, person in [*before.items(), *((u, e.person) for u, e in edited.items())]:
        if uid in sets:
            homes.setdefault(person, []).append(uid)
    best: dict[tuple[str, str], float] = {}
    for a, b, p in pairs:
        if a in edited or b in edited:
            best[(a, b)] = best[(b, a)] = max(p, best.get((a, b), 0.0))
    for uid, edit in sorted(edited.items()):
        if uid not in sets or len(sets.members(uid)) > 1:
            continue
        parts = Counter(sets.find(m) for m in homes.get(edit.person, ()) if m != uid)
        if not parts:
            continue
        home = min(parts, key=lambda root: (-parts[root], root))
        members = sets.members(home)
        if _steward_apart([uid], members, forbidden):
            continue
        if edit_conflict(records[uid], edit.was, [records[m] for m in members], rules):
            continue
        sets.union(uid, home)
        # the merge names the member it scores best against, else one it belonged with before: the link an
        # explanation shows then runs from the record to its closest record, not to whichever is the part's root
        was_with = set(homes.get(edit.person, ()))
        closest = min(members, key=lambda m: (-best.get((uid, m), 0.0), m not in was_with, m))
        merges.append(Merge(uid, closest, best.get((uid, closest), 0.0), EDITED_ACCOUNT))


def full_name(record: NameAndBirth) -> tuple[str, str] | None:
    """Return (first name, surname) of a record that carries both, else None."""
    if record.given_first and record.surname_core:
        return record.given_first, record.surname_core
    return None


def _join_sole_holders(sets: UnionFind, records: dict[str, NameAndBirth], forbidden: dict[str, set[str]],
                       rules: RuleBook, merges: list[Merge], refusals: list[Refusal],
                       names_elsewhere: Collection[tuple[str, str]] = frozenset()) -> list[Refusal]:
    """Join the names-only pairs above the threshold whose full name no third person holds; return the refusals left.

    The names-only rule refuses such a pair because a common full name is often two people, and the
    model weighs a first name and a surname as if they were independent while names cluster (by
    origin, by family). When, once every other pair has been taken, the two persons are the only
    ones in the drop holding the pair's full name, that reason is gone: the pair joins unless a
    cannot-link rule refuses it, as any pair above the threshold. Measured at 100,000 records
    (30,000 households, seed 7, v1): 386 joins, recall 0.9463 -> 0.9535, precision 0.9928 -> 0.9904.
    """
    wanted = {full_name(records[r.unique_id_l]) for r in refusals if r.rule == NAMES_ONLY}
    wanted.discard(None)
    wanted -= set(names_elsewhere)     # a third person outside these records holds it
    if not wanted:
        return refusals
    holders: dict[tuple[str, str], list[str]] = {}
    for uid, record in records.items():
        name = full_name(record)
        if name in wanted:
            holders.setdefault(name, []).append(uid)
    # Passes until one joins nothing: a join may leave another name with only two holders.
    outcome: list[Refusal | None] = list(refusals)     # None: joined
    waiting = [i for i, r in enumerate(refusals) if r.rule == NAMES_ONLY and full_name(records[r.unique_id_l]) in holders
               and full_name(records[r.unique_id_l]) == full_name(records[r.unique_id_r])]
    joined_names: set[tuple[str, str]] = set()
    while waiting:
        still: list[int] = []
        for i in waiting:     # in the order they were made: falling probability
            refusal = refusals[i]
            a, b = refusal.unique_id_l, refusal.unique_id_r
            name = full_name(records[a])
            ra, rb = sets.find(a), sets.find(b)
            if ra == rb or {sets.find(uid) for uid in holders[name]} != {ra, rb}:
                still.append(i)
                continue
            found = _refusal_of_pair(sets, a, b, refusal.match_probability, records, forbidden, rules)
            if found:
                outcome[i] = Refusal(a, b, refusal.match_probability, found[1], found[0])
                continue
            sets.union(ra, rb)
            merges.append(Merge(a, b, refusal.match_probability))
            outcome[i] = None
            joined_names.add(name)
        if len(still) == len(waiting):
            break
        waiting = still
    # a names-only refusal inside one person whose name the rule gave way for is no refusal any more
    for i in waiting:
        a, b = refusals[i].unique_id_l, refusals[i].unique_id_r
        if full_name(records[a]) in joined_names and sets.find(a) == sets.find(b):
            outcome[i] = None
    return [r for r in outcome if r is not None]


def _steward_apart(left: list[str], right: list[str], forbidden: dict[str, set[str]]) -> bool:
    """Return True when a steward's cannot-link separates a record of left from one of right."""
    return any(forbidden.get(a, set()) & set(right) for a in left)


def _refusal_of_pair(sets: UnionFind, a: str, b: str, probability: float, records: dict[str, NameAndBirth],
                     forbidden: dict[str, set[str]], rules: RuleBook) -> tuple[str, str] | None:
    """Return (rule, reason) why the clusters of records a and b, scored at probability, may not be joined, or None."""
    left, right = sets.members(a), sets.members(b)
    found = _refusal(left, right, records, forbidden, rules, frozenset())
    if found and found[0] != STEWARD:
        # Only now ask which rules give way to this pair: waiving a rule only skips its check,
        # so a pair no rule refuses stays unrefused, and most pairs are.
        waived = rules.waived(probability, records[a], records[b])
        if waived:
            found = _refusal(left, right, records, forbidden, rules, waived)
    return found


def _refusal(
    left: list[str], right: list[str], records: dict[str, NameAndBirth], forbidden: dict[str, set[str]],
    rules: RuleBook, waived: frozenset[str],
) -> tuple[str, str] | None:
    """Return (rule, reason) why two clusters may not be joined, or None when they may.

    A conflict that one of the two clusters already holds is not a reason: when a record of left
    conflicts with a record of right, but right already has a record with the same value as the
    left one (or left one with the right one's), the two values sit in one person already (the
    pairs that joined them were sure of it), and joining adds no pair of values it did not have.
    """
    if _steward_apart(left, right, forbidden):
        return STEWARD, RULE_TITLES[STEWARD]
    return first_conflict([records[a] for a in left], [records[b] for b in right], rules, waived)
