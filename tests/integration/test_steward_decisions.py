"""Steward decisions that no run could honour together are refused when taken (pure check, then the command)."""

from __future__ import annotations

import datetime as dt

from herken.cli import main
from profile_api.store.steward import Decision, contradiction

T = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


def _d(decision_id: str, kind: str, a: str, b: str) -> Decision:
    return Decision(decision_id, kind, a, b, "why", "steward", T)


def test_a_cannot_link_across_a_chain_of_must_links_contradicts_them():
    chain = [_d("SD-1", "must_link", "pos:a", "pos:b"), _d("SD-2", "must_link", "pos:b", "pos:c")]
    assert contradiction(chain, "cannot_link", "pos:a", "pos:c") == ["SD-1", "SD-2"]
    assert contradiction(chain, "cannot_link", "pos:a", "pos:d") == []


def test_a_must_link_closing_a_chain_over_a_cannot_link_contradicts_it():
    taken = [_d("SD-1", "must_link", "pos:a", "pos:b"), _d("SD-9", "cannot_link", "pos:a", "pos:c")]
    assert contradiction(taken, "must_link", "pos:b", "pos:c") == ["SD-9", "SD-1"]
    assert contradiction(taken, "must_link", "pos:b", "pos:d") == []


def test_the_command_refuses_the_third_of_three_contradicting_decisions(tmp_path, monkeypatch, capsys, small_drop):
    monkeypatch.setenv("HERKEN_RUNS_DIR", str(tmp_path / "runs"))
    url = f"sqlite:///{tmp_path / 'store.db'}"
    assert main(["resolve", str(small_drop), "--store", url]) == 0
    ids = [line.split(",")[0] for line in (small_drop / "pos.csv").read_text().splitlines()[1:4]]
    a, b, c = (f"pos:{i}" for i in ids)
    assert main(["steward", "must-link", a, b, "--reason", "one", "--store", url]) == 0
    assert main(["steward", "must-link", b, c, "--reason", "one", "--store", url]) == 0
    capsys.readouterr()
    assert main(["steward", "cannot-link", a, c, "--reason", "two", "--store", url]) == 2
    assert "contradicts" in capsys.readouterr().err


def test_a_record_kept_apart_through_a_cannot_link_on_other_records_of_the_two_persons_names_the_decision(
        tmp_path, monkeypatch, small_drop):
    """Review finding (session 33): a third record cut off with one side of a cannot-link was explained as 'kept apart
    by the cannot-link rule steward' with no decision, no reason and no date."""
    from sqlalchemy import text

    from profile_api.explain import Explainer
    from profile_api.store import open_store

    monkeypatch.setenv("HERKEN_RUNS_DIR", str(tmp_path / "runs"))
    url = f"sqlite:///{tmp_path / 'store.db'}"
    assert main(["resolve", str(small_drop), "--store", url]) == 0
    engine = open_store(url)
    with engine.connect() as conn:
        customer_id = conn.execute(text("SELECT customer_id FROM record_link GROUP BY customer_id "
                                        "HAVING count(*) >= 3 ORDER BY customer_id LIMIT 1")).scalar()
        records = [f"{s}:{r}" for s, r in conn.execute(text(
            "SELECT source, record_id FROM record_link WHERE customer_id = :c ORDER BY source, record_id"),
            {"c": customer_id})]
    a, b = records[0], records[1]
    assert main(["steward", "cannot-link", a, b, "--reason", "two brothers", "--by", "ana", "--apply",
                 "--store", url]) == 0
    with engine.connect() as conn:
        placed = dict(((f"{s}:{r}", c) for s, r, c in conn.execute(text(
            "SELECT source, record_id, customer_id FROM record_link"))))
    third = next(r for r in records[2:] if placed[r] != placed[a])     # with b's side, apart from a
    found = Explainer(engine).explain_pair(third, a)
    engine.dispose()
    assert not found.same_person
    assert found.verdict.steward_decision_id.startswith("SD-")
    assert "two brothers" in found.verdict.decision and f"between {a} and {b}" in found.verdict.decision \
        or f"between {b} and {a}" in found.verdict.decision
