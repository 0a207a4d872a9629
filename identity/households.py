"""Group persons into households by what they share: an address, a card, a landline, an e-mail.

Sharing is evidence of a household, never of one person; that is why this runs after persons are
fixed. A person's address is the one on their most recently updated record, so someone who moved
joins their new household, not the old one. Values shared by more persons than the drop's households
show (a shop's default card, a care home's address) say nothing and are skipped: how many is measured
on the drop, per kind of value (:mod:`identity.household_caps`).

A person with nothing to share (an app account with a name and an e-mail) joins a household only
where the linkage model found one of its members likely to be them: the model's score knows how
common the name is in this drop and how large the drop is, which a rule on names alone does not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from identity.bulk import isin
from identity.engine import Engine
from identity.graph import UnionFind, connected_components
from identity.household_caps import FIXED, HOUSEHOLD_CEILING, HouseholdCaps


# A person's address as the grouping takes it: of their records with an address, one with a postcode before one
# without, then the newest (a person who moved joins their new household).
LATEST_ADDRESS_SQL = """latest_address AS (
    SELECT person, address_key, postcode, house_number FROM (
        SELECT person, address_key, postcode, house_number,
               row_number() OVER (PARTITION BY person
                                  ORDER BY postcode IS NULL, updated_at DESC NULLS LAST, unique_id) AS rank
        FROM records WHERE address_key IS NOT NULL
    ) WHERE rank = 1
)"""
HOUSEHOLD_EDGES_SQL = "\nWITH " + LATEST_ADDRESS_SQL + """,
spellings AS (
    -- The person's own spellings of that address: "23-1" on one record, "23" on another.
    SELECT DISTINCT r.person, r.address_key, r.house_addition FROM records r JOIN latest_address l
      ON r.person = l.person AND (r.address_key = l.address_key
                                  OR (r.postcode = l.postcode AND r.house_number = l.house_number))
),
current_address AS (
    -- A spelling without the flat number says less than one with it: "23" may be any flat at 23.
    SELECT s.person, s.address_key FROM spellings s
    WHERE s.house_addition IS NOT NULL
       OR NOT EXISTS (SELECT 1 FROM spellings o WHERE o.person = s.person AND o.house_addition IS NOT NULL)
),
current_records AS (
    -- Records at the person's current address, or with no address at all: an old landline or
    -- card from a previous home must not pull a mover back into it. Joins rather than NOT IN and
    -- EXISTS under an OR, which Spark runs as a nested loop over every pair of rows.
    SELECT r.* FROM records r
    LEFT JOIN (SELECT DISTINCT person FROM current_address) housed ON housed.person = r.person
    LEFT JOIN (SELECT DISTINCT person, address_key FROM current_address) c
      ON c.person = r.person AND c.address_key = r.address_key
    WHERE r.address_key IS NULL OR housed.person IS NULL OR c.person IS NOT NULL
),
surnames AS (
    SELECT DISTINCT person, name FROM (
        SELECT person, surname_first AS name FROM records UNION ALL SELECT person, surname_last FROM records
    ) WHERE length(name) > 2
),
building_kin_all AS (
    -- "23" without the flat number beside "23-1": the same building, and one family name shared.
    -- The shared name is joined from the pair, not asked in a correlated EXISTS: Spark runs that
    -- as every pair of persons with one surname (millions for "jansen" at 100k records) first.
    SELECT DISTINCT l.person AS anchor, l.postcode || '|' || l.house_number AS building, o.person,
           CASE WHEN o.address_key <> l.address_key THEN o.address_key END AS flat
    FROM latest_address l
    JOIN latest_address o ON o.postcode = l.postcode AND o.house_number = l.house_number AND o.person <> l.person
    JOIN surnames a ON a.person = l.person
    JOIN surnames b ON b.person = o.person AND b.name = a.name
    WHERE NOT EXISTS (SELECT 1 FROM spellings s WHERE s.person = l.person AND s.house_addition IS NOT NULL)
),
building_kin AS (
    -- Kin of the name at one flat of the building at most: at "23-2" and "23-3" both, which flat "23" means
    -- cannot be told, and tying the person to both would make one household of two families.
    SELECT k.anchor, k.building, k.person FROM building_kin_all k
    JOIN (SELECT anchor FROM building_kin_all GROUP BY anchor HAVING count(DISTINCT flat) <= 1) one
      ON one.anchor = k.anchor
),
flat_kin AS (
    -- A person known only by the bare number ("23") of a building where someone sharing their family
    -- name lives at a flat ("23-1"): most likely that flat, written without its addition. The bare
    -- number would tie them to whoever lives at "23" itself; the building and the name tie them
    -- to their kin (building_kin) instead.
    SELECT DISTINCT k.anchor AS person FROM building_kin k
    JOIN (SELECT DISTINCT person FROM spellings WHERE house_addition IS NOT NULL) flat ON flat.person = k.person
),
stays AS (
    -- When each person was first and last seen at each address.
    SELECT person, address_key, min(updated_at) AS first_seen, max(updated_at) AS last_seen
    FROM records WHERE address_key IS NOT NULL GROUP BY person, address_key
),
moves AS (
    -- A person last seen at an earlier address before they were first seen at their current one: they left it.
    SELECT s.person, s.address_key AS left_address, l.address_key AS moved_to, here.first_seen AS arrived
    FROM stays s
    JOIN latest_address l ON l.person = s.person AND l.address_key <> s.address_key
    JOIN stays here ON here.person = s.person AND here.address_key = l.address_key
    WHERE s.last_seen < here.first_seen
),
moved_together AS (
    -- Two or more people who left one address, all for one new address: a household that moved (moved_with).
    -- One who left alone may be a child leaving home, so takes along only who shared a card with them (card_kept).
    SELECT left_address, min(arrived) AS arrived, count(DISTINCT person) AS leavers FROM moves GROUP BY left_address
    HAVING count(DISTINCT moved_to) = 1
),
cards AS (
    SELECT DISTINCT person, loyalty_card FROM records WHERE loyalty_card IS NOT NULL
),
card_kept AS (
    -- Someone whose address is one a person left, and who used a card with them: one household's card.
    SELECT DISTINCT m.left_address, l.person FROM moves m
    JOIN latest_address l ON l.address_key = m.left_address AND l.person <> m.person
    JOIN cards a ON a.person = m.person
    JOIN cards b ON b.person = l.person AND b.loyalty_card = a.loyalty_card
),
seen_since AS (
    -- Someone who did not move is still seen at the old address after the first of them arrived: who stayed
    -- is not known, so nobody is taken along.
    SELECT DISTINCT t.left_address FROM moved_together t
    JOIN stays s ON s.address_key = t.left_address
    LEFT JOIN moves m ON m.person = s.person AND m.left_address = t.left_address
    WHERE m.person IS NULL AND s.last_seen >= t.arrived
),
moved_with AS (
    -- The household's members seen only at the old address, and not since it moved: they moved with it (their
    -- records are older than the move). Nobody else seen there since.
    SELECT t.left_address, l.person FROM moved_together t
    JOIN latest_address l ON l.address_key = t.left_address
    LEFT JOIN seen_since n ON n.left_address = t.left_address
    LEFT JOIN card_kept k ON k.left_address = t.left_address AND k.person = l.person
    WHERE n.left_address IS NULL AND (t.leavers >= 2 OR k.person IS NOT NULL)
),
evidence AS (
    SELECT c.person, 'address' AS kind, c.address_key AS value FROM current_address c
    LEFT JOIN flat_kin f ON f.person = c.person WHERE f.person IS NULL
    UNION SELECT person, 'loyalty_card', loyalty_card FROM current_records WHERE loyalty_card IS NOT NULL
    UNION SELECT person, 'landline', landline FROM current_records WHERE landline IS NOT NULL
    UNION SELECT person, 'email', email FROM records WHERE email IS NOT NULL
    UNION SELECT person, 'mobile', mobile FROM records WHERE mobile IS NOT NULL
    UNION SELECT anchor, 'building and surname', anchor || '|' || building FROM building_kin
    UNION SELECT person, 'building and surname', anchor || '|' || building FROM building_kin
    UNION SELECT m.person, 'moved together', m.left_address FROM moves m
          JOIN moved_with w ON w.left_address = m.left_address
    UNION SELECT person, 'moved together', left_address FROM moved_with
),
held AS (
    SELECT kind, value, count(DISTINCT person) AS holders FROM evidence GROUP BY kind, value
    HAVING count(DISTINCT person) >= 2
),
kinds AS (
    -- per kind, its values held by two persons or more, and by three or more (identity.household_caps)
    SELECT kind, count(*) AS shared, count(CASE WHEN holders >= 3 THEN 1 END) AS larger FROM held GROUP BY kind
),
usable AS (
    SELECT DISTINCT e.kind, e.value, e.person, h.holders
    FROM evidence e JOIN held h ON e.kind = h.kind AND e.value = h.value WHERE h.holders <= {ceiling}
)
-- every kind shared at all, even when all its values are held by more than the ceiling (value and person null)
SELECT k.kind, u.value, u.person, u.holders, k.shared, k.larger
FROM kinds k LEFT JOIN usable u ON u.kind = k.kind
ORDER BY k.kind, u.value, u.person
"""


# its value: the address a household left; its persons: those who left it for one new address, and those seen only
# there and not since (HOUSEHOLD_EDGES_SQL's moved_with)
MOVED_KIND = "moved together"
EDGE_COLUMNS: tuple[str, ...] = ("unique_id", "person", "updated_at", "address_key", "postcode", "house_number",
                                 "house_addition", "loyalty_card", "landline", "email", "mobile", "surname_first",
                                 "surname_last")
# the kinds of HOUSEHOLD_EDGES_SQL whose value is a record's own value, and the column it comes from
VALUE_KINDS: dict[str, str] = {"address": "address_key", "loyalty_card": "loyalty_card", "landline": "landline",
                               "email": "email", "mobile": "mobile", MOVED_KIND: "address_key"}
BUILDING_KIND = "building and surname"     # its value: the anchor person, '|', the building (postcode|number)


def shared_values(engine: Engine, records: pd.DataFrame) -> pd.DataFrame:
    """Return (kind, value, person, holders, shared, larger) rows for every value two or more persons share (at most
    HOUSEHOLD_CEILING): its kind, how many persons hold it, and how many values of its kind two and three or more
    persons hold (``identity.household_caps``); a kind whose every value more persons hold has one row without a
    value and person."""
    return engine.sql(HOUSEHOLD_EDGES_SQL.format(ceiling=HOUSEHOLD_CEILING), records=records[list(EDGE_COLUMNS)])


def measured_caps(shared: pd.DataFrame) -> HouseholdCaps:
    """Return the caps the drop's shared values (``shared_values``, over every record) give; the ratio of larger
    values from the kinds whose value is a record's own (a building's value is one per anchor: a family in one
    building holds as many values as it has anchors, each counted as held by all of them)."""
    kinds = shared.drop_duplicates("kind")
    return HouseholdCaps.measure({kind: (int(two), int(three))
                                  for kind, two, three in zip(kinds["kind"], kinds["shared"], kinds["larger"])},
                                 ratio_from=VALUE_KINDS)


def within_caps(shared: pd.DataFrame, caps: HouseholdCaps) -> pd.DataFrame:
    """Return the (kind, value, person) rows of the shared values held by no more persons than their kind's cap."""
    rows = shared[shared["person"].notna()]
    # the caps as plain integers: an engine's empty frame may type its columns as strings (Spark under pandas 3)
    limit = np.array([caps.of(kind) for kind in rows["kind"].tolist()], dtype=np.int64)
    held = rows["holders"].to_numpy(dtype=np.int64)
    return rows.loc[held <= limit, ["kind", "value", "person"]].reset_index(drop=True)


