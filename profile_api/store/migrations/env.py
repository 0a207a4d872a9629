"""Alembic environment of the herken store: runs on the connection profile_api.store.db hands in.

The caller owns the transaction (one for the whole upgrade, on SQLite too), so a step that fails
leaves the store as it was.
"""

from alembic import context

from sqlmodel import SQLModel

import profile_api.store.models  # noqa: F401  (the tables, on SQLModel.metadata)

connection = context.config.attributes.get("connection")
if connection is None or context.is_offline_mode():
    raise RuntimeError("herken's migrations run on a connection it hands in: use `herken migrate --store URL`")
context.configure(connection=connection, target_metadata=SQLModel.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
