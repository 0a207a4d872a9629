"""The herken command line: wires identity/ and profile_api/ together; no domain logic here."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import json
import logging
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any, TextIO

from tqdm import tqdm

from herken.access_cli import access_note, add_access_commands, add_serve_access_args, is_loopback, serve_options
from herken.config import Settings, load_settings
from herken.lifecycle_cli import add_commands as add_lifecycle_commands, published_context
from herken.privacy_cli import add_commands as add_privacy_commands, stored_tombstones
from identity.progress import Progress

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


# Every bar is drawn under this lock, and a fork waits for it: a child forked while the ticker
# thread was half-way through a write to stderr would inherit stderr's lock held, and hang when it
# flushes stderr on exit (the standardisation and the profile encoding run in forked workers).
_DRAWING = threading.Lock()
os.register_at_fork(before=_DRAWING.acquire, after_in_parent=_DRAWING.release, after_in_child=_DRAWING.release)


class _Bars(Progress):
    """Shows the steps of a long command on stderr: on a terminal as tqdm bars, elsewhere one line per step.

    A step of known size gets a bar with its count, rate and the time left; one of unknown size
    (a Splink query) a spinner and the time it has taken. A ticker thread redraws the open bar a
    few times a second, so the times keep moving while a step reports nothing.
    """

    TICK = 0.25   # seconds between redraws of the open bar

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        tqdm.monitor_interval = 0   # its monitor thread redraws outside _DRAWING; the ticker redraws instead
        self.terminal = self.stream.isatty()
        try:   # a terminal that reports no size (a bare pseudo-terminal) is taken as 100 by 24: tqdm draws nothing on 0
            self.sized = self.terminal and min(os.get_terminal_size(self.stream.fileno())) > 0
        except (OSError, ValueError, AttributeError):
            self.sized = False
        utf = (getattr(self.stream, "encoding", None) or "").lower().replace("-", "").startswith("utf")
        self.spinner = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏" if utf else "|/-\\"
        self.started = time.perf_counter()
        self.bar: tqdm | None = None
        self.name, self.unit, self.frame = "", "", 0
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def step(self, name: str, total: int | None = None, unit: str = "") -> None:
        self.close()
        if not self.terminal:
            print(f"[{time.perf_counter() - self.started:6.1f}s] {name}", file=self.stream, flush=True)
            return
        with _DRAWING:
            self.name, self.unit = name, unit
            if total is None:
                shape = "{desc} [{elapsed}]"
            elif unit == "B":   # sizes as 16.1M/60.2M
                shape = "{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}, {rate_fmt}]"
            else:               # counts as 45,000/99,993
                shape = "{l_bar}{bar}| {n:,}/{total:,} [{elapsed}<{remaining}, {rate_fmt}]"
            self.bar = tqdm(total=total, desc=name, unit=unit if unit in ("", "B") else f" {unit}", unit_scale=True,
                            unit_divisor=1024 if unit == "B" else 1000, bar_format=shape, file=self.stream,
                            dynamic_ncols=self.sized, ncols=None if self.sized else 100, nrows=None if self.sized else 24,
                            mininterval=self.TICK, leave=True)
            self._describe(spinning=True)
        if self._ticker is None:
            self._ticker = threading.Thread(target=self._tick, name="progress-bars", daemon=True)
            self._ticker.start()

    def advance(self, n: int = 1) -> None:
        if self.bar is not None:
            with _DRAWING:
                self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            with _DRAWING:
                self._describe(spinning=False)
                self.bar.close()
                self.bar = None

    def stop(self, done: bool = False) -> None:
        """End the last step and the ticker (once); with done, elsewhere than on a terminal, print the time taken."""
        if self._stop.is_set():
            return
        self.close()
        self._stop.set()
        if done and not self.terminal:
            print(f"[{time.perf_counter() - self.started:6.1f}s] done", file=self.stream, flush=True)

    def _describe(self, spinning: bool) -> None:
        """Write the open bar's description: a step of unknown size spins, and counts once it has a count."""
        assert self.bar is not None
        if self.bar.total is not None:
            return
        count = f": {self.bar.n:,} {self.unit}" if self.bar.n else ""
        spinner = f" {self.spinner[self.frame % len(self.spinner)]}" if spinning else ""
        self.bar.set_description_str(f"{self.name}{count}{spinner}", refresh=False)

    def _tick(self) -> None:
        while not self._stop.wait(self.TICK):
            with _DRAWING:
                if self.bar is not None:
                    self.frame += 1
                    self._describe(spinning=True)
                    self.bar.refresh()


def _store_arg(parser: argparse.ArgumentParser, settings: Settings) -> None:
    parser.add_argument("--store", default=settings.store,
                        help=f"SQLAlchemy URL of the store (default {settings.store}; env HERKEN_STORE)")


def cmd_generate(args: argparse.Namespace, settings: Settings) -> int:
    """Write a synthetic drop."""
    from synth.config import SynthConfig
    from synth.writer import generate_drop

    config = SynthConfig() if args.noise is None else SynthConfig(noise=args.noise)
    bars = _Bars()
    try:
        summary = generate_drop(Path(args.dir), households=args.households, seed=args.seed, config=config,
                                taxonomy=args.taxonomy, progress=bars)
    finally:
        bars.stop()
    records = ", ".join(f"{k} {v:,}" for k, v in summary.records.items())
    print(f"wrote {args.dir}: {summary.households:,} households, {summary.persons:,} persons; records: {records}; "
          f"{summary.interactions:,} interactions, {summary.preferences:,} preferences")
    return EXIT_OK


