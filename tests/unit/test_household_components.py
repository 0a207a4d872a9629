"""Grouping households by connected component (identity.household_components) gives what grouping all persons at
once gives."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from identity.engine import DuckDBEngine
from identity.household_components import (
    _per_bucket, component_links, group_households_by_component, links_frame, persons_frame,
)
from identity.households import PersonHints, group_households


def edges(*rows: tuple[str, str, str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["kind", "value", "person"])


def _case() -> dict:
    """Households chained by shared values, and orphans that fit one household, two, or none."""
    anchored = {"a1", "a2", "a3", "b1", "c1"}
    surnames = {"a1": {"bos"}, "a2": {"bos"}, "a3": {"smit"}, "b1": {"bos"}, "c1": {"vos"},
                "o1": {"bos"}, "o2": {"bos"}, "o3": {"bos"}, "o4": {"dijk"}, "o5": {"vos"}, "o6": {"vos"}}
    hints = {p: PersonHints(set(), {"jan"}) for p in surnames}
    hints["c1"] = PersonHints({"1970-01-01"}, {"els"})
    hints["o6"] = PersonHints({"1980-05-05"}, {"els"})       # another birth date than c1's: not them
    hints["o5"] = PersonHints(set(), {"els"})
    shared = edges(("address", "1011AB|1|", "a1"), ("address", "1011AB|1|", "a2"),
                   ("loyalty_card", "26000", "a2"), ("loyalty_card", "26000", "a3"),
                   ("email", "fam@bos.nl", "b1"), ("email", "fam@bos.nl", "o3"))
    links = {("a1", "o1"): 0.8,                    # fits household a: joins it
             ("a2", "o2"): 0.9, ("b1", "o2"): 0.7,  # fits households a and b: stays alone
             ("a3", "o4"): 0.95,                   # no surname in common: stays alone
             ("c1", "o5"): 0.6, ("c1", "o6"): 0.9,  # o5 may be c1, o6 may not
             ("o1", "o4"): 0.99, ("a1", "b1"): 0.99,  # orphan to orphan, anchored to anchored: no part in it
             ("b1", "o1"): 0.3}                    # under the threshold
    persons = sorted(surnames)
    return {"persons": persons, "edges": shared, "surnames": surnames, "anchored": anchored, "hints": hints,
            "links": links}


def _by_component(case: dict, workers: int) -> dict[str, str]:
    engine = DuckDBEngine()
    engine.workers = workers
    try:
        return group_households_by_component(engine, case["persons"], case["edges"], case["surnames"],
                                             case["anchored"], case["hints"], case["links"], 0.5)
    finally:
        engine.close()


def _whole(case: dict) -> dict[str, str]:
    return group_households(case["persons"], case["edges"], case["surnames"], case["anchored"], case["hints"],
                            links=case["links"], link_threshold=0.5)


@pytest.mark.parametrize("workers", [1, 2, 3, 4])
def test_households_by_component_are_the_households_of_all_persons_at_once(workers):
    case = _case()
    whole = _whole(case)
    assert _by_component(case, workers) == whole
    assert whole["a1"] == whole["a2"] == whole["a3"] == whole["o1"]     # a chain of values, and an orphan that fits
    assert whole["b1"] == whole["o3"] != whole["a1"]
    assert len({whole["o2"], whole["a1"], whole["b1"]}) == 3            # fits two households: neither
    assert whole["o4"] == "o4" and whole["o6"] == "o6" and whole["o5"] == whole["c1"]


def test_only_links_between_an_orphan_and_an_anchored_person_reach_the_components():
    case = _case()
    frame = links_frame(case["edges"], case["links"], case["anchored"], 0.5)
    scored = frame[frame["what"] == "link"]
    assert set(zip(scored["person"], scored["other"])) == {
        ("a1", "o1"), ("a2", "o2"), ("b1", "o2"), ("a3", "o4"), ("c1", "o5"), ("c1", "o6")}
    pairs = component_links(frame)
    assert ("a1", "b1") not in set(zip(pairs["unique_id_l"], pairs["unique_id_r"]))


@pytest.mark.parametrize("seed", range(6))
def test_random_households_by_component_match_the_whole(seed):
    rng = random.Random(seed)
    persons = [f"p{i:03d}" for i in range(80)]
    anchored = {p for p in persons if rng.random() < 0.6}
    names, firsts, days = ["bos", "vos", "smit", "jansen"], ["jan", "els", "piet"], ["1970-01-01", "1980-02-02"]
    surnames = {p: set(rng.sample(names, rng.randint(0, 2))) for p in persons}
    hints = {p: PersonHints(set(rng.sample(days, rng.randint(0, 1))), set(rng.sample(firsts, rng.randint(0, 2))))
             for p in persons}
    rows = [(kind, f"{kind}{rng.randint(0, 25)}", p) for p in sorted(anchored)
            for kind in ("address", "loyalty_card") if rng.random() < 0.5]
    rows += [("email", f"e{rng.randint(0, 30)}", p) for p in persons if rng.random() < 0.3]
    shared = edges(*sorted(set(rows)))
    counts = shared.groupby(["kind", "value"])["person"].transform("size")
    shared = shared[counts >= 2].reset_index(drop=True)        # as HOUSEHOLD_EDGES_SQL keeps them
    links = {}
    for _ in range(60):
        a, b = sorted(rng.sample(persons, 2))
        links[(a, b)] = rng.random()
    case = {"persons": persons, "edges": shared, "surnames": surnames, "anchored": anchored, "hints": hints,
            "links": links}
    assert _by_component(case, rng.randint(1, 4)) == _whole(case)


def test_a_persons_hints_survive_the_frame_they_travel_in():
    case = _case()
    people = persons_frame(case["persons"], case["anchored"], case["surnames"], case["hints"]).assign(bucket=0)
    linked = links_frame(case["edges"], case["links"], case["anchored"], 0.5).assign(bucket=0)
    got = _per_bucket(0.5)(people, linked.iloc[::-1].reset_index(drop=True))
    assert dict(zip(got["person"], got["household"])) == _whole(case)


def test_no_persons_group_into_no_households():
    assert _by_component({"persons": [], "edges": edges(), "surnames": {}, "anchored": set(), "hints": {},
                          "links": {}}, 2) == {}
