"""Schema version 10: the served generation.

A number in ``served_generation`` that triggers on the tables the server's keyed reads answer from
(profile, record_link, source_record, id_alias) raise on every write, so that a server keeping those
reads in memory forgets them when any writer changed them (``profile_api.store.generation``). Nothing
else changes: no table is rewritten.

Revision ID: 0010
Revises: 0009
"""

from alembic import op

from profile_api.store import generation
from profile_api.store.migrations import set_schema_version

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    generation.install(op.get_bind())
    set_schema_version(10)


def downgrade() -> None:
    raise NotImplementedError("herken does not downgrade a store: restore the backup taken before `herken migrate`")