def cmd_generate_day2(args: argparse.Namespace, settings: Settings) -> int:
    """Write day 2 of a generated drop: the full drop and the delta."""
    from synth.day2 import write_day2

    summary = write_day2(Path(args.day1), Path(args.full), Path(args.delta), seed=args.seed, new=args.new,
                         changed=args.changed, deleted=args.deleted, moved=args.moved)
    print(f"day 1: {summary.records_day1:,} records; day 2: {summary.new_of_known:,} new records of known persons, "
          f"{summary.new_of_new:,} of new households, {summary.changed:,} changed, {summary.moved_households:,} "
          f"households moved ({summary.moved_records:,} records), {summary.deleted:,} deleted")
    print(f"wrote the full drop to {args.full} and the delta (with deletions.csv) to {args.delta}")
    return EXIT_OK


def cmd_resolve(args: argparse.Namespace, settings: Settings) -> int:
    """Resolve a drop and publish persons and households to the store."""
    from sqlalchemy.engine import make_url

    from identity.ingest import DropError
    from identity.link import ModelMismatch
    from identity.pipeline import ResolveOptions, resolve
    from herken.publish import publish_resolution
    from herken.run_folder import finish
    from profile_api.store import StoreError, UnusableStore, open_store

    try:
        make_url(args.store)
    except Exception:
        print(f"error: --store '{args.store}' is not a database URL; use sqlite:///herken.db or "
              "postgresql+psycopg://user@host/db", file=sys.stderr)
        return EXIT_BAD_INPUT
    from herken.pause_points import pausing
    from herken.run_folder import clear_leftovers, partial_folder
    from identity.engine import EngineError, engine_class

    try:    # before anything is read: a missing pyspark is said at once, not after the ingest
        engine_class(args.engine)
    except EngineError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    problem = _store_unusable(args.store) or _runs_folder_unwritable(Path(settings.runs_dir))
    if problem:
        print(f"error: {problem}; nothing was read or written", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.model:
        from identity.link import model_file_problem

        problem = model_file_problem(Path(args.model))
        if problem:
            print(f"error: {problem}; nothing was read or written", file=sys.stderr)
            return EXIT_BAD_INPUT
    from identity.memory import MemorySizeError, engine_limit, parse_size, run_cap

    try:
        if args.memory_limit:
            parse_size(args.memory_limit)
    except MemorySizeError as err:
        print(f"error: --memory-limit: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT

    started = dt.datetime.now(dt.timezone.utc)
    run_id = started.strftime("run-%Y%m%dT%H%M%S-%f")
    bars = pausing(_Bars(), settings.pause_at, settings.pause_seconds)
    mark = _written_mark(args.store)    # the last real-time write before this run read anything
    # what it starts from: a run or a decision that lands meanwhile makes its publish refuse
    start_run, start_decisions = _start_state(args.store)
    # read here, unless the caller read it already (herken steward apply)
    must_link, cannot_link, published, taken_back = getattr(args, "context", None) or published_context(
        args.store, records=not (args.incremental or args.fresh))
    clear_leftovers(Path(settings.runs_dir), start_run)
    # the run's folder gets its name once the run is published (herken.run_folder)
    options = ResolveOptions(run_dir=partial_folder(Path(settings.runs_dir), run_id),
                             model_path=Path(args.model) if args.model else None, engine=args.engine,
                             spark_options={"master": args.spark_master or None, "conf": settings.spark_conf},
                             must_link=must_link, cannot_link=cannot_link, taken_back=taken_back,
                             published=published, tombstones=stored_tombstones(args.store),
                             memory_limit=args.memory_limit,
                             held={} if args.incremental else _held_counts(args.store),
                             allow_empty=frozenset(getattr(args, "allow_empty", None) or ()))
    from profile_api.store.during_run import nothing_published_since

    unchanged = _guards(_erasures_unchanged(options), nothing_published_since(start_run, start_decisions))
    if args.incremental:
        return _resolve_incremental(args, options, run_id, started, bars, mark, unchanged)
    from herken.report import rules_against_model, rules_against_model_lines
    from identity.placeholder_values import describe_values

    profile_engine = None
    try:
        resolution = resolve(Path(args.drop), options, bars)
        store = open_store(args.store, migrate=True)    # resolve writes: it may bring an older store up to date
        profile_engine = _profile_engine(options)
        publish_resolution(store, resolution, run_id, started, str(Path(args.drop).resolve()), bars,
                           guard=unchanged, work_dir=options.run_dir,
                           memory_limit=engine_limit(run_cap(options.memory_limit) // 2),
                           profile_engine=profile_engine, release=True, realtime_mark=mark)
        options.run_dir = finish(options.run_dir)
        rules = rules_against_model(store)
        store.dispose()     # its connections closed now (SQLite checkpoints its log), not whenever it is collected
        bars.stop(done=True)
    except (DropError, ModelMismatch) as err:
        bars.stop()
        print(f"error: {err}\nnothing was written; the store is unchanged.", file=sys.stderr)
        return EXIT_BAD_INPUT
    except StoreError as err:
        bars.stop()
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT if isinstance(err, UnusableStore) else EXIT_FAILED
    finally:
        if profile_engine is not None:
            profile_engine.close()
        bars.stop()
    drop = resolution.drop
    print(f"run {run_id}")
    _print_counts(drop)
    if drop.ignored_files:
        print(f"  ignored (not part of the contract): {', '.join(drop.ignored_files)}")
    _print_unplaced(drop.unplaced_categories, "categories.csv" if drop.categories_given else "the built-in taxonomy")
    print(f"  {resolution.record_count:,} records -> {resolution.persons:,} persons in {resolution.households:,} households")
    print(f"  model {'trained on this drop' if resolution.trained else 're-used from ' + str(args.model)}; "
          f"saved to {options.run_dir / 'model.json'}")
    for line in rules_against_model_lines(rules):
        print(f"  {line}")
    if resolution.rules is not None and resolution.rules.placeholder_values:
        print(f"  {describe_values(resolution.rules.placeholder_values)}")
    if resolution.rules is not None and resolution.rules.household_caps is not None:
        print(f"  {resolution.rules.household_caps.describe()}")
    if drop.quarantine:
        print(f"  quarantined rows with reasons: {options.run_dir / 'quarantine.csv'}")
    if drop.set_aside:
        print(f"  values set aside with reasons: {options.run_dir / 'set_aside.csv'}")
    print(f"  store: {args.store}")
    return EXIT_OK


def _profile_engine(options):  # type: ignore[no-untyped-def]
    """Return the engine a run's profile queries run on: the run's own when it is not DuckDB (Spark), as the linkage
    did; None for DuckDB, whose profile build makes a DuckDB of its own (and the caller closes what it gets)."""
    if options.engine == "duckdb":
        return None
    from identity.engine import make_engine

    return make_engine(options.engine, **options.engine_options())


def _written_mark(url: str) -> int:
    """Return the store's last real-time write (``profile_api.store.during_run.written_mark``); 0 for no store yet."""
    from profile_api.store import open_store
    from profile_api.store.during_run import written_mark

    if _store_file_missing(url):
        return 0
    try:
        engine = open_store(url)
    except Exception:      # an empty or unreachable store: the run itself says what is wrong
        return 0
    try:
        return written_mark(engine)
    finally:
        engine.dispose()


def _guards(*guards):  # type: ignore[no-untyped-def]
    """Return one guard running these in order."""
    def guard(conn) -> None:  # type: ignore[no-untyped-def]
        for each in guards:
            each(conn)
    return guard


def _erasures_unchanged(options):  # type: ignore[no-untyped-def]
    """Return the publish's guard: no one erased since the run read the tombstones (else nothing is published)."""
    from profile_api.store.erase import erasures_unchanged

    return erasures_unchanged(options.tombstones.erasures if options.tombstones else frozenset())


def _resolve_incremental(args: argparse.Namespace, options, run_id: str, started: dt.datetime,  # type: ignore[no-untyped-def]
                         bars: "_Bars", mark: int, unchanged) -> int:
    """Resolve a delta drop against the published run and publish what changed (``unchanged``: the guard that
    refuses it when someone erased, published or decided meanwhile)."""
    from herken.publish_delta import published_state, publish_increment
    from herken.run_folder import finish
    from identity.bulk import paused_gc
    from identity.incremental import IncrementalError, resolve_incremental
    from identity.ingest import DropError
    from profile_api.store import StoreError, UnusableStore, open_store
    from profile_api.store.during_run import realtime_unchanged

    if args.model:
        print("error: --incremental scores with the published run's model; leave out --model", file=sys.stderr)
        return EXIT_BAD_INPUT
    profile_engine = None
    try:
        store = open_store(args.store, migrate=True)
        # A delta's run makes few reference cycles but holds many objects (the published run's IDs, rows read
        # from the store): the collector's passes over them took 0.82 s of a 16.7 s run at 100k records.
        with paused_gc():
            published = published_state(store)
            resolution, delta = resolve_incremental(Path(args.drop), published, options, bars)
            profile_engine = _profile_engine(options)
            counts = publish_increment(store, resolution, delta, run_id, started,
                                       getattr(args, "drop_label", None) or str(Path(args.drop).resolve()),
                                       bars, guard=_guards(unchanged, realtime_unchanged(mark)),
                                       published=published,
                                       profile_engine=profile_engine)
        options.run_dir = finish(options.run_dir)
        store.dispose()     # its connections closed now (SQLite checkpoints its log), not whenever it is collected
        bars.stop(done=True)
    except (DropError, IncrementalError) as err:
        bars.stop()
        print(f"error: {err}\nnothing was published; the store's result is unchanged.", file=sys.stderr)
        return EXIT_BAD_INPUT
    except StoreError as err:
        bars.stop()
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT if isinstance(err, UnusableStore) else EXIT_FAILED
    finally:
        if profile_engine is not None:
            profile_engine.close()
        bars.stop()
    drop = resolution.drop
    print(f"run {run_id} (incremental)")
    _print_counts(drop)
    print(f"  {len(delta.new):,} new, {len(delta.changed):,} changed and {len(delta.deleted):,} deleted records; "
          f"{len(delta.touched):,} records of the persons they touch re-clustered")
    if delta.realtime:
        print(f"  {len(delta.realtime):,} records joined or edited in real time since the last run scored again "
              "with the delta")
    print(f"  {len(resolution.records):,} records -> {resolution.persons:,} persons in {resolution.households:,} households; "
          f"{counts['profiles_rebuilt']:,} profiles rebuilt, {counts['events']:,} identity events")
    if drop.quarantine:
        print(f"  quarantined rows with reasons: {options.run_dir / 'quarantine.csv'}")
    if drop.set_aside:
        print(f"  values set aside with reasons: {options.run_dir / 'set_aside.csv'}")
    print(f"  store: {args.store}")
    return EXIT_OK


def _print_counts(drop) -> None:  # type: ignore[no-untyped-def]
    """Print read, accepted and quarantined rows per file of a drop, the birth dates set aside, and what those
    suggest of its dates."""
    from identity.quarantined import date_order_hint

    for c in drop.counts:
        print(f"  {c.file:<18} read {c.read:>8,}  accepted {c.accepted:>8,}  quarantined {c.quarantined:>6,}")
    aside = [f"{c.file} {c.set_aside:,}" for c in drop.counts if c.set_aside]
    if aside:
        print(f"  birth dates no calendar has, set aside (their records accepted without them): {', '.join(aside)}")
    hint = date_order_hint(drop.set_aside)
    if hint:
        print(f"  note: {hint}")


UNPLACED_SHOWN = 10


def _print_unplaced(unplaced: list[tuple[str, int]], taxonomy: str) -> None:
    """Print the categories the taxonomy does not place, most interactions first."""
    if not unplaced:
        return
    shown = ", ".join(f"{category} ({count:,})" for category, count in unplaced[:UNPLACED_SHOWN])
    more = f" and {len(unplaced) - UNPLACED_SHOWN:,} more (herken report lists them all)" \
        if len(unplaced) > UNPLACED_SHOWN else ""
    print(f"  {len(unplaced):,} categories that {taxonomy} does not place count as other (interactions): "
          f"{shown}{more}")


def cmd_links(args: argparse.Namespace, settings: Settings) -> int:
    """Export source,record_id,customer_id,household_id,confidence."""
    from profile_api.store import open_store, read_links

    links = read_links(open_store(args.store, create=False))
    if links.empty:
        print("error: the store holds no resolved records; run `herken resolve DROP` first", file=sys.stderr)
        return EXIT_FAILED
    links.to_csv(args.out, index=False)
    print(f"wrote {len(links):,} links to {args.out}")
    return EXIT_OK


def cmd_explain(args: argparse.Namespace, settings: Settings) -> int:
    """Explain why two records are one person or two, or one record's place in its person."""
    from herken.explain import pair_lines, record_lines
    from profile_api.explain import Explainer, UnknownRecord, parse_record
    from profile_api.store import open_store

    records: list[str] = []
    problem = _existing_store(args.store)
    if not problem and len(args.records) > 2:
        problem = f"{len(args.records)} records given; give two to compare, or one to see its place in its person"
    try:
        records = [parse_record(r) for r in args.records]
    except ValueError as err:
        problem = problem or str(err)
    if not problem and len(records) == 2 and records[0] == records[1]:
        problem = f"{records[0]} is given twice; give two different records, or one to see its place in its person"
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    explainer = Explainer(open_store(args.store, create=False))
    try:
        if len(records) == 2:
            pair = explainer.explain_pair(*records)
            found, lines = pair.as_dict(), pair_lines(pair)
        else:
            record = explainer.explain_record(records[0])
            found, lines = record.as_dict(), record_lines(record)
    except UnknownRecord as err:
        print(f"error: {err}; `herken links --store {args.store} --out links.csv` lists every record "
              "(give it as source:record_id)", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(json.dumps(found, indent=2) if args.json else "\n".join(lines))
    return EXIT_OK


def cmd_explain_household(args: argparse.Namespace, settings: Settings) -> int:
    """Explain what holds a household together: from its first member, the links that reach every other one."""
    from herken.explain import household_lines
    from profile_api.explain import Explainer, UnknownHousehold
    from profile_api.store import open_store

    problem = _existing_store(args.store)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    explainer = Explainer(open_store(args.store, create=False))
    try:
        tree = explainer.explain_household(args.household_id.strip())
    except UnknownHousehold as err:
        print(f"error: {err}; `herken links --store {args.store} --out links.csv` lists every record with its "
              "household_id", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(json.dumps(tree.as_dict(), indent=2) if args.json else "\n".join(household_lines(tree)))
    return EXIT_OK


def cmd_evaluate(args: argparse.Namespace, settings: Settings) -> int:
    """Score the published result against truth.csv."""
    import pandas as pd

    from identity.evaluate import evaluate
    from identity.ingest import TRUTH_COLUMNS, DropError, check_header
    from identity.plain_csv import header_names
    from profile_api.store import open_store, read_links

    truth_path = Path(args.truth)
    if not truth_path.is_file():
        print(f"error: {truth_path} not found; give the truth.csv of the drop that was resolved", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:   # separated as the drop's files may be (identity.ingest.DELIMITERS)
        truth = pd.read_csv(truth_path, dtype=str, sep=check_header(truth_path, TRUTH_COLUMNS))
        truth.columns = header_names([str(c) for c in truth.columns])
    except DropError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    links = read_links(open_store(args.store, create=False))
    if links.empty:
        print("error: the store holds no resolved records; run `herken resolve DROP` first", file=sys.stderr)
        return EXIT_FAILED
    result = evaluate(links, truth)
    if args.json:
        print(json.dumps(result.as_dict(), indent=2))
        return EXIT_OK
    print(f"records evaluated: {result.records:,}")
    print(f"{'':<12}{'precision':>10}{'recall':>10}{'F1':>10}")
    for name, s in (("persons", result.person), ("households", result.household)):
        print(f"{name:<12}{s.precision:>10.4f}{s.recall:>10.4f}{s.f1:>10.4f}")
    print(f"same-household different-person pairs merged: {result.household_pairs_merged:.2%} "
          f"of {result.household_pairs:,}")
    return EXIT_OK


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    """Write the HTML report of the published run."""
    from herken.report import write_report
    from profile_api.store import open_store

    path = write_report(open_store(args.store, create=False), Path(args.out))
    print(f"wrote {path}")
    return EXIT_OK


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    """Upgrade the store's schema to this herken's; print the version it was at and the one it is at."""
    from profile_api.store import migrate_store

    problem = _store_file_missing(args.store)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    before, after = migrate_store(args.store)
    if before is None:
        print(f"the store at {args.store} was empty: made at schema version {after}")
    elif before == after:
        print(f"the store at {args.store} is at schema version {after}: nothing to migrate")
    else:
        print(f"the store at {args.store} migrated: schema version {before} -> {after}")
    return EXIT_OK


def cmd_refresh_profiles(args: argparse.Namespace, settings: Settings) -> int:
    """Rebuild every profile as of the store's latest purchase or return; print how many."""
    from profile_api.store import open_store
    from profile_api.store.write import rebuild_profiles

    problem = _store_file_missing(args.store)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    engine = open_store(args.store, migrate=True, create=False)
    try:
        with engine.begin() as conn:
            rebuilt = rebuild_profiles(conn)
    finally:
        engine.dispose()
    print(f"rebuilt {rebuilt:,} profiles as of the store's latest purchase or return")
    return EXIT_OK


def _store_file_missing(url: str) -> str | None:
    """Return why url names no store (not a URL, no such SQLite file), or None."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:
        return f"--store '{url}' is not a database URL; use sqlite:///herken.db or postgresql+psycopg://user@host/db"
    if parsed.get_backend_name() == "sqlite" and not (parsed.database and Path(parsed.database).is_file()):
        return f"no store at {url}; run `herken resolve DROP --store {url}` first"
    return None


def _store_unusable(url: str) -> str | None:
    """Return why an existing store at url cannot take a run (another schema, newer than this herken, a PostgreSQL
    database that does not exist), or None: before a run reads its drop, not after its linkage."""
    from profile_api.store import NoStore, OutdatedStore, StoreError, UnusableStore, open_store

    try:
        open_store(url, create=False).dispose()
    except (NoStore, OutdatedStore):
        pass                 # the run makes it, or migrates it
    except UnusableStore as err:
        return str(err)
    except StoreError:
        return None          # unreachable now: the run says so when it publishes
    return _sqlite_unwritable(url)


def _sqlite_unwritable(url: str) -> str | None:
    """Return why this user cannot write the SQLite store at url (the file, or the folder its journal goes in), or
    None: said before the run, not as "attempt to write a readonly database" after its linkage."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    path = Path(parsed.database)
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_file() and not os.access(path, os.W_OK):
        return f"the store {path} is read-only for this user; give it write access"
    if folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK):
        return f"the folder of the store, {folder}, is read-only for this user (SQLite writes its journal beside it)"
    return None


def _runs_folder_unwritable(runs_dir: Path) -> str | None:
    """Return why a run could not write its folder under runs_dir (HERKEN_RUNS_DIR), or None."""
    existing = next((p for p in (runs_dir, *runs_dir.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        return f"the runs folder {runs_dir}: {existing} is not a folder; set HERKEN_RUNS_DIR to a folder"
    if existing is not None and not os.access(existing, os.W_OK | os.X_OK):
        return (f"the runs folder {runs_dir} cannot be written by this user ({existing} is read-only); give it write "
                "access or set HERKEN_RUNS_DIR to a folder it may write")
    return None


def _held_counts(url: str) -> dict[str, int]:
    """Return the rows the store at url holds per drop file stem (``profile_api.store.read.held_counts``); {} when
    there is no store yet or it cannot be read (the run says why later)."""
    from profile_api.store import StoreError, open_store
    from profile_api.store.read import held_counts

    if _store_file_missing(url):
        return {}
    try:
        engine = open_store(url)
    except StoreError:
        return {}
    try:
        return held_counts(engine)
    except Exception:     # an older store without these tables: nothing to lose that this run would notice
        return {}
    finally:
        engine.dispose()


def _start_state(url: str) -> tuple[str | None, frozenset[str] | None]:
    """Return what a run starts from: the run the store at url publishes (None: none, or no store yet) and the IDs of
    its steward decisions (None: no store, or one without them) (``profile_api.store.during_run``). A store of an
    older schema, which the run migrates before it publishes, is read as it is."""
    from sqlalchemy import create_engine

    from profile_api.store import OutdatedStore, StoreError, open_store
    from profile_api.store.during_run import decision_ids, published_run_id

    if _store_file_missing(url):
        return None, None
    try:
        engine = open_store(url)
    except OutdatedStore:
        engine = create_engine(url)
    except StoreError:
        return None, None
    try:
        return published_run_id(engine), decision_ids(engine)
    finally:
        engine.dispose()


def _existing_store(url: str) -> str | None:
    """Return why the store at url cannot be served (no URL, no file, an older schema, nothing resolved), or None;
    a database that cannot be reached now raises StoreError (exit 1)."""
    from profile_api.store import OutdatedStore, UnusableStore, latest_run, open_store

    problem = _store_file_missing(url)
    if problem:
        return problem
    try:
        if latest_run(open_store(url)) is None:
            return f"the store at {url} holds no resolved records; run `herken resolve DROP --store {url}` first"
    except (OutdatedStore, UnusableStore) as err:
        return str(err)
    # any other StoreError (a database server that cannot be reached now) goes to main(): exit 1, worth trying again
    return None


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Serve herken.v1.ProfileService, health checking and reflection until Ctrl-C or SIGTERM."""
    import signal

    from profile_api.aio_server import serve_aio, start_aio_server
    from profile_api.bounds import ServerLimits
    from profile_api.server import STOP_GRACE_SECONDS, default_threads, serve, serve_processes
    from profile_api.store.read import CacheSettings

    args.threads = default_threads(args.store) if args.threads is None else args.threads

    problem = _existing_store(args.store)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    options, problem = serve_options(args, settings)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.processes < 1:
        print("error: --processes must be at least 1", file=sys.stderr)
        return EXIT_BAD_INPUT
    if not 1 <= args.threads <= 64:
        print("error: --threads must be 1 to 64", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        limits = ServerLimits(**{name: value for name, value in (("deadline_seconds", args.deadline),
                                                                 ("max_queued", args.max_queued)) if value is not None})
    except ValueError as err:
        print(f"error: --{str(err).replace('_seconds', '').replace('_', '-')}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        cache = CacheSettings(megabytes=args.cache_mb, check_seconds=args.cache_check)
    except ValueError as err:
        print(f"error: --cache-{str(err).replace('megabytes', 'mb').replace('check_seconds', 'check')}", file=sys.stderr)
        return EXIT_BAD_INPUT
    options = dataclasses.replace(options, limits=limits, cache=cache)
    try:
        if args.processes == 1:
            server, port = (serve_aio if args.server == "aio" else serve)(args.store, args.host, args.port,
                                                                          max_workers=args.threads, options=options)
            stop, wait = (lambda: server.stop(STOP_GRACE_SECONDS).wait()), server.wait_for_termination
        else:
            group = serve_processes(args.store, args.host, args.port, args.processes, max_workers=args.threads,
                                    start=start_aio_server if args.server == "aio" else None, options=options)
            port, stop, wait = group.port, group.stop, group.wait
    except OSError as err:
        print(f"error: {err}; choose another with --port", file=sys.stderr)
        return EXIT_FAILED
    # Before the line that tells a supervisor (or a test) we serve: a SIGTERM from then on stops us cleanly.
    signal.signal(signal.SIGTERM, lambda *_: stop())
    print(f"serving herken.v1.ProfileService on {args.host}:{port} (store {args.store}; "
          f"{args.processes} process{'es' if args.processes > 1 else ''} of {args.threads} "
          f"{'store ' if args.server == 'aio' else ''}thread{'s' if args.threads > 1 else ''}"
          f"{', asyncio' if args.server == 'aio' else ''}), with grpc.health.v1 and server "
          "reflection; Ctrl-C stops", flush=True)
    print(access_note(options), flush=True)
    if not is_loopback(args.host) and not args.tls_cert:
        print("note: listening beyond loopback without TLS: tokens cross the network in the clear; use --tls-cert "
              "and --tls-key, or a proxy that terminates TLS", file=sys.stderr)
    try:
        wait()
    except KeyboardInterrupt:
        stop()
    print("stopped")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    """Generate a small drop, resolve, score and report it, then serve it and show what each channel gets."""
    import tempfile

    work = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="herken-demo-"))
    drop, store = work / "drop", f"sqlite:///{work / 'herken.db'}"
    parser = build_parser(settings)   # each step's arguments as the command line gives them, defaults included
    steps = [
        (cmd_generate, parser.parse_args(["generate", str(drop), "--households", str(args.households),
                                          "--seed", str(args.seed)])),
        (cmd_resolve, parser.parse_args(["resolve", str(drop), "--store", store])),
        (cmd_evaluate, parser.parse_args(["evaluate", str(drop / "truth.csv"), "--store", store])),
        (cmd_report, parser.parse_args(["report", "--store", store, "--out", str(work / "report.html")])),
    ]
    demo_settings = Settings(**{**settings.__dict__, "runs_dir": str(work / "runs")})
    for command, command_args in steps:
        print(f"\n$ herken {command.__name__.removeprefix('cmd_')}")
        status = command(command_args, demo_settings)
        if status != EXIT_OK:
            return status
    _demo_channels(store)
    print(f"\ndemo files in {work}")
    return EXIT_OK


def _demo_channels(store: str) -> None:
    """Serve the store on a free loopback port and show, through a real client, what each channel gets."""
    import grpc

    from herken.demo import DEMO_TOKENS, pick_subjects, tour
    from profile_api._generated.herken.v1.profile_service_pb2_grpc import ProfileServiceStub
    from profile_api.access import access_of
    from profile_api.server import ServeOptions, serve
    from profile_api.store import open_store

    tokens = ",".join(f"{token}:{channel}" for channel, token in DEMO_TOKENS.items())
    server, port = serve(store, "127.0.0.1", 0, options=ServeOptions(access=access_of(tokens)))
    print(f"\nserving the store on 127.0.0.1:{port}, as `HERKEN_TOKENS={tokens} herken serve --store {store} "
          f"--port {port}` would; a gRPC client asks it, with each channel's token, what each channel gets:")
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            tour(ProfileServiceStub(channel), pick_subjects(open_store(store)), tokens=DEMO_TOKENS)
    finally:
        server.stop(1).wait()
    print("\nserver stopped")


def build_parser(settings: Settings) -> argparse.ArgumentParser:
    """Return the argument parser of all commands."""
    parser = argparse.ArgumentParser(prog="herken", description="Household-aware identity resolution and profiles.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("generate", help="write a synthetic drop with ground truth")
    p.add_argument("dir")
    p.add_argument("--households", type=_at_least_one, default=1000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--taxonomy", choices=("default", "renamed"), default="default",
                   help="renamed: categories named as another retailer might (clothing, shoes, pet_food/dog, "
                        "pet_food/bird, ...), birds and rabbits among the pets, with categories.csv and "
                        "attributes_truth.csv (each person's true sizes and pets)")
    p.add_argument("--noise", choices=("v1", "v2"),
                   help="v2 (default): names from the generator's own list, with the noise measured on public "
                        "data; v1: the generator as it was before issue 12, byte-identical per seed")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("generate-day2", help="write day 2 of a generated drop: a full drop and a delta drop")
    p.add_argument("day1", help="a drop written by herken generate (with truth.csv)")
    p.add_argument("--full", required=True, help="where to write the full day-2 drop")
    p.add_argument("--delta", required=True, help="where to write the delta (new and changed records, deletions.csv)")
    p.add_argument("--seed", type=int, default=2)
    p.add_argument("--new", type=float, default=0.02, help="new records, as a share of day 1's (default 0.02)")
    p.add_argument("--changed", type=float, default=0.01, help="changed records (default 0.01)")
    p.add_argument("--deleted", type=float, default=0.005, help="deleted records (default 0.005)")
    p.add_argument("--moved", type=float, default=0.003, help="households that move house (default 0.003)")
    p.set_defaults(func=cmd_generate_day2)

    p = sub.add_parser("resolve", help="resolve a drop into persons and households and publish to the store")
    p.add_argument("drop")
    _store_arg(p, settings)
    p.add_argument("--model", help="re-use a trained model JSON (from a previous run) instead of training")
    p.add_argument("--fresh", action="store_true",
                   help="cluster as if nothing were published (IDs are still carried over): without it, records "
                        "that did not change since the published run keep to their persons unless the model now "
                        "clearly disagrees (match probability below 0.2), and two persons of unchanged records "
                        "join only through a new or changed record")
    p.add_argument("--incremental", action="store_true",
                   help="DROP holds only new and changed records (a record_id seen before replaces that record), new "
                        "interactions and preferences, and optionally deletions.csv (source,record_id): score it "
                        "against the published run with its model, re-cluster only the persons it touches, and "
                        "publish what changed")
    p.add_argument("--allow-empty", action="append", metavar="FILE",   # identity.ingest.CHANNELS, not imported here
                   choices=("pos", "webshop", "app", "service", "interactions", "preferences"),
                   help="publish although the drop's FILE (pos, webshop, app, service, interactions, preferences) "
                        "accepts no row where the store holds some: removes them all (without it such a run is "
                        "refused, exit 2: a header-only export or a broken file would empty the store of them)")
    p.add_argument("--engine", choices=("duckdb", "spark"), default=settings.engine,
                   help=f"the SQL engine that runs the linkage (default {settings.engine}; env HERKEN_ENGINE); spark "
                        "needs pip install 'herken[spark]' and Java 17+")
    p.add_argument("--spark-master", default=settings.spark_master, metavar="URL",
                   help="with --engine spark: the cluster's master URL, e.g. spark://host:7077 (env HERKEN_SPARK_MASTER; "
                        "default: spark-submit's or spark-defaults.conf's master, else local[2]); other Spark settings "
                        "in herken.toml's [herken.spark] table, spark-defaults.conf or PYSPARK_SUBMIT_ARGS")
    p.add_argument("--memory-limit", default=settings.memory_limit or None,
                   help="the most memory the run may use, like 8GB or 2GB (env HERKEN_MEMORY_LIMIT; default a third "
                        "of the machine's): its SQL engine gets a share and spills to the run's folder beyond it")
    p.set_defaults(func=cmd_resolve)

    p = sub.add_parser("links", help="export source,record_id,customer_id,household_id,confidence")
    _store_arg(p, settings)
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_links)

    p = sub.add_parser("explain", help="why two records are one person or two (or one record's place in its person)")
    p.add_argument("records", nargs="+", metavar="SOURCE:RECORD_ID", help="one or two records, e.g. pos:VC45KTZBHB")
    _store_arg(p, settings)
    p.add_argument("--json", action="store_true", help="print the explanation as JSON")
    p.set_defaults(func=cmd_explain)

    p = sub.add_parser("explain-household", help="what holds a household together: the links that reach each member")
    p.add_argument("household_id", metavar="HOUSEHOLD_ID", help="a household_id, e.g. H-3f2a9c0d41b7")
    _store_arg(p, settings)
    p.add_argument("--json", action="store_true", help="print the explanation as JSON")
    p.set_defaults(func=cmd_explain_household)

    p = sub.add_parser("evaluate", help="pairwise precision/recall/F1 against a truth.csv")
    p.add_argument("truth")
    _store_arg(p, settings)
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("report", help="write a self-contained HTML report of the published run")
    _store_arg(p, settings)
    p.add_argument("--out", default="report.html")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("migrate", help="upgrade the store's schema to this herken's (the read-only commands never do)")
    _store_arg(p, settings)
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("refresh-profiles", help="rebuild every profile as of the store's latest interaction (a delta "
                                                "rebuilds only the profiles it touches)")
    _store_arg(p, settings)
    p.set_defaults(func=cmd_refresh_profiles)

    p = sub.add_parser("serve", help="serve the gRPC ProfileService (with health and reflection)")
    _store_arg(p, settings)
    p.add_argument("--host", default=settings.host,
                   help=f"address to listen on (default {settings.host}: this machine only; env HERKEN_HOST)")
    p.add_argument("--port", type=int, default=settings.port,
                   help=f"port to listen on, 0 for any free one (default {settings.port}; env HERKEN_PORT)")
    p.add_argument("--processes", type=int, default=1,
                   help="server processes sharing the port; one per core serves the most (default 1)")
    p.add_argument("--threads", type=int,
                   help="request threads per process (default: 2 on SQLite, 4 on PostgreSQL, as measured best; "
                        "with --server aio the store threads)")
    p.add_argument("--server", choices=("threads", "aio"), default="threads",
                   help="threads: a gRPC thread-pool server (default); aio: a grpc.aio server whose requests run on "
                        "its event loop, SQLite reads inline, PostgreSQL reads and all searches and writes in "
                        "--threads store threads")
    p.add_argument("--max-queued", type=int, metavar="N",
                   help="calls under way or waiting per process at once (health checks included); beyond it a "
                        "call is answered RESOURCE_EXHAUSTED at once instead of queueing (default 64)")
    p.add_argument("--deadline", type=float, metavar="SECONDS",
                   help="the longest a call may take, queueing included, when the client allows longer (its own "
                        "deadline counts when shorter); then DEADLINE_EXCEEDED (default 10)")
    p.add_argument("--cache-mb", type=int, default=settings.cache_mb, metavar="MB",
                   help="memory per process for the answers of keyed reads (a profile by ID or identifier) kept "
                        f"and given again until the store is written; 0: none (default {settings.cache_mb}; env "
                        "HERKEN_CACHE_MB)")
    p.add_argument("--cache-check", type=float, default=settings.cache_check_ms / 1000, metavar="SECONDS",
                   help="how often the store is asked whether it was written: a write by another process is "
                        f"served at most this long after it (default {settings.cache_check_ms / 1000:g}; env "
                        "HERKEN_CACHE_CHECK_MS)")
    add_serve_access_args(p)
    p.set_defaults(func=cmd_serve)

    add_lifecycle_commands(sub, settings, _store_arg, cmd_resolve)
    add_privacy_commands(sub, settings, _store_arg)
    add_access_commands(sub, settings, _store_arg)

    p = sub.add_parser("demo", help="generate a small drop, resolve, score and serve it; show what each channel gets")
    p.add_argument("--dir", help="where to keep the demo files (default: a new temporary folder)")
    p.add_argument("--households", type=_at_least_one, default=300)
    p.add_argument("--seed", type=int, default=1)
    p.set_defaults(func=cmd_demo)
    return parser


def _redirected_logs() -> contextlib.AbstractContextManager:
    """Return tqdm's redirection of log lines above its bars (imported here: ~40 ms a command off a terminal needs not)."""
    from tqdm.contrib.logging import logging_redirect_tqdm

    return logging_redirect_tqdm()


def _at_least_one(text: str) -> int:
    """Return a count given on the command line that is at least 1 (argparse type)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


class _ClosedPipeQuiet:
    """Standard output that, once its reader has gone (``herken events | head -1``), drops what is written and lets
    the command finish its work, rather than stopping it half way with a BrokenPipeError."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._drop()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._drop()

    def _drop(self) -> None:
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())    # what Python flushes at exit goes nowhere, without a traceback
            os.close(devnull)
        except (OSError, ValueError):                  # a stream without a descriptor of its own
            pass
        self._stream = open(os.devnull, "w", encoding="utf-8")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def main(argv: list[str] | None = None) -> int:
    """Run the herken command line; return the exit status."""
    original = sys.stdout
    sys.stdout = quiet = _ClosedPipeQuiet(original)
    try:
        return _main(argv)
    finally:
        quiet.flush()       # what is still buffered, while a reader that has gone is still taken quietly
        sys.stdout = original


def _main(argv: list[str] | None) -> int:
    """Run the herken command line (its standard output quiet once closed); return the exit status."""
    settings = load_settings()
    args = build_parser(settings).parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # Our own counts at INFO with -v; Splink's INFO lines are per training chunk, too many for a user.
    for name in ("identity", "profile_api", "herken"):
        logging.getLogger(name).setLevel(logging.INFO if args.verbose else logging.WARNING)
    for name in ("splink", "splink.internals"):
        logging.getLogger(name).setLevel(logging.WARNING if args.verbose else logging.ERROR)
    from sqlalchemy.exc import OperationalError

    from profile_api.store import OutdatedStore, StoreError, UnusableStore
    from profile_api.store.db import waited_too_long

    try:
        # On a terminal, log lines (-v, warnings) are written above the open progress bar, not through it.
        with _redirected_logs() if sys.stderr.isatty() else contextlib.nullcontext():
            return args.func(args, settings)
    except (OutdatedStore, UnusableStore) as err:     # the message names the user's next step
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except StoreError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_FAILED
    except OperationalError as err:
        if not waited_too_long(err):
            raise
        # an SQLite store another process writes (a run publishing) for longer than its busy timeout
        print("error: the store is busy: another process holds its write lock (a run publishing, most likely); the "
              "step this command was on wrote nothing, but a step before it may have (a steward decision stored "
              "before it was applied: see herken steward list): run it again once that is done", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130


def run() -> None:
    """The ``herken`` command: run main() and exit with its status, without taking the interpreter apart.

    A run leaves millions of objects (its frames, the previous run's IDs) that Python would free one by
    one on the way out: about 0.4 s of a 9 s incremental run at 100k records, spent after the work is
    done. Everything a command writes is closed before main() returns (the store disposed, its log
    checkpointed, the run's folder in place, temporary folders removed), so the process ends at once
    (``os._exit``) once the logs and output are flushed; exit handlers do not run. It exits as usual
    when a thread Python would wait for is still at work, or under a profiler or tracer (cProfile writes
    its figures, coverage its data, after the program).
    """
    code = main()
    if sys.getprofile() is not None or sys.gettrace() is not None or any(
            not t.daemon for t in threading.enumerate() if t is not threading.main_thread()):
        sys.exit(code)
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BrokenPipeError:      # its reader has gone (main's quiet flush could not take it all)
            pass
    os._exit(code)


if __name__ == "__main__":
    run()
