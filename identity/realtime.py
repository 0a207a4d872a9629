"""One record resolved in real time against the store's records, as the batch would resolve it. Pure.

The store's records are held warm (:class:`RecordIndex`), standardised as a batch run standardises
its drop: the same ``standardise_record``, postcodes completed from the streets the records know,
surnames read from e-mail addresses the records' surnames explain, and the ``*_names`` counts of
shared e-mails, mobiles and cards (:func:`identity.link.prepare`). A new record gets the same
treatment against them, with itself counted in. Its candidates are the records the model's own
blocking rules pair it with, found through in-memory postings: per rule its most varied column, or
all its columns together where one column leaves too many records to check (a common surname).

:func:`decide` then does for one record what best-first clustering (``identity.cluster``) does for a
drop: the candidates' persons taken in order of falling probability, a person joined only at the
match threshold, not when only the names agree below the names-only threshold, not when a
cannot-link rule (as measured on the published run's drop) or a steward's cannot-link forbids it
against any record of that person; a steward's must-link joins first, without rules.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import sqlglot
from sqlglot import exp

from identity.addresses import Places, address_key, complete_postcodes, postcode_of_street, street_places
from identity.cluster import NAME_COMPARISONS, NAMES_ONLY_THRESHOLD, PERSONAL_COLUMNS
from identity.email_names import fill_surnames_from_email, surname_from_email, surname_vocabulary
from identity.link import SHARED_COLUMNS, count_people
from identity.placeholder_values import without_placeholders_in_row
from identity.rules import NAMELESS, NAMES_ONLY, RULE_TITLES, STEWARD, NameAndBirth, RuleBook, first_conflict
from identity.strictness import book_of_run
from identity.compiled_model import ModelScorer, PairScore
from identity.scoring import term_frequencies
from identity.standardise import STANDARD_COLUMNS, standardise_record

NAMES_COLUMNS: tuple[str, ...] = tuple(f"{c}_names" for c in SHARED_COLUMNS)
COLUMNS: tuple[str, ...] = (*STANDARD_COLUMNS, *NAMES_COLUMNS)   # the layout of a record tuple
POS = {name: i for i, name in enumerate(COLUMNS)}
_UID, _GIVEN_FIRST, _SURNAME_CORE = POS["unique_id"], POS["given_first"], POS["surname_core"]
_RULE_FIELDS = tuple(POS[c] for c in ("given_first", "given", "initials", "surname_core", "birth_date", "mobile"))
TF_COLUMNS: tuple[str, ...] = ("given_first", "surname_core", "city")
Record = tuple


_MOBILE_NAMES, _EMAIL = POS["mobile_names"], POS["email"]


def rule_fields(record: Record) -> NameAndBirth:
    """Return the cannot-link fields of a record tuple (a mobile number used by several first names is shared)."""
    return NameAndBirth(*(record[i] for i in _RULE_FIELDS), (record[_MOBILE_NAMES] or 0) > 1, record[_EMAIL])


def rulebook_of_run(kept: Iterable[Mapping[str, Any]] | None, name_counts: Mapping[str, int]) -> RuleBook:
    """Return the rule book of a published run: its measured strictness (run.rules_json) and the records' first names.

    A run kept without rules (before schema 6) gives every rule strict, as :data:`identity.rules.STRICT`.
    """
    return book_of_run(name_counts, list(kept or ()))


@dataclass(frozen=True)
class BlockingRule:
    """A blocking rule read as equalities (left column, right column), all of which must hold."""

    sql: str
    equalities: tuple[tuple[str, str], ...]

    @property
    def reversed(self) -> tuple[tuple[str, str], ...]:
        """Return the equalities with the sides swapped (the new record on the right)."""
        return tuple((r, l) for l, r in self.equalities)


def parse_blocking_rule(sql: str) -> BlockingRule:
    """Return a Splink blocking rule (``l.x = r.x AND ...``) as equalities; raise ValueError for any other shape."""
    node = sqlglot.parse_one(sql, read="duckdb")
    equalities: list[tuple[str, str]] = []

    def walk(n: exp.Expression) -> None:
        if isinstance(n, exp.Paren):
            walk(n.this)
        elif isinstance(n, exp.And):
            walk(n.this)
            walk(n.expression)
        elif isinstance(n, exp.EQ) and isinstance(n.this, exp.Column) and isinstance(n.expression, exp.Column):
            sides = {n.this.table: n.this.name, n.expression.table: n.expression.name}
            if set(sides) != {"l", "r"}:
                raise ValueError(f"blocking rule {sql!r}: {n.sql()} does not compare l with r")
            equalities.append((sides["l"], sides["r"]))
        else:
            raise ValueError(f"blocking rule {sql!r}: only equalities of l and r joined by AND are supported")

    walk(node)
    return BlockingRule(sql, tuple(equalities))


MAX_SCAN = 8   # records per posted value a look-up may check one by one before a rule gets a posting of its own

Key = int | tuple[int, ...]     # a record position, or several: what a posting is keyed by


def _key(record: Record, at: Key) -> Any:
    """Return a record's value at a position, or its values at several (None when any is missing)."""
    if isinstance(at, int):
        return record[at]
    values = tuple(record[i] for i in at)
    return None if None in values else values


