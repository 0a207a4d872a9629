"""The HTML report end to end: a generated drop with a bad row, a real Splink run, a real SQLite store."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from herken.cli import main
from profile_api.store import open_store

BAD_ROW = "BAD-0001,<b>Eve</b>,Bakker,1990-02-03,eve@example.nl,,,,,,,2024-02-31T10:00:00\n"
# accepted without its birth date, which no calendar has (set aside)
ASIDE_ROW = "ASIDE-0001,Eva,Bakker,31-02-1990,eva@example.nl,,,,,,,2024-01-01T10:00:00\n"


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[str, str]:
    """Return the report page and the store URL of a 150-household drop with one bad webshop row."""
    tmp = tmp_path_factory.mktemp("report")
    drop = tmp / "drop"
    assert main(["generate", str(drop), "--households", "150", "--seed", "5"]) == 0
    with (drop / "webshop.csv").open("a", encoding="utf-8") as fh:
        fh.write(BAD_ROW + ASIDE_ROW)
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
    assert "2024-02-31T10:00:00" in reason
    assert html.escape(reason) in page
    # Data is escaped: the name in the bad row shows as text, never as markup.
    assert "<b>Eve</b>" not in page and "&lt;b&gt;Eve&lt;/b&gt;" in page


def test_the_report_counts_the_birth_dates_set_aside_per_file(report):
    page, url = report
    assert "accepted, birth date set aside" in page
    row = re.search(r"<tr><td><code>webshop\.csv</code></td>(.*?)</tr>", page, re.S)
    assert row is not None and [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))][2:4] \
        == ["1", "1"]     # one quarantined (BAD-0001), one accepted without its birth date (ASIDE-0001)
    with create_engine(url).connect() as con:
        assert con.execute(text("SELECT count(*) FROM source_record WHERE record_id = 'ASIDE-0001'")).scalar_one() == 1


def test_the_report_shows_channels_model_and_review(report):
    page, _ = report
    for channel in ("pos", "webshop", "app", "service"):
        assert f"<td>{channel}</td>" in page
    assert 'id="review"' in page and "Borderline pairs" in page and "Refused merges" in page
    assert 'id="model"' in page and page.count('class="vega-chart"') == 3    # two of the model, one waterfall
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
    assert main(["report", "--store", url, "--out", str(tmp_path / "report.html")]) == 2     # no store: exit 2
    assert "herken resolve" in capsys.readouterr().err
    assert not (tmp_path / "report.html").exists() and not (tmp_path / "empty.db").exists()
    open_store(url).dispose()                                 # a store that holds no run yet
    assert main(["report", "--store", url, "--out", str(tmp_path / "report.html")]) == 1
    assert "herken resolve" in capsys.readouterr().err
    assert not (tmp_path / "report.html").exists()


def test_the_waterfall_chart_shows_sampled_merges_adding_up_to_their_stored_weight(report):
    page, url = report
    with create_engine(url).connect() as con:
        merges = {(a, b): (p, w) for a, b, p, w in con.execute(text(
            "SELECT unique_id_l, unique_id_r, match_probability, match_weight FROM match_edge WHERE kind = 'merge'"))}
    assert 'id="merges"' in page and f"5 of the run&#x27;s {len(merges):,} merges" in page
    spec = json.loads(re.search(r'<script type="application/json" id="chart-spec-merges">(.*?)</script>', page,
                                re.DOTALL).group(1))
    steps = spec["data"]["values"]
    shown = re.findall(r"<tr><td class=\"num\">(\d)</td><td><code>([^<]+)</code></td><td><code>([^<]+)</code></td>",
                       page)
    assert [int(n) for n, _, _ in shown] == [0, 1, 2, 3, 4]
    for n, a, b in shown:
        probability, weight = merges[a, b]
        bars = [s for s in steps if s["record_number"] == int(n)]
        final = next(s for s in bars if s["column_name"] == "Final score")
        parts = sum(s["log2_bayes_factor"] for s in bars if s["column_name"] != "Final score")
        assert abs(final["log2_bayes_factor"] - weight) < 1e-6 and abs(parts - weight) < 1e-6
    probabilities = [merges[a, b][0] for _, a, b in shown]
    assert probabilities == sorted(probabilities) and probabilities[0] == min(p for p, _ in merges.values())
