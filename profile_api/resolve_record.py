"""ResolveRecord: one record resolved against the published store in real time, and (persist) written to it.

A :class:`RecordResolver` keeps the published run warm: its trained model compiled for Python
(``identity.compiled_model``), its cannot-link rules, and the store's records as the batch standardises
them with postings for the model's blocking rules (``identity.realtime``). It loads them in the
background on the first call and again when another run is published (the run_id changes); at
100k records that takes about 6 seconds (from the run's linkage snapshot), after which a record
costs two database reads and a millisecond or two of scoring. Building a Splink linker (0.27 s) or generating its SQL (0.3 s) per
request would not do.

Each call reads the store for what it must not miss: the persons of every record that shares an
indexed value with the new record or that the warm postings pair with it (so records written since
the warm-up, by this server or another, are found), and the steward's decisions on the record. With
``persist`` the same happens inside one write transaction that then writes the record, its link,
new persons and households, an identity event (``profile_api.store.realtime``), and the profiles
of the households concerned (``profile_api.store.write_delta.rebuild_households``, as an incremental
run rebuilds them), so GetProfile shows the record at once and the next batch run
carries its customer_id over like any other record's.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field

import pandas as pd
import sqlalchemy
from sqlalchemy.engine import Connection, Engine

from identity.bulk import give_back_memory
from identity.engine import Engine as SqlEngine
from identity.engine import make_engine
from identity.explain import REALTIME_JOINED
from identity.household_caps import HouseholdCaps
from identity.households import BUILDING_KIND
from identity.ingest import CHANNELS, Drop
from identity.lifecycle import CREATED, MERGED, Event, split_events, stable_id
from identity.model import blocking_rules_of
from identity.pipeline import MATCH_THRESHOLD, PREDICT_THRESHOLD, standardise_drop
from identity.placeholder_values import without_placeholder_values
from identity.placeholders import without_placeholders
from identity.realtime import POS, Candidate, Decision, RecordIndex, decide, frequencies, parse_blocking_rule, \
    rule_fields, rulebook_of_run
from identity.rules import RuleBook, edit_conflict
from identity.compiled_model import ModelScorer
from identity.scoring import term_frequency_columns
from identity.standardise import parse_date
from identity.strictness import placeholder_values_of_run, placeholders_of_run
from profile_api._generated.herken.v1 import profile_service_pb2 as pb
from profile_api.precompute import PROFILE_MEMORY_LIMIT
from profile_api.profiles import StoreBusy, waited_too_long
from profile_api.store import realtime as stored
from profile_api.store.erase import ErasedRecord, carries_tombstone
from profile_api.store.history import write_history
from profile_api.store.write_delta import rebuild_households

log = logging.getLogger(__name__)

MAX_CANDIDATES = 10            # persons answered beside the match, best first
RECORD_FIELDS = ("first_name", "last_name", "birth_date", "email", "phone", "street", "house_number", "postcode",
                 "city", "loyalty_card")
WRITE_WAIT_SECONDS = 5.0       # how long a persist waits for another writer (a publish) before StoreBusy
FIRST_WAIT_SECONDS = 10.0      # how long the first call waits for the run to load before WarmingUp
# the columns a new person may join a household on, and their kinds of household evidence (identity.households)
HOUSEHOLD_EVIDENCE = {"address_key": "address", "loyalty_card": "loyalty_card", "landline": "landline"}


class ResolveRequestError(ValueError):
    """A malformed ResolveRecordRequest: (field path, problem)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field, self.problem = field, problem


class NothingPublished(RuntimeError):
    """The store holds no published run: there is nothing to resolve against."""


class WarmingUp(RuntimeError):
    """The published run is still being loaded: try again shortly."""


@dataclass(frozen=True)
class RecordRequest:
    """A checked ResolveRecordRequest: the record as received and whether to write it."""

    source: str
    record_id: str
    values: dict[str, str | None]     # RECORD_FIELDS, None where empty
    persist: bool

    @property
    def unique_id(self) -> str:
        """Return the record's "source:record_id"."""
        return f"{self.source}:{self.record_id}"


