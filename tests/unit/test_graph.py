"""The one union-find (identity.graph.UnionFind) that households and the best-first clustering share."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from identity.graph import UnionFind

NODES = [f"n{i:02d}" for i in range(12)]


def components(nodes: list[str], joins: list[tuple[str, str]]) -> list[set[str]]:
    """Return the connected components of joins, the plain way."""
    sets = [{n} for n in nodes]
    for a, b in joins:
        sa = next(s for s in sets if a in s)
        sb = next(s for s in sets if b in s)
        if sa is not sb:
            sets.remove(sb)
            sa |= sb
    return sets


@given(st.lists(st.tuples(st.sampled_from(NODES), st.sampled_from(NODES)), max_size=30))
def test_sets_are_the_components_labelled_by_their_smallest_node(joins):
    sets = UnionFind(NODES, keep_members=True)
    for a, b in joins:
        assert sets.union(a, b) == sets.find(a) == sets.find(b)
    labels = sets.labels()
    for component in components(NODES, joins):
        assert {labels[n] for n in component} == {min(component)}
        assert sorted(sets.members(next(iter(component)))) == sorted(component)


def test_the_larger_sets_members_come_first_and_on_a_tie_the_first_arguments():
    sets = UnionFind(["a", "b", "c", "d", "e"], keep_members=True)
    sets.union("d", "b")
    assert sets.members("b") == ["d", "b"] and sets.find("d") == "b"
    sets.union("a", "d")      # a alone is the smaller set
    assert sets.members("a") == ["d", "b", "a"]
    sets.union("e", "c")
    sets.union("e", "a")
    assert sets.members("c") == ["d", "b", "a", "e", "c"]


def test_members_need_keep_members():
    sets = UnionFind(["a", "b"])
    assert "a" in sets and "z" not in sets
    with pytest.raises(ValueError, match="keep_members"):
        sets.members("a")
