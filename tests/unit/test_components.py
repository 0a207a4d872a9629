"""Clustering by connected component (identity.components) gives what clustering all records at once gives."""

from __future__ import annotations

import pandas as pd
import pytest

from identity.cluster import Clustering, Edited, cluster_best_first
from identity.components import (
    GroupSettings, buckets_of, cluster_by_component, clustering_of, outcome_frame, pairs_frame, records_frame,
)
from identity.engine import DuckDBEngine
from identity.rules import STRICT, NameAndBirth


def rec(first=None, surname="jansen", birth=None, mobile=None, shared=False, email=None):
    return NameAndBirth(first, first, first[0] if first else None, surname, birth, mobile, shared, email)


def _case() -> dict:
    """Records and pairs touching every way two components could seem to meet."""
    jan = rec("jan", "jansen", "1980-01-01", "+31612345678")
    records = {
        # "khadija benali": a and b only the names agree; c, a third holder, sits in a component of its own
        "a": rec("khadija", "benali"), "b": rec("khadija", "benali"), "c": rec("khadija", "benali", "1971-03-09"),
        # "ann smit": sole holders p and q join (no third holder anywhere)
        "p": rec("ann", "smit"), "q": rec("ann", "smit", email="ann@smit.nl"),
        # a father and son the birth-date rule keeps apart
        "f": rec("piet", "bos", "1960-04-02"), "s": rec("piet", "bos", "1991-08-17"),
        # a steward's must-link with no scored pair, and a cannot-link against a sure pair
        "m1": rec("els", "vos"), "m2": rec("elsje", "vos"), "x": rec("tom", "dijk"), "y": rec("tom", "dijk"),
        # an edited record no pair ties any more: it goes back to the person it was with (e1, e2)
        "e1": jan, "e2": jan, "e3": NameAndBirth("jan", "jan", "j", "jansen", "1980-01-01", "+31698765432"),
        # a record the published run had with others, alone now
        "z": rec("kees", "mol"),
    }
    pairs = [("a", "b", 0.6), ("p", "q", 0.7), ("f", "s", 0.9), ("x", "y", 0.99), ("e1", "e2", 0.99),
             ("c", "z", 0.1)]
    return {
        "records": records, "pairs": pairs, "names_only": {("a", "b"), ("p", "q")},
        "must_link": [("m1", "m2")], "cannot_link": [("x", "y")],
        "previous": {"e1": "C1", "e2": "C1", "z": "C9"}, "edited": {"e3": Edited("C1", jan)},
    }


def _same(a: Clustering, b: Clustering) -> None:
    assert a.labels == b.labels
    assert set(a.merges) == set(b.merges)
    assert set(a.refusals) == set(b.refusals)


@pytest.mark.parametrize("workers", [1, 3])
def test_clustering_by_component_gives_what_clustering_all_at_once_gives(workers):
    case = _case()
    whole = cluster_best_first(case["records"], case["pairs"], threshold=0.5, must_link=case["must_link"],
                               cannot_link=case["cannot_link"], names_only=case["names_only"], rules=STRICT,
                               previous=case["previous"], edited=case["edited"])
    engine = DuckDBEngine()
    engine.workers = workers
    try:
        parts = cluster_by_component(
            engine, records_frame(case["records"], case["previous"], case["edited"]),
            pairs_frame(case["pairs"], case["names_only"], set(), case["must_link"], case["cannot_link"]),
            0.5, GroupSettings(STRICT, 0.5))
    finally:
        engine.close()
    _same(whole, parts)
    labels = parts.labels
    assert labels["a"] != labels["b"]            # c, in another component, holds "khadija benali" too
    assert labels["p"] == labels["q"]            # no one else holds "ann smit"
    assert labels["f"] != labels["s"] and labels["x"] != labels["y"]
    assert labels["m1"] == labels["m2"] and labels["e3"] == labels["e1"]


