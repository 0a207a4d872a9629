"""Schema version 1: the resolution result (runs, source records, links, persons, households,
interactions, preferences, quarantine, match edges), as herken made it before it used Alembic.

A store of version 1 is stamped here, never built by this revision: a new store is made as the
models have it and stamped at the head.

Revision ID: 0001
Revises:
"""

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    raise RuntimeError("a new store is made at the head (open_store); revision 0001 only marks a store of version 1")


def downgrade() -> None:
    raise NotImplementedError("herken does not downgrade a store: restore the backup taken before `herken migrate`")