def record_request_of(request: pb.ResolveRecordRequest) -> RecordRequest:
    """Return the checked content of a ResolveRecordRequest; raise ResolveRequestError naming the field."""
    source = request.source.strip()
    fields = {name: getattr(request.record, name).strip() for name in ("record_id", *RECORD_FIELDS)}
    for path, value in (("source", request.source), *((f"record.{n}", v) for n, v in fields.items())):
        if "\x00" in value:
            raise ResolveRequestError(path, "must not contain a NUL character")
    if not source:
        raise ResolveRequestError("source", f"must not be empty: the channel of the record ({', '.join(CHANNELS)})")
    if source not in CHANNELS:
        raise ResolveRequestError("source", f"'{source}' is not one of {', '.join(CHANNELS)}")
    if not request.HasField("record"):
        raise ResolveRequestError("record", "required: the record to resolve")
    if not fields["record_id"]:
        raise ResolveRequestError("record.record_id", f"must not be empty: the record's id in {source}")
    try:
        born = parse_date(fields["birth_date"] or None)
    except ValueError as err:
        raise ResolveRequestError("record.birth_date", str(err)) from None
    if born is not None and born > dt.date.today():     # a drop sets such a date aside (identity.ingest)
        raise ResolveRequestError("record.birth_date", f"'{fields['birth_date']}' is in the future")
    values = {name: fields[name] or None for name in RECORD_FIELDS}
    if not any(values.values()):
        raise ResolveRequestError("record", "holds nothing to match on: give a name, birth date, e-mail, phone, "
                                  "address or loyalty card")
    return RecordRequest(source, fields["record_id"], values, request.persist)


@dataclass(frozen=True)
class PersonCandidate:
    """A person the record may belong to, as answered."""

    customer_id: str
    household_id: str
    display_name: str
    match_probability: float


@dataclass
class Resolved:
    """What ResolveRecord answers."""

    customer_id: str | None
    household_id: str | None
    match_probability: float
    created: bool = False
    candidates: list[PersonCandidate] = field(default_factory=list)


def resolved_reply(resolved: Resolved) -> pb.ResolveRecordResponse:
    """Return the ResolveRecordResponse of an outcome."""
    return pb.ResolveRecordResponse(
        customer_id=resolved.customer_id or "", household_id=resolved.household_id or "",
        match_probability=resolved.match_probability, created=resolved.created,
        candidates=[pb.MatchCandidate(customer_id=c.customer_id, household_id=c.household_id,
                                      display_name=c.display_name, match_probability=c.match_probability)
                    for c in resolved.candidates])


@dataclass
class _Warm:
    """The published run as real-time resolution holds it."""

    run_id: str
    scorer: ModelScorer
    rules: RuleBook
    index: RecordIndex
    run: stored.PublishedRun
    as_of: list[dt.datetime | None] = field(default_factory=list)   # read on the first persist (one value)


@dataclass
class _Neighbourhood:
    """The new record and what the store holds around it."""

    record: tuple
    candidates: list[Candidate]
    members: dict[str, list[tuple]]
    households: dict[str, str]           # customer_id -> household_id
    names: dict[str, str]                # customer_id -> display_name
    previous: tuple[str, str] | None     # the record's own (customer_id, household_id) when it was seen before
    must_link: set[str]
    cannot_link: set[str]
    first_seen: dict[str, object] = field(default_factory=dict)   # customer_id -> when first published
    was: tuple | None = None             # the record as the store held it before (seen before), standardised


def _fingerprint(raw: tuple) -> int:
    """Return what tells whether a stored record changed since it was standardised."""
    return hash(raw)


