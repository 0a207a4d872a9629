"""Schema version 12: the profiles that showed a missing name as "Nan" built again.

herken on pandas 3 before this version wrote "Nan" for a missing first or last name into the
display name (``profile_api.golden._missing``): "Nan Kirpenstein", "Johan Nan", in the profile and
in its household's member lists. The households holding such a profile are rebuilt as an
incremental run rebuilds them (``rebuild_households``); nothing else changes. A person really
called Nan has their household rebuilt to what it was.

Revision ID: 0012
Revises: 0011
"""

from alembic import op
from sqlalchemy import text

from profile_api.store.migrations import set_schema_version
from profile_api.store.write_delta import rebuild_households

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_SHOWN_NAN = ("SELECT DISTINCT household_id FROM profile "
              "WHERE display_name = 'Nan' OR display_name LIKE 'Nan %' OR display_name LIKE '% Nan'")


def upgrade() -> None:
    conn = op.get_bind()
    households = [row[0] for row in conn.execute(text(_SHOWN_NAN))]
    if households:
        rebuild_households(conn, households)
    set_schema_version(12)
