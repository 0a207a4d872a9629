"""Schema version 13: the persons written in real time since the published run.

``person_written`` names each person whose records ResolveRecord wrote with persist (joined, made or
edited) since the published run, in order, so that the name search of every server process reads their
names again at once, not only the process that wrote them (``profile_api.search``). Nothing else changes.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

from profile_api.store.migrations import set_schema_version

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "person_written",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("customer_id", sa.String(), nullable=False),
        sa.Column("written_at", sa.DateTime(), nullable=False),
    )
    set_schema_version(13)


def downgrade() -> None:
    raise NotImplementedError("herken does not downgrade a store: restore the backup taken before `herken migrate`")
