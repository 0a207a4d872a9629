"""Why two records are one person or two, in plain values.

- ``pair_score``: a pair scored with the run's model (``identity.scoring``) as the weight of each
  comparison's level, beside the prior; they add up to the pair's match weight.
- ``link_path`` and ``links_from``: the links between records of one person. The joins a run makes
  (``identity.cluster``'s merges) form a spanning tree of each person, so a breadth-first search
  finds the one path between two of its records.
- ``verdict``: the sentence that says what joined them or kept them apart: a steward's decision, the
  rule that refused them, the links that made them one person, or the threshold.
- ``household_path`` and ``household_sentence``: the fewest links (a shared value, or the model's score
  for a member without an address, card or landline) between two persons of one household;
  ``shared_apart``: what two persons of two households share, and why it does not join them.

No storage and no Splink here: ``profile_api.explain`` reads the store and fills these in.
"""

from __future__ import annotations

import math
import re
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from identity.cluster import EDITED_ACCOUNT, NAMES_ONLY_THRESHOLD, Refusal, names_only_pairs
from identity.household_caps import HouseholdCaps
from identity.rules import NAMES_ONLY, RULE_TITLES, STEWARD, NameAndBirth, RuleBook, rule_of

MUST_LINK, CANNOT_LINK = "must_link", "cannot_link"
MODEL = "model"
ACCOUNT = "account"     # an edited record back with its person (identity.cluster.EDITED_ACCOUNT)
REAL_TIME = "real time"     # a record ResolveRecord joined to its person (its match_edge reason: REALTIME_JOINED)
REALTIME_JOINED = "joined in real time by ResolveRecord, scored by the published run's model"

# What an explanation shows of each comparison's inputs: the columns whose values it prints, joined
# by a space; "a|b" prints a, or b when a is missing. A comparison not named here shows the columns
# its conditions read.
SHOWN_COLUMNS: dict[str, tuple[str, ...]] = {
    "given_name": ("given_first|initials",),
    "surname": ("particles", "surname_core"),
    "birth_date": ("birth_date",),
    "email": ("email",),
    "mobile": ("mobile",),
    "landline": ("landline",),
    "loyalty_card": ("loyalty_card",),
    "address": ("street", "house_number", "house_addition", "postcode", "city"),
    "city_only": ("city",),
    "email_year": ("email", "birth_date"),
}
_COLUMN_L = re.compile(r"\b(\w+)_l\b")


@dataclass(frozen=True)
class ComparisonWeight:
    """One comparison of the model: the level two records reached and what it weighs (log2 Bayes factor)."""

    comparison: str
    level: str
    match_weight: float              # the level's weight plus the term-frequency adjustment
    value_a: str
    value_b: str
    term_frequency_weight: float = 0.0   # the part of match_weight the rarity of the shared value adds


@dataclass(frozen=True)
class PairScore:
    """A pair as the model scores it: prior_weight plus the comparisons' weights is match_weight."""

    match_probability: float
    match_weight: float
    prior_weight: float
    comparisons: list[ComparisonWeight]
    compared: bool = True     # whether the run's blocking rules bring the pair together at all


@dataclass(frozen=True)
class Link:
    """One join between two records of a person: its match probability and what made it."""

    record_a: str
    record_b: str
    match_probability: float
    joined_by: str = MODEL    # "model", "steward decision <id>", ACCOUNT or REAL_TIME

    def reversed(self) -> Link:
        """Return the same link read from record_b to record_a."""
        return Link(self.record_b, self.record_a, self.match_probability, self.joined_by)


@dataclass(frozen=True)
class StewardNote:
    """A data steward's decision about two records, as an explanation names it."""

    decision_id: str
    kind: str                 # MUST_LINK | CANNOT_LINK
    reason: str
    decided_by: str
    decided_at: str           # ISO date and time
    between: tuple[str, str] | None = None   # the two records it names, when not the two explained


@dataclass(frozen=True)
class Verdict:
    """What joined two records or kept them apart: a sentence, the rule's key and the steward decision's id."""

    decision: str
    rule: str = ""
    steward_decision_id: str = ""


