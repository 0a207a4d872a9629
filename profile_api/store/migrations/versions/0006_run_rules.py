"""Schema version 6: the run keeps its cannot-link rules as measured on its drop (run.rules_json).

A run published before then was not measured in a way the store kept: its column stays empty and
the report says so.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

from profile_api.store.migrations import set_schema_version

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("run") as batch:
        batch.add_column(sa.Column("rules_json", sa.Text(), nullable=True))
    set_schema_version(6)


def downgrade() -> None:
    raise NotImplementedError("herken does not downgrade a store: restore the backup taken before `herken migrate`")
