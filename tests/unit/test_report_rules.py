"""The "rules against the model" table and lines, from plain values; and what a run keeps of its rules."""

from __future__ import annotations

import datetime as dt
import re

from herken.report import (
    AGAINST_MODEL, PairView, ReportData, RuleAgainstModel, record_view, rules_against_model_lines, rules_html,
    rules_table,
)
from identity.rules import BIRTH_DATE, FIRST_NAME, NAMELESS, NAMES_ONLY, RULE_TITLES, STEWARD, RuleBook, Strictness
from identity.strictness import rules_of_run
from profile_api.store.models import Run


def pair(left: str, right: str, probability: float, reason: str, left_name: str, right_name: str) -> PairView:
    def view(uid: str, first: str) -> object:
        return record_view(uid, "C" + uid[-1], {"first_name": first, "last_name": "Jansen", "birth_date": "1980-03-12",
                                               "std_given": first.lower(), "std_surname": "jansen"})

    return PairView(left, right, probability, 9.5, reason, view(left, left_name), view(right, right_name))


FIRST = RuleAgainstModel(
    FIRST_NAME, RULE_TITLES[FIRST_NAME], refused=40, against_model=12,
    examples=[pair("pos:1", "app:2", 0.9991, "different first names rahcel / rachyel", "Rahcel", "Rachyel"),
              pair("pos:3", "app:4", 0.95, "different first names tabhta / tabitha", "Tabhta", "Tabitha")],
    strictness="different first names: 329 of 2,430 near-identical pairs (13.5%); the rule gives way from match "
               "probability 0.99")
BIRTH = RuleAgainstModel(BIRTH_DATE, RULE_TITLES[BIRTH_DATE], refused=7, against_model=0, examples=[],
                         strictness="different birth dates: 2 of 300 near-identical pairs (0.7%); the rule refuses outright")
NAMES = RuleAgainstModel(NAMES_ONLY, RULE_TITLES[NAMES_ONLY], refused=0, against_model=0, examples=[],
                         strictness="only the names agree: such a pair joins only from match probability 0.8, "
                         "or where no third person in the drop holds its full name")
STEWARDS = RuleAgainstModel(STEWARD, RULE_TITLES[STEWARD], 0, 0, [], "a pair a data steward separated is never joined")
RULES = [FIRST, BIRTH, NAMES, STEWARDS]


def rows_of(page: str) -> list[list[str]]:
    """Return the cell texts of the rules table's body rows."""
    body = re.search(r'<table class="rules">.*?<tbody>(.*?)</tbody>', page, re.DOTALL).group(1)
    return [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", body)]


def test_the_table_has_one_row_per_rule_with_its_counts_share_and_strictness():
    rows = rows_of(rules_table(RULES))
    assert [r[0] for r in rows] == [RULE_TITLES[r] for r in (FIRST_NAME, BIRTH_DATE, NAMES_ONLY, STEWARD)]
    assert rows[0][1:4] == ["12", "40", "30.0%"]
    # the rule's title stands in the first column, so the strictness line loses it
    assert rows[0][4] == "329 of 2,430 near-identical pairs (13.5%); the rule gives way from match probability 0.99"
    assert rows[1][1:4] == ["0", "7", "0.0%"] and rows[1][4].endswith("the rule refuses outright")
    assert rows[3][1:4] == ["0", "0", "–"]


def test_a_run_that_kept_no_rules_says_so_instead_of_a_strictness():
    old = RuleAgainstModel(FIRST_NAME, RULE_TITLES[FIRST_NAME], 3, 1, [], None)
    assert "not kept for this run" in rows_of(rules_table([old]))[0][4]


def test_the_section_shows_each_rules_most_confident_refusals_and_escapes_data():
    evil = RuleAgainstModel(FIRST_NAME, RULE_TITLES[FIRST_NAME], 1, 1,
                            [pair("pos:1", "app:2", 0.97, "different first names <b>x</b> / y", "<b>X</b>", "Y")], None)
    data = ReportData(Run(run_id="r"), [], {}, {}, [], 0, [], 0, [], 0, 0, rules_against_model=[evil, BIRTH])
    page = rules_html(data)
    assert 'id="rules"' in page and "Rules against the model" in page
    assert "1 pairs the model scored at match probability ≥ 0.9 were kept apart" in page
    assert "different first names: the 1 most confident of 1 refusals at p ≥ 0.9" in page
    assert "<b>X</b>" not in page and "&lt;b&gt;X&lt;/b&gt;" in page
    assert "different birth dates: the" not in page   # no refusal against the model, no examples


def test_a_run_without_refusals_against_the_model_says_so():
    data = ReportData(Run(run_id="r"), [], {}, {}, [], 0, [], 0, [], 0, 0, rules_against_model=[BIRTH, NAMES])
    assert f"No cannot-link rule refused a pair the model scored at match probability ≥ {AGAINST_MODEL}" in rules_html(data)


def test_the_cli_lines_give_counts_one_example_and_the_strictness():
    lines = rules_against_model_lines(RULES)
    assert lines[0].startswith("rules against the model")
    assert lines[1] == ("  different first names: 12 of 40 refused pairs; e.g. p 0.9991 pos:1 (Rahcel Jansen, 1980-03-12) "
                        "/ app:2 (Rachyel Jansen, 1980-03-12): rahcel / rachyel")
    assert lines[2] == "  different birth dates: 0 of 7 refused pairs"
    assert "  only the names agree: 0 of 0 refused pairs" in lines   # its threshold was kept with the run
    assert not any("data steward" in line for line in lines)         # refused nothing, not measured
    at = lines.index("how strict each rule was on this drop:")
    assert lines[at + 1:] == [f"  {FIRST.strictness}", f"  {BIRTH.strictness}", f"  {NAMES.strictness}"]


def test_a_run_keeps_each_rules_strictness_and_the_names_only_threshold():
    book = RuleBook({}, [Strictness(FIRST_NAME, 2430, 329), Strictness(BIRTH_DATE, 300, 2)])
    kept = rules_of_run(book, names_only_threshold=0.8)
    assert [k["rule"] for k in kept] == [FIRST_NAME, BIRTH_DATE, NAMELESS, NAMES_ONLY]
    assert kept[0] == {"rule": FIRST_NAME, "pairs": 2430, "conflicts": 329, "strict": False,
                       "description": Strictness(FIRST_NAME, 2430, 329).describe()}
    assert kept[1]["strict"] is True and kept[1]["description"].endswith("refuses outright")
    assert kept[3]["description"] == ("only the names agree: such a pair joins only from match probability 0.8, "
                                      "or where no third person in the drop holds its full name")
    assert [k["rule"] for k in rules_of_run(RuleBook())] == [NAMELESS, NAMES_ONLY]   # nothing measured: only the fixed rules
