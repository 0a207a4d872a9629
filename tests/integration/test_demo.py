"""`herken demo`, the README's main job, end to end: generate, resolve, evaluate, report, serve."""

from __future__ import annotations

from herken.cli import main


def test_the_demo_runs_every_step_and_serves(tmp_path, capsys):
    assert main(["demo", "--dir", str(tmp_path), "--households", "60"]) == 0
    out = capsys.readouterr().out
    for step in ("$ herken generate", "$ herken resolve", "$ herken evaluate", "$ herken report", "server stopped"):
        assert step in out
    assert (tmp_path / "report.html").is_file()
    # customer service asks why two holders of the family card are one household, and is told what links them
    assert "ExplainMatch(" in out and "  household: one household (" in out
    # and what holds that whole household together, member by member
    assert "ExplainHousehold(H" in out and "persons: " in out.split("ExplainHousehold(")[1]
    # a walk-in signed up at the till is found by name at once
    walk_in = out.split("== Till: a new customer signs up")[1].split("\n== ")[0]
    made = walk_in.split("a new customer ")[1].split(",")[0]
    assert made.startswith("C") and made in walk_in.split("SearchCustomers(")[1]
