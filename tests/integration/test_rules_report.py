"""Rules against the model, end to end: the small drop resolved and reported through the CLI, on a real
SQLite file and the real PostgreSQL; the counts shown are the counts the match_edge table holds."""

from __future__ import annotations

import contextlib
import html
import io
import json
import re
from collections import Counter

import pytest
from sqlalchemy import text

from herken.cli import main
from herken.report import AGAINST_MODEL
from identity.rules import BIRTH_DATE, FIRST_NAME, MOBILE, NAMELESS, NAMES_ONLY, RULE_TITLES, STEWARD, SURNAME, rule_of
from identity.strictness import HOUSEHOLDS
from profile_api.store import open_store
from profile_api.store.models import SCHEMA_VERSION
from tests.integration.test_migrate import undo_10
from tests.integration.test_profile_store import _BEFORE_8 as BEFORE_8


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def resolved(request, small_drop, tmp_path_factory):
    """(store URL, what `herken resolve` printed, the report page, tmp dir) of the small drop."""
    tmp = tmp_path_factory.mktemp(f"rules-{request.param}")
    url = f"sqlite:///{tmp / 'herken.db'}" if request.param == "sqlite" else request.getfixturevalue("module_pg_url")
    mp = pytest.MonkeyPatch()
    mp.setenv("HERKEN_RUNS_DIR", str(tmp / "runs"))
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            assert main(["resolve", str(small_drop), "--store", url]) == 0
            assert main(["report", "--store", url, "--out", str(tmp / "report.html")]) == 0
    finally:
        mp.undo()
    return url, out.getvalue(), (tmp / "report.html").read_text(encoding="utf-8"), tmp


def refusals(url: str) -> list[tuple[str, float, str, str, str]]:
    """Return every refused pair of the published run: (rule, probability, reason, id_l, id_r), most confident first."""
    engine = open_store(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT reason, match_probability, unique_id_l, unique_id_r FROM match_edge "
                                 "WHERE kind = 'refused' ORDER BY match_probability DESC, unique_id_l, unique_id_r")).all()
    engine.dispose()
    return [(rule_of(reason), p, reason, left, right) for reason, p, left, right in rows]


