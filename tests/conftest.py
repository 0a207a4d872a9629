"""Shared fixtures: a small generated drop, and a fresh PostgreSQL database per test session."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pytest
from hypothesis import settings

# CI runs the property tests on hypothesis' fixed example sequence, so a clean clone passes or fails
# the same way every time; on a developer's machine they keep exploring new examples.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

PG_ADMIN_URL = os.environ.get("HERKEN_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def pytest_collection_modifyitems(config, items) -> None:
    """Put the slowest modules (marked ``first``) at the front: with ``-n`` and ``--no-loadscope-reorder`` a
    worker starts them at once, instead of one worker taking the longest module when the rest is nearly done."""
    items.sort(key=lambda item: item.get_closest_marker("first") is None)


@pytest.fixture(scope="session")
def small_drop(tmp_path_factory) -> Path:
    """A generated drop of 200 households (with truth), shared by the integration tests.

    Pinned to the generator as it was before issue 12 (``noise="v1"``): the data these tests were
    written for. tests/integration/test_noise_v2.py runs the default generator's data end to end.
    """
    from synth.config import SynthConfig
    from synth.writer import generate_drop

    path = tmp_path_factory.mktemp("drop")
    generate_drop(path, households=200, seed=11, config=SynthConfig(noise="v1"))
    return path


@pytest.fixture(scope="session")
def pg_url() -> str:
    """URL of a new, empty PostgreSQL database; dropped after the session. Fails when PostgreSQL is down."""
    yield from _new_database()


@pytest.fixture
def fresh_pg_url() -> str:
    """URL of a new, empty PostgreSQL database of this test alone (pg_url is shared by the session)."""
    yield from _new_database()


@pytest.fixture(scope="module")
def module_pg_url() -> str:
    """URL of a new, empty PostgreSQL database of one test module: its runs and steward decisions meet no
    other module's (customer IDs carry over from run to run in a store)."""
    yield from _new_database()


def _new_database():
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"herken_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as con:
            con.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as err:  # the PostgreSQL path must run, not be skipped: say how to start it
        pytest.fail(f"PostgreSQL at {PG_ADMIN_URL} is not reachable ({err}); start it with "
                    "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    yield url
    from sqlalchemy.pool import NullPool  # noqa: F401

    with admin.connect() as con:
        con.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
