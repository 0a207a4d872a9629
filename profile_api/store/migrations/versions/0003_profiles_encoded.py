"""Schema version 3: profiles also encoded as served (profile.encoded, profile.encoded_household);
the profile table is made again and rebuilt.

Revision ID: 0003
Revises: 0002
"""

from profile_api.store.migrations import profile_table_as_modelled, set_schema_version

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    profile_table_as_modelled(3)
    set_schema_version(3)


def downgrade() -> None:
    raise NotImplementedError("herken does not downgrade a store: restore the backup taken before `herken migrate`")
