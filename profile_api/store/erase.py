"""Erasure: forget a person for good (ForgetCustomer, ``herken forget``), and the tombstones that keep them out.

What ``forget_customer`` erases, and where, in one transaction:

- ``source_record``, ``record_link``, ``interaction``, ``preference`` (from the drop and the API),
  ``consent``: every row of the person's records; ``person`` and ``profile``: their rows.
- ``steward_decision`` and ``match_edge`` (the match explanations, which quote birth dates and
  names): every row naming one of their records.
- ``quarantine``: the rows of the published run's drop that are theirs, as far as they can be told:
  the row of one of their record_ids in its source's file, or a row holding an e-mail, phone or
  card only they used, or their first and last name (as whole fields) together.
- ``identity_event``: the reasons of the events naming their ID become "erased" (the IDs stay, so
  a consumer can still apply the events); a "deleted" event records the erasure. ``id_alias``: their
  ID, and every old ID that led to it, now lead nowhere, "erased on DATE" (GetProfile by any of them
  answers NOT_FOUND saying so).
- ``linkage_snapshot``: rewritten without their records (an incremental run starts from it).
- ``household``: the other members' profiles are built again (the member list loses them; the rest
  is computed as of the run's time, as published); a household left without members goes.
- ``run.model_json`` holds the model's parameters only (no term-frequency tables or values): it is
  checked for their identifiers and left as it is.
- written: an ``erasure`` row (ID, time, channel, token id, reason, count: no personal data) and a
  ``tombstone`` per salted sha256 (``identity.erasure``; the salt is made once, in ``erasure_salt``)
  of their standardised e-mail, phone and card that no other person uses, their name-and-birth-date
  keys that no other person has, and their source:record_id keys.

After the transaction nothing readable stays. SQLite: the erasure runs with ``secure_delete`` on
(freed cells and pages are overwritten with zeros), then the WAL is checkpointed and truncated;
``vacuum`` rewrites the file as well (default: on). (Debian's SQLite is built with secure_delete on
by default; other builds are not, hence the PRAGMA.) PostgreSQL: deleted rows are dead tuples that
no query or ``pg_dump`` shows; ``VACUUM (ANALYZE)`` of the touched tables afterwards makes their space
reusable and recomputes the planner's statistics, whose most-common-values lists (``pg_stats``) may
quote a phone number or surname of theirs. The bytes of dead tuples stay in the data files until
overwritten (measured: the other members' old profile rows, which named them) unless ``vacuum`` is
"full" (``VACUUM FULL``: the tables are rewritten, under an exclusive lock that holds back reads for
the time it takes); the server's WAL segments and backups hold them until recycled: the operator's
retention policy.

The runs folder (``runs_dir``): every past run's files are searched for the person's identifiers;
CSV files (quarantine.csv) are rewritten without their rows, any other file that holds them
(a cached table, a report) is removed. model.json holds no values.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import logging
import os
import re
import secrets
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from identity.engine import make_engine
from identity.erasure import (
    Tombstones, candidate_keys, hashes_of, identifier_name_keys, key_hash, named_key, record_keys,
)
from identity.lifecycle import DELETED, Event
from profile_api.access import LOCAL, Caller
from profile_api.live import lock_preferences
from profile_api.store.db import StoreError, waited_too_long
from profile_api.store.export import NoSuchCustomer, find_customer
from profile_api.store.history import former_ids, write_history
from profile_api.store.theirs import Person as _Person, read_person, rows_in as _in
from profile_api.store.realtime import latest_purchase
from profile_api.store.write_delta import delete_ids, rebuild_households

log = logging.getLogger(__name__)

__all__ = ["Erased", "ErasedRecord", "NoSuchCustomer", "carries_tombstone", "forget_customer", "read_tombstones",
           "runs_folder_missing", "runs_folder_unwritable", "RunsFolderUnwritable", "scrub_runs"]

ERASED = "erased"


@dataclass
class Erased:
    """What one erasure did."""

    erasure_id: str
    customer_id: str
    household_id: str
    records_erased: int
    household_gone: bool
    tombstones: dict[str, int] = field(default_factory=dict)     # kind -> how many
    rows_deleted: dict[str, int] = field(default_factory=dict)   # table -> rows
    files_rewritten: list[str] = field(default_factory=list)
    files_removed: list[str] = field(default_factory=list)


def read_tombstones(engine: Engine) -> Tombstones | None:
    """Return the store's tombstones (None when nothing was ever erased)."""
    with engine.connect() as conn:
        salt = conn.execute(text("SELECT salt FROM erasure_salt WHERE id = 1")).scalar()
        if salt is None:
            return None
        hashes = frozenset(row[0] for row in conn.execute(text("SELECT key_hash FROM tombstone")))
        erasures = erasure_ids(conn)
    return Tombstones(salt, hashes, erasures)