def _holds(equalities: Sequence[tuple[int, int]], left: Record, right: Record) -> bool:
    """Return True when every equality (left position, right position) holds, none on a missing value."""
    for i, j in equalities:
        value = left[i]
        if value is None or value != right[j]:
            return False
    return True


class RecordIndex:
    """The store's records as the batch standardises them, and the look-ups one new record needs.

    Built once per published run (``from_standardised``); records the store gains in between
    (resolved in real time here or by another server) are added with ``add``.
    """

    def __init__(self, rules: Sequence[BlockingRule]) -> None:
        self.rules = list(rules)
        self.records: list[Record] = []
        self.position: dict[str, int] = {}
        self.fingerprint: dict[str, int] = {}          # unique_id -> hash of the raw values it was made from
        # shared column -> value -> the first name using it, or the set of first names when several do
        self.names_of: dict[str, dict[str, str | set[str]]] = {c: {} for c in SHARED_COLUMNS}
        self.places: Places = {}
        self.vocabulary: dict[str, tuple[str | None, str]] = {}
        self.name_counts: Counter[str] = Counter()
        # (first name, surname) -> how many records hold it: whether a person is its only holder (cluster's sole holders)
        self.full_names: Counter[tuple[str, str]] = Counter()
        self._people: dict[tuple[str, ...], int] = {}
        self._lookups: list[tuple[tuple[tuple[int, int], ...], Key, Key]] = []   # (equalities, probe, posted)
        # posted value -> the position of the one record holding it, or a list of the positions of several
        self.postings: dict[Key, dict[Any, int | list[int]]] = {}
        # the birth dates the published run read as placeholders (identity.placeholders): read so here too
        self.placeholders: Mapping[str, int] = {}
        # the identifiers it read as placeholders, per column (identity.placeholder_values): likewise
        self.placeholder_values: Mapping[str, Mapping[str, int]] = {}

    @classmethod
    def from_standardised(cls, frame: pd.DataFrame, fingerprints: Mapping[str, int],
                          rules: Sequence[BlockingRule], completed: bool = False) -> RecordIndex:
        """Return the index of standardised records (``standardise_drop`` of the store's raw records).

        Args:
            completed: the records carry the drop-level completions already, with their flags
                (``postcode_from_street``, ``surname_from_email``: a run's linkage snapshot); else
                they are made here, as the batch makes them after standardising.
        """
        index = cls(rules)
        if not completed:
            frame = fill_surnames_from_email(complete_postcodes(frame))
        # What the batch completed from: postcodes as typed, surnames as written (not those completed).
        typed = frame[~frame["postcode_from_street"].astype(bool)]
        index.places = street_places(*(typed[c].tolist() for c in ("street", "house_number", "postcode", "city")))
        written = frame[~frame["surname_from_email"].astype(bool)]
        index.vocabulary = surname_vocabulary(written["particles"], written["surname_core"])
        columns = []
        for c in STANDARD_COLUMNS:   # column by column: a pd.isna per value costs more than the rest
            values, missing = frame[c].tolist(), frame[c].isna().tolist()
            # one string object per distinct value (Arrow hands out a new one per row: a city 10,000 times)
            one: dict[Any, Any] = {}
            columns.append([None if gone else one.setdefault(v, v) for v, gone in zip(values, missing)])
        rows = [(*row, 0, 0, 0) for row in zip(*columns)]
        for row in rows:
            given = row[_GIVEN_FIRST]
            if given is not None:
                index.name_counts[given] += 1
                index._count_name(row)
        index._choose_lookups(rows)
        for row in rows:
            index.add(index.with_name_counts(row), fingerprints.get(row[_UID], 0), count_names=False)
        return index

    def _count_name(self, record: Record) -> None:
        """Count the record's first name among the names using its e-mail, mobile and card."""
        given = record[_GIVEN_FIRST]
        for column in SHARED_COLUMNS:
            value = record[POS[column]]
            if value is None:
                continue
            names = self.names_of[column]
            held = names.get(value)
            if held is None:
                names[value] = given
            elif isinstance(held, str):
                if held != given:
                    names[value] = {held, given}
            else:
                held.add(given)

    def _choose_lookups(self, rows: Sequence[Record]) -> None:
        """Pick, for each rule and direction, what to post records under: the rule's most varied column, or
        all its columns together when even that one leaves more than MAX_SCAN records per value to check."""
        distinct: dict[int, int] = {}

        def variety(position: int) -> int:
            if position not in distinct:
                distinct[position] = max(1, len({row[position] for row in rows}))
            return distinct[position]

        for rule in self.rules:
            ways = [rule.equalities] if set(rule.reversed) == set(rule.equalities) else [rule.equalities, rule.reversed]
            for equalities in ways:
                positions = tuple((POS[l], POS[r]) for l, r in equalities)
                probe, posted = max(positions, key=lambda pair: variety(pair[1]))
                lookup: tuple[Any, Any] = (probe, posted)
                if len(positions) > 1 and len(rows) / variety(posted) > MAX_SCAN:
                    lookup = (tuple(l for l, _ in positions), tuple(r for _, r in positions))
                self._lookups.append((positions, *lookup))
                self.postings.setdefault(lookup[1], {})

    def people_using(self, column: str, value: str | None, also: str | None = None) -> int:
        """Return how many different people use a value (``identity.link.prepare``), counting a first name more."""
        if value is None:
            return 0
        held = self.names_of[column].get(value)
        names = set() if held is None else {held} if isinstance(held, str) else held
        if also is not None and also not in names:
            names = names | {also}
        if len(names) < 2:
            return len(names)
        key = tuple(sorted(names))
        if key not in self._people:
            self._people[key] = count_people(list(key))
        return self._people[key]

    def with_name_counts(self, record: Record, counted: bool = True) -> Record:
        """Return a record with its ``*_names`` counts as the store's records make them (itself included)."""
        given = record[_GIVEN_FIRST] if counted else None
        counts = tuple(self.people_using(c, record[POS[c]], given) for c in SHARED_COLUMNS)
        return (*record[:len(STANDARD_COLUMNS)], *counts)

    def standardise(self, raw: Mapping[str, str | None]) -> Record:
        """Return a raw record (source, record_id and the identity columns) as the batch would standardise it
        among the store's records: completions from them, ``*_names`` counts with it."""
        row = standardise_record(dict(raw))
        if row["birth_date"] in self.placeholders:
            row["birth_date"] = None
        without_placeholders_in_row(row, self.placeholder_values)
        if row["postcode"] is None and row["street"] and row["house_number"]:
            postcode = postcode_of_street(self.places, row["street"], row["house_number"], row["city"])
            if postcode is not None:
                row["postcode"] = postcode
                row["address_key"] = address_key(postcode, row["house_number"], row["house_addition"], row["street"])
        if row["surname_core"] is None and row["given_first"] and row["email_local"]:
            row.update(surname_from_email(row["email_local"], row["given_first"], self.vocabulary) or {})
        return self.with_name_counts(tuple(row[c] for c in STANDARD_COLUMNS) + (0, 0, 0))

    def add(self, record: Record, fingerprint: int, count_names: bool = True) -> None:
        """Add (or replace) a record in the index; its first name then counts for the values it uses."""
        uid = record[_UID]
        replacing = uid in self.position
        before = full_name(self.records[self.position[uid]]) if replacing else None
        if before is not None:
            self.full_names[before] -= 1
        now = full_name(record)
        if now is not None:
            self.full_names[now] += 1
        if replacing:
            at = self.position[uid]
            self.records[at] = record
        else:
            at = self.position[uid] = len(self.records)
            self.records.append(record)
        self.fingerprint[uid] = fingerprint
        if count_names and record[_GIVEN_FIRST] is not None:
            self._count_name(record)
        for posted, postings in self.postings.items():
            value = _key(record, posted)
            if value is None:
                continue
            held = postings.get(value)
            if held is None:
                postings[value] = at
            elif isinstance(held, int):
                if held != at:
                    postings[value] = [held, at]
            elif not replacing or at not in held:
                held.append(at)

    def full_name_holders(self, record: Record) -> int:
        """Return how many stored records hold a record's full name, the record itself left out when stored."""
        name = full_name(record)
        if name is None:
            return 0
        held = self.full_names[name]
        at = self.position.get(record[_UID])
        return held - 1 if at is not None and full_name(self.records[at]) == name else held

    def record(self, uid: str) -> Record | None:
        """Return the indexed record of a unique_id, or None."""
        at = self.position.get(uid)
        return None if at is None else self.records[at]

    def candidates(self, record: Record) -> list[str]:
        """Return the unique_ids of the indexed records any blocking rule pairs with the record (itself aside)."""
        found: set[int] = set()
        for equalities, probe, posted in self._lookups:
            value = _key(record, probe)
            if value is None:
                continue
            held = self.postings[posted].get(value, ())
            for at in (held,) if isinstance(held, int) else held:
                if at not in found and _holds(equalities, record, self.records[at]):
                    found.add(at)
        uid = record[_UID]
        return [self.records[at][_UID] for at in sorted(found) if self.records[at][_UID] != uid]

    def blocked(self, record: Record, other: Record) -> bool:
        """Return True when a blocking rule pairs the two records (either way round)."""
        return any(_holds(equalities, record, other) for equalities, _, _ in self._lookups)


