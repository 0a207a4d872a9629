"""Schema version 9: privacy.

Consent statements per record (consent) and each person's consent as it stands (profile.consent, so
that a profile is still read in one row), the append-only audit log, erasures, and the salted
hashes (tombstone, erasure_salt) that keep an erased person from coming back with a later drop.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

from profile_api.store.migrations import profile_table_as_modelled, set_schema_version

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    profile_table_as_modelled(9)
    op.create_table(
        "consent",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("record_id", sa.String(), nullable=False),
        sa.Column("purpose", sa.String(), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("stated_at", sa.DateTime(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("token_id", sa.String(), nullable=True),
    )
    op.create_index("ix_consent_record", "consent", ["source", "record_id"])
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("token_id", sa.String(), nullable=True),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("customer_id", sa.String(), nullable=True),
        sa.Column("household_id", sa.String(), nullable=True),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_channel", "audit_log", ["channel"])
    op.create_index("ix_audit_log_customer_id", "audit_log", ["customer_id"])
    op.create_table(
        "erasure",
        sa.Column("erasure_id", sa.String(), primary_key=True),
        sa.Column("customer_id", sa.String(), nullable=False),
        sa.Column("erased_at", sa.DateTime(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("token_id", sa.String(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("records_erased", sa.Integer(), nullable=False),
    )
    op.create_index("ix_erasure_customer_id", "erasure", ["customer_id"])
    op.create_table(
        "tombstone",
        sa.Column("key_hash", sa.String(), primary_key=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("erasure_id", sa.String(), nullable=False),
    )
    op.create_index("ix_tombstone_erasure_id", "tombstone", ["erasure_id"])
    op.create_table(
        "erasure_salt",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("salt", sa.String(), nullable=False),
    )
    set_schema_version(9)


def downgrade() -> None:
    raise NotImplementedError("herken does not downgrade a store: restore the backup taken before `herken migrate`")