class RecordResolver:
    """Resolves single records against the store's published run; safe to share between threads."""

    def __init__(self, engine: Engine, threshold: float = MATCH_THRESHOLD,
                 write_wait_seconds: float = WRITE_WAIT_SECONDS, first_wait: float = FIRST_WAIT_SECONDS) -> None:
        """Args:
            engine: the store (``profile_api.store.open_store``).
            threshold: the match probability from which a record joins a person (the batch's).
            write_wait_seconds: how long a persist waits for another writer before it gives up.
            first_wait: how long the first call waits for the run to load before it answers WarmingUp.
        """
        self._engine = engine
        self._reader = engine if engine.dialect.name == "sqlite" else engine.execution_options(isolation_level="AUTOCOMMIT")
        self.threshold = threshold
        self._wait_ms = max(1, int(write_wait_seconds * 1000))
        self.first_wait = first_wait
        self._warm: _Warm | None = None
        self._failed: Exception | None = None     # why the last load in the background failed
        self._loading = threading.Lock()
        self._index_lock = threading.Lock()      # the warm postings change as records are added
        self._duck: SqlEngine | None = None
        self._duck_lock = threading.Lock()

    # --- keeping the run warm ---

    def warm_up(self) -> None:
        """Load the published run now (or again, when another was published); nothing when none is."""
        with self._reader.connect() as conn:
            run_id = stored.published_run_id(conn)
            if run_id is not None:
                with self._loading:
                    if self._warm is None or self._warm.run_id != run_id:
                        self._warm = self._load(conn)

    def drop_warm(self) -> None:
        """Forget the warm run (after an erasure: it held the erased person's records); the next call loads it."""
        with self._loading:
            self._warm = None

    def _load_in_background(self) -> None:
        """Start loading the published run in a thread of its own, unless a load is under way."""
        if self._loading.locked():
            return

        def load() -> None:
            try:
                self.warm_up()
                self._failed = None
            except Exception as err:    # noqa: BLE001  (the next call reports it and tries again)
                log.exception("real-time resolution: loading the published run failed")
                self._failed = err

        threading.Thread(target=load, name="herken-resolver-warm-up", daemon=True).start()

    def _current(self, run_id: str | None) -> _Warm:
        """Return the warm run; raise NothingPublished when the store holds none, WarmingUp while it loads.

        The first call starts loading it and waits up to first_wait seconds (a small store is loaded
        by then); calls that come while a large one loads are told to come back, rather than holding
        a server thread for the whole load. After a publish the previous run stays in use while the
        new one loads in the background: the persons around a record are always read from the
        store as it is now; only the model and the warm records lag.
        """
        if run_id is None:
            raise NothingPublished("the store holds no published run: resolve a drop first (herken resolve DROP)")
        warm = self._warm
        if warm is not None:
            if warm.run_id != run_id:
                self._load_in_background()
            return warm
        failed, self._failed = self._failed, None
        if failed is not None:
            raise failed
        self._load_in_background()
        deadline = time.monotonic() + self.first_wait
        while self._warm is None and self._failed is None and time.monotonic() < deadline:
            time.sleep(0.02)
        if self._warm is None:
            if self._failed is not None:
                raise self._failed
            raise WarmingUp("the published run is being loaded for real-time resolution (about 6 s for 100k "
                            "records, once per run): try again shortly")
        return self._warm

    def _load(self, conn: Connection) -> _Warm:
        """Read the published run and standardise the store's records as the batch does."""
        started = time.perf_counter()
        run = stored.published_run(conn)
        if run is None:
            raise NothingPublished("the store holds no published run: resolve a drop first (herken resolve DROP)")
        raw = stored.raw_records(conn)
        fingerprints = {f"{s}:{r}": _fingerprint(tuple(values)) for s, r, *values in raw.itertuples(index=False, name=None)}
        rules = [parse_blocking_rule(sql) for sql in blocking_rules_of(run.model)]
        snapshot = stored.linkage_snapshot(conn, run.run_id)
        placeholders = placeholders_of_run(run.rules or [])
        identifiers = placeholder_values_of_run(run.rules or [])
        if snapshot is None:      # a run published before runs kept one: standardise every record here
            standardised = standardise_drop(Drop(raw, raw.iloc[:0], raw.iloc[:0], None), workers=1)
            standardised = without_placeholder_values(without_placeholders(standardised, placeholders), identifiers)
            index = RecordIndex.from_standardised(standardised, fingerprints, rules)
            index.placeholders, index.placeholder_values = placeholders, identifiers
        else:
            since = stored.written_since(snapshot, raw)
            index = RecordIndex.from_standardised(snapshot[~snapshot["unique_id"].isin(since)], fingerprints, rules,
                                                  completed=True)
            index.placeholders, index.placeholder_values = placeholders, identifiers
            for row in raw.itertuples(index=False, name=None):    # resolved in real time after the run
                if f"{row[0]}:{row[1]}" in since:
                    index.add(index.standardise(dict(zip(raw.columns, row))), _fingerprint(tuple(row[2:])))
        scorer = ModelScorer(run.model, list(POS), frequencies(index, term_frequency_columns(run.model)))
        warm = _Warm(run.run_id, scorer, rulebook_of_run(run.rules, index.name_counts), index, run)
        # Millions of long-lived tuples, lists and sets: kept out of the cyclic collector's full passes, which
        # would otherwise walk them all (a pause of 100 ms and more in the middle of some request).
        gc.collect()
        gc.freeze()
        give_back_memory()
        log.info("real-time resolution: run %s warm with %d records in %.1f s", run.run_id, len(index.records),
                 time.perf_counter() - started)
        return warm

    def _duck_engine(self) -> SqlEngine:
        """Return this resolver's DuckDB engine (profiles and the as-of time are computed on it); hold _duck_lock."""
        if self._duck is None:
            self._duck = make_engine("duckdb", memory_limit=PROFILE_MEMORY_LIMIT)
            self._duck.sql("SET enable_progress_bar = false")
        return self._duck

    # --- resolving ---

    def resolve(self, request: RecordRequest) -> Resolved:
        """Return the person a record belongs to; with request.persist, write it there (or as a new person).

        Raises:
            NothingPublished: the store holds no published run.
            WarmingUp: the published run is still being loaded (the first calls after a start).
            StoreBusy (``profile_api.profiles``): a persist waited too long for another writer.
        """
        if request.persist:
            return self._persist(request)
        with self._reader.connect() as conn:
            run_id, must, cannot = stored.run_and_steward(conn, request.unique_id)
            warm = self._current(run_id)
            around = self._neighbourhood(conn, warm, request, must, cannot)
        return self._answer(self._decide(warm, around), around, None, False)

    def _neighbourhood(self, conn: Connection, warm: _Warm, request: RecordRequest, must: set[str],
                       cannot: set[str], received_at: dt.datetime | None = None) -> _Neighbourhood:
        """Return the new record standardised and the store's records around it, as they are now.

        must, cannot: the records a steward joined to the record and kept apart from it.
        received_at: when the record was received (its updated_at, as a drop's records carry theirs).
        """
        when = (received_at or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc)
        raw = {"source": request.source, "record_id": request.record_id, **request.values,
               "updated_at": when.replace(tzinfo=None).isoformat(timespec="seconds")}
        with self._index_lock:
            record = warm.index.standardise(raw)
            paired = warm.index.candidates(record)
        keys = stored.Keys(*(record[POS[c]] for c in ("email", "mobile", "landline", "loyalty_card", "postcode",
                                                       "house_number", "birth_date")))
        # its own unique_id brings the person it was with, when seen before, whatever its edit changed
        rows = stored.person_records(conn, keys, set(paired) | must | {request.unique_id})
        around = _Neighbourhood(record, [], {}, {}, {}, None, must, cannot)
        wanted = set(paired)
        for row in rows:
            if row.unique_id == request.unique_id:
                around.previous = (row.customer_id, row.household_id)
                around.was = self._stored(warm, row)
                continue
            other = self._stored(warm, row)
            around.members.setdefault(row.customer_id, []).append(other)
            around.households[row.customer_id] = row.household_id
            around.names[row.customer_id] = row.display_name or ""
            around.first_seen[row.customer_id] = row.first_seen
            if row.unique_id in wanted or warm.index.blocked(record, other):
                around.candidates.append(Candidate(row.unique_id, row.customer_id, other))
        return around

    def _stored(self, warm: _Warm, row: stored.StoredRecord) -> tuple:
        """Return a stored record standardised: from the warm index, or now (written since the warm-up)."""
        fingerprint = _fingerprint(row.raw)
        with self._index_lock:
            if warm.index.fingerprint.get(row.unique_id) == fingerprint:
                return warm.index.record(row.unique_id)   # type: ignore[return-value]
            source, _, record_id = row.unique_id.partition(":")
            record = warm.index.standardise({"source": source, "record_id": record_id,
                                             **dict(zip(stored.RAW_COLUMNS, row.raw))})
            warm.index.add(record, fingerprint)
            return record

    def _decide(self, warm: _Warm, around: _Neighbourhood) -> Decision:
        with self._index_lock:
            holders = warm.index.full_name_holders(around.record)
        return decide(around.record, around.candidates, around.members, warm.scorer, warm.rules, self.threshold,
                      must_link=around.must_link, cannot_link=around.cannot_link, full_name_holders=holders,
                      first_seen=around.first_seen)

    def _answer(self, decision: Decision, around: _Neighbourhood, customer_id: str | None,
                created: bool) -> Resolved:
        """Return the reply: the person (decided, or given: persist), its household and the candidates, best first."""
        customer_id = customer_id or decision.customer_id
        shown = [p for p in decision.candidates if p.probability >= PREDICT_THRESHOLD][:MAX_CANDIDATES]
        candidates = [PersonCandidate(p.customer_id, around.households[p.customer_id], around.names[p.customer_id],
                                      p.probability) for p in shown]
        household = around.households.get(customer_id) if customer_id else None
        probability = decision.probability if customer_id == decision.customer_id else 0.0
        return Resolved(customer_id, household, probability, created, candidates)

    # --- persisting ---

    def _persist(self, request: RecordRequest) -> Resolved:
        """Resolve and write the record in one transaction."""
        with self._reader.connect() as conn:
            warm = self._current(stored.run_and_steward(conn, request.unique_id)[0])
        try:
            with self._engine.begin() as conn:
                stored.persist_lock(conn, self._wait_ms)
                run_id, must, cannot = stored.run_and_steward(conn, request.unique_id)
                if run_id is None:
                    raise NothingPublished("the store holds no published run: resolve a drop first")
                resolved, record, row = self._write(conn, warm, run_id, request, must, cannot)
        except sqlalchemy.exc.OperationalError as err:
            if not waited_too_long(err):
                raise
            raise StoreBusy("the store is busy (a run is being published?); nothing was stored: try again in a "
                            "few seconds") from None
        with self._index_lock:
            warm.index.add(record, _fingerprint(tuple(row[c] for c in stored.RAW_COLUMNS)))
        return resolved

    def _write(self, conn: Connection, warm: _Warm, run_id: str, request: RecordRequest, must: set[str],
               cannot: set[str]) -> tuple[Resolved, tuple, dict]:
        """Write the record where it belongs, on conn's transaction, as part of the published run run_id;
        return the reply, the record and its row."""
        now = dt.datetime.now(dt.timezone.utc)
        around = self._neighbourhood(conn, warm, request, must, cannot, received_at=now)
        if carries_tombstone(conn, {name: around.record[i] for name, i in POS.items()}):
            raise ErasedRecord(f"record {request.unique_id} carries an identifier of an erased person (ForgetCustomer); "
                               "it was not stored")
        decision = self._decide(warm, around)
        events: list[Event] = []
        aliases: list[tuple[str, str, str | None, str]] = []
        created = False
        customer_id = decision.customer_id
        if customer_id is None and around.previous is not None and self._stays(warm, around):
            customer_id = around.previous[0]            # a record seen before, alone in its person or edited: it stays
        if customer_id is None:
            created = True
            customer_id, household_id, new_home = self._new_person(conn, around, request,
                                                                    warm.rules.caps)
            stored.add_person(conn, customer_id, household_id, run_id, now, new_home)
            if around.previous is not None:
                events += split_events(around.previous[0], (around.previous[0], customer_id),
                                       f"record {request.unique_id} was resolved again in real time and no longer "
                                       f"fits {around.previous[0]}; it makes a new person",
                                       {around.previous[0]: around.previous[1], customer_id: household_id})
            else:
                events.append(Event(CREATED, (), (customer_id,), "a person seen for the first time (a record "
                                    f"resolved in real time: {request.unique_id})", household_id))
        else:
            household_id = around.households.get(customer_id) or (around.previous or ("", ""))[1]
            if around.previous is not None and around.previous[0] != customer_id:
                events += split_events(around.previous[0], (around.previous[0], customer_id),
                                       f"record {request.unique_id} was resolved again in real time and now belongs "
                                       f"to {customer_id}", {around.previous[0]: around.previous[1],
                                                             customer_id: household_id})
        # how sure the record belongs to its person: its best link there (1 alone, or by a steward)
        confidence = decision.probability if decision.customer_id == customer_id and not decision.steward else 1.0
        row = record_raw(request, around.record)
        stored.write_record(conn, row, customer_id, household_id, run_id, confidence)
        stored.forget_joins(conn, request.unique_id, REALTIME_JOINED)
        joined = next((p for p in decision.candidates if p.customer_id == customer_id), None)
        if joined is not None and decision.customer_id == customer_id and not decision.steward:
            score = decision.scores.get(joined.best)
            stored.write_join(conn, run_id, request.unique_id, joined.best, decision.probability,
                              score.match_weight if score is not None else None, REALTIME_JOINED)
        people = {customer_id} | ({around.previous[0]} if around.previous else set())
        homes = {household_id} | ({around.previous[1]} if around.previous else set())
        gone_people, gone_homes = stored.recount(conn, people, homes)
        stored.note_written(conn, people - gone_people, now)
        for old in sorted(gone_people):
            events.append(Event(MERGED, (customer_id, old), (customer_id,),
                                f"{old} held only record {request.unique_id}, which was resolved again in real time "
                                f"and belongs to {customer_id}", household_id))
            aliases.append(("customer", old, customer_id, f"customer {old} was merged into {customer_id}"))
        aliases += [("household", old, household_id, f"household {old} was merged into {household_id}")
                    for old in sorted(gone_homes)]
        if events or aliases:
            write_history(conn, events, aliases, f"realtime-{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}", now)
        with self._duck_lock:
            if not warm.as_of:     # the attributes' "now", as the run's publish had it
                warm.as_of.append(stored.latest_purchase(conn, self._duck_engine()))
            rebuild_households(conn, homes - gone_homes, as_of=warm.as_of[0], categories=warm.run.categories)
        resolved = self._answer(decision, around, customer_id, created)
        resolved.household_id = household_id
        return resolved, around.record, row

    @staticmethod
    def _stays(warm: _Warm, around: _Neighbourhood) -> bool:
        """Return True when a record seen before that matches no one stays with the person it was with: it is
        that person's only record, or no steward separated it from the others and its edit does not conflict
        with them (``identity.rules.edit_conflict``), as a batch run keeps an edited account (``identity.cluster``).

        ``around.members`` holds every other record of that person: the neighbourhood looks up the record's own
        unique_id, which brings all of its person's records.
        """
        others = around.members.get(around.previous[0], []) if around.previous else []
        if not others:
            return True
        if any(r[POS["unique_id"]] in around.cannot_link for r in others):
            return False
        was = rule_fields(around.was) if around.was is not None else None
        return edit_conflict(rule_fields(around.record), was, [rule_fields(r) for r in others], warm.rules) is None

    def _new_person(self, conn: Connection, around: _Neighbourhood, request: RecordRequest,
                    caps: HouseholdCaps) -> tuple[str, str, bool]:
        """Return a new customer_id, the household it joins, and whether that household is new (``caps``: the
        run's, per kind of household evidence). A record at a building's bare number ("100") where kin of its
        family name live at one flat of it ("100-2") joins their household, as a batch run takes it (its flat_kin)."""
        kin = stored.flat_kin_household(conn, around.record[POS["postcode"]], around.record[POS["house_number"]],
                                        around.record[POS["house_addition"]],
                                        {around.record[POS["surname_first"]], around.record[POS["surname_last"]]},
                                        caps.of(BUILDING_KIND))
        if kin is not None:
            return _fresh_id(conn, "C", request.unique_id), kin, False
        shares: dict[str, set[str]] = {}     # household -> kinds of evidence shared with the record
        for kind, evidence in HOUSEHOLD_EVIDENCE.items():
            value = around.record[POS[kind]]
            if value is None:
                continue
            users = {person for person, records in around.members.items()
                     if any(r[POS[kind]] == value for r in current_records(records))}
            if 0 < len(users) < caps.of(evidence):   # with the new person: at most the run's cap
                for person in users:
                    shares.setdefault(around.households[person], set()).add(kind)
        household = min(shares, key=lambda h: (-len(shares[h]), h)) if shares else None
        customer_id = _fresh_id(conn, "C", request.unique_id)
        if household is not None:
            return customer_id, household, False
        return customer_id, _fresh_id(conn, "H", request.unique_id), True


