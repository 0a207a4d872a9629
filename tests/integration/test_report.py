"""The HTML report end to end: a generated drop with a bad row, a real Splink run, a real SQLite store."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from herken.cli import main

BAD_ROW = "BAD-0001,<b>Eve</b>,Bakker,31-02-1990,eve@example.nl,,,,,,,2024-01-01T10:00:00\n"


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[str, str]:
    """Return the report page and the store URL of a 150-household drop with one bad webshop row."""
    tmp = tmp_path_factory.mktemp("report")
    drop = tmp / "drop"
    assert main(["generate", str(drop), "--households", "150", "--seed", "5"]) == 0
    with (drop / "webshop.csv").open("a", encoding="utf-8") as fh:
        fh.write(BAD_ROW)
    url = f"sqlite:///{tmp / 'herken.db'}"
    mp = pytest.MonkeyPatch()
    mp.setenv("HERKEN_RUNS_DIR", str(tmp / "runs"))
    try:
        assert main(["resolve", str(drop), "--store", url]) == 0
    finally:
        mp.undo()
    out = tmp / "out" / "report.html"
    assert main(["report", "--store", url, "--out", str(out)]) == 0
    assert out.is_file()
    return out.read_text(encoding="utf-8"), url


def test_the_report_shows_the_quarantined_row_with_its_reason(report):
    page, url = report
    with create_engine(url).connect() as con:
        reason = con.execute(text("SELECT reason FROM quarantine WHERE file = 'webshop.csv'")).scalar_one()
    assert "31-02-1990" in reason
    assert html.escape(reason) in page
    # Data is escaped: the name in the bad row shows as text, never as markup.
    assert "<b>Eve</b>" not in page and "&lt;b&gt;Eve&lt;/b&gt;" in page


def test_the_report_shows_channels_model_and_review(report):
    page, _ = report
    for channel in ("pos", "webshop", "app", "service"):
        assert f"<td>{channel}</td>" in page
    assert 'id="review"' in page and "Borderline pairs" in page and "Refused merges" in page
    assert 'id="model"' in page and page.count('class="vega-chart"') == 2
    assert "Records per person" in page and "Persons per household" in page


def test_the_borderline_pairs_say_they_are_a_sample_of_how_many_in_which_band(report):
    page, url = report
    with create_engine(url).connect() as con:
        review = json.loads(con.execute(text("SELECT review_json FROM run")).scalar_one())
        kept = con.execute(text("SELECT count(*) FROM match_edge WHERE kind = 'review'")).scalar_one()
        low, high = review["band"]
        in_band = con.execute(text("SELECT count(*) FROM match_edge WHERE kind = 'review' AND match_probability "
                                   "BETWEEN :low AND :high"), {"low": low, "high": high}).scalar_one()
    assert review["kept"] == kept == in_band > 0 and review["pairs"] >= kept
    assert f"Borderline pairs (match probability {low:g}–{high:g})" in page
    whole = f"all {review['pairs']:,} pairs" if kept == review["pairs"] else \
        f"a random sample of {kept:,} of the {review['pairs']:,} pairs"
    assert f"The run kept {whole} in the band;" in page


def test_the_report_is_self_contained(report):
    page, _ = report
    assert not re.search(r"<script[^>]*\bsrc=", page, re.IGNORECASE)
    assert not re.search(r"<link[^>]*\bhref=[\"']?https?://", page, re.IGNORECASE)
    assert "cdn.jsdelivr" not in page
    # The Vega runtime is inlined (hundreds of kB in a script element), so the charts draw offline.
    inline = re.findall(r"<script>(.*?)</script>", page, re.DOTALL)
    assert max(map(len, inline)) > 300_000 and "vegaEmbed(" in page


def test_a_store_without_a_run_says_what_to_do(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    assert main(["report", "--store", url, "--out", str(tmp_path / "report.html")]) == 1
    assert "herken resolve" in capsys.readouterr().err
    assert not (tmp_path / "report.html").exists()