# A household link that no shared value makes: a person with no address, card or landline of their own, placed
# where the model found a member likely to be them (identity.households.group_households).
LIKELY_MEMBER = "likely a member"
# How each kind of household evidence reads in a sentence (identity.households.HOUSEHOLD_EDGES_SQL's kinds).
HOUSEHOLD_KIND_WORDS: dict[str, str] = {
    "address": "live at", "loyalty_card": "use the loyalty card", "landline": "share the landline",
    "email": "share the e-mail address", "mobile": "share the mobile number",
    "building and surname": "share a family name in the building", "moved together": "moved together from",
    LIKELY_MEMBER: "may be one person (one of them has no address, card or landline): the model scores them at",
}


# How each kind reads as what reached a member ("3 by a shared address").
HOUSEHOLD_KIND_NOUNS: dict[str, str] = {
    "address": "a shared address", "loyalty_card": "a shared loyalty card", "landline": "a shared landline",
    "email": "a shared e-mail address", "mobile": "a shared mobile number",
    "building and surname": "a family name in one building", "moved together": "a move together",
    LIKELY_MEMBER: "the model's score (no address, card or landline of their own)",
}


@dataclass(frozen=True)
class HouseholdLink:
    """Why two persons are in one household: a value both hold (an address, a card ...) or the model's score."""

    customer_id_a: str
    customer_id_b: str
    kind: str                        # a kind of HOUSEHOLD_KIND_WORDS
    value: str                       # the shared value ('' for LIKELY_MEMBER)
    match_probability: float = 0.0   # LIKELY_MEMBER's: the best score between their records