def test_a_full_name_held_outside_the_records_keeps_a_names_only_pair_apart_in_every_component():
    records = {"a": rec("khadija", "benali"), "b": rec("khadija", "benali")}
    engine = DuckDBEngine()
    try:
        apart = cluster_by_component(engine, records_frame(records, names_elsewhere={("khadija", "benali")}),
                                     pairs_frame([("a", "b", 0.6)], {("a", "b")}, set()), 0.5, GroupSettings(STRICT, 0.5))
        together = cluster_by_component(engine, records_frame(records), pairs_frame([("a", "b", 0.6)], {("a", "b")}, set()),
                                        0.5, GroupSettings(STRICT, 0.5))
    finally:
        engine.close()
    assert apart.labels["a"] != apart.labels["b"]
    assert together.labels["a"] == together.labels["b"]


def test_a_clustering_survives_the_outcome_frame_it_travels_in():
    case = _case()
    whole = cluster_best_first(case["records"], case["pairs"], threshold=0.5, names_only=case["names_only"],
                               previous=case["previous"], edited=case["edited"])
    _same(whole, clustering_of(outcome_frame(whole)))


def test_a_component_goes_to_the_same_bucket_every_run():
    labels = pd.Series([f"pos:{i}" for i in range(1_000)])
    first, again = buckets_of(labels, 8), buckets_of(labels.copy(), 8)
    assert first.tolist() == again.tolist()
    assert set(first) == set(range(8))
    assert set(buckets_of(labels, 1)) == {0}


@pytest.mark.parametrize("workers", [1, 2, 3, 4])
def test_every_record_of_a_person_edited_goes_back_together_whatever_the_buckets(workers):
    # both accounts of a customer got a new e-mail: no pair ties them, no unchanged record stands for the person
    jan = rec("jan", "jansen", "1980-01-01", "+31612345678")
    records = {"e1": jan, "e2": jan}
    edited = {"e1": Edited("C1", jan), "e2": Edited("C1", jan)}
    whole = cluster_best_first(records, [], threshold=0.5, edited=edited)
    engine = DuckDBEngine()
    engine.workers = workers
    try:
        parts = cluster_by_component(engine, records_frame(records, edited=edited), pairs_frame([], set(), set()),
                                     0.5, GroupSettings(STRICT, 0.5))
    finally:
        engine.close()
    assert whole.labels["e1"] == whole.labels["e2"]
    _same(whole, parts)


def test_a_component_clusters_its_pairs_in_the_order_given_however_its_rows_arrive():
    # which must-links become merges depends on their order; a shuffle may hand the rows over in any order
    records = {u: rec("els", "vos") for u in ("a", "b", "c")}
    must = [("a", "c"), ("b", "c"), ("a", "b")]
    whole = cluster_best_first(records, [], threshold=0.5, must_link=must)
    frame = records_frame(records).assign(bucket=0)
    pairs = pairs_frame([], set(), set(), must).assign(bucket=0)
    shuffled = pairs.iloc[::-1].reset_index(drop=True)
    from identity.components import _per_bucket

    got = clustering_of(_per_bucket(GroupSettings(STRICT, 0.5))(frame, shuffled))
    _same(whole, got)


def test_a_run_that_fails_after_making_its_engine_closes_it(tmp_path, monkeypatch):
    import identity.pipeline as pipeline
    from pathlib import Path

    closed = []

    class Watched(DuckDBEngine):
        def close(self) -> None:
            closed.append(True)
            super().close()

    def broken(engine, records):
        raise RuntimeError("the engine's disk is full")

    monkeypatch.setattr(pipeline, "make_engine", lambda name, **options: Watched())
    monkeypatch.setattr(pipeline, "prepare", broken)
    drop = Path(__file__).resolve().parents[2] / "fixtures" / "small-drop"
    with pytest.raises(RuntimeError, match="disk is full"):
        pipeline.resolve(drop, pipeline.ResolveOptions(run_dir=tmp_path / "run"))
    assert closed == [True]