def erasure_ids(conn: Connection) -> frozenset[str]:
    """Return the ids of every erasure made in the store."""
    return frozenset(row[0] for row in conn.execute(text("SELECT erasure_id FROM erasure")))


def lock_erasures(conn: Connection) -> None:
    """Hold back erasures (and publishes) until conn's transaction ends: taken first by both, so that a run
    publishes either before an erasure (which then erases from what it published) or after it (and sees it).

    PostgreSQL: a lock on the erasure table that conflicts with itself. SQLite: the database's write lock,
    taken now rather than at the transaction's first write (one writer at a time).
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("LOCK TABLE erasure IN SHARE ROW EXCLUSIVE MODE"))
    else:
        conn.execute(text("UPDATE schema_info SET version = version WHERE 0 = 1"))


class ErasedDuringRun(StoreError):
    """A person was erased while a run ran: what it would publish may hold them; nothing is published."""


def erasures_unchanged(known: frozenset[str]) -> Callable[[Connection], None]:
    """Return a guard for a publish's transaction: it takes the erasure lock, then raises ErasedDuringRun when
    an erasure was made since the run read the tombstones (known: the erasure ids it read)."""
    def guard(conn: Connection) -> None:
        lock_erasures(conn)
        new = erasure_ids(conn) - known
        if new:
            raise ErasedDuringRun(
                f"{len(new)} person(s) were erased while this run ran ({', '.join(sorted(new))}); its result may "
                "hold them, so nothing was published and the store is unchanged: run again (the next run keeps "
                "them out)")
    return guard


class ErasedRecord(Exception):
    """A record that carries an erased person's tombstone: it is not stored (ResolveRecord with persist)."""


def carries_tombstone(conn: Connection, record: Mapping[str, object]) -> bool:
    """Return True when a standardised record (``identity.erasure.record_keys``'s names) hits a tombstone."""
    salt = conn.execute(text("SELECT salt FROM erasure_salt WHERE id = 1")).scalar()
    if salt is None:
        return False
    hashed = sorted(hashes_of(salt, candidate_keys(record)))
    found = {row[0] for row in _in(conn, "SELECT key_hash FROM tombstone WHERE key_hash IN :h", h=hashed)} \
        if hashed else set()
    return bool(found) and Tombstones(salt, frozenset(found)).hit(record)


def _salt(conn: Connection) -> str:
    """Return the store's salt, made now when there is none."""
    salt = conn.execute(text("SELECT salt FROM erasure_salt WHERE id = 1")).scalar()
    if salt is None:
        salt = secrets.token_hex(32)
        conn.execute(text("INSERT INTO erasure_salt (id, salt) VALUES (1, :s)"), {"s": salt})
    return salt


def _unname_records(conn: Connection, uids: list[str]) -> int:
    """Rewrite the audit entries of an older herken that named these records in ``detail`` (ExplainMatch's
    "records: pos:12, webshop:5", a steward's "decision D: pos:12 webshop:5"); return how many. Whole ids only:
    pos:12 is not pos:123."""
    named = re.compile(r"(?<![^\s,])(?:" + "|".join(map(re.escape, sorted(uids, key=len, reverse=True))) + r")(?![^\s,])")
    changed = 0
    for seq, detail in _in(conn, "SELECT seq, detail FROM audit_log WHERE detail LIKE 'records: %' "
                                 "OR detail LIKE 'decision %: %'"):
        rewritten = named.sub("an erased record", detail)
        if rewritten != detail:
            conn.execute(text("UPDATE audit_log SET detail = :d WHERE seq = :s"), {"d": rewritten, "s": seq})
            changed += 1
    return changed


