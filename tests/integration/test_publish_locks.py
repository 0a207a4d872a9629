"""A publish on PostgreSQL never locks readers out: a large load keeps the tables' indexes (dropping one
takes the table's exclusive lock until the commit, and a reader joining two such tables deadlocked
with the publish at 100k records)."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import text

from profile_api.store import open_store
from profile_api.store.models import SourceRecord
from profile_api.store.write import REBUILD_INDEXES_ABOVE, bulk_insert


def test_a_large_load_on_postgresql_lets_readers_read_while_it_is_under_way(fresh_pg_url):
    engine = open_store(fresh_pg_url, migrate=True)
    rows = REBUILD_INDEXES_ABOVE + 1
    frame = pd.DataFrame({"source": "pos", "record_id": [f"R{i}" for i in range(rows)],
                          "std_email": [f"p{i}@example.nl" for i in range(rows)]})
    reader = engine.connect()
    try:
        with engine.begin() as conn:
            assert bulk_insert(conn, SourceRecord, frame) == rows
            # the load is not committed; a reader that may wait 1 s for a lock reads the table by its index
            reader.execute(text("SET lock_timeout = 1000"))
            found = reader.execute(text("SELECT count(*) FROM source_record WHERE std_email = 'p7@example.nl'"))
            assert found.scalar() == 0            # the old (empty) table, without waiting
            reader.rollback()
        indexes = {row[0] for row in reader.execute(text(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'source_record'"))}
        assert "ix_source_record_std_email" in indexes
    finally:
        reader.close()
        engine.dispose()
