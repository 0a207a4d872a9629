"""The engine seam without starting one: which engine a name makes, a model carried between dialects,
and where a Spark session's settings come from."""

from __future__ import annotations

import builtins
import sys

import pytest

from herken.cli import main
from identity.engine import EngineError, engine_class, make_engine
from identity.link import ModelMismatch, carry_parameters, model_for
from identity.model import settings


def trained(dialect: str) -> dict:
    """Return a model as Splink saves it after training: SQL in the dialect, a parameter on every level."""
    model = settings().create_settings_dict(dialect) | {"sql_dialect": dialect,
                                                        "probability_two_random_records_match": 0.0123}
    for c, comparison in enumerate(model["comparisons"]):
        for n, level in enumerate(comparison["comparison_levels"]):
            if not level.get("is_null_level"):
                level["m_probability"] = round(0.01 * (c + 1) + 0.001 * n, 6)
                level["u_probability"] = round(0.0001 * (c + 1) + 0.00001 * n, 8)
    return model


def parameters(model: dict) -> list:
    """Return what training learnt, in order: the match rate and each level's m, u and tf settings."""
    return [model["probability_two_random_records_match"]] + [
        (c["output_column_name"], level.get("label_for_charts"),
         *(level.get(k) for k in ("m_probability", "u_probability", "tf_adjustment_column", "tf_adjustment_weight")))
        for c in model["comparisons"] for level in c["comparison_levels"]
    ]


def conditions(model: dict) -> list[str]:
    """Return every SQL condition of a model: its levels' and its blocking rules'."""
    return [level["sql_condition"] for c in model["comparisons"] for level in c["comparison_levels"]] + [
        rule["blocking_rule"] for rule in model["blocking_rules_to_generate_predictions"]]


@pytest.mark.parametrize("source, target", [("duckdb", "spark"), ("spark", "duckdb")])
def test_a_model_moves_to_the_other_dialect_with_its_parameters_and_that_dialects_sql(source, target):
    model = trained(source)
    moved = model_for(model, target)
    assert moved["sql_dialect"] == target
    assert parameters(moved) == parameters(model)
    assert conditions(moved) == conditions(settings().create_settings_dict(target))
    assert any("jaro_winkler(" in sql for sql in conditions(trained("spark")))
    assert not any("jaro_winkler_similarity" in sql for sql in conditions(model_for(trained("duckdb"), "spark")))


def test_a_model_there_and_back_is_the_model():
    model = trained("duckdb") | {"linker_uid": "abc123"}
    back = model_for(model_for(model, "spark"), "duckdb")
    assert parameters(back) == parameters(model) and conditions(back) == conditions(model)
    assert back["linker_uid"] == "abc123"


def test_a_model_in_the_engines_own_dialect_is_used_as_saved():
    model = trained("spark") | {"linker_uid": "kept"}
    assert model_for(model, "spark") is model


def test_an_untrained_level_stays_untrained():
    model = trained("duckdb")
    del model["comparisons"][0]["comparison_levels"][2]["m_probability"]
    moved = model_for(model, "spark")
    assert "m_probability" not in moved["comparisons"][0]["comparison_levels"][2]
    assert "u_probability" in moved["comparisons"][0]["comparison_levels"][2]


def test_a_model_of_other_comparisons_is_refused_with_what_to_do():
    model = trained("duckdb")
    model["comparisons"][3]["comparison_levels"].pop(2)
    with pytest.raises(ModelMismatch, match="levels of 'email'.*train a new model"):
        model_for(model, "spark")
    model["comparisons"].pop(3)
    with pytest.raises(ModelMismatch, match="train a new model"):
        carry_parameters(model, settings().create_settings_dict("spark"))


def test_engines_by_name():
    assert make_engine("duckdb").dialect == "duckdb"
    assert make_engine("duckdb", master="spark://ignored:7077", conf={}).name == "duckdb"  # options it does not take
    with pytest.raises(EngineError, match="unknown engine 'postgres'; choose one of duckdb, spark"):
        make_engine("postgres")


