"""Grouping persons into households by connected component, on the engine's workers.

:func:`identity.households.group_households` joins persons through two kinds of link: a value they
share (an address, card, landline, e-mail or mobile: the edges of ``HOUSEHOLD_EDGES_SQL``), and an
orphan (a person with no address, card or landline) that joins the one household holding a member
the model scored at the link threshold or more against it. An orphan looks only at the households of
the anchored persons it is scored against, and a household's surnames are those of its anchored
members; so the connected components of the shared values and of the orphans' links to anchored
persons never exchange a person, and each groups alone with the same result. Links between two
orphans or two anchored persons play no part in the grouping and are left out, which keeps the
components small.

The components are found by Splink's connected-components SQL on the engine
(:meth:`identity.engine.Engine.components`) and grouped in buckets through
:meth:`identity.engine.Engine.map_groups`, as :mod:`identity.components` does for persons: Spark runs
them on its executors, DuckDB one bucket after the other in this process.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial

import pandas as pd

from identity.components import map_by_component, without_bucket
from identity.engine import Engine
from identity.households import PersonHints, group_households

SEPARATOR = "\x1f"    # between the names and dates a person's hints hold, in one string (no name holds it)

# The persons' frame: who may anchor a household, their surname parts and what says who they are.
PERSON_COLUMNS: tuple[str, ...] = ("person", "anchored", "surnames", "births", "first_names")
# The links' frame: kind "edge" (kind, value, person: a shared value) or "link" (person, other, probability:
# an orphan and an anchored person the model scored at the link threshold or more).
LINK_COLUMNS: tuple[str, ...] = ("what", "kind", "value", "person", "other", "probability")
HOUSEHOLD_SCHEMA = "person string, household string"


def persons_frame(persons: list[str], anchored: set[str], surnames: Mapping[str, set[str]],
                  hints: Mapping[str, PersonHints]) -> pd.DataFrame:
    """Return the persons' frame (PERSON_COLUMNS) of the grouping's inputs."""
    nobody = PersonHints()
    joined = lambda values: SEPARATOR.join(sorted(values)) if values else None  # noqa: E731
    return pd.DataFrame({
        "person": persons,
        "anchored": [p in anchored for p in persons],
        "surnames": [joined(surnames.get(p, ())) for p in persons],
        "births": [joined(hints.get(p, nobody).births) for p in persons],
        "first_names": [joined(hints.get(p, nobody).first_names) for p in persons],
    }).astype({"person": "string", "anchored": bool, "surnames": "string", "births": "string",
               "first_names": "string"})


def links_frame(edges: pd.DataFrame, links: Mapping[tuple[str, str], float], anchored: set[str],
                threshold: float) -> pd.DataFrame:
    """Return the links' frame (LINK_COLUMNS): every shared-value edge, and the scored links from ``threshold``
    between an orphan and an anchored person (the only ones the grouping reads)."""
    scored = [(a, b, p) for (a, b), p in links.items() if p >= threshold and (a in anchored) != (b in anchored)]
    frames = [pd.DataFrame({"what": "edge", "kind": edges["kind"].astype("string"),
                            "value": edges["value"].astype("string"), "person": edges["person"].astype("string"),
                            "other": pd.Series([None] * len(edges), dtype="string", index=edges.index),
                            "probability": pd.Series([None] * len(edges), dtype="float64", index=edges.index)})]
    if scored:
        a, b, p = zip(*scored)
        frames.append(pd.DataFrame({"what": "link", "kind": None, "value": None, "person": list(a), "other": list(b),
                                    "probability": list(p)}))
    frame = pd.concat(frames, ignore_index=True)
    return frame.astype({c: "string" for c in LINK_COLUMNS if c != "probability"}).astype({"probability": "float64"})


def component_links(links: pd.DataFrame) -> pd.DataFrame:
    """Return the links (unique_id_l, unique_id_r) between persons that the grouping may join: each person
    holding a shared value to the value's first holder, and each orphan to the anchored persons it is scored against."""
    edges = links[links["what"] == "edge"]
    first = edges.groupby(["kind", "value"], sort=False)["person"].transform("first")
    scored = links[links["what"] == "link"]
    return pd.concat([pd.DataFrame({"unique_id_l": edges["person"], "unique_id_r": first}),
                      pd.DataFrame({"unique_id_l": scored["person"], "unique_id_r": scored["other"]})],
                     ignore_index=True).astype("string")


def group_frame(persons: pd.DataFrame, links: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Return the household of each person (person, household) of one component or bucket of them
    (persons: PERSON_COLUMNS, links: LINK_COLUMNS), as ``group_households`` finds it."""
    split = lambda value: set(value.split(SEPARATOR)) if isinstance(value, str) else set()  # noqa: E731
    people = [str(p) for p in persons["person"].tolist()]
    anchored = {p for p, is_anchored in zip(people, persons["anchored"].tolist()) if is_anchored}
    surnames = {p: split(s) for p, s in zip(people, persons["surnames"].tolist()) if isinstance(s, str)}
    hints = {p: PersonHints(split(b), split(f))
             for p, b, f in zip(people, persons["births"].tolist(), persons["first_names"].tolist())}
    edges = links.loc[links["what"] == "edge", ["kind", "value", "person"]]
    scored = links[links["what"] == "link"]
    found = {(a, b) if a < b else (b, a): float(p) for a, b, p in
             zip(scored["person"].tolist(), scored["other"].tolist(), scored["probability"].tolist())}
    labels = group_households(sorted(people), edges, surnames, anchored, hints, links=found, link_threshold=threshold)
    return pd.DataFrame({"person": list(labels), "household": list(labels.values())}, dtype="string")


def group_households_by_component(engine: Engine, persons: list[str], edges: pd.DataFrame,
                                  surnames: Mapping[str, set[str]], anchored: set[str],
                                  hints: Mapping[str, PersonHints], links: Mapping[tuple[str, str], float],
                                  link_threshold: float) -> dict[str, str]:
    """Return what ``group_households`` returns (no fixed households: a full run), one connected component
    at a time, the components spread over the engine's workers in buckets."""
    if not persons:
        return {}
    linked = links_frame(edges, links, anchored, link_threshold)
    grouped = map_by_component(engine, persons_frame(persons, anchored, surnames, hints), "person", linked, "person",
                               component_links(linked), _per_bucket(link_threshold), HOUSEHOLD_SCHEMA,
                               "persons grouped into households")
    return dict(zip(grouped["person"].astype(str).tolist(), grouped["household"].astype(str).tolist()))


def _per_bucket(threshold: float) -> Callable[[pd.DataFrame, pd.DataFrame], pd.DataFrame]:
    """Return group_frame at this threshold as the engine calls it per bucket."""
    return without_bucket(partial(group_frame, threshold=threshold))
