"""Union-find over string nodes, and connected components of shared-value edges."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd


class UnionFind:
    """Disjoint sets of nodes; every set is labelled by its smallest node, so labels are stable."""

    def __init__(self, nodes: Iterable[str]) -> None:
        self.parent: dict[str, str] = {n: n for n in nodes}

    def find(self, node: str) -> str:
        """Return the label of the node's set."""
        root = node
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[node] != root:
            self.parent[node], node = root, self.parent[node]
        return root

    def union(self, a: str, b: str) -> str:
        """Join the sets of a and b; return the label of the joined set."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return ra
        low, high = min(ra, rb), max(ra, rb)
        self.parent[high] = low
        return low

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