def test_spark_without_pyspark_says_what_to_install_before_reading_the_drop(monkeypatch, tmp_path, capsys):
    real_import = builtins.__import__

    def no_pyspark(name, *args, **kwargs):
        if name == "pyspark" or name.startswith("pyspark."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyspark)
    for module in [m for m in sys.modules if m == "identity.spark_engine" or m.split(".")[0] == "pyspark"]:
        monkeypatch.delitem(sys.modules, module)
    with pytest.raises(EngineError, match=r"pip install 'herken\[spark\]'"):
        engine_class("spark")
    store = tmp_path / "herken.db"
    monkeypatch.setenv("HERKEN_RUNS_DIR", str(tmp_path / "runs"))
    assert main(["resolve", str(tmp_path / "no-such-drop"), "--store", f"sqlite:///{store}", "--engine", "spark"]) == 2
    assert "the spark engine needs pyspark" in capsys.readouterr().err
    assert not store.exists() and not (tmp_path / "runs").exists()


def test_spark_settings_come_from_herken_then_spark_then_the_local_defaults(tmp_path):
    pytest.importorskip("pyspark")
    from identity.spark_engine import parse_spark_defaults, parse_submit_args, session_settings, spark_defaults

    conf_dir = tmp_path / "conf"
    conf_dir.mkdir()
    (conf_dir / "spark-defaults.conf").write_text(
        "# a cluster's defaults\nspark.master   spark://head:7077\nspark.executor.memory=8g\n"
        "spark.sql.shuffle.partitions 400\nspark.jars /opt/jars/other.jar\n")
    assert parse_spark_defaults("spark.a 1\n\n  # no\nspark.b=two words\n") == {"spark.a": "1", "spark.b": "two words"}
    assert parse_submit_args("--master local[4] --conf spark.x=1 --driver-memory 6g pyspark-shell") == {
        "spark.master": "local[4]", "spark.x": "1", "spark.driver.memory": "6g"}
    given = spark_defaults({"SPARK_CONF_DIR": str(conf_dir), "PYSPARK_SUBMIT_ARGS": "--conf spark.executor.memory=4g"})
    jar = "/site/splink/internals/files/spark_jars/scala-udf-similarity-0.2.1_spark4.x.jar"

    cluster = session_settings(None, {}, given, jar)
    assert cluster["spark.master"] == "spark://head:7077"          # Spark's own over the local default
    assert cluster["spark.executor.memory"] == "4g"                 # PYSPARK_SUBMIT_ARGS over spark-defaults.conf
    assert cluster["spark.sql.shuffle.partitions"] == "400"
    assert cluster["spark.jars"] == f"/opt/jars/other.jar,{jar}"   # Splink's jar beside the user's

    ours = session_settings("spark://other:7077", {"spark.sql.shuffle.partitions": 8}, given, jar)
    assert ours["spark.master"] == "spark://other:7077" and ours["spark.sql.shuffle.partitions"] == "8"

    bare = session_settings("spark://other:7077", None, {}, jar)   # a cluster: none of the one-machine sizes
    assert "spark.sql.shuffle.partitions" not in bare and "spark.driver.memory" not in bare

    local = session_settings(None, None, {}, jar)
    assert local["spark.master"] == "local[2]" and local["spark.jars"] == jar
    assert session_settings(None, {"spark.jars": jar}, {}, jar)["spark.jars"] == jar   # not twice


def test_spark_spreads_the_python_steps_on_a_cluster_and_not_in_local_mode_unless_told():
    pytest.importorskip("pyspark")
    from identity.spark_engine import distributes

    assert distributes(None, "spark://head:7077") and not distributes(None, "local[2]")
    assert distributes("true", "local[2]") and distributes(" TRUE ", "local[*]")
    assert not distributes("false", "spark://head:7077")
