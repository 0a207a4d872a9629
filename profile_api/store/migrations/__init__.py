"""The store's schema migrations: Alembic scripts, one revision per schema version.

Revision ``"0006"`` is schema version 6 (``SCHEMA_VERSION`` in ``profile_api.store.models``). A store
made before herken used Alembic has only ``schema_info``: it is stamped at the revision of its
version on first contact, then upgraded. ``profile_api.store.db`` runs them (``open_store(url,
migrate=True)``, ``herken migrate``); no ``alembic.ini`` is needed, so an installed herken migrates.

To add schema version 7: change the models, set ``SCHEMA_VERSION = 7``, and add
``versions/0007_<what>.py`` with ``revision = "0007"`` and ``down_revision = "0006"`` (the template is
``script.py.mako``); its ``upgrade()`` ends with ``set_schema_version(7)``.
"""

from __future__ import annotations

from pathlib import Path

from alembic import op
from sqlalchemy import inspect, text

from profile_api.store import generation
from profile_api.store.models import PrecomputedProfile
from profile_api.store.write import rebuild_profiles

SCRIPT_LOCATION = str(Path(__file__).parent)


def revision_of(version: int) -> str:
    """Return the Alembic revision id of a schema version."""
    return f"{version:04d}"


def set_schema_version(version: int) -> None:
    """Keep schema_info in step, so that a herken from before Alembic refuses a newer store rather than break it."""
    op.execute(text(f"UPDATE schema_info SET version = {int(version)}"))


def profile_table_as_modelled(version: int) -> None:
    """Make the profile table again and rebuild it, unless it has the columns of this herken's model already.

    The profile table holds only what the published run and the stated preferences determine, so
    rebuilding it is the whole migration. It is made as this herken models it (not as the version
    being migrated to had it), because the profile builder writes what this herken serves: a store
    coming from an older version gets the current table and its profiles in the first step that
    touches it, and the later steps find nothing left to do.
    """
    conn = op.get_bind()
    table = PrecomputedProfile.__table__
    if inspect(conn).has_table(table.name):
        if {c["name"] for c in inspect(conn).get_columns(table.name)} == set(table.columns.keys()):
            return
        table.drop(conn)
    table.create(conn)
    if generation.installed(conn):      # a table made again has none of the old one's triggers
        generation.install(conn)
    rebuild_profiles(conn)
