"""The profile store: SQLModel tables and the functions that read and write them."""

from profile_api.store.db import DEFAULT_STORE_URL, OutdatedStore, StoreError, migrate_store, open_store
from profile_api.store.publish import publish_resolution
from profile_api.store.read import latest_run, read_links

__all__ = ["DEFAULT_STORE_URL", "OutdatedStore", "StoreError", "migrate_store", "open_store", "publish_resolution",
           "latest_run", "read_links"]