def household_edges(engine: Engine, records: pd.DataFrame, caps: HouseholdCaps | None = None) -> pd.DataFrame:
    """Return (kind, value, person) rows for every shared value that links two or more persons, and no more than
    its kind's cap: ``caps`` (a run's), or measured on these records (every record of a drop) when None."""
    return measured_household_edges(engine, records)[0] if caps is None \
        else within_caps(shared_values(engine, records), caps)


def measured_household_edges(engine: Engine, records: pd.DataFrame) -> tuple[pd.DataFrame, HouseholdCaps]:
    """Return ``household_edges`` over every record of a drop and the caps measured on them."""
    shared = shared_values(engine, records)
    caps = measured_caps(shared)
    return within_caps(shared, caps), caps


def current_addresses(engine: Engine, records: pd.DataFrame) -> dict[str, str]:
    """Return the address of each person with one, as household grouping takes it (LATEST_ADDRESS_SQL)."""
    found = engine.sql(f"WITH {LATEST_ADDRESS_SQL} SELECT person, address_key FROM latest_address",
                       records=records[["unique_id", "person", "updated_at", "address_key", "postcode", "house_number"]])
    return dict(zip(found["person"], found["address_key"]))


@dataclass
class SharedValues:
    """Values records hold that ``HOUSEHOLD_EDGES_SQL`` may share: per column of VALUE_KINDS, and buildings."""

    values: dict[str, set[str]]
    buildings: set[str]        # postcode|house_number, as ``buildings`` writes them

    @classmethod
    def of(cls, records: pd.DataFrame) -> SharedValues:
        """Return the values these records hold."""
        return cls({column: set(records[column].dropna().tolist()) for column in VALUE_KINDS.values()},
                   set(buildings(records).dropna().tolist()))

    def held(self, records: pd.DataFrame, building: pd.Series) -> pd.Series:
        """Return which records hold one of these values or stand in one of these buildings (``building``:
        the records' ``buildings``)."""
        found = isin(building, self.buildings)
        for column, values in self.values.items():
            if values:
                found |= isin(records[column], values)
        return found

    def keep(self, edges: pd.DataFrame) -> pd.DataFrame:
        """Return the edges on these values (a building's: of an anchor in one of these buildings)."""
        kept = pd.Series(False, index=edges.index)
        for kind, column in VALUE_KINDS.items():
            kept |= (edges["kind"] == kind) & isin(edges["value"], self.values[column])
        building = edges["kind"] == BUILDING_KIND
        if building.any():
            # anchor|postcode|house_number: the anchor (a person's label) may hold a '|', the building's parts do not
            where = edges.loc[building, "value"].map(lambda value: "|".join(value.rsplit("|", 2)[1:]))
            kept[building] = isin(where, self.buildings).to_numpy()
        return edges[kept]


