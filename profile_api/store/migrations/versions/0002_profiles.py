"""Schema version 2: precomputed profiles (table profile), the channel a preference was stated in
(preference.channel), an index on a preference's record, source_record.std_phone_mobile and
std_particles, both backfilled from the records.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from identity.standardise import is_mobile, parse_name   # the standardisers ingest uses, for the backfill
from profile_api.store.migrations import profile_table_as_modelled, set_schema_version

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    with op.batch_alter_table("preference") as batch:
        batch.add_column(sa.Column("channel", sa.String(), nullable=True))
        batch.create_index("ix_preference_record", ["source", "record_id"])
    with op.batch_alter_table("source_record") as batch:
        batch.add_column(sa.Column("std_phone_mobile", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("std_particles", sa.String(), nullable=True))

    phones = [row[0] for row in conn.execute(sa.text(
        "SELECT DISTINCT std_phone FROM source_record WHERE std_phone IS NOT NULL"))]
    if phones:
        conn.execute(sa.text("UPDATE source_record SET std_phone_mobile = :mobile WHERE std_phone = :phone"),
                     [{"phone": phone, "mobile": is_mobile(phone)} for phone in phones])
    rows = conn.execute(sa.text("SELECT source, record_id, first_name, last_name FROM source_record "
                                "WHERE last_name IS NOT NULL OR first_name IS NOT NULL")).all()
    particles = [{"source": s, "record_id": r, "particles": parse_name(first, last).particles}
                 for s, r, first, last in rows]
    particles = [p for p in particles if p["particles"]]
    if particles:
        conn.execute(sa.text("UPDATE source_record SET std_particles = :particles "
                             "WHERE source = :source AND record_id = :record_id"), particles)
    profile_table_as_modelled(2)
    set_schema_version(2)


def downgrade() -> None:
    raise NotImplementedError("herken does not downgrade a store: restore the backup taken before `herken migrate`")