def _nameable(conn: Connection, salt: str, person: _Person) -> list[tuple[str, str]]:
    """Return the person's own identifiers that may be tied to their first names: all but those an earlier erasure
    tombstoned without names (that tombstone keeps every record with the identifier out, and stays so)."""
    own = [(kind, value) for kind, values in sorted(person.own.items()) for value in sorted(values)]
    hashed = {key_hash(salt, kind, value): (kind, value) for kind, value in own}
    named = {key_hash(salt, *named_key(kind, value)): (kind, value) for kind, value in own}
    found = {row[0] for row in _in(conn, "SELECT key_hash FROM tombstone WHERE key_hash IN :h",
                                   h=sorted(hashed | named))} if own else set()
    strict = {hashed[h] for h in found & hashed.keys()} - {named[h] for h in found & named.keys()}
    return [key for key in own if key not in strict]


def _stored_time(conn: Connection, when: dt.datetime) -> object:
    return when.astimezone(dt.timezone.utc).replace(tzinfo=None).isoformat(" ") if conn.dialect.name == "sqlite" \
        else when


def _count_and_delete(conn: Connection, counts: dict[str, int], table: str, sql: str, **params: object) -> None:
    statement = text(sql)
    for name, value in params.items():
        if isinstance(value, (list, tuple, set, frozenset)):
            statement = statement.bindparams(bindparam(name, expanding=True))
    counts[table] = counts.get(table, 0) + (conn.execute(statement, params).rowcount or 0)


def _rewrite_snapshot(conn: Connection, uids: set[str]) -> int:
    """Rewrite the linkage snapshot without these records; return how many of its rows went."""
    row = conn.execute(text("SELECT run_id, records FROM linkage_snapshot")).first()
    if row is None:
        return 0
    records = pd.read_parquet(io.BytesIO(bytes(row[1])))
    kept = records[~records["unique_id"].isin(uids)]
    if len(kept) == len(records):
        return 0
    buffer = io.BytesIO()
    kept.to_parquet(buffer, index=False)
    conn.execute(text("UPDATE linkage_snapshot SET records = :r WHERE run_id = :run"),
                 {"r": buffer.getvalue(), "run": row[0]})
    return len(records) - len(kept)


