"""bench/shared_mobiles.py: a drop's copy with family members on one mobile number (what the first-name
rule's personal-mobile waiver must not merge)."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.shared_mobiles import share_mobiles  # noqa: E402

HEADER = ["record_id", "first_name", "last_name", "birth_date", "email", "phone", "street", "house_number",
          "postcode", "city", "loyalty_card", "updated_at"]


def _write(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=HEADER)
        writer.writeheader()
        writer.writerows(rows)


def _rows(path: Path) -> dict[str, dict]:
    with path.open(newline="") as f:
        return {row["record_id"]: row for row in csv.DictReader(f)}


def test_every_other_member_of_a_chosen_household_carries_one_members_mobile(tmp_path):
    drop, out = tmp_path / "drop", tmp_path / "out"
    drop.mkdir()
    blank = {c: "" for c in HEADER}
    _write(drop / "pos.csv", [{**blank, "record_id": "p1", "first_name": "Jan", "phone": "06-12345678"},
                              {**blank, "record_id": "p2", "first_name": "Bas", "phone": "+31687654321"},
                              {**blank, "record_id": "p3", "first_name": "Els", "phone": "0201234567"}])
    _write(drop / "app.csv", [{**blank, "record_id": "a1", "first_name": "Bas", "phone": ""}])
    for source in ("webshop", "service"):
        _write(drop / f"{source}.csv", [])
    (drop / "truth.csv").write_text("source,record_id,person_id,household_id\npos,p1,P1,H1\npos,p2,P2,H1\n"
                                    "app,a1,P2,H1\npos,p3,P3,H2\n")
    (drop / "interactions.csv").write_text("source,record_id\n")
    counts = share_mobiles(drop, out, share=1.0, seed=1)
    pos, app = _rows(out / "pos.csv"), _rows(out / "app.csv")
    assert counts == {"households": 1, "records": 2}          # H2 has one person: left as it is
    assert pos["p2"]["phone"] == app["a1"]["phone"] == "06-12345678" == pos["p1"]["phone"]
    assert pos["p3"]["phone"] == "0201234567"
    assert (out / "truth.csv").read_text() == (drop / "truth.csv").read_text()
    assert (out / "interactions.csv").is_file()