def frequencies(index: RecordIndex, columns: Iterable[str] = TF_COLUMNS) -> dict[str, dict[Any, float]]:
    """Return the term frequencies of the indexed records' columns (Splink's tables over the same records)."""
    return {c: term_frequencies(Counter(r[POS[c]] for r in index.records).items()) for c in columns}


@dataclass(frozen=True)
class Candidate:
    """A stored record that may be the new record's person, with the person it belongs to now."""

    unique_id: str
    customer_id: str
    record: Record


@dataclass
class PersonScore:
    """A candidate person: the best probability of its records against the new record, and why it may not be joined."""

    customer_id: str
    probability: float
    best: str                      # the unique_id of its best record
    refused: str | None = None     # the rule that keeps the record out, if any


@dataclass
class Decision:
    """The outcome for one record: the person it belongs to (None: a new one), and every candidate person."""

    customer_id: str | None
    probability: float
    candidates: list[PersonScore] = field(default_factory=list)
    scores: dict[str, PairScore] = field(default_factory=dict)    # by candidate unique_id
    steward: bool = False           # joined by a steward's must-link
    bridged: list[str] = field(default_factory=list)   # other persons the record joins to it (a batch merges them)


def full_name(record: Record) -> tuple[str, str] | None:
    """Return (first name, surname) of a record that carries both, else None."""
    given, surname = record[_GIVEN_FIRST], record[_SURNAME_CORE]
    return (given, surname) if given is not None and surname is not None else None