@dataclass(frozen=True)
class HouseholdExplanation:
    """Whether two persons share a household, and the links between persons that put them in one."""

    same_household: bool
    household_id_a: str
    household_id_b: str
    decision: str
    path: list[HouseholdLink] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Return the explanation with the field names of herken.v1.HouseholdExplanation."""
        return {"same_household": self.same_household, "household_id_a": self.household_id_a,
                "household_id_b": self.household_id_b, "decision": self.decision,
                "path": [vars(link) for link in self.path]}


@dataclass(frozen=True)
class HouseholdTree:
    """What holds a household together: from its first person, the link that reaches each other one."""

    household_id: str
    customer_ids: list[str]
    links: list[HouseholdLink]       # customer_id_b: the person reached, from one nearer the first
    unlinked: list[str]              # persons no link reaches in the records as they are now
    decision: str

    def as_dict(self) -> dict[str, Any]:
        """Return the tree with the field names of herken.v1.ExplainHouseholdResponse."""
        return {"household_id": self.household_id, "customer_ids": list(self.customer_ids),
                "links": [vars(link) for link in self.links], "unlinked": list(self.unlinked),
                "decision": self.decision}


def household_path(evidence: Iterable[tuple[str, str, str]], likely: Iterable[HouseholdLink],
                   start: str, goal: str) -> list[HouseholdLink] | None:
    """Return the fewest household links from person start to person goal, or None when none joins them.

    evidence: (kind, value, person) rows, ``identity.households.household_edges``'s: the persons holding one
    value are linked by it; likely: the links of persons without an address, card or landline (LIKELY_MEMBER).
    Shared values are tried before the model's scores, and the rows in the order given.
    """
    came = _reached(_household_graph(evidence, likely), start, goal)
    if goal not in came:
        return None
    path: list[HouseholdLink] = []
    here = goal
    while came[here] is not None:
        before, link = came[here]  # type: ignore[misc]
        path.append(_oriented(link, before, here))
        here = before
    return path[::-1]


def household_tree(evidence: Iterable[tuple[str, str, str]], likely: Iterable[HouseholdLink],
                   persons: Sequence[str]) -> tuple[list[HouseholdLink], list[str]]:
    """Return, from the first of a household's persons, the link that reaches each other person from one nearer the
    first by the fewest links (oriented: customer_id_b is the person reached), and the persons no link reaches.

    evidence and likely as for ``household_path``; links to persons outside ``persons`` are not followed.
    """
    if not persons:
        return [], []
    members = set(persons)
    graph = {person: [(there, link) for there, link in near if there in members]
             for person, near in _household_graph(evidence, likely).items() if person in members}
    came = _reached(graph, persons[0])
    links = [_oriented(step[1], step[0], person) for person, step in came.items() if step is not None]
    return links, [person for person in persons if person not in came]


def household_tree_sentence(household_id: str, persons: Sequence[str], links: Sequence[HouseholdLink],
                            unlinked: Sequence[str]) -> str:
    """Return one sentence on what holds a household together: its links by kind, and who they do not reach."""
    if len(persons) < 2:
        return f"one household ({household_id}) of one person"
    kinds: dict[str, int] = {}
    for link in links:
        kinds[link.kind] = kinds.get(link.kind, 0) + 1
    said = ", ".join(f"{n} by {HOUSEHOLD_KIND_NOUNS.get(kind, kind)}" for kind, n in
                     sorted(kinds.items(), key=lambda item: (-item[1], item[0])))
    sentence = f"one household ({household_id}) of {len(persons)} persons"
    if links:
        sentence += f": {len(links)} reached from {persons[0]} through links, {said}"
    if unlinked:
        sentence += (f"; {len(unlinked)} not linked in the records as they are now ({', '.join(unlinked)}): the run "
                     "joined them on values changed since")
    return sentence


def _household_graph(evidence: Iterable[tuple[str, str, str]],
                     likely: Iterable[HouseholdLink]) -> dict[str, list[tuple[str, HouseholdLink]]]:
    """Return each person's neighbours through a shared value (first, in the rows' order) or the model's score."""
    holders: dict[tuple[str, str], list[str]] = {}
    for kind, value, person in evidence:
        holders.setdefault((kind, value), []).append(person)
    links: list[HouseholdLink] = [HouseholdLink(persons[0], other, kind, value)
                                  for (kind, value), persons in holders.items() for other in persons[1:]]
    links += list(likely)
    neighbours: dict[str, list[tuple[str, HouseholdLink]]] = {}
    for link in links:
        neighbours.setdefault(link.customer_id_a, []).append((link.customer_id_b, link))
        neighbours.setdefault(link.customer_id_b, []).append((link.customer_id_a, link))
    return neighbours


def _reached(neighbours: Mapping[str, list[tuple[str, HouseholdLink]]], start: str,
             goal: str | None = None) -> dict[str, tuple[str, HouseholdLink] | None]:
    """Return every person reached from start, breadth first (until goal, when given), with the step that came to it."""
    came: dict[str, tuple[str, HouseholdLink] | None] = {start: None}
    queue = deque([start])
    while queue:
        here = queue.popleft()
        if here == goal:
            break
        for there, link in neighbours.get(here, ()):
            if there not in came:
                came[there] = (here, link)
                queue.append(there)
    return came


def _oriented(link: HouseholdLink, before: str, here: str) -> HouseholdLink:
    """Return the link as a step from person before to person here."""
    return link if link.customer_id_a == before else HouseholdLink(before, here, link.kind, link.value,
                                                                    link.match_probability)


# The values two persons may share that household grouping reads, by their column in standardised records.
HOUSEHOLD_VALUES: dict[str, str] = {"address_key": "address", "loyalty_card": "loyalty card", "landline": "landline",
                                    "email": "e-mail address", "mobile": "mobile number"}
# The kind of household evidence (identity.households.HOUSEHOLD_EDGES_SQL) each of those columns makes.
HOUSEHOLD_KINDS: dict[str, str] = {"address_key": "address", "loyalty_card": "loyalty_card", "landline": "landline",
                                   "email": "email", "mobile": "mobile"}


