"""Match weights that never rank a looser agreement above a stricter one (identity.monotone)."""

from __future__ import annotations

import math

import pytest

from identity.model import settings
from identity.monotone import CHAINS, monotone_weights, pooled


def _weights(ms: list[float], us: list[float]) -> list[float]:
    return [math.log2(m / u) for m, u in zip(ms, us)]


def test_a_chain_in_order_is_kept_to_the_last_bit():
    ms, us = [0.667337, 0.0769334, 0.130845, 0.0679146], [0.00215908, 0.0013851, 0.0586407, 0.935861]  # our 100k
    assert pooled(ms, us) == ms


def test_a_looser_level_that_outweighs_a_stricter_one_is_pooled_with_it_and_the_chain_keeps_its_m():
    ms, us = [0.43, 0.57, 0.005, 0.005], [0.0095, 0.005, 0.046, 0.94]    # RLdata10000's first names, as EM left them
    fixed = pooled(ms, us)
    weights = _weights(fixed, us)
    assert weights[0] == pytest.approx(weights[1])                        # pooled: one ratio, (0.43+0.57)/(0.0145)
    assert weights[0] == pytest.approx(math.log2(1.0 / 0.0145))
    assert all(a >= b - 1e-12 for a, b in zip(weights, weights[1:]))
    assert sum(fixed) == pytest.approx(sum(ms))
    assert fixed[2:] == ms[2:]


def test_violations_further_down_pool_back_up_as_far_as_needed():
    ms, us = [0.2, 0.3, 0.45, 0.05], [0.001, 0.001, 0.001, 0.997]
    weights = _weights(pooled(ms, us), us)
    assert weights[0] == pytest.approx(weights[1]) == pytest.approx(weights[2])
    assert weights[2] > weights[3]


def _model(levels: dict[str, list[tuple[str, float, float]]]) -> dict:
    return {"comparisons": [{"output_column_name": name, "comparison_levels": [
        {"label_for_charts": label, "m_probability": m, "u_probability": u} for label, m, u in chain]}
        for name, chain in levels.items()]}


def test_only_the_chained_levels_move():
    model = _model({"given_name": [("Exact match on given_first", 0.43, 0.0095),
                                   ("nickname of the same name", 0.005, 0.0016),
                                   ("Jaro-Winkler distance of given_first >= 0.88", 0.57, 0.005),
                                   ("All other comparisons", 0.005, 0.94)],
                    "email": [("same e-mail, one name", 0.1, 0.5), ("All other comparisons", 0.9, 0.5)]})
    levels = model["comparisons"][0]["comparison_levels"]
    monotone_weights(model)
    assert levels[0]["m_probability"] / levels[0]["u_probability"] == pytest.approx(
        levels[2]["m_probability"] / levels[2]["u_probability"])
    assert levels[1]["m_probability"] == 0.005                            # a nickname is another kind of evidence
    assert model["comparisons"][1]["comparison_levels"][0]["m_probability"] == 0.1


def test_every_chain_names_levels_of_herkens_own_comparisons():
    made = {c["output_column_name"]: [level.get("label_for_charts") for level in c["comparison_levels"]]
            for c in settings().create_settings_dict("duckdb")["comparisons"]}
    for name, chain in CHAINS.items():
        assert all(label in made[name] for label in chain), (name, made[name])
        assert [label for label in made[name] if label in chain] == list(chain)     # in the comparison's order


def _surname_level(a: str, b: str) -> str:
    from identity.compiled_model import compile_condition
    from identity.realtime import COLUMNS

    index = {name: i for i, name in enumerate(COLUMNS)}

    def record(surname: str) -> tuple:
        values = [None] * len(COLUMNS)
        values[index["surname_core"]] = surname
        return tuple(values)

    levels = next(c for c in settings().create_settings_dict("duckdb")["comparisons"]
                  if c["output_column_name"] == "surname")["comparison_levels"]
    for level in levels:
        if compile_condition(level["sql_condition"], index)(record(a), record(b)) is True:
            return level["label_for_charts"]
    return levels[-1]["label_for_charts"]


def test_one_typo_in_a_short_surname_is_its_own_level_below_spelled_alike():
    assert _surname_level("koch", "kocn") == "one typo"            # Jaro-Winkler 0.88
    assert _surname_level("sauer", "saier") == "one typo"          # 0.89
    assert _surname_level("jansen", "janssen").startswith("Jaro-Winkler")
    assert _surname_level("koch", "bach") == "All other comparisons"
