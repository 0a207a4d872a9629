"""Explanations read from the store: why two records are one person or two, why their persons share a household
or not, and a record's place in its person.

The pair is scored again with the published run's model (``identity.scoring``): the store keeps each
record's raw values, which are standardised again, with the people counts and term frequencies of
the stored records, so the scores are the run's own. What joined or kept them apart comes from the
run's ``match_edge`` rows (merges and refusals) and the ``steward_decision`` table; the sentences
and the path are ``identity.explain``'s. A household is explained from its records, grouped again as
a run groups them (``identity.households.household_edges``).

An ``Explainer`` keeps the run's scorers and term frequencies until another run is published: the
model applied in Python (``identity.scoring.QuickScorer``, a millisecond a pair) for explanations, and
a Splink linker (about 0.3 s to build) for the waterfall charts. A server builds them once per process.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import String, bindparam, text
from sqlalchemy.engine import Connection, Engine

from identity.cluster import EDITED_ACCOUNT, STEWARD_JOINED, Refusal
from identity.compiled_model import UnsupportedCondition
from identity.engine import make_engine
from identity.explain import (
    ACCOUNT, CANNOT_LINK, LIKELY_MEMBER, MODEL, MUST_LINK, REAL_TIME, REALTIME_JOINED, HouseholdExplanation,
    HouseholdLink, HouseholdTree, Link, PairExplanation, RecordExplanation, StewardNote, household_path, household_sentence, household_tree,
    household_tree_sentence, link_path, links_from, pair_score, record_verdict, rule_against, shared_apart, verdict,
)
from identity.households import EDGE_COLUMNS, current_addresses, household_edges
from identity.pipeline import MATCH_THRESHOLD, rule_fields_of
from identity.rules import RuleBook, rule_of
from identity.scoring import (
    NEIGHBOUR_COLUMNS, PairScorer, QuickScorer, restandardise, scoring_frame, term_frequencies,
    term_frequency_columns,
)
from identity.standardise import standardise_city
from identity.strictness import book_of_run
from profile_api.store import StoreError, latest_run
from profile_api.store.models import Run
from profile_api.store.steward import parse_record as parse_source_record

log = logging.getLogger(__name__)

__all__ = ["UnknownRecord", "Explainer", "parse_record"]

# Where the term frequencies of each adjusted column come from: a source_record column, and how its
# values become the compared ones (None: stored as compared).
TERM_FREQUENCY_SOURCES: dict[str, tuple[str, Callable[[str | None], str | None] | None]] = {
    "given_first": ("std_given", None),
    "surname_core": ("std_surname", None),
    "city": ("city", standardise_city),
}

_RECORD = text("""SELECT r.*, l.customer_id, l.household_id, l.confidence FROM source_record r
LEFT JOIN record_link l ON l.source = r.source AND l.record_id = r.record_id
WHERE r.source = :source AND r.record_id = :record_id""")
_NEIGHBOURS = text("""SELECT source, record_id, std_given, std_email, std_phone, std_phone_mobile, std_loyalty_card
FROM source_record WHERE std_email IN :emails OR std_loyalty_card IN :cards OR std_phone IN :phones""").bindparams(
    *(bindparam(name, expanding=True, type_=String) for name in ("emails", "cards", "phones")))
_FIRST_NAMES = text("SELECT std_given, count(*) FROM source_record WHERE std_given IS NOT NULL GROUP BY std_given")
_PERSON = text("SELECT source, record_id FROM record_link WHERE customer_id = :customer_id")
_LINKED = """SELECT r.*, l.customer_id, l.household_id, l.confidence FROM source_record r
JOIN record_link l ON l.source = r.source AND l.record_id = r.record_id"""
_HOUSEHOLD = text(f"{_LINKED} WHERE l.household_id = :household_id")
_PERSONS = text(f"{_LINKED} WHERE l.customer_id IN :ids").bindparams(bindparam("ids", expanding=True, type_=String))
# How many persons hold a value, by the stored column it is found in (an address by its postcode and number).
_HOLDERS = {
    column: text(f"""SELECT count(DISTINCT l.customer_id) FROM source_record r