def shared_apart(records: pd.DataFrame, person_a: str, person_b: str, now: Mapping[str, str],
                 holders: Mapping[tuple[str, str], int], caps: HouseholdCaps) -> list[str]:
    """Return, for two persons of two households, each value they share and why it does not join them.

    records: the two persons' standardised records with their ``person``; now: each person's current address
    (``identity.households.current_addresses``; none for a person without one); holders: how many persons of the
    store hold each (column, value) of HOUSEHOLD_VALUES; caps: the most persons a value of each kind may join, as
    the run measured them (``identity.household_caps``).
    """
    mine = {person: records[records["person"] == person] for person in (person_a, person_b)}
    notes = []
    for column, words in HOUSEHOLD_VALUES.items():
        both = set(mine[person_a][column].dropna()) & set(mine[person_b][column].dropna())
        for value in sorted(both):
            many, cap = holders.get((column, value), 0), caps.of(HOUSEHOLD_KINDS[column])
            if many > cap:
                notes.append(f"the {words} {value}, which {many} persons use: more than {cap}, the most the drop's "
                             "households make likely, so it says nothing")
                continue
            if column in ("address_key", "loyalty_card", "landline"):
                left = [person for person, rows in mine.items() if now.get(person) is not None and not (
                    (rows[column] == value) & ((rows["address_key"] == now[person]) | rows["address_key"].isna())
                ).any()]
                if left:
                    where = "an earlier address" if column == "address_key" else "a record at an earlier address"
                    notes.append(f"the {words} {value}, from {where} of {' and '.join(left)} "
                                 f"(now at {', '.join(str(now[p]) for p in left)})")
                    continue
            notes.append(f"the {words} {value}")
    return notes


def household_sentence(same: bool, path: list[HouseholdLink] | None, household_a: str, household_b: str,
                       apart: Iterable[str] = ()) -> str:
    """Return the sentence that says whether two persons share a household, and what joins them (apart: for two
    households, the values their persons share that do not join them, as ``shared_apart`` says them)."""
    if not same:
        apart = list(apart)
        if apart:
            return f"two households ({household_a}, {household_b}); their persons share " + "; ".join(apart)
        return (f"two households ({household_a}, {household_b}): no address, card, landline, e-mail or mobile "
                "that the grouping follows links their persons")
    if path is None:
        return f"one household ({household_a}); the links that joined it are not found in the records as they are now"
    if not path:
        return f"one person, so one household ({household_a})"
    steps = len(path) - 1
    through = f", through {steps} other member{'s' if steps > 1 else ''}" if steps else ""
    return f"one household ({household_a}){through}: " + "; ".join(household_link_words(link) for link in path)


def household_link_words(link: HouseholdLink) -> str:
    """Return one household link in words: '<a> and <b> use the loyalty card 2614...'."""
    words = HOUSEHOLD_KIND_WORDS.get(link.kind, f"share {link.kind}")
    if link.kind == LIKELY_MEMBER:
        return f"{link.customer_id_a} and {link.customer_id_b} {words} {link.match_probability:.3f}"
    return f"{link.customer_id_a} and {link.customer_id_b} {words} {link.value}".rstrip()


@dataclass(frozen=True)
class PairExplanation:
    """Why two records (``source:record_id``) are one person or two."""

    record_a: str
    record_b: str
    score: PairScore
    same_person: bool
    customer_id_a: str
    customer_id_b: str
    verdict: Verdict
    path: list[Link] = field(default_factory=list)   # when one person: the links from a to b
    household: HouseholdExplanation | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return the explanation with the field names of herken.v1.ExplainMatchResponse (plus the records)."""
        return {
            "record_a": self.record_a, "record_b": self.record_b,
            "match_probability": self.score.match_probability, "match_weight": self.score.match_weight,
            "prior_weight": self.score.prior_weight,
            "comparisons": [vars(c) for c in self.score.comparisons], "compared_by_the_run": self.score.compared,
            "same_person": self.same_person, "customer_id_a": self.customer_id_a,
            "customer_id_b": self.customer_id_b, "decision": self.verdict.decision, "rule": self.verdict.rule,
            "steward_decision_id": self.verdict.steward_decision_id, "path": [vars(link) for link in self.path],
            "household": self.household.as_dict() if self.household is not None else None,
        }


@dataclass(frozen=True)
class RecordExplanation:
    """A record's place in its person: its confidence and the links that tie the person's records together."""

    record: str
    customer_id: str
    confidence: float | None
    records: int                     # how many records the person has
    links: list[Link]                # breadth-first from the record: how each other record is reached
    decision: str

    def as_dict(self) -> dict[str, Any]:
        """Return the explanation as plain values."""
        return {"record": self.record, "customer_id": self.customer_id, "confidence": self.confidence,
                "records": self.records, "links": [vars(link) for link in self.links], "decision": self.decision}


def prior_weight(model: Mapping[str, Any]) -> float:
    """Return the model's starting match weight: log2 of the prior odds that two records match."""
    prior = float(model["probability_two_random_records_match"])
    return math.log2(prior / (1 - prior))


