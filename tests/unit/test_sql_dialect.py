"""The per-dialect fragments of the profile queries (``profile_api.sql_dialect``): DuckDB's run here, Spark's are
checked for what sqlglot makes of them (they run on Spark in tests/integration/test_spark.py)."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, strategies as st

from identity.engine import make_engine
from profile_api.sql_dialect import (
    DIALECTS, first_of, json_list_agg, json_pets_and_delivery, most_of, second_largest, share_sql, timestamp_sql,
)

ROWS = pd.DataFrame({"k": ["a"] * 4, "v": ["x", "y", "z", "w"], "n": [2, 3, 3, 1],
                     "t": pd.to_datetime(["2024-01-01", "2024-01-02", None, "2024-03-01"])})

def test_most_of_picks_the_highest_count_then_the_latest_then_the_first_value():
    engine = make_engine("duckdb")
    got = engine.sql(f"SELECT {most_of('v', 'n', 't')} AS v, {first_of('v', 'n')} AS low FROM rows GROUP BY k", rows=ROWS)
    assert got["v"].tolist() == ["y"]      # y and z have 3; z's time is unknown, so y is the latest
    assert got["low"].tolist() == ["w"]

def test_second_largest_is_null_with_fewer_than_two():
    engine = make_engine("duckdb")
    got = engine.sql(f"SELECT k, {second_largest('n', where='n > 1')} AS second FROM rows GROUP BY k", rows=ROWS)
    assert got["second"].tolist() == [3]
    got = engine.sql(f"SELECT k, {second_largest('n', where='n > 3')} AS second FROM rows GROUP BY k", rows=ROWS)
    assert got["second"].isna().all()

def test_timestamps_in_every_accepted_format():
    engine = make_engine("duckdb")
    texts = pd.DataFrame({"s": ["2024-03-05T10:11:12", "05-03-2024", "05/03/2024", "05.03.2024", "2024/03/05",
                                "20240305", "not a date"]})
    got = engine.sql(f"SELECT {timestamp_sql('s')} AS t FROM texts", texts=texts)["t"]
    assert got.iloc[0] == pd.Timestamp("2024-03-05 10:11:12")
    assert (got.iloc[1:6] == pd.Timestamp("2024-03-05")).all() and pd.isna(got.iloc[6])

@given(st.integers(0, 500), st.integers(1, 500))
def test_a_share_is_the_quotient_rounded_as_cs_printf_rounds_it(part, whole):
    got = make_engine("duckdb").sql(f"SELECT {share_sql('p', 'w')} AS s FROM t",
                                    t=pd.DataFrame({"p": [part], "w": [whole]}))["s"].iloc[0]
    assert got == "%.2f" % (part / whole)

def test_spark_fragments_pass_through_sqlglot_as_spark_sql():
    to_spark_sql = pytest.importorskip("identity.spark_engine").to_spark_sql
    for fragment, kept in ((most_of("v", "n", "t", "spark"), "MIN_BY(v, NAMED_STRUCT("),
                           (share_sql("p", "w", "spark"), "FORMAT_STRING('%.2f', BROUND("),
                           (timestamp_sql("s", "spark"), "TRY_TO_TIMESTAMP(s, 'dd-MM-yyyy')"),
                           (json_list_agg(("a", "json:b"), ("o",), "spark"), "TRANSFORM(ARRAY_SORT(COLLECT_LIST("),
                           (json_pets_and_delivery("p", "d", "spark"), "TO_JSON(COALESCE(p, ARRAY()))")):
        assert kept in to_spark_sql(f"SELECT {fragment} AS x FROM t")
    assert "MATERIALIZED" not in to_spark_sql("WITH a AS MATERIALIZED (SELECT 1 AS x) SELECT x FROM a")

def test_an_unknown_dialect_is_refused():
    assert DIALECTS == ("duckdb", "spark")
    with pytest.raises(ValueError, match="no profile SQL for the dialect 'postgres'"):
        most_of("v", "n", "t", "postgres")

def test_the_fixed_share_of_an_exact_tie_rounds_to_even_in_duckdb():
    # 1/8 = 0.125 is exact in binary: C rounds it to even; the Spark fragment does the same
    assert make_engine("duckdb").sql(f"SELECT {share_sql('1', '8')} AS s")["s"].iloc[0] == "0.12"
