"""Schema version 4: the live part of each profile kept in its row as preferences are stated
(profile.encoded_live instead of encoded_household); the profile table is made again and rebuilt.

Revision ID: 0004
Revises: 0003
"""

from profile_api.store.migrations import profile_table_as_modelled, set_schema_version

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    profile_table_as_modelled(4)
    set_schema_version(4)


def downgrade() -> None:
    raise NotImplementedError("herken does not downgrade a store: restore the backup taken before `herken migrate`")