def level_of(comparison: Mapping[str, Any], gamma: int) -> Mapping[str, Any]:
    """Return the level of a comparison (model JSON) with this comparison vector value.

    Splink numbers a comparison's levels from the top: the null level is -1, the others count down
    from (number of non-null levels - 1) to 0 in the order they are listed.
    """
    levels = comparison.get("comparison_levels", [])
    value = sum(1 for level in levels if not level.get("is_null_level"))
    for level in levels:
        if level.get("is_null_level"):
            if gamma == -1:
                return level
            continue
        value -= 1
        if value == gamma:
            return level
    raise ValueError(f"comparison {comparison.get('output_column_name')!r} has no level {gamma}")


def _shown(row: Mapping[str, Any], columns: Iterable[str], side: str) -> str:
    """Return the values of columns on one side ("l" or "r") of a scored pair, as text."""
    words = []
    for column in columns:
        for choice in column.split("|"):
            value = row.get(f"{choice}_{side}")
            if value is not None and value != "":
                words.append(str(value))
                break
    return " ".join(words)


def _shown_columns(comparison: Mapping[str, Any]) -> tuple[str, ...]:
    """Return the columns an explanation shows for a comparison (SHOWN_COLUMNS, else those its conditions read)."""
    name = comparison.get("output_column_name", "")
    if name in SHOWN_COLUMNS:
        return SHOWN_COLUMNS[name]
    found: list[str] = []
    for level in comparison.get("comparison_levels", []):
        for column in _COLUMN_L.findall(level.get("sql_condition") or ""):
            if column not in found and not column.endswith("_names"):
                found.append(column)
    return tuple(found)


def _number(value: Any) -> float:
    """Return a weight from a scored row: missing (a null level has no adjustment) as 0."""
    return 0.0 if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def pair_score(row: Mapping[str, Any], model: Mapping[str, Any]) -> PairScore:
    """Return a scored pair (a row of Splink's predict with its intermediate columns) as comparison weights.

    Each comparison's weight is the row's own (``mw_<comparison>``, plus ``mw_tf_adj_<comparison>``
    where the value's rarity adjusts it), so prior_weight and the comparisons add up to the row's
    match_weight as Splink computed it.
    """
    gamma_prefix = model.get("comparison_vector_value_column_prefix", "gamma_")
    weight_prefix = model.get("match_weight_column_prefix", "mw_")
    comparisons = []
    for comparison in model.get("comparisons", []):
        name = comparison["output_column_name"]
        level = level_of(comparison, int(row[f"{gamma_prefix}{name}"]))
        adjustment = _number(row.get(f"{weight_prefix}tf_adj_{name}"))
        columns = _shown_columns(comparison)
        comparisons.append(ComparisonWeight(
            comparison=name,
            level=level.get("label_for_charts") or level.get("sql_condition", ""),
            match_weight=_number(row.get(f"{weight_prefix}{name}")) + adjustment,
            value_a=_shown(row, columns, "l"), value_b=_shown(row, columns, "r"),
            term_frequency_weight=adjustment,
        ))
    compared = row.get("found_by_blocking_rules")
    return PairScore(match_probability=float(row["match_probability"]), match_weight=float(row["match_weight"]),
                     prior_weight=prior_weight(model), comparisons=comparisons,
                     compared=True if compared is None else bool(compared))


