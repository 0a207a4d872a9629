"""The batch resolution pipeline: ingest -> standardise -> link -> cluster -> households.

Pure of storage: :func:`resolve` returns a :class:`Resolution` and writes nothing but the run
directory it is given (the model JSON and the quarantine file); publishing to the store is the
caller's step, so a run that fails half-way leaves the published result as it was.
"""

from __future__ import annotations

import multiprocessing
import os
import json
import logging
from collections.abc import Collection
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from identity.addresses import complete_postcodes
from identity.bulk import die_with_parent, emptied, frame_of, give_back_memory, isin, paused_gc
from identity.cluster import (
    KEEP_TOGETHER, Clustering, Edited, cluster_best_first, nameless_ambiguous_pairs, names_only_pairs,
    with_steward_refusals,
)
from identity.components import GroupSettings, cluster_by_component, pairs_frame, records_frame
from identity.confidence import record_confidence
from identity.email_names import fill_surnames_from_email
from identity.engine import Engine, engine_class, make_engine
from identity.erasure import Tombstones, erased_records, keep_out, withhold_erased
from identity.household_components import group_households_by_component
from identity.households import group_households, household_anchors, measured_household_edges, person_links
from identity.ingest import Drop, DropError, read_drop
from identity.lifecycle import edited_records, judged_afresh, stable_id, taken_back_persons, unchanged_records
from identity.memory import engine_limit, run_cap
from identity.link import build_linker, predict_pairs, prepare, save_model
from identity.placeholder_values import describe_values, placeholder_values, without_placeholder_values
from identity.placeholders import describe as describe_placeholders, placeholder_dates, without_placeholders
from identity.prior import learnt_prior, rescore_needed, with_prior
from identity.progress import NO_PROGRESS, Progress
from identity.quarantined import quarantine_reasons, write_quarantine, write_set_aside
from identity.rules import STRICT, NameAndBirth, RuleBook
from identity.standardise import SPREADSHEET_NUMBER, STANDARD_COLUMNS, Memo, standardise_columns
from identity.strictness import fit_rules
from identity.timing import Laps

log = logging.getLogger(__name__)

PREDICT_THRESHOLD = 0.05   # pairs kept for review and explanation
MATCH_THRESHOLD = 0.5      # pairs that may join two clusters (subject to the cannot-link rules)
RESCORE_ROUNDS = 3         # scorings again at a learnt prior far above the trained one (one settled RLdata10000)


@dataclass
class ResolveOptions:
    """How to run one resolution."""

    run_dir: Path
    model_path: Path | None = None     # re-use a trained model instead of training
    engine: str = "duckdb"
    spark_options: dict = field(default_factory=dict)    # --engine spark: master and conf (identity.spark_engine)
    match_threshold: float = MATCH_THRESHOLD
    seed: int = 42
    # a data steward's decisions, as (source:record_id, source:record_id) pairs; pairs naming a
    # record that is not in the drop are left out
    must_link: list[tuple[str, str]] = field(default_factory=list)
    cannot_link: list[tuple[str, str]] = field(default_factory=list)
    # records a steward's decision taken back since had joined or kept apart in the published run: their persons are
    # judged afresh (``identity.lifecycle.judged_afresh``), and an incremental run clusters them again
    taken_back: frozenset[str] = frozenset()
    # the published run's records as the linkage saw them (SNAPSHOT_COLUMNS) with their customer_id:
    # records that did not change keep to their persons unless the model now clearly disagrees
    # (identity.cluster's hysteresis); None for a first run
    published: pd.DataFrame | None = None
    # the store's tombstones (identity.erasure): records of erased persons are quarantined, not resolved
    tombstones: Tombstones | None = None
    # what the run may use ("8GB"; identity.memory): the engine gets a share and spills beyond it;
    # None: a share of the machine
    memory_limit: str | None = None
    # rows the store holds per drop file stem (pos, ..., interactions, preferences): a full run whose file of one of
    # them accepts no row would remove them all, and is refused unless the stem is in allow_empty
    held: dict[str, int] = field(default_factory=dict)
    allow_empty: frozenset[str] = frozenset()

    def engine_options(self) -> dict[str, object]:
        """Return the engine's options for this run: its memory share and where it spills (in the run's folder)."""
        return {"memory_limit": engine_limit(run_cap(self.memory_limit)), "temp_directory": self.run_dir / "spill",
                **self.spark_options}   # identity.engine.make_engine gives each engine the options it takes


