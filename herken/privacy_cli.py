"""The access-and-erasure commands: `herken export` and `herken forget`; no domain logic here."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from herken.config import Settings

if TYPE_CHECKING:
    from identity.erasure import Tombstones
    from sqlalchemy.engine import Engine

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def stored_tombstones(url: str) -> "Tombstones | None":
    """Return the tombstones of the store at url for a run to keep erased persons out; None for a store that is
    missing, older than erasure, or never erased anyone."""
    from sqlalchemy.engine import make_url

    from profile_api.store import StoreError, open_store
    from profile_api.store.erase import read_tombstones

    try:
        parsed = make_url(url)
    except Exception:
        return None
    if parsed.get_backend_name() == "sqlite" and not (parsed.database and Path(parsed.database).is_file()):
        return None
    try:
        engine = open_store(url)
    except StoreError:     # an older store has no tombstones (resolve migrates it later)
        return None
    try:
        return read_tombstones(engine)
    finally:
        engine.dispose()


def _customer_id(value: str) -> str:
    value = value.strip()
    if not value or "\x00" in value:
        raise argparse.ArgumentTypeError("give a customer_id such as C01182878AD60")
    return value


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    """Write everything the store holds on a person as JSON (stdout, or --out)."""
    from profile_api.store import open_store
    from profile_api.store.audit import audit_command
    from profile_api.store.export import NoSuchCustomer, export_json

    engine = open_store(args.store, create=False)
    try:
        document = export_json(engine, args.customer_id)
    except NoSuchCustomer as err:
        audit_command(engine, "herken export", args.customer_id, "NOT_FOUND")
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    else:
        audit_command(engine, "herken export", args.customer_id, "OK")
    finally:
        engine.dispose()
    if args.out:
        Path(args.out).write_text(document + "\n", encoding="utf-8")
        print(f"wrote the export of {args.customer_id} to {args.out}", file=sys.stderr)
    else:
        print(document)
    return EXIT_OK


def cmd_forget(args: argparse.Namespace, settings: Settings) -> int:
    """Erase a person for good: store, tombstones, runs folder."""
    from profile_api.store import open_store
    from profile_api.store.audit import audit_command
    from profile_api.store.erase import NoSuchCustomer, RunsFolderUnwritable, forget_customer

    if not args.reason.strip():
        print("error: --reason must not be empty: say why (e.g. 'GDPR request 2026-118'); no personal data",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    engine = open_store(args.store, migrate=True, create=False)
    runs_dir = Path(settings.runs_dir)
    from profile_api.store.erase import runs_folder_missing

    missing = None if args.skip_runs_folder or not _is_customer(engine, args.customer_id) else \
        runs_folder_missing(engine, runs_dir)      # an unknown ID is said (and audited) as NOT_FOUND below
    if missing:
        engine.dispose()
        print(f"error: the runs folder {runs_dir.resolve()} holds none of this store's runs ({missing}): their "
              "quarantine.csv and reports would keep this person's data. Run `herken forget` in the directory "
              "`herken resolve` ran in, or set HERKEN_RUNS_DIR to its runs folder; --skip-runs-folder erases from "
              "the store alone (when those folders are gone). Nothing was erased", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        erased = forget_customer(engine, args.customer_id, args.reason, runs_dir=None if args.skip_runs_folder else runs_dir,
                                 vacuum="full" if args.vacuum_full else True)
    except NoSuchCustomer as err:
        audit_command(engine, "herken forget", args.customer_id, "NOT_FOUND")
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except RunsFolderUnwritable as err:
        audit_command(engine, "herken forget", args.customer_id, "FAILED_PRECONDITION")
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    else:
        audit_command(engine, "herken forget", args.customer_id, "OK", household_id=erased.household_id,
                      detail=f"{erased.erasure_id}: {erased.records_erased} records")
    finally:
        engine.dispose()
    print(f"{erased.erasure_id}: erased {erased.customer_id}: {erased.records_erased} records")
    rows = ", ".join(f"{table} {n}" for table, n in sorted(erased.rows_deleted.items()) if n)
    print(f"  rows erased or rewritten: {rows}")
    print(f"  household {erased.household_id}: " + ("gone (no other members)" if erased.household_gone
                                                     else "the other members' profiles rebuilt"))
    print(f"  tombstones: {', '.join(f'{kind} {n}' for kind, n in sorted(erased.tombstones.items()))}; "
          "a later drop's records carrying them are quarantined (\"erased person\")")
    if erased.files_rewritten or erased.files_removed:
        print(f"  runs folder: {len(erased.files_rewritten)} files rewritten, {len(erased.files_removed)} removed")
    return EXIT_OK


def _is_customer(engine: Engine, customer_id: str) -> bool:
    """Return whether customer_id reaches a person of the store (an ID merged away too, as forget follows it)."""
    from profile_api.store.export import NoSuchCustomer, find_customer

    with engine.connect() as conn:
        try:
            find_customer(conn, customer_id)
        except NoSuchCustomer:
            return False
    return True


def add_commands(sub: argparse._SubParsersAction, settings: Settings,
                 store_arg: Callable[[argparse.ArgumentParser, Settings], None]) -> None:
    """Add `export` and `forget` to the command line."""
    p = sub.add_parser("export", help="everything the store holds on a person, as JSON (access request)")
    p.add_argument("customer_id", type=_customer_id)
    store_arg(p, settings)
    p.add_argument("--out", help="write the JSON to this file (default: stdout)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("forget", help="erase a person for good; later drops do not bring them back")
    p.add_argument("customer_id", type=_customer_id)
    p.add_argument("--reason", required=True, help="why (kept with the erasure; no personal data)")
    p.add_argument("--vacuum-full", action="store_true",
                   help="PostgreSQL: VACUUM FULL the touched tables afterwards, so that no deleted bytes stay in the "
                        "data files (the tables are locked while they are rewritten); SQLite always leaves none")
    p.add_argument("--skip-runs-folder", action="store_true",
                   help="erase from the store alone; by default the command refuses when the runs folder "
                        "(HERKEN_RUNS_DIR, or herken-runs here) holds none of the store's runs")
    store_arg(p, settings)
    p.set_defaults(func=cmd_forget)
