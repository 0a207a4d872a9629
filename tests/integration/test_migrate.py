"""`herken migrate` and the store's schema version, on an SQLite file and a database of its own in the
real PostgreSQL. Stores of each earlier version with a published run: test_profile_store.py."""

from __future__ import annotations

import uuid

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from herken.cli import main
from profile_api.store import OutdatedStore, StoreError, open_store
from profile_api.store.generation import READ_GENERATION
from profile_api.store.migrations import SCRIPT_LOCATION, revision_of
from profile_api.store.models import SCHEMA_VERSION
from tests.conftest import PG_ADMIN_URL


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_url(request, tmp_path):
    """URL of an empty store: a new SQLite file's, or a new PostgreSQL database's (dropped afterwards)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'herken.db'}"
        return
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"herken_migrate_{uuid.uuid4().hex[:10]}"
    with admin.connect() as con:
        con.execute(text(f'CREATE DATABASE "{name}"'))
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as con:
        con.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def versions(url: str) -> tuple[int, str | None, set[str]]:
    """Return (schema_info version, Alembic revision or None, the run table's columns) of the store at url."""
    engine = create_engine(url)
    with engine.connect() as conn:
        tables = inspect(conn).get_table_names()
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar() \
            if "alembic_version" in tables else None
        found = (conn.execute(text("SELECT version FROM schema_info")).scalar(), revision,
                 {c["name"] for c in inspect(conn).get_columns("run")})
    engine.dispose()
    return found


# What version 10 added, written out by hand (apart from the migration): the served generation and its triggers.
_SERVED = ("profile", "record_link", "source_record", "id_alias")


def undo_10(conn) -> None:
    """Take the store on conn back to what version 9 wrote (its version numbers are the caller's)."""
    if conn.dialect.name == "sqlite":
        statements = [*(f"DROP TRIGGER herken_served_{t}_{k}" for t in _SERVED for k in ("insert", "update", "delete")),
                      "DROP TABLE served_generation"]
    else:
        statements = [*(f"DROP TRIGGER herken_served ON {t}" for t in _SERVED), "DROP TABLE served_change",
                      "DROP TABLE served_generation", "DROP FUNCTION herken_served_changed()",
                      "DROP FUNCTION herken_served_committing()"]
    for statement in statements:
        conn.execute(text(statement))


def undo_13(conn) -> None:
    """Take the store on conn back to what version 12 wrote (its version numbers are the caller's)."""
    conn.execute(text("DROP TABLE person_written"))


def triggers(conn) -> list[tuple[str, str]]:
    """Return (trigger, table) of every trigger of the store on conn."""
    if conn.dialect.name == "sqlite":
        query = "SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger'"
    else:
        query = "SELECT tgname, tgrelid::regclass::text FROM pg_trigger WHERE NOT tgisinternal"
    return sorted(tuple(row) for row in conn.execute(text(query)))


def generation(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        found = conn.execute(text(READ_GENERATION)).scalar()
    engine.dispose()
    return found


def test_version_10_gives_a_store_of_9_the_served_generation_raised_by_every_write(empty_url, capsys):
    open_store(empty_url).dispose()
    engine = create_engine(empty_url)
    with engine.connect() as conn:
        head = triggers(conn)
    assert {table for _, table in head} >= set(_SERVED)
    with engine.begin() as conn:      # as herken 9 left it
        undo_13(conn)
        undo_10(conn)
        conn.execute(text("UPDATE alembic_version SET version_num = '0009'"))
        conn.execute(text("UPDATE schema_info SET version = 9"))
    with engine.connect() as conn:
        assert not [t for t in triggers(conn) if t[0].startswith("herken_served")]
    assert main(["serve", "--store", empty_url, "--port", "0"]) == 2
    assert f"is at schema version 9, this herken needs {SCHEMA_VERSION}: run `herken migrate" in capsys.readouterr().err
    assert main(["migrate", "--store", empty_url]) == 0
    assert f"schema version 9 -> {SCHEMA_VERSION}" in capsys.readouterr().out
    with engine.connect() as conn:
        assert triggers(conn) == head
    for statement in ("INSERT INTO id_alias (old_id, kind, current_id, run_id, changed_at, reason) "
                      "VALUES ('C1', 'customer', 'C2', 'r', '2026-01-01', 'merged')",
                      "UPDATE id_alias SET reason = 'split'", "DELETE FROM id_alias"):
        before = generation(empty_url)
        with engine.begin() as conn:
            conn.execute(text(statement))
        assert generation(empty_url) > before, statement
    engine.dispose()


def test_there_is_one_revision_per_schema_version_and_the_head_is_this_herkens():
    script = ScriptDirectory(SCRIPT_LOCATION)
    assert script.get_current_head() == revision_of(SCHEMA_VERSION)
    chain = [r.revision for r in script.walk_revisions()]
    assert chain == [revision_of(v) for v in range(SCHEMA_VERSION, 0, -1)]


def test_a_new_store_is_made_at_the_head(empty_url, capsys):
    open_store(empty_url).dispose()
    assert versions(empty_url)[:2] == (SCHEMA_VERSION, revision_of(SCHEMA_VERSION))
    assert main(["migrate", "--store", empty_url]) == 0
    assert capsys.readouterr().out.strip() == \
        f"the store at {empty_url} is at schema version {SCHEMA_VERSION}: nothing to migrate"


def test_migrate_makes_an_empty_postgresql_database_a_store_and_refuses_a_missing_sqlite_file(empty_url, capsys,
                                                                                             tmp_path):
    if empty_url.startswith("sqlite"):   # a typo in a file name must not leave a new empty store behind
        assert main(["migrate", "--store", empty_url]) == 2
        assert f"no store at {empty_url}" in capsys.readouterr().err
        assert not (tmp_path / "herken.db").exists()
        return
    assert main(["migrate", "--store", empty_url]) == 0
    assert capsys.readouterr().out.strip() == \
        f"the store at {empty_url} was empty: made at schema version {SCHEMA_VERSION}"
    assert versions(empty_url)[:2] == (SCHEMA_VERSION, revision_of(SCHEMA_VERSION))


def test_a_store_newer_than_this_herken_is_refused_and_left_as_it_is(empty_url, capsys):
    open_store(empty_url).dispose()
    engine = create_engine(empty_url)
    with engine.begin() as conn:     # as a later herken would leave it
        conn.execute(text(f"UPDATE alembic_version SET version_num = '{revision_of(SCHEMA_VERSION + 1)}'"))
        conn.execute(text(f"UPDATE schema_info SET version = {SCHEMA_VERSION + 1}"))
    engine.dispose()
    for migrate in (False, True):
        with pytest.raises(StoreError, match=f"schema version {SCHEMA_VERSION + 1}, newer than this herken"):
            open_store(empty_url, migrate=migrate)
    assert main(["migrate", "--store", empty_url]) == 2      # input this herken cannot use (was 1 before session 33)
    assert "upgrade herken" in capsys.readouterr().err
    assert versions(empty_url)[:2] == (SCHEMA_VERSION + 1, revision_of(SCHEMA_VERSION + 1))


def test_a_migration_that_fails_leaves_the_store_as_it_was(empty_url):
    open_store(empty_url).dispose()
    engine = create_engine(empty_url)
    with engine.begin() as conn:
        # version 4 as no herken wrote it: step 5 runs, then step 6 finds its column already there
        conn.execute(text("ALTER TABLE run DROP COLUMN categories_json"))
        conn.execute(text("ALTER TABLE run DROP COLUMN unplaced_categories_json"))
        conn.execute(text("UPDATE schema_info SET version = 4"))
        conn.execute(text("DROP TABLE alembic_version"))
    engine.dispose()
    before = versions(empty_url)
    with pytest.raises(OutdatedStore):
        open_store(empty_url)
    with pytest.raises(StoreError, match=f"from schema version 4 to {SCHEMA_VERSION} failed: .*rules_json.*; the store is as it was"):
        open_store(empty_url, migrate=True)
    assert versions(empty_url) == before     # not stamped, step 5's columns not there: one transaction
    assert "categories_json" not in before[2] and before[:2] == (4, None)


def test_version_12_builds_again_the_profiles_that_showed_a_missing_name_as_nan(empty_url, small_drop, tmp_path,
                                                                               monkeypatch, capsys):
    monkeypatch.setenv("HERKEN_RUNS_DIR", str(tmp_path / "runs"))
    assert main(["resolve", str(small_drop), "--store", empty_url]) == 0
    engine = create_engine(empty_url)
    with engine.connect() as conn:
        before = {row[0]: tuple(row[1:]) for row in conn.execute(text(
            "SELECT customer_id, display_name, encoded, household_id FROM profile ORDER BY customer_id"))}
    customer, (name, _, _) = next(iter(before.items()))
    with engine.begin() as conn:      # as a build on pandas 3 before version 12 wrote it
        conn.execute(text("UPDATE profile SET display_name = 'Nan ' || display_name, encoded = :junk "
                          "WHERE customer_id = :c"), {"junk": b"\x00", "c": customer})
        undo_13(conn)
        conn.execute(text("UPDATE alembic_version SET version_num = '0011'"))
        conn.execute(text("UPDATE schema_info SET version = 11"))
    assert main(["migrate", "--store", empty_url]) == 0
    assert f"schema version 11 -> {SCHEMA_VERSION}" in capsys.readouterr().out
    with engine.connect() as conn:
        after = {row[0]: tuple(row[1:]) for row in conn.execute(text(
            "SELECT customer_id, display_name, encoded, household_id FROM profile ORDER BY customer_id"))}
    engine.dispose()
    # the household built again as the publish built it: every profile as it was before the damage
    assert after[customer][0] == name and bytes(after[customer][1]) == bytes(before[customer][1])
    assert after == before


def test_version_13_gives_a_store_of_12_the_persons_written_in_real_time_and_a_publish_empties_them(
        empty_url, small_drop, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HERKEN_RUNS_DIR", str(tmp_path / "runs"))
    assert main(["resolve", str(small_drop), "--store", empty_url]) == 0
    engine = create_engine(empty_url)
    with engine.begin() as conn:      # as herken 12 left it
        undo_13(conn)
        conn.execute(text("UPDATE alembic_version SET version_num = '0012'"))
        conn.execute(text("UPDATE schema_info SET version = 12"))
    assert main(["migrate", "--store", empty_url]) == 0
    assert f"schema version 12 -> {SCHEMA_VERSION}" in capsys.readouterr().out
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO person_written (seq, customer_id, written_at) "
                          "VALUES (1, 'C-1', '2026-12-07 10:00:00')"))
    assert main(["resolve", str(small_drop), "--store", empty_url]) == 0
    with engine.connect() as conn:    # the new run holds every record: nothing is left to read again
        assert conn.execute(text("SELECT count(*) FROM person_written")).scalar() == 0
    engine.dispose()


def test_a_run_and_a_delta_on_a_store_of_an_older_schema_migrate_it_and_publish(empty_url, small_drop, tmp_path,
                                                                                  monkeypatch):
    """Review finding (session 34): the check that no other run published meanwhile read an older store as empty
    (it could not open it unmigrated), so the first run on it migrated the store and then refused to publish."""
    monkeypatch.setenv("HERKEN_RUNS_DIR", str(tmp_path / "runs"))
    assert main(["resolve", str(small_drop), "--store", empty_url]) == 0
    engine = create_engine(empty_url)
    for incremental in (False, True):
        with engine.begin() as conn:      # as herken 12 left it
            undo_13(conn)
            conn.execute(text("UPDATE alembic_version SET version_num = '0012'"))
            conn.execute(text("UPDATE schema_info SET version = 12"))
        if incremental:
            empty = tmp_path / "empty-delta"
            empty.mkdir()
            (empty / "deletions.csv").write_text("source,record_id\n")
            assert main(["resolve", str(empty), "--incremental", "--store", empty_url]) == 0
        else:
            assert main(["resolve", str(small_drop), "--store", empty_url]) == 0
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version FROM schema_info")).scalar() == SCHEMA_VERSION
    engine.dispose()