def _neighbours(links: Iterable[Link]) -> dict[str, list[Link]]:
    """Return each record's links, read from that record, in a stable order."""
    around: dict[str, list[Link]] = {}
    for link in links:
        around.setdefault(link.record_a, []).append(link)
        around.setdefault(link.record_b, []).append(link.reversed())
    for found in around.values():
        found.sort(key=lambda link: (-link.match_probability, link.record_b))
    return around


def links_from(links: Iterable[Link], start: str) -> list[Link]:
    """Return the links that reach every record connected to start, breadth-first, each read away from start."""
    around = _neighbours(links)
    seen, queue, tree = {start}, deque([start]), []
    while queue:
        record = queue.popleft()
        for link in around.get(record, []):
            if link.record_b not in seen:
                seen.add(link.record_b)
                tree.append(link)
                queue.append(link.record_b)
    return tree


def link_path(links: Iterable[Link], start: str, goal: str) -> list[Link] | None:
    """Return the links from start to goal, each read towards goal ([]: one record; None: not connected)."""
    if start == goal:
        return []
    reached = {link.record_b: link for link in links_from(links, start)}
    if goal not in reached:
        return None
    path = [reached[goal]]
    while path[-1].record_a != start:
        path.append(reached[path[-1].record_a])
    return path[::-1]


def rule_against(row: Mapping[str, Any], a: NameAndBirth, b: NameAndBirth, rules: RuleBook) -> Refusal | None:
    """Return the refusal a run's rules make of a scored pair (a row of ``identity.scoring``) itself, or None.

    What ``identity.cluster`` asks of a pair: only the names agree below NAMES_ONLY_THRESHOLD, or a
    cannot-link rule finds the two records incompatible (a rule the drop showed to be noise gives
    way to a pair the model is sure of). Conflicts with the other records of their persons are not
    looked at here: a run records those when it meets them.
    """
    probability = float(row["match_probability"])
    record_a, record_b = str(row["unique_id_l"]), str(row["unique_id_r"])
    if probability < NAMES_ONLY_THRESHOLD and names_only_pairs(pd.DataFrame([dict(row)])):
        return Refusal(record_a, record_b, probability, RULE_TITLES[NAMES_ONLY], NAMES_ONLY)
    found = rules.conflict(a, b, rules.waived(probability, a, b))
    return Refusal(record_a, record_b, probability, found[1], found[0]) if found else None


def _steward_words(note: StewardNote) -> str:
    """Return a steward decision as a sentence names it: "steward decision D1 (cannot-link by ana on ...: reason)"."""
    kind = note.kind.replace("_", "-")
    return f"steward decision {note.decision_id} ({kind} by {note.decided_by} on {note.decided_at[:10]}: {note.reason})"