def buildings(records: pd.DataFrame) -> pd.Series:
    """Return each record's building as HOUSEHOLD_EDGES_SQL writes it (postcode|house_number; missing without either)."""
    return (records["postcode"].astype("str") + "|" + records["house_number"].astype("str")).astype(object)


def edges_around(engine: Engine, records: pd.DataFrame, persons: set[str], gone: pd.DataFrame | None = None,
                 building: pd.Series | None = None, caps: HouseholdCaps = FIXED) -> pd.DataFrame:
    """Return the household edges (``household_edges`` over every record) on any value the records of these
    persons hold, or the records ``gone`` held; computed over the records that decide them alone.

    An edge on a value depends on every person holding it (how many share it) and on each one's own
    records (their current address, their cards there); an address's, and a building's, also on the
    persons in the building (kin there make a bare house number that flat's). An address key names its
    building, so the persons read are those with a record that holds one of the values or stands in
    one of the buildings. An incremental run groups only the persons its delta touches; the edges of
    everyone else are as the previous run found them.

    building: the records' ``buildings``, when the caller has them; caps: the published run's (these records
    are not the drop's, so they are not measured here).
    """
    building = buildings(records) if building is None else building
    mine = isin(records["person"], persons)
    shared = SharedValues.of(pd.concat([records[mine], gone]) if gone is not None and len(gone) else records[mine])
    holders = set(records.loc[shared.held(records, building), "person"].tolist())
    return shared.keep(household_edges(engine, records[isin(records["person"], holders)], caps))


