"""The model's SQL conditions evaluated in Python (identity.compiled_model) against DuckDB evaluating the same SQL."""

from __future__ import annotations

import math

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from identity.model import settings as model_settings
from identity.realtime import COLUMNS, POS
from identity.compiled_model import UnsupportedCondition, compile_condition, match_probability

COLUMN_INDEX = {name: i for i, name in enumerate(COLUMNS)}


def _record(**values: object) -> tuple:
    record = [None] * len(COLUMNS)
    for name, value in values.items():
        record[POS[name]] = value
    return tuple(record)


def test_a_comparison_with_a_missing_value_is_not_true_and_is_null_sees_it():
    equal = compile_condition('"given_first_l" = "given_first_r"', COLUMN_INDEX)
    missing = compile_condition("(given_first_l IS NULL) OR (given_first_r IS NULL)", COLUMN_INDEX)
    jan, nobody = _record(given_first="jan"), _record()
    assert equal(jan, jan) is True
    assert equal(jan, nobody) is None
    assert missing(jan, nobody) is True and missing(jan, jan) is False


def test_and_or_not_follow_sql_three_valued_logic():
    both = compile_condition("given_first_l = given_first_r AND birth_date_l = birth_date_r", COLUMN_INDEX)
    either = compile_condition("given_first_l = given_first_r OR birth_date_l = birth_date_r", COLUMN_INDEX)
    negated = compile_condition("NOT (given_first_l = given_first_r)", COLUMN_INDEX)
    a = _record(given_first="jan", birth_date="1980-01-01")
    b = _record(given_first="piet")
    assert both(a, b) is False                 # false AND null
    assert either(a, b) is None                # false OR null
    assert either(a, _record(birth_date="1980-01-01")) is True
    assert negated(a, _record()) is None and negated(a, b) is True


def test_functions_substr_coalesce_and_string_distances():
    initial = compile_condition("substr(coalesce(given_first_l, initials_l), 1, 1) = "
                                "substr(coalesce(given_first_r, initials_r), 1, 1)", COLUMN_INDEX)
    similar = compile_condition('jaro_winkler_similarity("surname_core_l", "surname_core_r") >= 0.9', COLUMN_INDEX)
    typo = compile_condition('damerau_levenshtein("birth_date_l", "birth_date_r") <= 1', COLUMN_INDEX)
    assert initial(_record(given_first="jan"), _record(initials="jp")) is True
    assert similar(_record(surname_core="jansen"), _record(surname_core="janssen")) is True
    assert typo(_record(birth_date="1980-01-21"), _record(birth_date="1980-01-12")) is True   # a transposition


def test_regexp_extract_reads_a_group_as_duckdb_does():
    year = compile_condition("coalesce(regexp_extract(email_local_l, '^[^0-9]*([0-9][0-9])[^0-9]*$', 1), '') = "
                             "substr(birth_date_r, 3, 2)", COLUMN_INDEX)
    whole = compile_condition("regexp_extract(email_local_l, '[0-9]+') = '12'", COLUMN_INDEX)
    born_80 = _record(birth_date="1980-05-01")
    assert year(_record(email_local="jan.devries80"), born_80) is True
    assert year(_record(email_local="jan8012"), born_80) is False      # no match: '' (not NULL), as DuckDB
    assert year(_record(), born_80) is False                           # NULL in, coalesced to ''
    assert whole(_record(email_local="a12b"), born_80) is True          # group 0 when none is named
    assert whole(_record(), born_80) is None


def test_an_unknown_function_is_refused_by_name():
    with pytest.raises(UnsupportedCondition, match="(?i)levenshtein_ratio"):
        compile_condition("levenshtein_ratio(given_first_l, given_first_r) > 0.5", COLUMN_INDEX)


def test_probability_as_splink_computes_it():
    assert match_probability(0.0) == 0.5
    assert match_probability(-2000.0) == 0.0 and match_probability(2000.0) == 1.0


# Every level of herken's own model, evaluated by DuckDB and by the Python evaluator on the same values.
_LEVELS = [level.sql_condition for comparison in model_settings().get_settings("duckdb").comparisons
           for level in comparison.comparison_levels if level.sql_condition != "ELSE"]
_COLUMNS_USED = sorted({c for c in COLUMNS if any(f"{c}_l" in sql or f'"{c}_l"' in sql for sql in _LEVELS)})
_TEXT = st.one_of(st.none(), st.sampled_from(["", "jan", "jans", "jansen", "janssen", "müller", "1980-01-12",
                                              "1980-12-01", "1908-01-12", "gmail.com", "gmial.com", "jan80",
                                              "tara.1980", "j12b34", "80"]),
                  st.text(alphabet="abéø-1", max_size=6))
_COUNT = st.one_of(st.none(), st.integers(min_value=0, max_value=3))


@st.composite
def _pair(draw) -> tuple[tuple, tuple]:
    sides = []
    for _ in range(2):
        values = {c: draw(_COUNT if c.endswith("_names") else _TEXT) for c in _COLUMNS_USED}
        sides.append(_record(**values))
    return sides[0], sides[1]


@settings(max_examples=150, deadline=None)
@given(_pair())
def test_every_level_of_the_model_agrees_with_duckdb(pair):
    left, right = pair
    columns = ", ".join(f"?::{'INTEGER' if c.endswith('_names') else 'VARCHAR'} AS {c}_{side}"
                        for side in "lr" for c in _COLUMNS_USED)
    cases = ", ".join(f"CASE WHEN {sql} THEN 1 ELSE 0 END" for sql in _LEVELS)
    values = [record[POS[c]] for record in (left, right) for c in _COLUMNS_USED]
    expected = duckdb.execute(f"SELECT {cases} FROM (SELECT {columns})", values).fetchone()
    got = tuple(int(compile_condition(sql, COLUMN_INDEX)(left, right) is True) for sql in _LEVELS)
    assert got == expected


def test_a_pairs_weights_per_comparison_add_up_to_its_match_weight():
    from identity.compiled_model import ModelScorer

    model = {"link_type": "dedupe_only", "probability_two_random_records_match": 0.01, "comparisons": [
        {"output_column_name": "surname", "comparison_levels": [
            {"sql_condition": "surname_core_l IS NULL OR surname_core_r IS NULL", "is_null_level": True},
            {"sql_condition": "surname_core_l = surname_core_r", "m_probability": 0.9, "u_probability": 0.01,
             "tf_adjustment_column": "surname_core", "tf_adjustment_weight": 1.0},
            {"sql_condition": "ELSE", "m_probability": 0.1, "u_probability": 0.99}]}]}
    scorer = ModelScorer(model, list(COLUMNS), {"surname_core": {"jansen": 0.04}})
    score = scorer.score(_record(surname_core="jansen"), _record(surname_core="jansen"))
    # the level's log2(m / u), less for a surname four times as common as u says: log2(u / tf)
    assert score.weights == pytest.approx((math.log2(0.9 / 0.01) + math.log2(0.01 / 0.04),))
    assert score.match_weight == pytest.approx(scorer.prior_weight + sum(score.weights))