def sole_holder(record: Record, members: Mapping[str, Sequence[Record]], holders: int | None) -> str | None:
    """Return the one person holding all ``holders`` stored records of the record's full name, or None.

    As the batch joins a names-only pair whose two persons are the only holders of its full name
    (``identity.cluster``): the new record and that person are then those two.
    """
    name = full_name(record)
    if not holders or name is None:
        return None
    for person, records in members.items():
        held = sum(1 for r in records if full_name(r) == name)
        if held:
            return person if held == holders else None
    return None


def _personal(record: Record, other: Record) -> bool:
    """Return True when two records share a birth date, mobile or e-mail (something one person owns)."""
    return any(record[POS[c]] is not None and record[POS[c]] == other[POS[c]] for c in PERSONAL_COLUMNS)


def decide(record: Record, candidates: Sequence[Candidate], members: Mapping[str, Sequence[Record]],
           scorer: ModelScorer, rules: RuleBook, threshold: float, *,
           must_link: Collection[str] = (), cannot_link: Collection[str] = (),
           full_name_holders: int | None = None, first_seen: Mapping[str, Any] | None = None) -> Decision:
    """Return the person a new record joins, as best-first clustering would join it, and the candidate persons.

    Args:
        record: the new record (``RecordIndex.standardise``).
        candidates: the stored records the blocking rules pair it with, with their persons.
        members: every record of each candidate person (for the cannot-link rules), by customer_id;
            also the persons of the records in must_link.
        threshold: the match probability from which a pair may join (the batch's match threshold).
        must_link, cannot_link: unique_ids of stored records a steward joined to / kept apart from this record.
        full_name_holders: how many stored records hold the record's full name (``RecordIndex.full_name_holders``;
            None: not known): where they all belong to one candidate person, a pair of that person on
            which only the names agree joins from the threshold, as the batch joins sole holders.
        first_seen: when each candidate person was first published (by customer_id; None: not known).

    A record that joins one person may fit a second as well (a pair above the threshold that no rule
    refuses, and no conflict between the two persons with the record in one of them): the batch then
    joins the two through it, and the ID that survives such a merge is the one first seen, then the
    one of the person with the most records (``identity.lifecycle.carry_ids``). The decision names
    that person, so the ID a channel is given in real time is the one the next run keeps.
    """
    scores = {c.unique_id: scorer.score(record, c.record) for c in candidates}
    people: dict[str, PersonScore] = {}
    for c in candidates:
        p = scores[c.unique_id].match_probability
        held = people.get(c.customer_id)
        if held is None or p > held.probability or (p == held.probability and c.unique_id < held.best):
            people[c.customer_id] = PersonScore(c.customer_id, p, c.unique_id)
    ranked = sorted(people.values(), key=lambda s: (-s.probability, s.customer_id))
    decision = Decision(None, 0.0, ranked, scores)
    for person in sorted(members):
        if any(r[_UID] in must_link for r in members[person]):
            decision.customer_id, decision.steward = person, True
            decision.probability = 1.0
            return decision
    by_uid = {c.unique_id: c for c in candidates}
    fields = rule_fields(record)
    partners = {by_uid[uid].record[_GIVEN_FIRST] for uid, s in scores.items()
                if s.match_probability >= threshold and by_uid[uid].record[_GIVEN_FIRST]}
    nameless = not record[_GIVEN_FIRST] and not record[POS["initials"]]
    ambiguous = nameless and any(not rules.given_compatible(a, a, b, b) for a in partners for b in partners if a < b)
    pairs = sorted(((s.match_probability, uid) for uid, s in scores.items() if s.match_probability >= threshold),
                   key=lambda t: (-t[0], t[1]))
    sole = sole_holder(record, members, full_name_holders)
    for probability, uid in pairs:
        candidate = by_uid[uid]
        person = people[candidate.customer_id]
        if decision.customer_id is not None and candidate.customer_id in (decision.customer_id, *decision.bridged):
            continue
        only_holders = sole == candidate.customer_id and full_name(candidate.record) == full_name(record)
        reason = _refusal(record, fields, candidate, scores[uid], scorer, rules, ambiguous,
                          members.get(candidate.customer_id, [candidate.record]), cannot_link, only_holders)
        if reason is None and decision.customer_id is None:
            decision.customer_id, decision.probability = candidate.customer_id, person.probability
            person.refused = None
        elif reason is None and not _nameless_bridge(record, candidate, members.get(candidate.customer_id, ())):
            joined = [fields, *(rule_fields(r) for p in (decision.customer_id, *decision.bridged)
                                for r in members.get(p, ()))]
            waived = rules.waived(probability, fields, rule_fields(candidate.record))
            if first_conflict(joined, [rule_fields(r) for r in members.get(candidate.customer_id, ())],
                              rules, waived) is None:
                decision.bridged.append(candidate.customer_id)
        elif decision.customer_id is None:
            person.refused = person.refused or reason
    if decision.bridged:
        survivor = min((decision.customer_id, *decision.bridged),
                       key=lambda p: (_seen_key((first_seen or {}).get(p)), -len(members.get(p, ())), p))
        decision.bridged = sorted({decision.customer_id, *decision.bridged} - {survivor})
        decision.customer_id, decision.probability = survivor, people[survivor].probability
    return decision