@dataclass
class PersonHints:
    """What a person's records say about who they are: their birth dates and first names."""

    births: set[str] = field(default_factory=set)
    first_names: set[str] = field(default_factory=set)

    def may_be(self, other: PersonHints) -> bool:
        """Return True when the two could be one person or twins: a birth date in common, or a first
        name in common and no two birth dates that differ."""
        if self.births & other.births:
            return True
        return bool(self.first_names & other.first_names) and not (self.births and other.births)


def group_households(
    persons: list[str], edges: pd.DataFrame, surnames: dict[str, set[str]] | None = None,
    anchored: set[str] | None = None,
    hints: dict[str, PersonHints] | None = None,
    fixed: Mapping[str, str] | None = None,
    links: Mapping[tuple[str, str], float] | None = None,
    link_threshold: float = 0.5,
) -> dict[str, str]:
    """Return a household label per person: the smallest person label in its household.

    ``fixed`` keeps persons in the households they had (an incremental run: the persons it did not
    touch, by their household_id); only the other persons are grouped, and only they may join a
    household as an orphan.

    A person with no address, card or landline of their own (often an app-only customer) joins
    the one household that carries their surname and has a member who may be them (born on the
    same day: the same person or a twin; or with the same first name and no other birth date) and
    whom the model scored at ``link_threshold`` or more against them (``links``, by
    :func:`person_links`): a person the rules kept apart from that member, or a namesake the model
    finds as likely as the persons it joins. Without the score, a first name and a surname place a
    customer with a stranger more often than with their family once a drop is large: measured on
    the generator (v1), 83% of such joins were right at 3,000 households, 51% at 30,000 and 42% at
    90,000; with the score, 80% of the (fewer) joins at 90,000. A surname alone is never enough:
    unrelated customers share surnames all the time.
    """
    sets = connected_components(persons, edges)
    for members in _grouped(fixed or {}).values():
        for person in members[1:]:
            sets.union(members[0], person)
    if surnames and anchored is not None and links:
        _attach_orphans(persons, sets, surnames, anchored, hints or {}, links, link_threshold,
                        only=None if fixed is None else [p for p in persons if p not in fixed])
    return sets.labels()


