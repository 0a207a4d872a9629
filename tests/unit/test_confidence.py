"""Each record's confidence that it belongs to its person, on plain values."""

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from identity.cluster import Merge, cluster_best_first
from identity.confidence import record_confidence
from identity.rules import NameAndBirth


def pairs(*rows: tuple[str, str, float]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=["unique_id_l", "unique_id_r", "match_probability"])


def test_a_record_takes_its_best_pair_inside_its_person():
    labels = {"a": "a", "b": "a", "c": "a", "d": "d"}
    scored = pairs(("a", "b", 0.97), ("b", "c", 0.62), ("a", "c", 0.55), ("c", "d", 0.99))
    confidence = record_confidence(labels, scored, [Merge("a", "b", 0.97), Merge("b", "c", 0.62)])
    # c's pair with d is stronger, but d is another person: it says nothing about c's place.
    assert confidence == {"a": 0.97, "b": 0.97, "c": 0.62, "d": 1.0}


def test_a_person_of_one_record_is_certain():
    assert record_confidence({"a": "a", "b": "b"}, pairs(("a", "b", 0.4))) == {"a": 1.0, "b": 1.0}


def test_a_record_joined_only_by_a_steward_must_link_is_certain():
    records = {uid: NameAndBirth("jan", "jan", "j", "jansen", None, None) for uid in ("a", "b", "c")}
    scored = pairs(("a", "b", 0.9))
    clustering = cluster_best_first(records, [("a", "b", 0.9)], threshold=0.5, must_link=[("b", "c")])
    confidence = record_confidence(clustering.labels, scored, clustering.merges)
    assert confidence == {"a": 0.9, "b": 1.0, "c": 1.0}


@given(st.lists(st.tuples(st.sampled_from("abcdef"), st.sampled_from("abcdef"),
                          st.floats(0.05, 1.0)), max_size=20))
def test_every_record_gets_a_confidence_in_0_to_1(rows):
    rows = [(a, b, p) for a, b, p in rows if a < b]
    records = {uid: NameAndBirth(None, None, None, None, None, None) for uid in "abcdef"}
    clustering = cluster_best_first(records, rows, threshold=0.5)
    confidence = record_confidence(clustering.labels, pairs(*rows), clustering.merges)
    assert set(confidence) == set(records)
    assert all(0 < c <= 1 for c in confidence.values())
