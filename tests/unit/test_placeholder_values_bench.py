"""bench/placeholder_values.py: a drop's copy with a till's default card and a web form's placeholder e-mail (or
the same fields emptied)."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.placeholder_values import DEFAULT_CARD, PLACEHOLDER_EMAIL, with_placeholders  # noqa: E402

SMALL_DROP = Path(__file__).resolve().parents[2] / "fixtures" / "small-drop"


def _rows(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_the_same_records_get_the_placeholders_or_empty_fields_and_nothing_else_changes(tmp_path):
    filled = with_placeholders(SMALL_DROP, tmp_path / "filled", 0.3, seed=2)
    blank = with_placeholders(SMALL_DROP, tmp_path / "blank", 0.3, seed=2, blank=True)
    assert filled == blank and filled["pos"] > 0 and filled["webshop"] > 0
    for source, field, placeholder in (("pos", "loyalty_card", DEFAULT_CARD), ("webshop", "email", PLACEHOLDER_EMAIL)):
        before, after, emptied = (_rows(d / f"{source}.csv") for d in (SMALL_DROP, tmp_path / "filled",
                                                                         tmp_path / "blank"))
        hit = [a[field] == placeholder for a in after]
        assert sum(hit) == filled[source]
        assert [e[field] == "" for e, h in zip(emptied, hit) if h] == [True] * sum(hit)
        for b, a in zip(before, after):
            assert {k: v for k, v in a.items() if k != field} == {k: v for k, v in b.items() if k != field}
    for name in ("app.csv", "service.csv", "truth.csv", "interactions.csv"):
        assert (tmp_path / "filled" / name).read_bytes() == (SMALL_DROP / name).read_bytes()


def test_a_tills_name_for_strangers_goes_into_both_name_fields_of_till_records_only(tmp_path):
    changed = with_placeholders(SMALL_DROP, tmp_path / "named", 0.3, seed=2, names=True)
    assert set(changed) == {"pos"} and changed["pos"] > 0
    after = _rows(tmp_path / "named" / "pos.csv")
    assert sum((a["first_name"], a["last_name"]) == ("Klant", "Onbekend") for a in after) == changed["pos"]
    assert (tmp_path / "named" / "webshop.csv").read_bytes() == (SMALL_DROP / "webshop.csv").read_bytes()
