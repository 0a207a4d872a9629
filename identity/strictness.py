"""The cannot-link rules fitted to the drop in front of them: name spellings and measured strictness.

Two things are read off the scored pairs of a run before clustering:

- how often each first-name spelling occurs, so that a spelling the drop hardly carries, two
  edits from a name it does carry, is read as a typo of it (:meth:`identity.rules.RuleBook.rare_typo`);
- how often each rule finds a conflict among near-identical pairs (same surname, birth date and
  postcode for the first-name rule; same first name, surname and postcode for the birth-date
  rule; same first name, birth date and postcode for the surname rule of records without a
  first name). Where that is far above what twins and same-named kin explain, the drop itself replaces
  first names or corrupts birth dates, and the rule gives way to a model that is sure
  (:class:`identity.rules.Strictness`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pandas as pd

from identity.cluster import NAMES_ONLY_THRESHOLD
from identity.rules import (
    BIRTH_DATE, FIRST_NAME, NAMELESS, NAMES_ONLY, RULE_TITLES, SURNAME, NameAndBirth, RuleBook, Strictness,
    measure_strictness,
)

log = logging.getLogger(__name__)


def _same(pairs: pd.DataFrame, column: str) -> pd.Series:
    """Return the mask of pairs that carry the same non-empty value in a column on both sides."""
    left, right = pairs[f"{column}_l"], pairs[f"{column}_r"]
    return left.notna() & (left == right)


def _pairs_of(pairs: pd.DataFrame, mask: pd.Series, records: dict[str, NameAndBirth]) -> list[tuple[NameAndBirth, NameAndBirth]]:
    """Return the rule fields of the masked pairs."""
    chosen = pairs.loc[mask, ["unique_id_l", "unique_id_r"]]
    return [(records[a], records[b]) for a, b in zip(chosen["unique_id_l"], chosen["unique_id_r"])]


def fit_rules(records: pd.DataFrame, rule_fields: dict[str, NameAndBirth], pairs: pd.DataFrame) -> RuleBook:
    """Return the rule book of one drop: its first-name counts and each rule's measured strictness."""
    counts = records["given_first"].value_counts().to_dict()
    book = RuleBook(counts)
    needed = {f"{c}_{side}" for c in ("surname_core", "birth_date", "postcode", "given_first") for side in "lr"}
    if pairs.empty or not needed <= set(pairs.columns):
        return book
    place = _same(pairs, "surname_core") & _same(pairs, "postcode")
    both_born = pairs["birth_date_l"].notna() & pairs["birth_date_r"].notna()
    both_named = pairs["surname_core_l"].notna() & pairs["surname_core_r"].notna()
    strictness = [
        measure_strictness(FIRST_NAME, _pairs_of(pairs, place & _same(pairs, "birth_date"), rule_fields), book),
        measure_strictness(BIRTH_DATE, _pairs_of(pairs, place & _same(pairs, "given_first") & both_born, rule_fields), book),
        measure_strictness(SURNAME, _pairs_of(pairs, _same(pairs, "postcode") & _same(pairs, "given_first")
                                              & _same(pairs, "birth_date") & both_named, rule_fields), book),
    ]
    for measured in strictness:
        log.info("%s", measured.describe())
    return RuleBook(counts, strictness)


def rules_of_run(book: RuleBook, names_only_threshold: float = NAMES_ONLY_THRESHOLD) -> list[dict[str, Any]]:
    """Return how each rule applied to a run, as the run keeps it: one dict per rule with a "description" line.

    The measured rules (first name, birth date) also carry their figures: near-identical pairs
    measured, conflicts, and whether the rule refused outright. The line is kept as written, so
    the report of an old run says what that run did even after the rules change.
    """
    kept: list[dict[str, Any]] = [
        {"rule": s.rule, "pairs": s.pairs, "conflicts": s.conflicts, "strict": s.strict, "description": s.describe()}
        for s in book.strictness.values()
    ]
    kept.append({"rule": NAMELESS, "description": f"{RULE_TITLES[NAMELESS]}: such a record joins only on a birth "
                                                  "date, mobile or e-mail it shares with the other"})
    kept.append({"rule": NAMES_ONLY, "description": f"{RULE_TITLES[NAMES_ONLY]}: such a pair joins only from "
                                                    f"match probability {names_only_threshold}"})
    return kept


def book_of_run(name_counts: Mapping[str, int], rules: list[dict[str, Any]]) -> RuleBook:
    """Return the rule book of a run as it kept it (``rules_of_run``), over these first-name counts."""
    measured = [Strictness(r["rule"], int(r["pairs"]), int(r["conflicts"])) for r in rules
                if {"pairs", "conflicts"} <= set(r)]
    return RuleBook(name_counts, measured)