def _erase(conn: Connection, customer_id: str, reason: str, caller: Caller, now: dt.datetime) -> tuple[Erased, _Person]:
    """Erase the person on conn's transaction (see the module's docstring)."""
    lock_preferences(conn)     # first, as UpdatePreferences and rebuild_households take it (no deadlock)
    person = read_person(conn, customer_id)
    keys, uids, household = person.keys, person.uids, person.household_id
    counts: dict[str, int] = {}
    as_of = _as_of(conn)

    # quarantined rows of theirs, read before their records go
    theirs = [qid for qid, file, raw in _in(conn, "SELECT id, file, raw FROM quarantine")
              if person.holds(str(file).rsplit(".", 1)[0], raw or "")]
    if theirs:
        _count_and_delete(conn, counts, "quarantine", "DELETE FROM quarantine WHERE id IN :ids", ids=theirs)
    for table in ("interaction", "preference", "consent", "record_link", "source_record"):
        for source in sorted({s for s, _ in keys}):
            _count_and_delete(conn, counts, table, f"DELETE FROM {table} WHERE source = :s AND record_id IN :ids",
                              s=source, ids=[r for s, r in keys if s == source])
    if uids:
        _count_and_delete(conn, counts, "match_edge", "DELETE FROM match_edge WHERE unique_id_l IN :u OR unique_id_r IN :u",
                          u=uids)
        _count_and_delete(conn, counts, "steward_decision",
                          "DELETE FROM steward_decision WHERE record_a IN :u OR record_b IN :u", u=uids)
    _count_and_delete(conn, counts, "profile", "DELETE FROM profile WHERE customer_id = :c", c=customer_id)
    _count_and_delete(conn, counts, "person", "DELETE FROM person WHERE customer_id = :c", c=customer_id)
    _count_and_delete(conn, counts, "person_written", "DELETE FROM person_written WHERE customer_id = :c",
                      c=customer_id)
    if uids:
        counts["audit_log"] = _unname_records(conn, uids)
    counts["linkage_snapshot"] = _rewrite_snapshot(conn, set(uids))
    # their events keep the IDs; the reasons (which may quote what told the records apart) go, of the events of the
    # IDs merged into them too (a real-time person's "created" names its record)
    _count_and_delete(conn, counts, "identity_event", "UPDATE identity_event SET reason = :r WHERE seq IN "
                      "(SELECT seq FROM identity_event_customer WHERE customer_id IN :c)", r=ERASED,
                      c=sorted({customer_id} | former_ids(conn, customer_id)))

    remaining = conn.execute(text("SELECT count(*) FROM person WHERE household_id = :h"), {"h": household}).scalar()
    erasure_id = f"erasure-{now.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    said = f"erased on {now.date().isoformat()}"
    aliases = [("customer", customer_id, None, said)]
    if remaining:
        conn.execute(text("UPDATE household SET person_count = :n WHERE household_id = :h"),
                     {"n": remaining, "h": household})
        rebuild_households(conn, [household], as_of=as_of)
    else:
        delete_ids(conn, "household", "household_id", [household])
        delete_ids(conn, "profile", "household_id", [household])
        aliases.append(("household", household, None, said))
    write_history(conn, [Event(DELETED, (customer_id,), (), ERASED)], aliases, erasure_id, now)

    salt = _salt(conn)
    tomb_keys = [("source_record", uid) for uid in uids]
    tomb_keys += [(kind, value) for kind, values in person.own.items() for value in sorted(values)]
    tomb_keys += [("name_birth_date", key) for key in sorted(person.name_keys)]
    # their own identifiers with the first names they went by: a housemate who brings one keeps their record
    tomb_keys += identifier_name_keys(_nameable(conn, salt, person), person.records["std_given"])
    hashed = hashes_of(salt, tomb_keys)
    known = {row[0] for row in _in(conn, "SELECT key_hash FROM tombstone WHERE key_hash IN :h", h=sorted(hashed))} \
        if hashed else set()
    fresh = [{"key_hash": h, "kind": kind, "erasure_id": erasure_id} for h, kind in hashed.items() if h not in known]
    if fresh:
        conn.execute(text("INSERT INTO tombstone (key_hash, kind, erasure_id) VALUES (:key_hash, :kind, :erasure_id)"),
                     fresh)
    conn.execute(text("INSERT INTO erasure (erasure_id, customer_id, erased_at, channel, token_id, reason, "
                      "records_erased) VALUES (:e, :c, :at, :ch, :t, :r, :n)"),
                 {"e": erasure_id, "c": customer_id, "at": _stored_time(conn, now), "ch": caller.channel,
                  "t": caller.token_id, "r": reason, "n": len(keys)})
    _check_model(conn, person)
    tombstones: dict[str, int] = {}
    for kind in hashed.values():
        tombstones[kind] = tombstones.get(kind, 0) + 1
    return Erased(erasure_id, customer_id, household, len(keys), not remaining, tombstones, counts), person


def _as_of(conn: Connection) -> dt.datetime | None:
    """Return the time the published profiles' attributes are computed as of (before anything is deleted)."""
    engine = make_engine("duckdb")
    try:
        return latest_purchase(conn, engine)
    finally:
        engine.close()


def _check_model(conn: Connection, person: _Person) -> None:
    """Say (log) when the saved model holds one of the person's identifiers: a Splink model holds parameters
    only (m and u probabilities, SQL conditions; term frequencies are computed per run, not saved)."""
    model = conn.execute(text("SELECT model_json FROM run")).scalar()
    if model and any(n in model.lower() for n in person.needles()):
        log.error("the published run's saved model holds an identifier of the erased person; resolve the drop "
                  "again (the tombstones keep them out) to replace it")


