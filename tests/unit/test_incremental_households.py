"""An incremental run groups only the households its delta may change, and groups them as a full grouping would."""

import random

import pandas as pd
from hypothesis import given, settings, strategies as st

from identity.engine import make_engine
from identity.households import (
    SharedValues, buildings, edges_around, group_households, household_anchors, household_edges, measured_household_edges,
    person_links,
)
from identity.incremental import _group_again, _may_regroup, _untouched_households

COLUMNS = ["unique_id", "person", "updated_at", "address_key", "postcode", "house_number", "house_addition",
           "loyalty_card", "landline", "email", "mobile", "surname_first", "surname_last", "birth_date", "given_first"]
ENGINE = make_engine("duckdb")


def _maybe(rng: random.Random, chance: float, values: list[str]) -> str | None:
    return rng.choice(values) if rng.random() < chance else None


def world(seed: int, persons: int = 120) -> pd.DataFrame:
    """Return records of persons who share buildings, flats, cards, landlines, e-mails and mobiles by chance: pools
    small enough that kin beside a bare house number, movers and a card shared by more than the cap all happen,
    large enough that most households stay apart."""
    rng = random.Random(seed)
    postcodes = [f"{1000 + i}AA" for i in range(30)]
    rows = []
    for p in range(persons):
        surname = rng.choice(["jansen", "bakker", "smit", "visser", "de vries", "mulder", "bos", "peters"])
        for r in range(rng.randint(1, 3)):
            postcode = _maybe(rng, 0.7, postcodes)
            number = rng.choice(["1", "2", "3"]) if postcode or rng.random() < 0.3 else None
            addition = _maybe(rng, 0.3, ["a", "b"]) if number else None
            key = None if number is None else f"{postcode or 'dorpsstraat'}|{number}|{addition or ''}"
            card = "K0" if rng.random() < 0.1 else _maybe(rng, 0.3, [f"K{i}" for i in range(1, 150)])
            rows.append(dict(zip(COLUMNS, [
                f"s:{p}-{r}", f"p{p:03d}", f"2024-0{rng.randint(1, 9)}-01", key, postcode if key else None,
                number, addition, card, _maybe(rng, 0.2, [f"L{i}" for i in range(60)]),
                _maybe(rng, 0.3, [f"e{i}" for i in range(200)]), _maybe(rng, 0.3, [f"m{i}" for i in range(200)]),
                surname, _maybe(rng, 0.2, ["jansen", "smit"]) or surname, _maybe(rng, 0.5, ["1970-01-01", "1990-02-02"]),
                rng.choice(["jan", "anna", "piet"]),
            ])))
    return pd.DataFrame(rows, columns=COLUMNS).astype({c: "str" for c in COLUMNS if c != "postcode"})


def _edges(frame: pd.DataFrame) -> list[tuple]:
    return sorted(frame[["kind", "value", "person"]].itertuples(index=False, name=None))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000))
def test_the_edges_around_some_persons_are_those_of_every_record_on_their_values(seed):
    records = world(seed)
    rng = random.Random(seed)
    persons = set(rng.sample(sorted(records["person"].unique()), 4))
    gone = records.sample(3, random_state=seed)
    records = records.drop(gone.index).reset_index(drop=True)
    mine = pd.concat([records[records["person"].isin(persons)], gone])
    caps = measured_household_edges(ENGINE, records)[1]        # the run's, measured on every record
    expected = SharedValues.of(mine).keep(household_edges(ENGINE, records, caps))
    assert _edges(edges_around(ENGINE, records, persons, gone, caps=caps)) == _edges(expected)


def _day2(seed: int) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str], set[str], pd.DataFrame]:
    """Return day 2 of a world grouped in full on day 1: its records (re-clustered persons labelled '~'), the records
    gone, the day-1 household of every record kept, the households of the records gone, and scored pairs."""
    records = world(seed)
    anchored, surnames, hints = household_anchors(records)
    day1 = group_households(sorted(records["person"].unique()), household_edges(ENGINE, records), surnames, anchored,
                            hints)
    rng = random.Random(seed)
    home = records["person"].map(day1)
    gone = records.sample(2, random_state=seed)
    records = records.drop(gone.index)
    previous_home = dict(zip(records["unique_id"], home[records.index]))
    touched = set(rng.sample(sorted(records["person"].unique()), 3)) | set(gone["person"])
    again = records["person"].isin(touched)
    # re-clustered: the touched persons' records split or joined anew, and a new record
    records.loc[again, "person"] = [f"~{rng.choice(['x', 'y', 'z'])}{p}" for p in records.loc[again, "person"]]
    new = records[again].head(1).assign(unique_id="s:new", person="~new", email="e1", address_key=None, postcode=None,
                                        house_number=None, house_addition=None, loyalty_card=None, landline=None)
    records = pd.concat([records, new], ignore_index=True)
    relabelled = records.loc[records["person"].str.startswith("~"), "unique_id"].tolist()
    pairs = pd.DataFrame([(a, b, rng.random()) for a in relabelled for b in relabelled if a < b and rng.random() < 0.3],
                         columns=["unique_id_l", "unique_id_r", "match_probability"])
    return records, gone, previous_home, set(home[gone.index]), pairs


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000))
def test_grouping_only_the_touched_households_gives_the_full_grouping(seed):
    records, gone, previous_home, homes_left, pairs = _day2(seed)
    links = person_links(records, pairs)
    # in full: every record's edges, every person grouped; under the caps measured on them, which the incremental
    # run takes as the published run's (edges_around measures none)
    edges, caps = measured_household_edges(ENGINE, records)
    fixed, regrouped = _untouched_households(records, edges, previous_home, homes_left)
    anchored, surnames, hints = household_anchors(records)
    expected = group_households(sorted(records["person"].unique()), edges, surnames, anchored, hints, fixed=fixed,
                                links=links)
    # as the incremental run does it
    building = buildings(records)
    around = edges_around(ENGINE, records, _may_regroup(records, building, previous_home, homes_left), gone,
                          building, caps)
    fixed_here, regrouped_here = _untouched_households(records, around, previous_home, homes_left)
    assert (fixed_here, regrouped_here) == (fixed, regrouped)
    assert _group_again(records, around, fixed, links, 0.5) == expected
