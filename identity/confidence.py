"""How sure a run is that each record belongs to its person.

A record's confidence is the highest match probability among its scored pairs to other records of
the same person: the strongest evidence that ties it in. A person of one record has nothing to be
unsure about (1.0), and a record joined by a steward's must-link counts that join as certain
(``cluster_best_first`` records it as a merge of probability 1.0). Pure: plain values in, a dict out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

import pandas as pd

from identity.cluster import Merge


def record_confidence(labels: Mapping[str, str], pairs: pd.DataFrame,
                      merges: Iterable[Merge] = ()) -> dict[str, float]:
    """Return each labelled record's confidence (0..1] that it belongs to its person.

    Args:
        labels: the person (cluster label) of every record, by unique_id.
        pairs: scored pairs with columns unique_id_l, unique_id_r, match_probability.
        merges: the joins the clustering made; a steward's must-link is one of probability 1.0.
            Their probabilities count like a scored pair's.
    """
    sizes = Counter(labels.values())
    merges = list(merges)
    # Every record of a person of several records was joined by a merge, so its best pair inside its
    # person scores at least the weakest merge: pairs below that cannot be anyone's best.
    floor = min((m.match_probability for m in merges), default=1.0)
    pairs = pairs[pairs["match_probability"].to_numpy(dtype=float) >= floor]
    left = pairs["unique_id_l"].map(labels)
    inside = pairs[left.notna() & left.eq(pairs["unique_id_r"].map(labels))]
    joins = pd.DataFrame([(m.unique_id_l, m.unique_id_r, m.match_probability) for m in merges],
                         columns=["unique_id_l", "unique_id_r", "match_probability"])
    edges = pd.concat([inside[["unique_id_l", "unique_id_r", "match_probability"]], joins], ignore_index=True)
    ends = pd.concat([
        edges[["unique_id_l", "match_probability"]].set_axis(["unique_id", "p"], axis=1),
        edges[["unique_id_r", "match_probability"]].set_axis(["unique_id", "p"], axis=1),
    ], ignore_index=True)
    best = ends.groupby("unique_id")["p"].max().astype(float).to_dict() if len(ends) else {}
    confidence = {}
    for uid, person in labels.items():
        if sizes[person] == 1:
            confidence[uid] = 1.0
        elif uid in best:
            confidence[uid] = min(1.0, best[uid])
    return confidence
