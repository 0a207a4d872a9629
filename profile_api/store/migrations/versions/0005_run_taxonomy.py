"""Schema version 5: the run keeps its category taxonomy and the categories it does not place
(run.categories_json, run.unplaced_categories_json).

A run published before then was derived through the built-in taxonomy: that is what it keeps (and
the drop's categories that taxonomy does not place, counted from the stored interactions), so its
profiles stay as they are.

Revision ID: 0005
Revises: 0004
"""

import json

import sqlalchemy as sa
from alembic import op

from identity.categories import DEFAULT_CATEGORIES   # the built-in taxonomy these runs were derived through
from profile_api.store.migrations import set_schema_version

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("run") as batch:
        batch.add_column(sa.Column("categories_json", sa.Text(), nullable=True))
        batch.add_column(sa.Column("unplaced_categories_json", sa.Text(), nullable=True))
    conn = op.get_bind()
    known = [c for c, _, _ in DEFAULT_CATEGORIES]
    marks = ", ".join(f":c{i}" for i in range(len(known)))
    unplaced = conn.execute(sa.text(
        f"SELECT trim(category) AS c, count(*) AS n FROM interaction WHERE trim(category) <> '' "
        f"AND trim(category) NOT IN ({marks}) GROUP BY trim(category) ORDER BY n DESC, c"),
        {f"c{i}": c for i, c in enumerate(known)}).all()
    conn.execute(sa.text("UPDATE run SET categories_json = :categories, unplaced_categories_json = :unplaced "
                         "WHERE categories_json IS NULL"),
                 {"categories": json.dumps([list(c) for c in DEFAULT_CATEGORIES]),
                  "unplaced": json.dumps([[c, int(n)] for c, n in unplaced])})
    set_schema_version(5)


def downgrade() -> None:
    raise NotImplementedError("herken does not downgrade a store: restore the backup taken before `herken migrate`")