@dataclass
class Resolution:
    """Everything a run produced, ready to publish."""

    drop: Drop
    records: pd.DataFrame              # standardised records with customer_id and household_id
    pairs: pd.DataFrame                # scored candidate pairs
    clustering: Clustering
    model: dict
    trained: bool
    timings: dict[str, float] = field(default_factory=dict)
    rules: RuleBook = STRICT           # the cannot-link rules as fitted to this drop
    # (records, persons, households) once ``release`` has let go of the frames they were counted in
    released: tuple[int, int, int] | None = None

    @property
    def record_count(self) -> int:
        """Return the number of records resolved."""
        return self.released[0] if self.released else len(self.records)

    @property
    def persons(self) -> int:
        """Return the number of persons found."""
        return self.released[1] if self.released else int(self.records["customer_id"].nunique())

    @property
    def households(self) -> int:
        """Return the number of households found."""
        return self.released[2] if self.released else int(self.records["household_id"].nunique())

    def release(self) -> None:
        """Let go of the bulk a publish has turned into rows (the drop's records and interactions, the resolved
        records, the scored pairs, the clustering), keeping the counts; the resolution cannot be published again.

        At a million records these hold about 2 GB that the publishing process would otherwise keep
        beside the profile workers.
        """
        self.released = (self.record_count, self.persons, self.households)
        self.records, self.pairs = emptied(self.records), emptied(self.pairs)
        self.clustering = Clustering({}, [], [])
        self.drop.records, self.drop.interactions = emptied(self.drop.records), emptied(self.drop.interactions)


# The records as the linkage saw them, standardised and completed: what a run keeps for the next
# incremental run (the store's linkage snapshot).
SNAPSHOT_COLUMNS: tuple[str, ...] = (*STANDARD_COLUMNS, "postcode_from_street", "surname_from_email")

PARALLEL_MIN_RECORDS = 20_000
MIN_TRAINING_RECORDS = 2    # a model is trained on pairs of records
STANDARDISE_CHUNK = 5_000   # records per step of the standardisation's progress

_RAW: dict[str, list] = {}   # the raw columns a forked worker standardises (set before the fork)
_WORKER_MEMO: Memo = {}      # what a forked worker has standardised so far, for its later chunks


def _adopt_columns(columns: dict[str, list], parent: int) -> None:
    """Keep the raw columns in a forked worker (fork shares them: nothing is pickled); end with the parent."""
    die_with_parent(parent)
    _RAW.clear()
    _RAW.update(columns)
    _WORKER_MEMO.clear()


def _standardise_span(start: int, stop: int, columns: dict[str, list] | None = None,
                      memo: Memo | None = None) -> pd.DataFrame:
    """Return the standardised records (STANDARD_COLUMNS) of raw rows start..stop, as a frame.

    A frame of Arrow strings, not Python tuples: a million records as tuples of Python strings
    would hold gigabytes at once, and a worker sends its frame back far cheaper than the tuples.
    ``memo`` carries what earlier chunks of this process standardised (a forked worker's own by default).
    """
    if columns is None:
        columns, memo = _RAW, _WORKER_MEMO
    if stop <= start:
        return pd.DataFrame([], columns=list(STANDARD_COLUMNS))
    standard = standardise_columns({name: values[start:stop] for name, values in columns.items()}, memo)
    return frame_of(standard, STANDARD_COLUMNS)


# Spark's DDL of the standardised records (STANDARD_COLUMNS): strings, and phone_valid true, false or null.
STANDARD_SCHEMA = ", ".join(f"{c} {'boolean' if c == 'phone_valid' else 'string'}" for c in STANDARD_COLUMNS)


WORKER_MEMO_LIMIT = 2_000_000   # values a long-lived worker keeps standardised (Spark's Python workers serve many runs)


