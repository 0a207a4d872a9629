"""A value shared by more persons than a drop's households show joins nobody: a shop's default card typed in at the
till for customers without one, a care home's address. `herken resolve` on a generated drop with both added, into a
real SQLite file: the run keeps the caps it measured, the report says them, and an explanation says why the card
does not join two of its holders."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from sqlalchemy import text
from sqlmodel import Session, select

from herken.cli import main
from profile_api.explain import Explainer
from profile_api.store import open_store
from profile_api.store.models import Run

DEFAULT_CARD = "2600000000017"
CARE_HOME = ("Zorgcentrum De Linde", "1", "7811AB", "Emmen")
FIRST = ["Anna", "Bram", "Cor", "Daan", "Eva", "Fenna", "Gijs", "Hanna", "Isa", "Joris", "Kees", "Lotte", "Mila",
         "Noor", "Olaf", "Pien", "Quinten", "Roos", "Sem", "Tess", "Umut", "Vera", "Wout", "Xander", "Yara", "Zeger"]
SURNAMES = ["Aalbers", "Brink", "Claassen", "Dekker", "Evers", "Fokkema", "Geerts", "Hoekstra", "IJzerman", "Jonker",
            "Kuipers", "Lammers", "Mulder", "Nijhuis", "Oosterhuis"]


def _strangers(n: int, prefix: str, card: str = "", address: tuple[str, str, str, str] | None = None) -> list[dict]:
    """Return pos rows of n unrelated customers: each their own name, birth date and (unless given) address."""
    rows = []
    for i in range(n):
        street, number, postcode, city = address or (f"Laan {i}", str(10 + i), f"{9100 + i}XY", "Drachten")
        rows.append({"record_id": f"{prefix}{i:03d}", "first_name": FIRST[i % len(FIRST)],
                     "last_name": SURNAMES[(i * 7 + len(prefix)) % len(SURNAMES)] + ("" if i < 15 else "-Smit"),
                     "birth_date": f"19{40 + i % 50:02d}-0{1 + i % 9}-1{i % 9}", "email": "", "phone": "",
                     "street": street, "house_number": number, "postcode": postcode, "city": city,
                     "loyalty_card": card, "updated_at": "2025-03-0%dT10:00:00" % (1 + i % 9)})
    return rows


def test_a_default_card_and_a_care_home_join_nobody_and_the_run_keeps_its_caps(tmp_path: Path, monkeypatch) -> None:
    drop, url = tmp_path / "drop", f"sqlite:///{tmp_path / 'herken.db'}"
    monkeypatch.setenv("HERKEN_RUNS_DIR", str(tmp_path / "runs"))
    assert main(["generate", str(drop), "--households", "400", "--seed", "5"]) == 0
    added = _strangers(30, "CARD", card=DEFAULT_CARD) + _strangers(20, "CARE", address=CARE_HOME)
    with (drop / "pos.csv").open("a", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(added[0]))
        writer.writerows(added)
    assert main(["resolve", str(drop), "--store", url]) == 0
    report = tmp_path / "report.html"
    assert main(["report", "--store", url, "--out", str(report)]) == 0

    engine = open_store(url)
    try:
        with engine.connect() as con:
            homes = dict(con.execute(text(
                "SELECT l.record_id, p.household_id FROM record_link l JOIN person p ON p.customer_id = l.customer_id "
                "WHERE l.source = 'pos' AND (l.record_id LIKE 'CARD%' OR l.record_id LIKE 'CARE%')")).all())
        with Session(engine) as session:
            run = session.exec(select(Run)).one()
        kept = next(entry for entry in json.loads(run.rules_json) if entry["rule"] == "households")
        said = Explainer(engine).explain_pair("pos:CARD000", "pos:CARD001").household.decision
    finally:
        engine.dispose()

    assert len(homes) == 50
    assert len({homes[f"CARD{i:03d}"] for i in range(30)}) == 30          # the card joins none of its 30 holders
    assert len({homes[f"CARE{i:03d}"] for i in range(20)}) == 20          # nor does the care home's address
    assert kept["caps"]["address"] < 20 and kept["caps"]["loyalty_card"] < 30
    assert kept["shared"]["address"] > 50                                # measured on the drop's own households
    assert "which 30 persons use: more than" in said and "so it says nothing" in said
    assert "Households: of " in report.read_text(encoding="utf-8")
