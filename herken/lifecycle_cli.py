"""The identity lifecycle's commands: `herken steward ...` and `herken events`; no domain logic here."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

from herken.config import Settings

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def published_context(url: str, records: bool = True) -> tuple[list[tuple[str, str]], list[tuple[str, str]],
                                                               "pd.DataFrame | None", frozenset[str]]:
    """Return what a run takes from the store at url: the steward's (must-link, cannot-link) pairs, the published
    records as the linkage saw them (None when there are none or not ``records``), and the records a decision taken
    back since had joined or kept apart; nothing for a store that is missing, older or empty. Reads only: a run that
    fails leaves the store as it was."""
    from sqlalchemy.engine import make_url

    from herken.publish_delta import published_state
    from identity.incremental import IncrementalError
    from profile_api.store import StoreError, open_store
    from profile_api.store.steward import decision_pairs, list_decisions, taken_back_records

    try:
        parsed = make_url(url)
    except Exception:
        return [], [], None, frozenset()
    if parsed.get_backend_name() == "sqlite" and not (parsed.database and Path(parsed.database).is_file()):
        return [], [], None, frozenset()
    try:
        engine = open_store(url)
    except StoreError:        # an older store holds no decisions yet (resolve migrates it later)
        return [], [], None, frozenset()
    try:
        decisions = list_decisions(engine)
        must, cannot = decision_pairs(decisions)
        with engine.connect() as conn:
            taken_back = taken_back_records(conn, decisions)
        try:
            published = published_state(engine).records if records else None
        except IncrementalError:
            published = None
        return must, cannot, published, taken_back
    finally:
        engine.dispose()


def _time(value: str) -> dt.datetime:
    """Return an ISO time (a date, or a date and time; UTC unless it names a zone)."""
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{value}' is not an ISO time such as 2026-12-01 or 2026-12-01T08:00:00+01:00") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def cmd_steward(args: argparse.Namespace, settings: Settings) -> int:
    """Take, list or remove a steward decision."""
    from profile_api.store import open_store
    from profile_api.store.steward import DecisionError, add_decision, in_effect, list_decisions, remove_decision

    if args.action == "apply":
        return apply_decisions(args.store, settings, args.resolve)
    from sqlalchemy.exc import OperationalError

    from profile_api.store.db import waited_too_long

    engine = open_store(args.store, migrate=args.action != "list", create=args.action in ("must-link", "cannot-link"))
    decision = None
    try:
        if args.action in ("must-link", "cannot-link"):
            decision = add_decision(engine, args.action.replace("-", "_"), args.record_a, args.record_b,
                                    args.reason, args.by or getpass.getuser())
            print(f"{decision.decision_id}: {decision.kind.replace('_', '-')} {decision.record_a} {decision.record_b} "
                  f"by {decision.decided_by}: {decision.reason}")
            print("every run from now on honours it (herken resolve, --incremental, ResolveRecord)"
                  + ("" if args.apply else "; `herken steward apply` applies it to the published persons now"))
            _audit_steward(engine, f"herken steward {args.action}", decision)
        elif args.action == "remove":
            decision = remove_decision(engine, args.decision_id)
            print(f"removed {decision.decision_id} ({decision.kind.replace('_', '-')} {decision.record_a} "
                  f"{decision.record_b}); the next run (full or --incremental) no longer honours it"
                  + ("" if args.apply else "; `herken steward apply` applies that now"))
            _audit_steward(engine, "herken steward remove", decision)
        else:
            decisions = list_decisions(engine)
            with engine.connect() as conn:
                effect = in_effect(conn, decisions)
            if args.json:
                print(json.dumps([{**d.__dict__, "decided_at": d.decided_at.isoformat(),
                                   "in_effect": effect[d.decision_id]} for d in decisions], indent=2))
            elif not decisions:
                print("no steward decisions")
            for d in decisions if not args.json else []:
                state = {True: "in effect", False: "not yet (next run, or herken steward apply)",
                         None: "a record is not in the published run"}[effect[d.decision_id]]
                print(f"{d.decision_id}  {d.kind.replace('_', '-'):<11}  {d.record_a:<24} {d.record_b:<24} "
                      f"{d.decided_at:%Y-%m-%d %H:%M}  {d.decided_by}: {d.reason}  [{state}]")
    except DecisionError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OperationalError as err:
        if not waited_too_long(err) or decision is None:
            raise
        # stored, then another process (a run publishing) took the store before its audit entry was written
        print(f"error: the store is busy: another process holds its write lock (a run publishing, most likely); "
              f"{decision.decision_id} is {'removed' if args.action == 'remove' else 'stored'}, but its audit entry "
              "was not written" + (" and it was not applied: `herken steward apply` applies it" if args.apply else ""),
              file=sys.stderr)
        return EXIT_FAILED
    finally:
        engine.dispose()
    if getattr(args, "apply", False):
        try:
            applied = apply_decisions(args.store, settings, args.resolve)
        except OperationalError as err:
            if not waited_too_long(err):
                raise
            print("error: the store is busy: another process holds its write lock (a run publishing, most likely)",
                  file=sys.stderr)
            applied = EXIT_FAILED
        if applied != EXIT_OK:
            print("error: the decision is stored, but applying it failed (see above); `herken steward apply` tries "
                  "again, and every later run honours it", file=sys.stderr)
            return EXIT_FAILED
    return EXIT_OK


APPLIED = "steward decisions applied (a delta without records)"   # the drop a run that applies them names


def apply_decisions(store: str, settings: Settings,
                    resolve: Callable[[argparse.Namespace, Settings], int]) -> int:
    """Apply the steward decisions to the published persons now: an incremental run whose delta holds no records
    clusters again the persons of every decided record, and of the records a decision taken back since had joined or
    kept apart, and publishes what changed (identity events, profiles), as ``herken resolve --incremental`` would
    (``resolve``: that command)."""
    import tempfile

    from identity.ingest import DELETION_COLUMNS

    from profile_api.store import open_store

    open_store(store, create=False).dispose()        # no store there: say so (exit 2) rather than "nothing to apply"
    context = published_context(store, records=False)
    must, cannot, _, taken_back = context
    if not (must or cannot or taken_back):
        print("nothing to apply: no steward decision, and none taken back since the published run")
        return EXIT_OK
    print(f"applying {len(must) + len(cannot):,} steward decision(s) to the published persons"
          + (f", and undoing what decisions taken back since had done ({len(taken_back):,} records)" if taken_back
             else "") + " (a delta run without records)")
    with tempfile.TemporaryDirectory(prefix="herken-steward-") as empty:
        (Path(empty) / "deletions.csv").write_text(",".join(DELETION_COLUMNS) + "\n", encoding="utf-8")
        args = argparse.Namespace(drop=empty, drop_label=APPLIED, context=context, store=store, model=None,
                                  fresh=False, incremental=True, engine=settings.engine,
                                  spark_master=settings.spark_master, memory_limit=settings.memory_limit or None)
        return resolve(args, settings)


def _audit_steward(engine, action: str, decision) -> None:  # type: ignore[no-untyped-def]
    """Log a steward's change in the audit log, once per person whose records it names."""
    from profile_api.store.audit import audit_command, customers_of_records

    with engine.connect() as conn:
        customers = customers_of_records(conn, (decision.record_a, decision.record_b))
    for customer_id in customers or [None]:
        # the decision's id, not its records' ids: the audit log outlives an erasure, the decision does not
        audit_command(engine, action, customer_id, "OK", detail=f"decision {decision.decision_id}")


