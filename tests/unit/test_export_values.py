"""What `herken export` writes of a stored value: one layout whatever the store (profile_api.store.export)."""

import datetime as dt

from profile_api.store.export import _plain


def test_booleans_are_true_or_false_and_id_lists_are_lists_on_either_store():
    assert _plain("granted", 1) is True and _plain("granted", 0) is False        # SQLite hands back integers
    assert _plain("granted", True) is True                                        # PostgreSQL booleans
    assert _plain("std_phone_mobile", 1) is True and _plain("std_phone_mobile", None) is None
    assert _plain("customer_ids_before", "C-1 C-2") == ["C-1", "C-2"]
    assert _plain("customer_ids_after", None) == []
    assert _plain("house_number", 12) == 12 and _plain("at", dt.date(2026, 1, 2)) == "2026-01-02"