JOIN record_link l ON l.source = r.source AND l.record_id = r.record_id WHERE {where}""")
    for column, where in (("email", "r.std_email = :value"), ("loyalty_card", "r.std_loyalty_card = :value"),
                          ("mobile", "r.std_phone = :value"), ("landline", "r.std_phone = :value"),
                          ("address_key", "r.std_postcode = :postcode AND r.std_house_number = :number"))
}
# The most records of one household whose links an explanation looks for: a household is a family (the grouping
# skips values shared by more persons than the drop's households show, identity.household_caps), so this bounds the work
# of one call on a household that chained far.
HOUSEHOLD_RECORDS_EXPLAINED = 500
# a steward's must-link whose decision was taken back after the run that joined them (the next run clusters them again)
TAKEN_BACK = "a steward's must-link, taken back since"
_EDGES = text("""SELECT unique_id_l, unique_id_r, match_probability, reason, run_id FROM match_edge
WHERE kind = :kind AND unique_id_l IN :ids ORDER BY id DESC""").bindparams(
    bindparam("ids", expanding=True, type_=String))
_STEWARD = text("""SELECT decision_id, kind, record_a, record_b, reason, decided_by, decided_at FROM steward_decision
WHERE record_a IN :ids ORDER BY decided_at DESC, decision_id""").bindparams(
    bindparam("ids", expanding=True, type_=String))


class UnknownHousehold(LookupError):
    """No household with this household_id in the published result."""

    def __init__(self, household_id: str) -> None:
        super().__init__(f"no household {household_id} in the store")
        self.household_id = household_id


class UnknownRecord(LookupError):
    """No record with this source:record_id in the published result."""

    def __init__(self, record: str) -> None:
        super().__init__(f"no record {record} in the store")
        self.record = record


def parse_record(value: str) -> str:
    """Return a record named as SOURCE:RECORD_ID, trimmed; raise ValueError (DecisionError) when it is not one."""
    source, record_id = parse_source_record(value)
    return f"{source}:{record_id}"


@dataclass
class _RunModel:
    """What judging a pair as the published run did needs: a warm scorer, the drop's term frequencies, its rules."""

    run_id: str
    scorer: PairScorer        # Splink's own scoring: the waterfall charts
    frequencies: dict[str, dict[str, float]]
    rules: RuleBook           # the cannot-link rules as the run measured them, over the stored first names
    quick: QuickScorer | None = None    # the same scores in Python: an explanation's pairs


@dataclass(frozen=True)
class _Stored:
    """A stored record: its raw and standardised values, its person and confidence."""

    uid: str
    values: dict[str, Any]
    customer_id: str | None
    confidence: float | None
    household_id: str | None = None


def _stored_of(uid: str, row: Any) -> _Stored:
    """Return a stored record from its source_record row joined to its record_link."""
    values = dict(row)
    return _Stored(uid, values, values.pop("customer_id"), values.pop("confidence"), values.pop("household_id"))


def _standardised(stored: Sequence[_Stored]) -> pd.DataFrame:
    """Return stored records standardised again as their run had them, with their person."""
    return pd.DataFrame([{**restandardise(s.values, s.values), "person": s.customer_id} for s in stored])


def _iso(value: Any) -> str:
    """Return a stored time (a datetime, or text on SQLite) as ISO text."""
    return value.isoformat(" ") if isinstance(value, dt.datetime) else str(value or "")