def forget_customer(engine: Engine, customer_id: str, reason: str, *, caller: Caller = LOCAL,
                    runs_dir: Path | None = None, vacuum: bool | str = True, now: dt.datetime | None = None) -> Erased:
    """Erase everything the store holds on a person for good, in one transaction (see the module's docstring).

    Args:
        engine: the store.
        customer_id: the person; an old ID that leads to them is followed.
        reason: why (kept in the erasure row; it must hold no personal data).
        caller: who asked (kept in the erasure row).
        runs_dir: the runs folder to scrub of their values (None: left alone).
        vacuum: SQLite: rewrite the file afterwards too (secure_delete and the checkpoint already
            leave no deleted bytes; VACUUM also gives the freed pages back). PostgreSQL: VACUUM (ANALYZE)
            the touched tables; "full": VACUUM FULL them (no dead tuple's bytes stay in the data files).
        now: the time of the erasure (default: now, UTC).

    Returns:
        what was erased.

    Raises:
        NoSuchCustomer: no person has this ID (never known, or erased already: the message says).
        ValueError: the reason is empty.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValueError("reason: must not be empty: say why the person is erased (e.g. 'GDPR request 2026-118')")
    # checked before the store is touched: an erasure committed in the store whose runs folder then failed could not
    # be finished (the person is gone from the store, so a second try finds no one) and their rows would stay there
    if runs_dir is not None and (blocked := runs_folder_unwritable(runs_dir)) is not None:
        raise RunsFolderUnwritable(
            f"the runs folder cannot be scrubbed: {blocked} is not {'writable' if blocked.is_dir() else 'readable'} "
            "by this process, so the person's rows in its quarantine.csv and reports would stay. Give this user write "
            "access to the runs folder (or run as its owner) and erase again; nothing was erased")
    now = now or dt.datetime.now(dt.timezone.utc)
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        if sqlite:
            conn.exec_driver_sql("PRAGMA secure_delete = ON")
            conn.exec_driver_sql("PRAGMA busy_timeout = 30000")
            conn.commit()       # SQLAlchemy's autobegun transaction only: a PRAGMA begins none in SQLite
        try:
            with conn.begin():
                lock_erasures(conn)     # first: a publish under way finishes before (see lock_erasures)
                current = find_customer(conn, customer_id)
                erased, person = _erase(conn, current, reason, caller, now)
        finally:
            if sqlite:
                conn.exec_driver_sql("PRAGMA secure_delete = OFF")
                conn.commit()
    # the runs folder first: the erasure is committed, and a store too busy to be rewritten now must not leave the
    # person's rows in quarantine.csv (a second try finds no one to erase)
    try:
        if runs_dir is not None:
            erased.files_rewritten, erased.files_removed = scrub_runs(Path(runs_dir), person)
    finally:        # the store is rewritten whether or not the runs folder could be
        try:
            _reclaim(engine, vacuum, audit=bool(erased.rows_deleted.get("audit_log")))
        except OperationalError as err:
            if not waited_too_long(err):
                raise
            log.warning("%s is erased, but the store file could not be rewritten now (another process writes it: "
                        "%s); its free pages and write-ahead log may keep deleted bytes until the next VACUUM and "
                        "checkpoint (sqlite3 FILE 'VACUUM', or the next erasure)", erased.customer_id, err)
    log.info("erased %s (%s): %d records, tombstones %s, rows %s", erased.customer_id, erased.erasure_id,
             erased.records_erased, erased.tombstones, erased.rows_deleted)
    return erased


_TOUCHED = ("source_record", "record_link", "interaction", "preference", "consent", "person", "profile", "household",
            "match_edge", "steward_decision", "quarantine", "identity_event", "id_alias", "linkage_snapshot",
            "person_written")


def _reclaim(engine: Engine, vacuum: bool | str, audit: bool = False) -> None:
    """Leave no deleted bytes where the database can reach them: SQLite's WAL and free pages; PostgreSQL's dead rows
    (of the audit log too when the erasure rewrote entries of it: ``audit``)."""
    if engine.dialect.name == "sqlite":
        if engine.url.database in (None, "", ":memory:"):
            return
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("PRAGMA busy_timeout = 30000")
            if vacuum:
                conn.exec_driver_sql("PRAGMA secure_delete = ON")
                conn.exec_driver_sql("VACUUM")
                conn.exec_driver_sql("PRAGMA secure_delete = OFF")
            busy = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").first()
            if busy and busy[0]:
                log.warning("the WAL could not be truncated now (a reader holds it); the next checkpoint does it")
        return
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            how = "(FULL, ANALYZE)" if vacuum == "full" else "(ANALYZE)"
            conn.exec_driver_sql(f"VACUUM {how} " + ", ".join((*_TOUCHED, "audit_log") if audit else _TOUCHED))


class RunsFolderUnwritable(RuntimeError):
    """The runs folder cannot be scrubbed (a folder not writable, a file not readable): nothing was erased."""


def runs_folder_unwritable(runs_dir: Path) -> Path | None:
    """Return a folder under runs_dir (itself included) in which an erasure could not rewrite or remove a file, or a
    file it could not read; None when it can scrub them all (or there is no runs folder)."""
    if not runs_dir.is_dir():
        return None
    for path in [runs_dir, *sorted(runs_dir.rglob("*"))]:
        if path.is_dir() and not os.access(path, os.W_OK | os.X_OK):
            return path
        if path.is_file() and not os.access(path, os.R_OK):
            return path
    return None


def runs_folder_missing(engine: Engine, runs_dir: Path) -> str | None:
    """Return the store's latest run when runs_dir holds the folder of none of its runs (an erasure would miss their
    files), else None."""
    with engine.connect() as conn:
        runs = [row[0] for row in conn.execute(text("SELECT run_id FROM run ORDER BY started_at DESC"))]
    if not runs or any((runs_dir / run_id).is_dir() for run_id in runs):
        return None
    return runs[0] if len(runs) == 1 else f"{runs[0]} and {len(runs) - 1} before it"


def scrub_runs(runs_dir: Path, person: _Person) -> tuple[list[str], list[str]]:
    """Remove the person's values from the runs folder; return (files rewritten, files removed).

    A CSV file (quarantine.csv) loses the rows that are theirs (``_Person.holds``); any other file
    that holds one of their own identifiers or surnames, one of their records (source:record_id) or full
    names (a cached term-frequency table, a report) is removed: it is derived, and a run makes it again.
    """
    if not runs_dir.is_dir():
        return [], []
    needles = person.needles()
    # a surname no one else holds marks a row or file as theirs where it stands as a word: "ter haar", not
    # "haarlem" or "haarsma" (other people's rows, removed before)
    surnames = {s.lower() for s in person.own_surnames if len(s) >= 4}
    derived = {uid.lower() for uid in person.uids} | {f"{g} {s}".lower() for g, s in person.names if len(g) + len(s) >= 5}
    derived |= {html.escape(n) for n in derived}        # as a report writes them
    rewritten, removed = [], []
    for path in sorted(p for p in runs_dir.rglob("*") if p.is_file()):
        data = path.read_bytes()
        low = data.lower()
        if path.suffix == ".csv":
            text_ = data.decode("utf-8", errors="replace")
            rows = list(csv.reader(io.StringIO(text_, newline="")))
            if not rows:
                continue
            header, body = rows[0], rows[1:]
            kept = [row for row in body if not _row_theirs(header, row, person)]
            if len(kept) != len(body) or any(n.encode() in low for n in needles) or _names_any(low, surnames):
                kept = [row for row in kept if not any(n in ",".join(row).lower() for n in needles)
                        and not _names_any(",".join(row).lower().encode(), surnames)]
                _write_csv(path, header, kept)
                rewritten.append(str(path))
            continue
        # model.json: parameters and SQL conditions, whose words ("jaro_winkler") may look like a surname; a report
        # also names records by source:record_id and persons by full name (a family's shared surname is no needle)
        if path.name == "model.json":
            theirs = any(n.encode() in low for n in person.needles())
        else:
            theirs = any(n.encode() in low for n in needles) or _names_any(low, derived | surnames)
        if theirs:
            path.unlink()
            removed.append(str(path))
    return rewritten, removed


def _names_any(data: bytes, needles: set[str]) -> bool:
    """Return whether data names one of the needles whole: pos:12 is not in pos:123, Jan Bos not in Jan Bosman."""
    return any(re.search(rb"(?<![0-9a-z])" + re.escape(n.encode()) + rb"(?![0-9a-z])", data) for n in needles if n)


def _row_theirs(header: list[str], row: list[str], person: _Person) -> bool:
    """Return True when a row of a runs-folder CSV is theirs (a quarantine.csv row: file, line, reason, raw)."""
    values = dict(zip(header, row))
    if "file" in values and "raw" in values:
        return person.holds(values["file"].rsplit(".", 1)[0], values["raw"])
    return person.holds("", ",".join(row))


def _write_csv(path: Path, header: list[str], rows: Iterable[list[str]]) -> None:
    """Write a CSV file in place of path (a new file renamed over it, so the old bytes' file goes)."""
    fresh = path.with_name(path.name + ".scrubbed")
    with fresh.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    fresh.replace(path)


def erasure_summary(erased: Erased) -> dict[str, object]:
    """Return what an erasure did as JSON-ready values (IDs and counts only)."""
    return {"erasure_id": erased.erasure_id, "customer_id": erased.customer_id, "household_id": erased.household_id,
            "records_erased": erased.records_erased, "household_gone": erased.household_gone,
            "tombstones": erased.tombstones, "rows_deleted": erased.rows_deleted,
            "files_rewritten": erased.files_rewritten, "files_removed": erased.files_removed}

