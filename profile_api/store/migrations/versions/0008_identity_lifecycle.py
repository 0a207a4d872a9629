"""Schema version 8: the identity lifecycle.

When each person and household was first seen (their first_seen_at: the published run's start for a
store migrated from before), each record's confidence, identity events, aliases of IDs no longer
current, steward decisions, and the snapshot of standardised records an
incremental run starts from (a store migrated from before has none: its first incremental run says so).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

from profile_api.store.migrations import set_schema_version

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("person") as batch:
        batch.add_column(sa.Column("first_seen_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("household") as batch:
        batch.add_column(sa.Column("first_seen_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("record_link") as batch:
        batch.add_column(sa.Column("confidence", sa.Float(), nullable=True))
    for table in ("person", "household"):
        op.execute(f"UPDATE {table} SET first_seen_at = (SELECT MIN(started_at) FROM run)")
    op.create_table(
        "identity_event",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("event_id", sa.String(), nullable=False),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("customer_ids_before", sa.Text(), nullable=True),
        sa.Column("customer_ids_after", sa.Text(), nullable=True),
        sa.Column("household_id", sa.String(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
    )
    op.create_index("ix_identity_event_event_id", "identity_event", ["event_id"], unique=True)
    op.create_index("ix_identity_event_run_id", "identity_event", ["run_id"])
    op.create_index("ix_identity_event_occurred_at", "identity_event", ["occurred_at"])
    op.create_table(
        "identity_event_customer",
        sa.Column("customer_id", sa.String(), primary_key=True),
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=False),
    )
    op.create_table(
        "id_alias",
        sa.Column("old_id", sa.String(), primary_key=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("current_id", sa.String(), nullable=True),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
    )
    op.create_index("ix_id_alias_current_id", "id_alias", ["current_id"])
    op.create_table(
        "steward_decision",
        sa.Column("decision_id", sa.String(), primary_key=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("record_a", sa.String(), nullable=False),
        sa.Column("record_b", sa.String(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "linkage_snapshot",
        sa.Column("run_id", sa.String(), primary_key=True),
        sa.Column("records", sa.LargeBinary(), nullable=False),
    )
    set_schema_version(8)


def downgrade() -> None:
    raise NotImplementedError("herken does not downgrade a store: restore the backup taken before `herken migrate`")
