"""Schema version 11: each profile stored once, as served.

The profile table kept every profile twice: as JSON text (golden, attributes, household) and encoded
as the server sends it (encoded, encoded_live); every reader can take what it needs from the encoded
profile. The JSON columns go. What the live part starts from and the encoded profile does not hold,
the household's pets and delivery as its purchases show them, is kept in household_inferred: the
household JSON without its members (which the encoded profile lists). The rows are converted in place:
the encoded parts and consent stay as they were, so nothing served changes.

A store coming from before version 9 has its profile table made as this herken models it already
(``profile_table_as_modelled`` in an earlier step): nothing is left to do here.

Revision ID: 0011
Revises: 0010
"""

from alembic import op
from sqlalchemy import inspect

from profile_api.store.migrations import set_schema_version

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_JSON_COLUMNS = ("golden", "attributes", "household")
# The household JSON without its members: {"pets": [...], "delivery": ...}.
_INFERRED = {
    "sqlite": "json_remove(household, '$.members')",
    "postgresql": "(household::jsonb - 'members')::text",
}


def upgrade() -> None:
    conn = op.get_bind()
    columns = {c["name"] for c in inspect(conn).get_columns("profile")}
    if "household" in columns:
        if conn.dialect.name == "sqlite":     # SQLite adds a NOT NULL column only with a default
            op.execute("ALTER TABLE profile ADD COLUMN household_inferred TEXT NOT NULL DEFAULT '{}'")
        else:
            op.execute("ALTER TABLE profile ADD COLUMN household_inferred TEXT")
        op.execute(f"UPDATE profile SET household_inferred = {_INFERRED[conn.dialect.name]}")
        if conn.dialect.name != "sqlite":
            op.execute("ALTER TABLE profile ALTER COLUMN household_inferred SET NOT NULL")
        for column in _JSON_COLUMNS:
            if column in columns:
                op.execute(f"ALTER TABLE profile DROP COLUMN {column}")
    set_schema_version(11)


def downgrade() -> None:
    raise NotImplementedError("herken does not downgrade a store: restore the backup taken before `herken migrate`")