def current_records(records: list[tuple]) -> list[tuple]:
    """Return the records of a person that household grouping reads (``identity.households``: LATEST_ADDRESS_SQL and
    current_records): those at their current address (of the record with a postcode updated last) and those without
    an address. A mover's old address, or a card or landline of the old home, does not pull a newcomer there."""
    addressed = sorted((r for r in records if r[POS["address_key"]] is not None), key=lambda r: str(r[POS["unique_id"]]))
    if not addressed:
        return records
    addressed.sort(key=lambda r: str(r[POS["updated_at"]] or ""), reverse=True)
    addressed.sort(key=lambda r: r[POS["updated_at"]] is None)
    addressed.sort(key=lambda r: r[POS["postcode"]] is None)
    now = addressed[0]
    building = (now[POS["postcode"]], now[POS["house_number"]])
    return [r for r in records if r[POS["address_key"]] is None or r[POS["address_key"]] == now[POS["address_key"]]
            or (now[POS["postcode"]] is not None and (r[POS["postcode"]], r[POS["house_number"]]) == building)]


def _fresh_id(conn: Connection, prefix: str, key: str) -> str:
    """Return an ID derived from key (``identity.lifecycle.stable_id``) that was never issued before."""
    n = 0
    while True:
        candidates = [stable_id(prefix, key if i == 0 else f"{key}#{i}") for i in range(n, n + 4)]
        taken = stored.ids_taken(conn, candidates)
        for candidate in candidates:
            if candidate not in taken:
                return candidate
        n += 4


def record_raw(request: RecordRequest, record: tuple) -> dict[str, object]:
    """Return the source_record row of a record resolved in real time: as received, and standardised as
    ``herken.publish`` writes a drop's (the same std_* columns)."""
    mobile, landline = record[POS["mobile"]], record[POS["landline"]]
    phone = mobile if mobile is not None else landline
    return {
        "source": request.source, "record_id": request.record_id, **request.values,
        "updated_at": record[POS["updated_at"]],
        "std_given": record[POS["given_first"]], "std_surname": record[POS["surname_core"]],
        "std_particles": record[POS["particles"]], "std_birth_date": record[POS["birth_date"]],
        "std_email": record[POS["email"]], "std_phone": phone,
        "std_phone_mobile": (mobile is not None) if phone is not None else None,
        "std_postcode": record[POS["postcode"]], "std_house_number": record[POS["house_number"]],
        "std_loyalty_card": record[POS["loyalty_card"]],
    }
