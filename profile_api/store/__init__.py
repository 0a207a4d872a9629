"""The profile store: SQLModel tables and the functions that read them; the writer is ``profile_api.store.write``."""

from profile_api.store.db import (
    DEFAULT_STORE_URL, NoStore, OutdatedStore, StoreError, UnusableStore, migrate_store, open_store,
)
from profile_api.store.read import latest_run, read_links

__all__ = ["DEFAULT_STORE_URL", "NoStore", "OutdatedStore", "StoreError", "UnusableStore", "migrate_store", "open_store",
           "latest_run", "read_links"]