def verdict(record_a: str, record_b: str, same_person: bool, match_probability: float, threshold: float, *,
            steward: StewardNote | None = None, refusal: Refusal | None = None, path: list[Link] | None = None,
            compared: bool = True, gave_way: str | None = None) -> Verdict:
    """Return what joined two records into one person or kept them apart, first what decided it.

    Args:
        same_person: whether the published run has them in one person.
        match_probability: the pair's own score.
        threshold: the lowest match probability that may join two persons in a run.
        steward: a steward decision naming these two records (it overrules the model).
        refusal: a refused join between their persons (the pair tried and the rule that refused it).
        path: when one person, the links from record_a to record_b (None: the run's links do not connect them).
        compared: whether the run's blocking rules bring the pair together at all.
        gave_way: when a cannot-link rule holds the pair apart and gave way to it, the rule and why
            (``RuleBook.gave_way``): told where the pair is itself the link that joined them.
    """
    if steward is not None:
        words = _steward_words(steward)
        joins = steward.kind == MUST_LINK
        if joins == same_person:
            sentence = f"{'joined' if joins else 'kept apart'} by {words}"
            if steward.between:
                sentence += f", between {steward.between[0]} and {steward.between[1]} of their persons"
        else:
            sentence = (f"{words} {'joins' if joins else 'separates'} them, but the published run predates it: "
                        f"the next run {'joins' if joins else 'separates'} them")
        return Verdict(sentence, STEWARD, steward.decision_id)
    if same_person:
        if path is None:
            return Verdict("one person, but the published run's links do not connect the two records")
        if len(path) == 1:
            if path[0].joined_by == ACCOUNT:
                return Verdict(f"one person: {EDITED_ACCOUNT}, and nothing its edit changed conflicts with them "
                               f"(match probability {path[0].match_probability:.4f})")
            how = {MODEL: "the model", REAL_TIME: "the model, in real time (ResolveRecord)"}.get(path[0].joined_by,
                                                                                                "a steward")
            rule_words = f"; {gave_way}" if gave_way and path[0].joined_by == MODEL else ""
            return Verdict(f"one person: joined directly by {how} at match probability "
                           f"{path[0].match_probability:.4f}{rule_words}")
        weakest = min(path, key=lambda link: link.match_probability)
        stewards = sorted({link.joined_by for link in path if link.joined_by not in (MODEL, ACCOUNT, REAL_TIME)})
        also = f", among them {', '.join(stewards)}" if stewards else ""
        return Verdict(f"one person: joined through {len(path)} links via {len(path) - 1} other record"
                       f"{'s' if len(path) > 2 else ''}{also}; the weakest link has match probability "
                       f"{weakest.match_probability:.4f} (the pair's own is {match_probability:.4f})")
    rule = reason = besides = ""
    if refusal is not None:
        rule = refusal.rule or rule_of(refusal.reason)
        reason = refusal.reason or RULE_TITLES.get(rule, rule)
        if {refusal.unique_id_l, refusal.unique_id_r} == {record_a, record_b}:
            return Verdict(f"kept apart by the cannot-link rule {rule}: {reason} (the model scored the pair "
                           f"{refusal.match_probability:.4f})", rule)
        besides = (f"joining their persons was refused on the pair {refusal.unique_id_l} – {refusal.unique_id_r} "
                   f"by the cannot-link rule {rule}: {reason} (match probability {refusal.match_probability:.4f})")
    also = f"; besides, {besides}" if besides else ""
    if not compared:
        return Verdict(f"two persons: no blocking rule brings them together (no shared e-mail, phone, card or "
                       f"address, nor name with birth date or place), so the run never compared them; the model "
                       f"scores them {match_probability:.4f}{also}")
    if match_probability < threshold:
        return Verdict(f"two persons: match probability {match_probability:.4f} is below the match threshold "
                       f"{threshold:g}{also}")
    if besides:
        return Verdict(f"kept apart: {besides}", rule)
    # Above the threshold, compared and not refused: a run over a published store does not join
    # unchanged records that were two persons (identity.cluster's hysteresis).
    return Verdict(f"two persons: the run did not join them at match probability {match_probability:.4f}; a run "
                   "over a published store joins two persons of unchanged records only through a new or changed "
                   "record (so that IDs do not flicker with the model's retraining; `herken resolve --fresh` "
                   "clusters from scratch)")


def record_verdict(record: str, customer_id: str, confidence: float | None, links: list[Link], records: int) -> str:
    """Return a sentence on a record's place in its person: how many records, its confidence, its best link."""
    if records <= 1:
        return f"{record} is the only record of {customer_id}: confidence 1"
    sure = f"confidence {confidence:.4f}" if confidence is not None else "no confidence recorded"
    own = [link for link in links if link.record_a == record]
    best = max(own, key=lambda link: link.match_probability, default=None)
    tie = (f"; its strongest link in the run is to {best.record_b} ({best.joined_by}, match probability "
           f"{best.match_probability:.4f})") if best else ""
    return f"{record} is one of {records} records of {customer_id}: {sure}{tie}"