class Explainer:
    """Explains pairs and records of one store; safe to share between threads (scoring takes turns)."""

    def __init__(self, engine: Engine, threshold: float = MATCH_THRESHOLD) -> None:
        """Args:
            engine: the store (``profile_api.store.open_store``).
            threshold: the lowest match probability that may join two persons (the runs' own).
        """
        self._engine = engine
        self._threshold = threshold
        self._lock = threading.Lock()
        self._run: _RunModel | None = None
        self._grouper: Any = None                 # an in-memory DuckDB engine for households' SQL, made once
        self._grouping = threading.Lock()         # which one call at a time uses

    # --- what a caller asks ---

    def explain_pair(self, record_a: str, record_b: str) -> PairExplanation:
        """Return why two records are one person or two; raise UnknownRecord (StoreError: nothing published)."""
        run = self._run_model()
        with self._engine.connect() as conn:
            a, b = self._stored(conn, record_a), self._stored(conn, record_b)
            frame, [row] = self._score(conn, run, [a, b], [(a.uid, b.uid)])
            same = a.customer_id == b.customer_id
            person_a = self._person(conn, a.customer_id)
            person_b = person_a if same else self._person(conn, b.customer_id)
            steward = self._steward_between(conn, a.uid, b.uid)
            if steward is None and not same:      # a cannot-link between other records of their two persons
                steward = self._steward_across(conn, person_a, person_b)
            path = link_path(self._links(conn, person_a), a.uid, b.uid) if same else None
            refusal = None if same else self._refusal(conn, a.uid, b.uid, person_a, person_b)
            household = self._household(conn, run, a, b)
        score = pair_score(row, run.scorer.model)
        gave_way = None
        if same and path is not None and len(path) == 1:
            fields = rule_fields_of(frame)
            gave_way = run.rules.gave_way(score.match_probability, fields[a.uid], fields[b.uid])
        if not same and score.match_probability >= self._threshold and not (
                refusal and {refusal.unique_id_l, refusal.unique_id_r} == {a.uid, b.uid}):
            # A run over a published store does not try unchanged records of two persons again, so it
            # recorded no refusal of them: the rules are asked what they make of the pair itself.
            fields = rule_fields_of(frame)
            refusal = rule_against(row, fields[a.uid], fields[b.uid], run.rules) or refusal
        return PairExplanation(
            record_a=a.uid, record_b=b.uid, score=score, same_person=same,
            customer_id_a=a.customer_id or "", customer_id_b=b.customer_id or "",
            verdict=verdict(a.uid, b.uid, same, score.match_probability, self._threshold, steward=steward,
                            refusal=refusal, path=path, compared=score.compared, gave_way=gave_way),
            path=path or [], household=household)

    def explain_record(self, record: str) -> RecordExplanation:
        """Return a record's place in its person; raise UnknownRecord (StoreError: nothing published)."""
        self._require_run()
        with self._engine.connect() as conn:
            stored = self._stored(conn, record)
            person = self._person(conn, stored.customer_id)
            links = links_from(self._links(conn, person), stored.uid)
        customer_id = stored.customer_id or ""
        return RecordExplanation(
            record=stored.uid, customer_id=customer_id, confidence=stored.confidence, records=len(person),
            links=links, decision=record_verdict(stored.uid, customer_id, stored.confidence, links, len(person)))

    def scored_pairs(self, pairs: Sequence[tuple[str, str]]) -> tuple[PairScorer, list[dict[str, Any]]]:
        """Return the published run's scorer and these pairs of stored records scored with it (for charts)."""
        run = self._run_model()
        with self._engine.connect() as conn:
            stored = {uid: self._stored(conn, uid) for pair in pairs for uid in pair}
            return run.scorer, self._score(conn, run, list(stored.values()), list(pairs), splink=True)[1]

    # --- the published run's model, kept ---

    def _require_run(self) -> Run:
        """Return the published run; raise StoreError when there is none."""
        run = latest_run(self._engine)
        if run is None:
            raise StoreError("the store holds no published run; run `herken resolve DROP` first")
        return run

    def _run_model(self) -> _RunModel:
        """Return the published run's scorer and term frequencies, built once per run."""
        run = self._require_run()
        with self._lock:
            if self._run is None or self._run.run_id != run.run_id:
                model = json.loads(run.model_json)
                with self._engine.connect() as conn:
                    frequencies = self._frequencies(conn, term_frequency_columns(model))
                    names = dict(conn.execute(_FIRST_NAMES).all())
                rules = book_of_run(names, json.loads(run.rules_json or "[]"))
                self._run = _RunModel(run.run_id, PairScorer(model), frequencies, rules,
                                      QuickScorer(model, frequencies))
                log.info("explanations: the model of run %s is loaded", run.run_id)
            return self._run

    @staticmethod
    def _frequencies(conn: Connection, columns: Iterable[str]) -> dict[str, dict[str, float]]:
        """Return the term frequencies of the stored records for each adjusted column."""
        found = {}
        for column in columns:
            if column not in TERM_FREQUENCY_SOURCES:
                raise StoreError(f"the published model adjusts for the frequency of {column!r}, which the store "
                                 "does not keep; explanations need a model of this herken")
            stored, standardise = TERM_FREQUENCY_SOURCES[column]
            counts = conn.execute(text(f"SELECT {stored}, count(*) FROM source_record GROUP BY {stored}")).all()
            found[column] = term_frequencies(((value, n) for value, n in counts), standardise)
        return found

    # --- reading the store ---

    @staticmethod
    def _stored(conn: Connection, record: str) -> _Stored:
        """Return a stored record by source:record_id; raise UnknownRecord when the store has none linked."""
        uid = parse_record(record)
        source, _, record_id = uid.partition(":")
        row = conn.execute(_RECORD, {"source": source, "record_id": record_id}).mappings().first()
        if row is None or row["customer_id"] is None:
            raise UnknownRecord(uid)
        return _stored_of(uid, row)

    @staticmethod
    def _score(conn: Connection, run: _RunModel, stored: Sequence[_Stored],
               pairs: list[tuple[str, str]], splink: bool = False) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
        """Return the stored records as scored (``scoring_frame``) and the pairs scored with the run's model: in
        Python (``QuickScorer``), or by Splink itself (``splink``: rows a waterfall chart can draw)."""
        records = {s.uid: restandardise(s.values, s.values) for s in stored}
        values = {column: sorted({r[column] for r in records.values() if r[column]})
                  for column in ("email", "loyalty_card", "mobile")}
        rows = conn.execute(_NEIGHBOURS, {"emails": values["email"], "cards": values["loyalty_card"],
                                          "phones": values["mobile"]}).all()
        neighbours = pd.DataFrame(
            [(f"{source}:{record_id}", given, email, phone if mobile else None, card)
             for source, record_id, given, email, phone, mobile, card in rows], columns=list(NEIGHBOUR_COLUMNS))
        frame = scoring_frame(list(records.values()), neighbours, run.frequencies)
        if not splink and run.quick is not None:
            try:
                return frame, run.quick.score(frame, pairs)
            except UnsupportedCondition as err:     # a model this herken's Python cannot read: Splink reads it
                log.warning("explanations: the model of run %s is scored by Splink (%s)", run.run_id, err)
                run.quick = None
        return frame, run.scorer.score(frame, pairs)

    def _household(self, conn: Connection, run: _RunModel, a: _Stored, b: _Stored) -> HouseholdExplanation:
        """Return whether the persons of two stored records share a household, and the links that put them in one.

        The household's records are standardised again and grouped as a run groups them
        (``identity.households.household_edges`` over them); where no shared value joins the two, a member
        without an address, card or landline is linked to the member the model scores highest against them.
        """
        ha, hb, same = a.household_id or "", b.household_id or "", a.customer_id == b.customer_id
        if same:
            return HouseholdExplanation(True, ha, hb, household_sentence(True, [], ha, hb))
        if ha != hb:
            return HouseholdExplanation(False, ha, hb, household_sentence(False, None, ha, hb,
                                                                          self._apart(conn, run, a, b)))
        members = self._household_records(conn, ha)
        if len(members) > HOUSEHOLD_RECORDS_EXPLAINED:
            return HouseholdExplanation(True, ha, hb, f"one household ({ha}) of more than "
                                        f"{HOUSEHOLD_RECORDS_EXPLAINED} records: its links are not looked for")
        records = _standardised(members)
        evidence = self._evidence(run, records)
        path = household_path(evidence, [], a.customer_id or "", b.customer_id or "")
        if path is None:
            path = household_path(evidence, self._likely_members(conn, run, members, records),
                                  a.customer_id or "", b.customer_id or "")
        return HouseholdExplanation(True, ha, hb, household_sentence(True, path, ha, hb), path or [])

    def explain_household(self, household_id: str) -> HouseholdTree:
        """Return what holds a household together; raise UnknownHousehold when the store has no such household.

        Its records are standardised again and grouped as the run grouped them (its caps), as for a pair of its
        members (``_household``); the links form a tree from its first member (by customer_id).
        """
        run = self._run_model()
        with self._engine.connect() as conn:
            members = self._household_records(conn, household_id)
            if not members:
                raise UnknownHousehold(household_id)
            persons = sorted({m.customer_id or "" for m in members})
            if len(members) > HOUSEHOLD_RECORDS_EXPLAINED:
                return HouseholdTree(household_id, persons, [], persons[1:], (
                    f"one household ({household_id}) of more than {HOUSEHOLD_RECORDS_EXPLAINED} records: its links "
                    "are not looked for"))
            records = _standardised(members)
            evidence = self._evidence(run, records)
            links, unlinked = household_tree(evidence, [], persons)
            if unlinked:
                links, unlinked = household_tree(evidence, self._likely_members(conn, run, members, records), persons)
        return HouseholdTree(household_id, persons, links, unlinked,
                             household_tree_sentence(household_id, persons, links, unlinked))

    @staticmethod
    def _household_records(conn: Connection, household_id: str) -> list[_Stored]:
        """Return the stored records of a household: HOUSEHOLD_RECORDS_EXPLAINED of them and one more at most."""
        rows = conn.execute(_HOUSEHOLD, {"household_id": household_id}).mappings().fetchmany(
            HOUSEHOLD_RECORDS_EXPLAINED + 1)
        return [_stored_of(f"{row['source']}:{row['record_id']}", row) for row in rows]

    def _evidence(self, run: _RunModel, records: pd.DataFrame) -> list[tuple[str, str, str]]:
        """Return the (kind, value, person) rows that join these standardised records' persons, grouped as the run
        grouped them (``identity.households.household_edges`` under its caps)."""
        caps = run.rules.caps
        edges = self._grouped(lambda engine, frame: household_edges(engine, frame, caps), records[list(EDGE_COLUMNS)])
        return list(zip(edges["kind"], edges["value"], edges["person"]))

    def _grouped(self, query: Callable[[Any, pd.DataFrame], Any], records: pd.DataFrame) -> Any:
        """Return query(engine, records) on the explainer's in-memory DuckDB, made once, one call at a time."""
        with self._grouping:
            if self._grouper is None:
                self._grouper = make_engine("duckdb", threads=1)
            return query(self._grouper, records)

    def _apart(self, conn: Connection, run: _RunModel, a: _Stored, b: _Stored) -> list[str]:
        """Return the values the persons of two records in two households share, and why each does not join them."""
        rows = conn.execute(_PERSONS, {"ids": [a.customer_id, b.customer_id]}).mappings().all()
        records = _standardised([_stored_of(f"{row['source']}:{row['record_id']}", row) for row in rows])
        holders: dict[tuple[str, str], int] = {}
        for column in _HOLDERS:
            found = set(records.loc[records["person"] == a.customer_id, column].dropna())
            for value in found & set(records.loc[records["person"] == b.customer_id, column].dropna()):
                postcode, number, *_ = str(value).split("|") + ["", ""]
                holders[(column, value)] = int(conn.execute(_HOLDERS[column], {
                    "value": value, "postcode": postcode, "number": number}).scalar() or 0)
        return shared_apart(records, a.customer_id or "", b.customer_id or "", self._grouped(current_addresses, records),
                            holders, run.rules.caps)

    def _likely_members(self, conn: Connection, run: _RunModel, members: list[_Stored],
                        records: pd.DataFrame) -> list[HouseholdLink]:
        """Return, for each person of a household without an address, card or landline, a link to the member
        with an address, card or landline whose records the model scores highest against theirs."""
        anchored = records[["address_key", "loyalty_card", "landline"]].notna().any(axis=1)
        housed = set(records.loc[anchored, "person"])
        person = dict(zip(records["unique_id"], records["person"]))
        pairs = [(u, v) for u in records["unique_id"] if person[u] not in housed
                 for v in records.loc[anchored, "unique_id"]]
        if not pairs:
            return []
        best: dict[str, tuple[float, str]] = {}
        for (u, v), row in zip(pairs, self._score(conn, run, members, pairs)[1]):
            probability = float(row["match_probability"])
            if probability > best.get(person[u], (-1.0, ""))[0]:
                best[person[u]] = (probability, person[v])
        return [HouseholdLink(orphan, member, LIKELY_MEMBER, "", round(probability, 6))
                for orphan, (probability, member) in best.items()]

    @staticmethod
    def _person(conn: Connection, customer_id: str | None) -> list[str]:
        """Return the records (source:record_id) of a person."""
        rows = conn.execute(_PERSON, {"customer_id": customer_id}).all()
        return sorted(f"{source}:{record_id}" for source, record_id in rows)

    @staticmethod
    def _links(conn: Connection, person: list[str]) -> list[Link]:
        """Return the joins between records of one person that runs made: by the model or a steward's must-link."""
        inside = set(person)
        musts = {frozenset((a, b)): decision_id
                 for decision_id, kind, a, b, *_ in conn.execute(_STEWARD, {"ids": person}).all()
                 if kind == MUST_LINK and b in inside}
        links: dict[frozenset[str], Link] = {}
        for a, b, probability, reason, _ in conn.execute(_EDGES, {"kind": "merge", "ids": person}).all():
            pair = frozenset((a, b))
            if b in inside and pair not in links:    # the newest join of a pair (ids descending)
                joined = f"steward decision {musts[pair]}" if pair in musts \
                    else ACCOUNT if reason == EDITED_ACCOUNT \
                    else REAL_TIME if reason == REALTIME_JOINED \
                    else TAKEN_BACK if reason == STEWARD_JOINED else MODEL
                links[pair] = Link(a, b, float(probability), joined)
        return list(links.values())

    @staticmethod
    def _steward_between(conn: Connection, a: str, b: str) -> StewardNote | None:
        """Return the newest steward decision naming these two records, or None."""
        for decision_id, kind, left, right, reason, by, at in conn.execute(_STEWARD, {"ids": [a, b]}).all():
            if {left, right} == {a, b}:
                return StewardNote(decision_id, kind, reason, by, _iso(at))
        return None

    @staticmethod
    def _steward_across(conn: Connection, person_a: list[str], person_b: list[str]) -> StewardNote | None:
        """Return the newest cannot-link that names a record of each of two persons, or None."""
        side = {uid: 0 for uid in person_a} | {uid: 1 for uid in person_b}
        for decision_id, kind, left, right, reason, by, at in conn.execute(_STEWARD, {"ids": list(side)}).all():
            if kind == CANNOT_LINK and right in side and side[left] != side[right]:
                return StewardNote(decision_id, kind, reason, by, _iso(at), (left, right))
        return None

    @staticmethod
    def _refusal(conn: Connection, a: str, b: str, person_a: list[str], person_b: list[str]) -> Refusal | None:
        """Return the refused join that best explains two persons: of these two records, else the surest."""
        side = {uid: 0 for uid in person_a} | {uid: 1 for uid in person_b}
        found = [Refusal(left, right, float(p), reason or "", rule_of(reason or ""))
                 for left, right, p, reason, _ in conn.execute(_EDGES, {"kind": "refused", "ids": list(side)}).all()
                 if right in side and side[left] != side[right]]
        found.sort(key=lambda r: ({r.unique_id_l, r.unique_id_r} != {a, b}, -r.match_probability))
        return found[0] if found else None