def cmd_events(args: argparse.Namespace, settings: Settings) -> int:
    """Print identity events, oldest first."""
    from profile_api.store import open_store
    from profile_api.store.history import read_events

    engine = open_store(args.store, create=False)
    try:
        with engine.connect() as conn:
            events = read_events(conn, since=args.since, customer_id=args.customer)
    finally:
        engine.dispose()
    if args.json:
        print(json.dumps([{"event_id": e.event_id, "kind": e.kind, "occurred_at": e.occurred_at.isoformat(),
                           "customer_ids_before": list(e.before), "customer_ids_after": list(e.after),
                           "household_id": e.household_id or "", "reason": e.reason, "run_id": e.run_id}
                          for e in events], indent=2))
        return EXIT_OK
    if not events:
        print("no identity events" + (" for this customer" if args.customer else "") + (" since then" if args.since else ""))
    for e in events:
        print(f"{e.occurred_at:%Y-%m-%d %H:%M:%S}  {e.kind:<17} {' '.join(e.before) or '-'} -> "
              f"{' '.join(e.after) or '-'}  {e.reason}")
    return EXIT_OK


def add_commands(sub: argparse._SubParsersAction, settings: Settings,
                 store_arg: Callable[[argparse.ArgumentParser, Settings], None],
                 resolve: Callable[[argparse.Namespace, Settings], int]) -> None:
    """Add `steward` and `events` to the command line (``resolve``: `herken resolve`, which `steward apply` runs)."""
    p = sub.add_parser("steward", help="a data steward's must-link / cannot-link decisions between records")
    actions = p.add_subparsers(dest="action", required=True)
    for action, what in (("must-link", "these two records are one person, whatever the model says"),
                         ("cannot-link", "these two records are two persons, whatever the model says")):
        q = actions.add_parser(action, help=what)
        q.add_argument("record_a", metavar="SOURCE:RECORD_ID")
        q.add_argument("record_b", metavar="SOURCE:RECORD_ID")
        q.add_argument("--reason", required=True, help="why (shown in explanations)")
        q.add_argument("--by", help="who decided (default: the user running the command)")
        q.add_argument("--apply", action="store_true", help="apply it to the published persons now (herken steward apply)")
        store_arg(q, settings)
        q.set_defaults(func=cmd_steward, resolve=resolve)
    q = actions.add_parser("list", help="the decisions, oldest first")
    q.add_argument("--json", action="store_true")
    store_arg(q, settings)
    q.set_defaults(func=cmd_steward, resolve=resolve)
    q = actions.add_parser("remove", help="take a decision back")
    q.add_argument("decision_id")
    q.add_argument("--apply", action="store_true", help="apply that to the published persons now (herken steward apply)")
    store_arg(q, settings)
    q.set_defaults(func=cmd_steward, resolve=resolve)
    q = actions.add_parser("apply", help="apply the decisions to the published persons now, as a delta run without "
                                         "records does: their persons clustered again, what changed published")
    store_arg(q, settings)
    q.set_defaults(func=cmd_steward, resolve=resolve)

    p = sub.add_parser("events", help="identity events: customer IDs created, merged, split, moved, deleted")
    store_arg(p, settings)
    p.add_argument("--since", type=_time, help="only events at or after this time (ISO, UTC unless it says)")
    p.add_argument("--customer", help="only events naming this customer_id")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_events)