def table_rows(page: str) -> dict[str, list[str]]:
    """Return the rules table's rows by their first cell."""
    body = re.search(r'<section id="rules">.*?<table class="rules">.*?<tbody>(.*?)</tbody>', page, re.DOTALL).group(1)
    rows = [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", body)]
    return {row[0]: row[1:] for row in rows}


def test_the_report_table_counts_what_match_edge_holds(resolved):
    url, _, page, _ = resolved
    edges = refusals(url)
    total = Counter(rule for rule, *_ in edges)
    sure = Counter(rule for rule, p, *_ in edges if p >= AGAINST_MODEL)
    assert sure[FIRST_NAME] > 0 and sure[BIRTH_DATE] > 0    # the small drop has rules against the model to show
    rows = table_rows(page)
    assert list(rows) == [RULE_TITLES[r] for r in (FIRST_NAME, BIRTH_DATE, SURNAME, MOBILE, NAMELESS, NAMES_ONLY, STEWARD)]
    for rule, title in RULE_TITLES.items():
        assert rows[title][:2] == [f"{sure[rule]:,}", f"{total[rule]:,}"], rule
    assert f'{sum(sure.values()):,}</div><div class="label">refused at p ≥ {AGAINST_MODEL}' in page


def test_the_report_shows_each_rules_most_confident_refusals_first(resolved):
    url, _, page, _ = resolved
    section = re.search(r'<section id="rules">(.*?)</section>', page, re.DOTALL).group(1)
    for rule in (FIRST_NAME, BIRTH_DATE):
        mine = [e for e in refusals(url) if e[0] == rule and e[1] >= AGAINST_MODEL]
        heading = f"{RULE_TITLES[rule]}: the {min(3, len(mine))} most confident of {len(mine)} refusals at p ≥ 0.9"
        examples = section.split(heading)[1].split("<h3>")[0]
        shown = re.findall(r'<td class="rid"><code>(.*?)</code>', examples)
        assert shown == [html.escape(uid) for _, _, _, left, right in mine[:3] for uid in (left, right)]
        assert html.escape(mine[0][2]) in examples


def test_the_runs_strictness_travels_with_it_to_the_report(resolved):
    url, _, page, _ = resolved
    engine = open_store(url)
    with engine.connect() as conn:
        kept = json.loads(conn.execute(text("SELECT rules_json FROM run")).scalar_one())
    engine.dispose()
    assert [k["rule"] for k in kept] == [FIRST_NAME, BIRTH_DATE, SURNAME, MOBILE, NAMELESS, NAMES_ONLY, HOUSEHOLDS]
    assert "Households: " + kept[-1]["description"].removeprefix("households: ") in html.unescape(page)
    kept = kept[:-1]
    rows = table_rows(page)
    for k in kept:
        title = RULE_TITLES[k["rule"]]
        assert rows[title][3] == html.escape(k["description"][len(title) + 2:])
    assert re.fullmatch(r"different first names: \d[\d,]* of \d[\d,]* near-identical pairs \(\d+\.\d%\)"
                        r"(; their mobile numbers and e-mail addresses show \d+% of the conflicts to be one person's "
                        r"\(\d[\d,]* of \d[\d,]* agree, \d[\d,]* would for one person\)( \(too few to tell\))?)?; the rule "
                        r"(refuses outright|gives way from match probability 0\.99)"
                        r"(; different first names on one mobile number: \d[\d,]* of \d[\d,]* such pairs .*)?",
                        kept[0]["description"])
    assert set(kept[0].get("personal_mobile", {})) <= {"pairs", "conflicts"}
    assert set(kept[0].get("witnessed", {})) <= {"held", "agreeing", "expected", "agree"}


def test_resolve_prints_the_rules_against_the_model_with_an_example_each(resolved):
    url, out, _, _ = resolved
    edges = refusals(url)
    lines = out.splitlines()
    at = lines.index("  rules against the model (refused pairs the model scored at match probability >= 0.9):")
    for rule in (FIRST_NAME, BIRTH_DATE):
        mine = [e for e in edges if e[0] == rule]
        sure = [e for e in mine if e[1] >= AGAINST_MODEL]
        line = next(line for line in lines[at:] if line.startswith(f"    {RULE_TITLES[rule]}: "))
        _, p, reason, left, right = sure[0]
        assert line.startswith(f"    {RULE_TITLES[rule]}: {len(sure):,} of {len(mine):,} refused pairs; "
                               f"e.g. p {p:.4f} {left} (")
        assert f" / {right} (" in line and line.endswith(reason[len(RULE_TITLES[rule]):].strip())
    engine = open_store(url)
    with engine.connect() as conn:
        kept = json.loads(conn.execute(text("SELECT rules_json FROM run")).scalar_one())
    engine.dispose()
    strict = lines.index("  how strict each rule was on this drop:")
    rules = [k for k in kept if k["rule"] != HOUSEHOLDS]
    assert lines[strict + 1:strict + 1 + len(rules)] == [f"    {k['description']}" for k in rules]
    assert lines[strict + 1 + len(rules)] == "  " + next(k for k in kept if k["rule"] == HOUSEHOLDS)["description"]


def test_a_store_of_schema_5_is_reported_once_migrated(resolved, capsys):
    # last in this module: it takes the store back to what schema 5 wrote
    url, _, _, tmp = resolved
    engine = open_store(url)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE run DROP COLUMN rules_json"))
        conn.execute(text("ALTER TABLE run DROP COLUMN review_json"))
        undo_10(conn)                  # no served generation before 10
        for statement in BEFORE_8:     # SQL, or a step written in Python (the profiles' JSON made again)
            statement(conn) if callable(statement) else conn.execute(text(statement))
        conn.execute(text("UPDATE schema_info SET version = 5"))
        conn.execute(text("DROP TABLE alembic_version"))     # as a herken from before Alembic left it
    engine.dispose()
    out = tmp / "migrated.html"
    capsys.readouterr()
    assert main(["report", "--store", url, "--out", str(out)]) == 2     # report never changes a store's schema
    assert f"is at schema version 5, this herken needs {SCHEMA_VERSION}: run `herken migrate --store {url}`" \
        in capsys.readouterr().err
    assert not out.exists()
    assert main(["migrate", "--store", url]) == 0
    assert f"schema version 5 -> {SCHEMA_VERSION}" in capsys.readouterr().out
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["report", "--store", url, "--out", str(out)]) == 0
    engine = open_store(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version FROM schema_info")).scalar() == SCHEMA_VERSION == 13
        assert conn.execute(text("SELECT rules_json, review_json FROM run")).one() == (None, None)
    engine.dispose()
    page = out.read_text(encoding="utf-8")
    sure = Counter(rule for rule, p, *_ in refusals(url) if p >= AGAINST_MODEL)
    rows = table_rows(page)
    assert rows[RULE_TITLES[FIRST_NAME]][0] == f"{sure[FIRST_NAME]:,}"   # counted from match_edge as before
    assert "not kept for this run" in rows[RULE_TITLES[FIRST_NAME]][3]
    assert "of how many was not recorded" in page     # its borderline pairs: a sample, of an unknown number
