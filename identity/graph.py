"""Union-find over string nodes, and connected components of shared-value edges."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd


class UnionFind:
    """Disjoint sets of nodes; every set is labelled by its smallest node, so labels are stable.

    With ``keep_members`` it also keeps the nodes of every set (``members``), for a caller that
    looks inside two sets before it joins them (``identity.cluster``).
    """

    def __init__(self, nodes: Iterable[str], *, keep_members: bool = False) -> None:
        self.parent: dict[str, str] = {n: n for n in nodes}
        self._members: dict[str, list[str]] | None = {n: [n] for n in self.parent} if keep_members else None

    def __contains__(self, node: object) -> bool:
        return node in self.parent

    def find(self, node: str) -> str:
        """Return the label of the node's set."""
        root = node
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[node] != root:
            self.parent[node], node = root, self.parent[node]
        return root

    def union(self, a: str, b: str) -> str:
        """Join the sets of a and b; return the label of the joined set.

        The joined set's members are the larger set's followed by the smaller's (a's first when
        they are as large).
        """
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return ra
        low, high = min(ra, rb), max(ra, rb)
        self.parent[high] = low
        if self._members is not None:
            first, second = (rb, ra) if len(self._members[ra]) < len(self._members[rb]) else (ra, rb)
            joined = self._members.pop(first)
            joined.extend(self._members.pop(second))    # the smaller onto the larger: linear in all
            self._members[low] = joined
        return low

    def members(self, node: str) -> list[str]:
        """Return the nodes of the node's set (the set's own list: read it, do not change it)."""
        if self._members is None:
            raise ValueError("this UnionFind keeps no members; make it with keep_members=True")
        return self._members[self.find(node)]

    def labels(self) -> dict[str, str]:
        """Return the label of every node."""
        return {n: self.find(n) for n in self.parent}


def connected_components(nodes: Iterable[str], edges: pd.DataFrame) -> UnionFind:
    """Return the sets formed by (kind, value, person) edges: persons sharing a value are joined."""
    sets = UnionFind(nodes)
    anchor = edges.groupby(["kind", "value"], sort=False)["person"].transform("first")
    for a, b in zip(edges["person"].tolist(), anchor.tolist()):
        sets.union(a, b)
    return sets