def standardise_frame(records: pd.DataFrame) -> pd.DataFrame:
    """Return the standardised records (STANDARD_COLUMNS) of raw identity rows, in order: one batch of a
    distributed standardisation (``Engine.map_batches``), with what this process standardised before (up to
    WORKER_MEMO_LIMIT values, then it starts again)."""
    if sum(len(known) for known in _WORKER_MEMO.values()) > WORKER_MEMO_LIMIT:
        _WORKER_MEMO.clear()
    return frame_of(standardise_columns({name: records[name].tolist() for name in records.columns}, _WORKER_MEMO),
                    STANDARD_COLUMNS)


def _joined(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Return the chunks' frames as one, in order."""
    if not frames:
        return pd.DataFrame([], columns=list(STANDARD_COLUMNS))
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def standardise_drop(drop: Drop, workers: int | None = None, progress: Progress = NO_PROGRESS,
                     engine: Engine | None = None) -> pd.DataFrame:
    """Return the standardised linkage fields of every accepted identity record.

    Standardisation is pure Python (phonenumbers, name parsing), so large drops are split over
    processes, one per core: this one and forked workers, which see the raw columns without a
    copy and send back only their results. The output is in the same order either way. The
    records go in chunks of ``STANDARDISE_CHUNK``, each told to progress when it is done.
    A distributed engine (``Engine.distributed``: Spark) standardises them in batches on its workers instead.
    """
    count = len(drop.records)
    if engine is not None and engine.distributed:
        progress.step(f"standardising {count:,} records on the engine's workers", total=count, unit="records")
        standardised = engine.map_batches(drop.records, standardise_frame, STANDARD_SCHEMA)
        progress.advance(count)
        return standardised
    columns = {name: drop.records[name].tolist() for name in drop.records.columns}
    workers = workers or os.cpu_count() or 1
    spans = [(start, min(start + STANDARDISE_CHUNK, count)) for start in range(0, count, STANDARDISE_CHUNK)]
    progress.step(f"standardising {count:,} records", total=count, unit="records")
    memo: Memo = {}   # this process's answers, shared by its chunks (each worker keeps its own)
    with paused_gc():
        if workers < 2 or count < PARALLEL_MIN_RECORDS:
            frames: list[pd.DataFrame] = []
            for start, stop in spans:
                frames.append(_standardise_span(start, stop, columns, memo))
                progress.advance(stop - start)
            return _joined(frames)
        # Every workers-th chunk is this process's own, the others go to the pool; between its own
        # chunks this process takes in the pool's finished ones, so the count moves chunk by chunk.
        done: list[pd.DataFrame | None] = [None for _ in spans]
        with ProcessPoolExecutor(max_workers=workers - 1, mp_context=multiprocessing.get_context("fork"),
                                 initializer=_adopt_columns, initargs=(columns, os.getpid())) as pool:
            pending = {i: pool.submit(_standardise_span, *span) for i, span in enumerate(spans) if i % workers}
            for i, (start, stop) in enumerate(spans):
                if i % workers == 0:
                    done[i] = _standardise_span(start, stop, columns, memo)
                    progress.advance(stop - start)
                for j in [j for j, future in pending.items() if future.done()]:
                    done[j] = pending.pop(j).result()
                    progress.advance(spans[j][1] - spans[j][0])
            for j, future in pending.items():
                done[j] = future.result()
                progress.advance(spans[j][1] - spans[j][0])
        return _joined(done)  # type: ignore[arg-type]


RULE_FIELD_COLUMNS: tuple[str, ...] = ("given_first", "given", "initials", "surname_core", "birth_date", "mobile")


def rule_fields_of(records: pd.DataFrame) -> dict[str, NameAndBirth]:
    """Return the cannot-link fields of every record, by unique_id (RULE_FIELD_COLUMNS, then e-mail when held)."""
    # Column lists and masks rather than a pd.isna per value: 100k records, five fields each.
    def values(c: str) -> list:
        return [v if present else None for v, present in zip(records[c].tolist(), records[c].notna().tolist())]

    fields = [values(c) for c in RULE_FIELD_COLUMNS]
    # a number used by several first names (identity.link.prepare's people counts) is a family's, not a person's
    shared = (records["mobile_names"].fillna(0).astype("int64") > 1).tolist() if "mobile_names" in records.columns \
        else [False] * len(records)
    email = values("email") if "email" in records.columns else [None] * len(records)
    return {uid: NameAndBirth(*values) for uid, *values in zip(records["unique_id"].tolist(), *fields, shared, email)}


def edits_since(published: pd.DataFrame, edited: dict[str, str]) -> dict[str, Edited]:
    """Return each edited record's published person with the rule fields its published version had."""
    rows = published[published["unique_id"].isin(list(edited))]
    was = rule_fields_of(rows) if set(RULE_FIELD_COLUMNS) <= set(rows.columns) else {}
    return {uid: Edited(person, was.get(uid)) for uid, person in edited.items()}


def cluster_persons(rule_fields: dict[str, NameAndBirth], pairs: pd.DataFrame, rules: RuleBook,
                    options: ResolveOptions, progress: Progress = NO_PROGRESS,
                    previous: dict[str, str] | None = None,
                    names_elsewhere: Collection[tuple[str, str]] = frozenset(),
                    edited: dict[str, Edited] | None = None, engine: Engine | None = None) -> Clustering:
    """Return the persons of these records from their scored pairs: best first, under the rules, the
    steward's decisions on them (pairs naming another record are left out) and ``previous`` (hysteresis).

    names_elsewhere: the full names held by records of the drop not among these (``cluster_best_first``).
    edited: the published person of each record edited since (``cluster_best_first``).
    engine: an engine that clusters by component (``Engine.distributed``: Spark) gets the work, one
        connected component per call on its workers (:mod:`identity.components`), with the same result.
    """
    # Only pairs that may join anything go in, as plain lists (iterating Arrow-backed columns value by
    # value costs more than the clustering's own work): those from the threshold, and with a published
    # run those from KEEP_TOGETHER (its hysteresis).
    lowest = options.match_threshold if previous is None else min(options.match_threshold, KEEP_TOGETHER)
    kept = pairs[pairs["match_probability"].to_numpy(dtype=float) >= lowest]
    progress.advance(len(pairs) - len(kept))
    must_link = [(a, b) for a, b in options.must_link if a in rule_fields and b in rule_fields]
    cannot_link = [(a, b) for a, b in options.cannot_link if a in rule_fields and b in rule_fields]
    scored = zip(kept["unique_id_l"].tolist(), kept["unique_id_r"].tolist(), kept["match_probability"].astype(float).tolist())
    decided = _decided_probabilities(pairs, cannot_link)
    if engine is not None and engine.distributed:
        clustering = cluster_by_component(
            engine, records_frame(rule_fields, previous, edited, names_elsewhere),
            pairs_frame(scored, names_only_pairs(pairs), nameless_ambiguous_pairs(pairs, rules, options.match_threshold),
                        must_link, cannot_link),
            lowest, GroupSettings(rules, options.match_threshold))
        progress.advance(len(kept))
        return with_steward_refusals(clustering, cannot_link, decided)
    return with_steward_refusals(cluster_best_first(
        rule_fields,
        scored,
        threshold=options.match_threshold,
        must_link=must_link,
        cannot_link=cannot_link,
        names_only=names_only_pairs(pairs),
        rules=rules,
        nameless=nameless_ambiguous_pairs(pairs, rules, options.match_threshold),
        progress=progress,
        previous=previous,
        names_elsewhere=names_elsewhere,
        edited=edited,
    ), cannot_link, decided)


def _decided_probabilities(pairs: pd.DataFrame, cannot_link: list[tuple[str, str]]) -> dict[frozenset[str], float]:
    """Return the match probability of each steward's cannot-link pair the run scored."""
    if not cannot_link:
        return {}
    wanted = {frozenset(pair) for pair in cannot_link}
    named = {uid for pair in cannot_link for uid in pair}
    near = pairs[isin(pairs["unique_id_l"], named) & isin(pairs["unique_id_r"], named)]
    return {frozenset((a, b)): float(p) for a, b, p in zip(near["unique_id_l"].tolist(), near["unique_id_r"].tolist(),
                                                          near["match_probability"].tolist())
            if frozenset((a, b)) in wanted}


def emptied_files(drop: Drop, held: dict[str, int], allowed: frozenset[str] = frozenset()) -> list[str]:
    """Return, per file of a full drop that accepts no row where the store holds rows of its kind (a header-only
    export, a delimiter at the end of every row), what it would remove; [] when none would."""
    found = []
    for count in drop.counts:
        stem = count.file.split(".")[0]
        if count.accepted or not held.get(stem) or stem in allowed:
            continue
        reasons = quarantine_reasons([q for q in drop.quarantine if q.file == count.file])
        what = "interactions" if stem == "interactions" else "preferences" if stem == "preferences" else \
            f"{stem} records"
        found.append(f"{count.file} accepts none of its {count.read:,} row(s)" + (f" ({reasons})" if reasons else "")
                     + f" where the store holds {held[stem]:,} {what}")
    return found


def resolve(drop_dir: Path, options: ResolveOptions, progress: Progress = NO_PROGRESS) -> Resolution:
    """Return the persons and households of a drop; raise DropError for a drop that cannot be read.

    Each step is told to progress as it begins, with its size where that is known beforehand.
    """
    lap = Laps()
    timings = lap.laps

    drop = read_drop(drop_dir, progress)    # a record the drop also deletes is quarantined there, with its rows
    lap("ingest")
    emptied = emptied_files(drop, options.held, options.allow_empty)
    if emptied:
        raise DropError("; ".join(emptied) + ": publishing would remove them from the store; nothing was published: "
                        "mend the file and run again, or run with --allow-empty "
                        + " --allow-empty ".join(sorted({e.split(".")[0] for e in emptied}))
                        + " to remove them on purpose")
    # A distributed engine (Spark on a cluster) is made first: the standardisation runs on its workers. Any
    # other is made after it, so that the standardisation's forked workers copy no database or Spark session.
    early = make_engine(options.engine, **options.engine_options()) \
        if engine_class(options.engine).distributes_with(**options.engine_options()) else None
    try:
        return _resolve_standardised(drop, options, progress, lap, early)
    except BaseException:
        if early is not None:
            early.close()
        raise


LOST_PHONES_SHARE = 0.2   # of a drop's phone values not kept before the run says why it may be


def _say_lost_phones(raw: pd.DataFrame, standardised: pd.DataFrame) -> None:
    """Warn when many phone values were not kept: herken reads a number without a country code as Dutch, so a
    foreign extract's national notation ("020 7946 0958" from London) is lost."""
    if "phone" not in raw.columns or not len(raw):
        return
    kept = standardised["mobile"].notna().to_numpy() | standardised["landline"].notna().to_numpy()
    given = [(text, held) for text, held in zip(raw["phone"].tolist(), kept) if isinstance(text, str) and text.strip()]
    lost = [text for text, held in given if not held]
    if lost and len(lost) >= LOST_PHONES_SHARE * len(given):
        log.warning("%d of %d phone values were not kept as phone numbers (such as %r): a number without its country "
                    "code is read as Dutch; if the extract comes from another country, write its numbers with their "
                    "country code (+44 20 7946 0958)", len(lost), len(given), lost[0])


def _say_spreadsheet_cards(raw: pd.DataFrame) -> None:
    """Warn when loyalty card numbers were saved by a spreadsheet in scientific notation (read as missing)."""
    if "loyalty_card" not in raw.columns or not len(raw):
        return
    lost = [text for text in raw["loyalty_card"].tolist() if isinstance(text, str) and SPREADSHEET_NUMBER.match(text)]
    if lost:
        log.warning("%d loyalty_card values are numbers a spreadsheet wrote in scientific notation (such as %r): their "
                    "digits are lost, so they were read as missing; export the column as text and run again to use "
                    "them", len(lost), lost[0])


def _resolve_standardised(drop: Drop, options: ResolveOptions, progress: Progress, lap: Laps,
                          early: Engine | None) -> Resolution:
    """Return the resolution of a drop read (resolve's steps from the standardisation on), on the engine made
    for it when it was made before the standardisation; an engine made here is closed when this fails."""
    standardised = standardise_drop(drop, progress=progress, engine=early)
    _say_lost_phones(drop.records, standardised)
    _say_spreadsheet_cards(drop.records)
    # identifiers held by far more people than share one at home (a till's default card) are read as missing before
    # anything reads them, the erasure check and the completions too (a surname read from "geen@email.nl"), as real
    # time reads a record
    identifiers = placeholder_values(standardised)
    # before the completions: nothing of an erased person may shape the other records (a placeholder birth date
    # or identifier is no one's, so it is no key: a first look for them here, learnt again without the erased)
    no_ones = placeholder_dates(standardised)
    erased = erased_records(without_placeholder_values(standardised, identifiers), options.tombstones, no_ones)
    standardised = keep_out(drop, standardised, erased)
    drop.quarantine = withhold_erased(drop.quarantine, options.tombstones, no_ones)
    drop.set_aside = withhold_erased(drop.set_aside, options.tombstones, no_ones)
    if erased:
        identifiers = placeholder_values(standardised)
    standardised = without_placeholder_values(standardised, identifiers)
    if identifiers:
        log.warning("%s", describe_values(identifiers))
    if standardised.empty:    # publishing would replace the published persons with none
        raise DropError(f"no record of the drop was accepted ({len(drop.quarantine)} row(s) quarantined"
                        f"{', the most common reasons: ' + quarantine_reasons(drop.quarantine) if drop.quarantine else ''}"
                        "); nothing was published: mend the files and run again")
    if options.model_path is None and len(standardised) < MIN_TRAINING_RECORDS:
        raise DropError(f"the drop holds {len(standardised)} record(s) to resolve (quarantined ones: "
                        f"{len(drop.quarantine)}{'; ' + quarantine_reasons(drop.quarantine) if drop.quarantine else ''}"
                        f"); training a model takes at least {MIN_TRAINING_RECORDS}: add "
                        "records, or score with a trained model (--model MODEL.json)")
    options.run_dir.mkdir(parents=True, exist_ok=True)
    write_quarantine(drop.quarantine, options.run_dir / "quarantine.csv")
    write_set_aside(drop.set_aside, options.run_dir / "set_aside.csv")
    # Drop-level completions: a postcode for "street + number" addresses the drop knows, a surname
    # read from the e-mail for records with a first name only (sparse app accounts).
    standardised = fill_surnames_from_email(complete_postcodes(standardised))
    placeholders = placeholder_dates(standardised)
    standardised = without_placeholders(standardised, placeholders)
    if placeholders:
        log.warning("%s", describe_placeholders(placeholders))
    log.info("standardised %d records; %d phone numbers kept in ranges phonenumbers does not know (phone_valid False)",
             len(standardised), int(standardised["phone_valid"].eq(False).sum()))
    lap("standardise")
    # The interactions play no part in linking: on disk while the engine trains and scores (the run's
    # peak at a million records, 0.7 GB of them), back in memory once the engine is closed. A run that
    # fails before leaves the file in its unpublished folder, which the next run removes.
    aside = options.run_dir / "interactions.parquet"
    drop.interactions.to_parquet(aside)
    drop.interactions = emptied(drop.interactions)

    engine: Engine = early or make_engine(options.engine, **options.engine_options())
    try:
        records = prepare(engine, standardised)
        # prepare's frame is a sorted copy: the unsorted one would stay beside it through scoring (0.8 GB at 1M)
        del standardised
        give_back_memory()
        return _resolve_on(engine, drop, records, options, progress, lap, placeholders, identifiers)
    except BaseException:
        if early is None:    # an early one is resolve's to close
            engine.close()
        raise


def _resolve_on(engine: Engine, drop: Drop, records: pd.DataFrame, options: ResolveOptions,
                progress: Progress, lap: Laps, placeholders: dict[str, int] | None = None,
                identifiers: dict[str, dict[str, int]] | None = None) -> Resolution:
    """Return the resolution of a drop's prepared records on an engine, which it closes once the households'
    SQL is done, or once it has grouped the households when it groups them on its workers (closing it again is
    harmless)."""
    timings = lap.laps
    aside = options.run_dir / "interactions.parquet"
    progress.step("training the model" if options.model_path is None else "loading the model")
    linker, trained = build_linker(engine, records, options.model_path, seed=options.seed)
    save_model(linker, options.run_dir / "model.json")
    model = json.loads((options.run_dir / "model.json").read_text())
    lap("train")

    progress.step("scoring candidate pairs", unit="pairs")
    pairs = predict_pairs(linker, engine, PREDICT_THRESHOLD)
    if trained:    # the prior the drop's own scores give (identity.prior); a re-used model keeps its own
        trained_prior = prior = float(model["probability_two_random_records_match"])
        learnt = learnt_prior(pairs["match_probability"].to_numpy(dtype=float), len(records), prior)
        # the lowest probability clustering reads: the match threshold, or KEEP_TOGETHER beside a published run
        lowest = options.match_threshold if options.published is None else min(options.match_threshold, KEEP_TOGETHER)
        for _ in range(RESCORE_ROUNDS):
            if not rescore_needed(prior, learnt, PREDICT_THRESHOLD, lowest):
                break
            # Far above the trained prior (a drop whose every duplicate carries an error), pairs cut at the
            # trained one would merge: score again at the learnt prior, and learn it again from those scores.
            log.info("the scores put the chance that two records are one person at %.3g, %.0fx the trained %.3g: "
                     "scoring again", learnt, learnt / prior, prior)
            linker._settings_obj._probability_two_random_records_match = learnt   # Splink 5 offers no setter
            pairs = predict_pairs(linker, engine, PREDICT_THRESHOLD)
            prior = learnt
            learnt = learnt_prior(pairs["match_probability"].to_numpy(dtype=float), len(records), prior)
        if rescore_needed(prior, learnt, PREDICT_THRESHOLD, lowest):
            log.warning("the chance that two records are one person was still moving after %d scorings (%.3g, "
                        "scored at %.3g): pairs below %g at the last one are not clustered", RESCORE_ROUNDS + 1,
                        learnt, prior, PREDICT_THRESHOLD)
        if learnt != trained_prior:
            pairs = with_prior(pairs, prior, learnt)
            model["probability_two_random_records_match"] = learnt
            (options.run_dir / "model.json").write_text(json.dumps(model, indent=4))
            log.info("the chance that two records are one person, learnt from the scores: %.3g (trained: %.3g)",
                     learnt, trained_prior)
    progress.advance(len(pairs))
    lap("predict")

    progress.step(f"clustering {len(pairs):,} pairs into persons", total=len(pairs), unit="pairs")
    rule_fields = rule_fields_of(records)
    rules = fit_rules(records, rule_fields, pairs)
    rules.placeholder_dates = dict(placeholders or {})
    rules.placeholder_values = {column: dict(found) for column, found in (identifiers or {}).items()}
    previous: dict[str, str] | None = None
    edited: dict[str, Edited] | None = None
    if options.published is not None:
        afresh = taken_back_persons(dict(zip(options.published["unique_id"].tolist(),
                                             options.published["customer_id"].tolist())), options.taken_back)
        unchanged = unchanged_records(records, options.published, SNAPSHOT_COLUMNS)
        previous = judged_afresh(unchanged, afresh)
        edited = edits_since(options.published,
                             judged_afresh(edited_records(records, options.published, unchanged), afresh))
    clustering = cluster_persons(rule_fields, pairs, rules, options, progress, previous=previous, engine=engine,
                                 edited=edited)
    records["person"] = records["unique_id"].map(clustering.labels)
    records["confidence"] = records["unique_id"].map(record_confidence(clustering.labels, pairs, clustering.merges))
    lap("cluster")

    progress.step("grouping persons into households", unit="persons")
    edges, rules.household_caps = measured_household_edges(engine, records)
    # The linker's tables are done with: free them before the caller publishes (the run's peak). An engine
    # that groups households by component on its workers is closed once it has.
    del linker
    spread = engine.distributed
    if not spread:
        engine.close()
    anchored, surnames, hints = household_anchors(records)
    persons, links = sorted(records["person"].unique()), person_links(records, pairs)
    if spread:
        household_of = group_households_by_component(engine, persons, edges, surnames, anchored, hints, links,
                                                     options.match_threshold)
        engine.close()
    else:
        household_of = group_households(persons, edges, surnames, anchored, hints, links=links,
                                        link_threshold=options.match_threshold)
    drop.interactions = pd.read_parquet(aside)
    aside.unlink()
    records["household"] = records["person"].map(household_of)
    progress.advance(len(household_of))
    # one hash per person and household, not per record
    records["customer_id"] = records["person"].map({p: stable_id("C", p) for p in household_of})
    records["household_id"] = records["household"].map({h: stable_id("H", h) for h in set(household_of.values())})
    lap("households")
    progress.close()
    log.info(
        "resolved %d records into %d persons and %d households",
        len(records), records["customer_id"].nunique(), records["household_id"].nunique(),
    )
    return Resolution(drop, records, pairs, clustering, model, trained, timings, rules)