def _nameless_bridge(record: Record, candidate: Candidate, person: Sequence[Record]) -> bool:
    """Return True when the record would bridge its person to a person of records without a first name or initial
    on nothing personal (birth date, mobile, e-mail).

    The batch left such a person apart from the named persons it fits (a nameless record fits every member
    of its household: ``identity.cluster.nameless_ambiguous_pairs``); a new "J. Kirpenstein" at that address
    joins the best of the named ones, and bridging it to the nameless one would merge what the batch keeps apart.
    """
    return (not any(r[_GIVEN_FIRST] or r[POS["initials"]] for r in person)
            and not _personal(record, candidate.record))


def _seen_key(when: Any) -> tuple:
    """Return a sort key of a first-seen instant: known instants first, earliest first."""
    return (0, str(when)) if when is not None else (1, "")


def _refusal(record: Record, fields: NameAndBirth, candidate: Candidate, pair: PairScore, scorer: ModelScorer,
             rules: RuleBook, ambiguous: bool, person: Sequence[Record], cannot_link: Collection[str],
             only_holders: bool = False) -> str | None:
    """Return why a pair above the threshold may not join the new record to the candidate's person, or None.

    only_holders: the record and the candidate's person are the only holders of their full name in the store.
    """
    others = [g for name, g in zip(scorer.names, pair.gammas) if name not in NAME_COMPARISONS]
    if (pair.match_probability < NAMES_ONLY_THRESHOLD and not only_holders and others
            and all(g <= 0 for g in others)):
        return RULE_TITLES[NAMES_ONLY]
    if ambiguous and not _personal(record, candidate.record):
        return RULE_TITLES[NAMELESS]
    waived = rules.waived(pair.match_probability, fields, rule_fields(candidate.record))
    if any(other[_UID] in cannot_link for other in person):
        return RULE_TITLES[STEWARD]
    found = first_conflict([fields], [rule_fields(other) for other in person], rules, waived)   # as the batch's clustering
    return found[1] if found else None
