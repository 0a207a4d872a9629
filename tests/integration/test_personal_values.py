"""A record without a birth date joins, under one surname, on the e-mail address of a record with another first
name where the drop shows such pairs to be one person's; the run keeps the measurement and the explanation of the
pair says which rule gave way and why. A drop of the default generator large enough to measure it (3,000
households: some 40 dated pairs of that kind), resolved by `herken resolve` into a real SQLite file."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from herken.cli import main
from profile_api.explain import Explainer
from profile_api.store import open_store


def test_an_undated_record_under_one_surname_joins_on_an_email_and_its_explanation_says_why(tmp_path: Path,
                                                                                          monkeypatch) -> None:
    drop, url = tmp_path / "drop", f"sqlite:///{tmp_path / 'herken.db'}"
    monkeypatch.setenv("HERKEN_RUNS_DIR", str(tmp_path / "runs"))
    assert main(["generate", str(drop), "--households", "3000", "--seed", "1"]) == 0
    assert main(["resolve", str(drop), "--store", url]) == 0
    engine = open_store(url)
    try:
        with engine.connect() as con:
            joined = list(con.execute(text(
                "SELECT e.unique_id_l, e.unique_id_r FROM match_edge e "
                "JOIN source_record a ON a.source || ':' || a.record_id = e.unique_id_l "
                "JOIN source_record b ON b.source || ':' || b.record_id = e.unique_id_r "
                "WHERE e.kind = 'merge' AND a.std_email = b.std_email AND a.std_surname = b.std_surname "
                "AND a.std_given <> b.std_given AND (a.std_birth_date IS NULL OR b.std_birth_date IS NULL) "
                "ORDER BY e.unique_id_l, e.unique_id_r")))
        explainer = Explainer(engine)
        told = [explainer.explain_pair(a, b).verdict.decision for a, b in joined[:40]]
    finally:
        engine.dispose()
    gave_way = [d for d in told if "one e-mail address under one surname, a birth date missing" in d]
    assert gave_way, f"no pair joined under the undated waiver among {len(joined)} candidates: {told[:3]}"
    assert all(d.startswith("one person: joined directly by the model") and "but the rule gave way" in d
               for d in gave_way)
    assert "dated pairs of that kind carry two birth dates" in gave_way[0]