def person_links(records: pd.DataFrame, pairs: pd.DataFrame) -> dict[tuple[str, str], float]:
    """Return the highest match probability between the records of two persons, by (person, person) in order.

    ``records`` holds unique_id and person; ``pairs`` the scored record pairs (unique_id_l,
    unique_id_r, match_probability). Pairs within one person are left out.
    """
    if pairs.empty:
        return {}
    person_of = pd.Series(records["person"].to_numpy(), index=records["unique_id"].to_numpy())
    left = pairs["unique_id_l"].map(person_of)
    right = pairs["unique_id_r"].map(person_of)
    frame = pd.DataFrame({"a": left.where(left < right, right), "b": right.where(left < right, left),
                          "p": pairs["match_probability"].astype(float)})
    frame = frame[frame["a"].notna() & frame["b"].notna() & (frame["a"] != frame["b"])]
    best = frame.groupby(["a", "b"], sort=False)["p"].max()
    return dict(zip(best.index.tolist(), best.tolist()))


def _grouped(fixed: Mapping[str, str]) -> dict[str, list[str]]:
    """Return the persons of each fixed household."""
    groups: dict[str, list[str]] = {}
    for person, household in fixed.items():
        groups.setdefault(household, []).append(person)
    return groups


def _attach_orphans(
    persons: list[str], sets: UnionFind, surnames: dict[str, set[str]], anchored: set[str],
    hints: dict[str, PersonHints], links: Mapping[tuple[str, str], float], threshold: float,
    only: list[str] | None = None,
) -> None:
    """Join persons without an address, card or landline to the one household that fits them.

    An orphan looks only at the persons the model scored against it at ``threshold`` or more (a
    handful), not at every household of its surname: that grew with the square of the drop
    ("jansen" heads thousands of households). A household fits when it carries one of the orphan's
    surnames and such a person in it may be the orphan (``PersonHints.may_be``).
    """
    household_of: dict[str, str] = {}             # anchored person -> its household as grouped so far
    household_surnames: dict[str, set[str]] = {}
    for p in persons:
        if p in anchored:
            household_of[p] = sets.find(p)
            household_surnames.setdefault(household_of[p], set()).update(surnames.get(p, ()))
    linked: dict[str, list[str]] = {}
    for (a, b), probability in links.items():
        if probability >= threshold:
            linked.setdefault(a, []).append(b)
            linked.setdefault(b, []).append(a)
    nobody = PersonHints()
    for p in persons if only is None else only:
        if p in anchored:
            continue
        who, names = hints.get(p, nobody), surnames.get(p, set())
        fitting: set[str] = set()
        for member in linked.get(p, ()):
            root = household_of.get(member)
            if root is None or not who.may_be(hints.get(member, nobody)):
                continue
            if names & household_surnames[root]:
                fitting.add(root)
        if len(fitting) == 1:
            sets.union(p, fitting.pop())


def household_anchors(records: pd.DataFrame) -> tuple[set[str], dict[str, set[str]], dict[str, PersonHints]]:
    """Return the persons with an address, card or landline, their surname parts, and who they are."""
    has = records[["address_key", "loyalty_card", "landline"]].notna().any(axis=1)
    anchored = set(records.loc[has, "person"].tolist())
    people = records["person"].tolist()
    surnames: dict[str, set[str]] = {}
    for person, first, last in zip(people, records["surname_first"].tolist(), records["surname_last"].tolist()):
        for name in (first, last):
            if isinstance(name, str) and len(name) > 2:
                surnames.setdefault(person, set()).add(name)
    hints: dict[str, PersonHints] = {}
    for person, birth, first in zip(people, records["birth_date"].tolist(), records["given_first"].tolist()):
        who = hints.get(person)
        if who is None:
            who = hints[person] = PersonHints()
        if isinstance(birth, str):
            who.births.add(birth)
        if isinstance(first, str):
            who.first_names.add(first)
    return anchored, surnames, hints
