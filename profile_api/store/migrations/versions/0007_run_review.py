"""Schema version 7: the run keeps the band of its borderline pairs, how many it held and how many it kept (run.review_json).

A run published before then did not record them: the report says its pairs are a sample of an
unrecorded number.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

from profile_api.store.migrations import set_schema_version

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("run") as batch:
        batch.add_column(sa.Column("review_json", sa.Text(), nullable=True))
    set_schema_version(7)


def downgrade() -> None:
    raise NotImplementedError("herken does not downgrade a store: restore the backup taken before `herken migrate`")
