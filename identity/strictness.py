"""The cannot-link rules fitted to the drop in front of them: name spellings and measured strictness.

Two things are read off the scored pairs of a run before clustering:

- how often each first-name spelling occurs, so that a spelling the drop hardly carries, two
  edits from a name it does carry, is read as a typo of it (:meth:`identity.rules.RuleBook.rare_typo`);
- how often each rule finds a conflict among near-identical pairs (same surname, birth date and
  postcode for the first-name rule; same first name, surname and postcode for the birth-date
  rule; same first name, birth date and postcode for the surname rule of records without a
  first name). Where that is far above what twins and same-named kin explain, the drop itself replaces
  first names or corrupts birth dates, and the rule gives way to a model that is sure
  (:class:`identity.rules.Strictness`); the mobile-number rule (same first name, surname and birth
  date) is used only where one person's records carry one number as measured; and how often pairs on
  one mobile number or one e-mail address under first names the rules hold apart carry different birth
  dates, which says how far such a value is one person's (:func:`measure_personal`);
- which pairs of first names the drop shows to be one person's: a call name no list knows
  ("Ellen" for Petronella) is written beside the official name by many unrelated people, while
  twins and other kin with the same surname and birth date pair their names at random
  (:func:`learn_name_variants`).
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from identity.cluster import NAMES_ONLY_THRESHOLD
from identity.household_caps import HouseholdCaps
from identity.placeholder_values import describe_values
from identity.placeholders import describe as describe_placeholders
from identity.rules import (
    BIRTH_DATE, BIRTH_DATE_WAIVERS, DATE_TYPO_EDITS, FIRST_NAME, FIRST_NAME_WAIVERS, MEASUREMENTS, MIN_MEASURED, MOBILE,
    NAMELESS, NAMES_ONLY, ONE_SURNAME, PERSONAL_EMAIL, PERSONAL_MOBILE, PERSONAL_VALUES, RULE_TITLES, SURE, SURE_DATES,
    SURE_PAIRS, SURNAME, DateTypos, NameAndBirth, RuleBook, Strictness, Witnessed, birth_dates_compatible, date_edits,
    measure_strictness, unmeasured,
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


# A name pair is read as one person's names when the families that show it are this unlikely to be
# chance (twins and kin named at random), after a Bonferroni correction for the pairs tested: the
# usual 1% significance level, not a figure fitted to any drop.
SIGNIFICANCE = 0.01
MIN_FAMILIES = 2   # one family shows nothing but itself: twins, or a name changed once
SHOWN_VARIANTS = 10   # learnt name pairs named in the run's description of the first-name rule
HOUSEHOLDS = "households"   # the entry of run.rules_json that keeps the run's household caps (identity.household_caps)
# the entry of run.rules_json that keeps the identifiers the run read as placeholders (identity.placeholder_values)
PLACEHOLDER_VALUES = "placeholder_values"


def _poisson_tail(observed: int, expected: float) -> float:
    """Return P(X >= observed) for X Poisson with the given mean."""
    if expected <= 0:
        return 0.0 if observed > 0 else 1.0
    term, below = math.exp(-expected), 0.0
    for i in range(observed):
        below += term
        term *= expected / (i + 1)
    return max(0.0, 1.0 - below)


def learn_name_variants(pairs: pd.DataFrame, rule_fields: dict[str, NameAndBirth], book: RuleBook,
                        name_counts: Mapping[str, int]) -> list[tuple[str, str]]:
    """Return the first-name pairs the drop shows to be one person's names, sorted.

    Looked at: scored pairs with the same surname and the same birth date or mobile number whose
    first names the rules hold apart (twins, kin, and one person under two names). A pair of names
    counts once per family (surname) that shows it. Kin name at random, so a pair of names shows up
    in several families only by chance: a pair is kept when the number of families showing it is
    significant (Poisson tail at ``SIGNIFICANCE`` over the pairs tested) against both what the
    drop's name frequencies and how often each name is in conflict with other names would give
    by chance.
    """
    needed = {f"{c}_{side}" for c in ("given_first", "surname_core", "birth_date", "mobile") for side in "lr"}
    if pairs.empty or not needed <= set(pairs.columns):
        return []
    close = (pairs["given_first_l"].notna() & pairs["given_first_r"].notna() & _same(pairs, "surname_core")
             & (_same(pairs, "birth_date") | _same(pairs, "mobile")))
    shown: set[tuple[str, str, str]] = set()
    for a, b in _pairs_of(pairs, close, rule_fields):
        if a.given_first != b.given_first and not book.names_compatible(a, b):
            x, y = sorted((a.given_first, b.given_first))
            shown.add((x, y, a.surname_core))
    if not shown:
        return []
    families = Counter((x, y) for x, y, _ in shown)
    in_conflicts = Counter(name for x, y, _ in shown for name in (x, y))
    conflicts = len(shown)
    records = sum(name_counts.values()) or 1
    level = SIGNIFICANCE / len(families)
    learnt = []
    for (x, y), seen in sorted(families.items()):
        if seen < MIN_FAMILIES:
            continue
        by_drop = conflicts * 2 * (name_counts.get(x, 0) / records) * (name_counts.get(y, 0) / records)
        # how prone each name is to conflicts apart from this pair (popular names among twins), plus one
        by_conflicts = (in_conflicts[x] - seen + 1) * (in_conflicts[y] - seen + 1) / (2 * conflicts)
        if _poisson_tail(seen, max(by_drop, by_conflicts)) <= level:
            learnt.append((x, y))
    return learnt


def learn_date_typos(pairs: pd.DataFrame, rule_fields: dict[str, NameAndBirth]) -> DateTypos | None:
    """Return how the conflicting birth dates of scored pairs with one first name and surname lie: how many
    are two digits apart (:class:`identity.rules.DateTypos`); None when the pairs do not carry those fields.

    Two unrelated people's conflicting dates are two digits apart in 1-2% of pairs (random pairs of our
    generator's dates: 1.4%; of Splink's historical_50k: 2.3%), and a father and the son with his name in
    about 6% (our generator: 65 of 1,093 such pairs at a million records). A drop that mistypes dates by
    two digits piles its conflicts up there (historical_50k: 866 of 1,012, 837 of them one person's).
    Where the conflicts two digits apart outnumber all the others (``DateTypos.learnt``), kin would explain
    at most a third of them even if a quarter of kin's conflicts were two digits apart, four times what we
    measured: the rest are one person's typos, and dates two digits apart are compatible in that drop.
    No address is held equal: a drop may carry none, and a namesake elsewhere conflicts as kin do.
    """
    needed = {f"{c}_{side}" for c in ("given_first", "surname_core", "birth_date") for side in "lr"}
    if not needed <= set(pairs.columns):
        return None
    one_name = (_same(pairs, "given_first") & _same(pairs, "surname_core") & pairs["birth_date_l"].notna()
                & pairs["birth_date_r"].notna() & (pairs["birth_date_l"] != pairs["birth_date_r"]))
    conflicts = two_digits = 0
    for a, b in _pairs_of(pairs, one_name, rule_fields):
        if not birth_dates_compatible(a.birth_date, b.birth_date):
            conflicts += 1
            two_digits += date_edits(a.birth_date, b.birth_date) <= DATE_TYPO_EDITS
    return DateTypos(conflicts, two_digits)


def fit_rules(records: pd.DataFrame, rule_fields: dict[str, NameAndBirth], pairs: pd.DataFrame) -> RuleBook:
    """Return the rule book of one drop: its first-name counts, the name pairs it shows as one
    person's, whether it mistypes birth dates by two digits, and each rule's measured strictness."""
    counts = records["given_first"].value_counts().to_dict()
    dates = learn_date_typos(pairs, rule_fields)
    book = RuleBook(counts, variants=learn_name_variants(pairs, rule_fields, RuleBook(counts, dates=dates), counts),
                    dates=dates)
    if book.variants:
        log.info("first names the drop shows as one person's: %s", ", ".join(f"{x}/{y}" for x, y in sorted(book.variants)))
    if dates is not None:
        log.info("birth dates: %s", dates.describe())
    needed = {f"{c}_{side}" for c in ("surname_core", "birth_date", "postcode", "given_first") for side in "lr"}
    if pairs.empty or not needed <= set(pairs.columns):
        return book
    place = _same(pairs, "surname_core") & _same(pairs, "postcode")
    both_born = pairs["birth_date_l"].notna() & pairs["birth_date_r"].notna()
    both_named = pairs["surname_core_l"].notna() & pairs["surname_core_r"].notna()
    # One first name and surname on one e-mail address is as near-identical as at one postcode for the birth-date
    # rule (a father and the son with his name share the address far more often than the e-mail address), and it
    # is how a drop without addresses is measured at all (Splink's fake_1000: 53 such pairs conflict, all one
    # person's; our generator at 300k: 9 of 15,913 such pairs conflict, beside 204 of 16,177 at one postcode).
    one_place = _same(pairs, "postcode")
    if {"email_l", "email_r"} <= set(pairs.columns):
        one_place = one_place | _same(pairs, "email")
    one_name = _same(pairs, "surname_core") & _same(pairs, "given_first")
    strictness = [
        measure_strictness(FIRST_NAME, _pairs_of(pairs, place & _same(pairs, "birth_date"), rule_fields), book),
        # chosen at one postcode or one e-mail address: only mobile numbers witness (identity.rules.measure_strictness)
        measure_strictness(BIRTH_DATE, _pairs_of(pairs, one_name & one_place & both_born, rule_fields), book,
                           witnesses=("mobile",)),
        measure_strictness(SURNAME, _pairs_of(pairs, _same(pairs, "postcode") & _same(pairs, "given_first")
                                              & _same(pairs, "birth_date") & both_named, rule_fields), book),
    ]
    if {"mobile_l", "mobile_r"} <= set(pairs.columns):
        # No postcode held equal: a number changed with a move is still one person's second number.
        both_mobile = pairs["mobile_l"].notna() & pairs["mobile_r"].notna()
        person = _same(pairs, "given_first") & _same(pairs, "surname_core") & _same(pairs, "birth_date")
        personal = [(a, b) for a, b in _pairs_of(pairs, person & both_mobile, rule_fields)
                    if not (a.mobile_shared or b.mobile_shared)]   # a family's number tells nothing of one person's
        strictness.append(measure_strictness(MOBILE, personal, book))
        strictness.append(measure_personal(pairs, rule_fields, book, PERSONAL_MOBILE))
        strictness.append(measure_personal(pairs, rule_fields, book, PERSONAL_MOBILE, one_surname=True))
    if {"email_l", "email_r"} <= set(pairs.columns):
        strictness.append(measure_personal(pairs, rule_fields, book, PERSONAL_EMAIL))
        strictness.append(measure_personal(pairs, rule_fields, book, PERSONAL_EMAIL, one_surname=True))
    if "match_probability" in pairs.columns:
        strictness.extend(measure_sure_pairs(pairs, rule_fields, book).values())
    for measured in strictness:
        log.info("%s", measured.describe())
    return RuleBook(counts, strictness, book.variants, dates)


def measure_sure_pairs(pairs: pd.DataFrame, rule_fields: dict[str, NameAndBirth],
                       book: RuleBook) -> dict[str, Strictness]:
    """Return both measurements of the pairs the model is sure of (SURE), by name (SURE_PAIRS, SURE_DATES), from one
    pass over them: how many sure pairs, both with a first name and a birth date, fit or not on each.

    SURE_PAIRS: how often such pairs under first names the rules hold apart carry different birth dates: few where
    two first names on such a pair are one person's, many where the drop holds households. SURE_DATES: how often
    such pairs under birth dates the rules hold apart carry different first names.

    The witness is itself noisy where the drop mistypes it: the sure pairs without the rule's conflict (one
    person's, nearly always) show how often one person's pairs differ on the witness, and ``witnessed`` holds what
    the measured pairs would agree on were they all one person's (``Witnessed.expected``), as for the near-identical
    pairs' personal values. A drop that shifts birth dates about (fake_20000: 37.5% of its sure pairs under one first
    name carry two dates) then still shows first names on its sure pairs to be one person's (20.8% of them do).
    """
    sure = pairs["match_probability"].to_numpy(dtype=float) >= SURE
    fits: Counter[tuple[bool, bool]] = Counter()    # (first names fit, birth dates fit) -> sure pairs
    for a, b in _pairs_of(pairs, pd.Series(sure, index=pairs.index), rule_fields):
        if a.given_first and b.given_first and a.birth_date and b.birth_date:
            fits[book.names_compatible(a, b), book.dates_compatible(a.birth_date, b.birth_date)] += 1

    def measured(measurement: str, witness: str, count: Callable[[bool, bool], int]) -> Strictness:
        """Return one measurement from the table: count(rule fits, witness fits) gives its cells."""
        pairs_, conflicts = count(False, True) + count(False, False), count(False, False)
        base, base_conflicts = count(True, True) + count(True, False), count(True, False)
        if base < MIN_MEASURED:
            return Strictness(measurement, pairs_, conflicts)
        agree = 1 - base_conflicts / base
        return Strictness(measurement, pairs_, conflicts,
                          Witnessed(pairs_, pairs_ - conflicts, pairs_ * agree, ((witness, agree),)))

    return {SURE_PAIRS: measured(SURE_PAIRS, "birth_date", lambda rule, witness: fits[rule, witness]),
            SURE_DATES: measured(SURE_DATES, "given_first", lambda rule, witness: fits[witness, rule])}


def measure_personal(pairs: pd.DataFrame, rule_fields: dict[str, NameAndBirth], book: RuleBook,
                     rule: str = PERSONAL_MOBILE, one_surname: bool = False) -> Strictness:
    """Return how often scored pairs on one mobile number (PERSONAL_MOBILE) or e-mail address (PERSONAL_EMAIL)
    under first names the rules hold apart, both with a birth date, carry different birth dates: few where
    one value is one person's, many where families share one. one_surname: only the pairs that also carry one
    surname, kept as the measurement ONE_SURNAME[rule]."""
    field = PERSONAL_VALUES[rule][0]
    both = pairs[f"{field}_l"].notna() & (pairs[f"{field}_l"] == pairs[f"{field}_r"])
    if one_surname:
        both &= _same(pairs, "surname_core")
    measured = conflicts = 0
    for a, b in _pairs_of(pairs, both, rule_fields):
        if a.given_first and b.given_first and a.birth_date and b.birth_date and not book.names_compatible(a, b):
            measured += 1
            conflicts += not book.dates_compatible(a.birth_date, b.birth_date)
    return Strictness(ONE_SURNAME[rule] if one_surname else rule, measured, conflicts)


def rules_of_run(book: RuleBook, names_only_threshold: float = NAMES_ONLY_THRESHOLD) -> list[dict[str, Any]]:
    """Return how each rule applied to a run, as the run keeps it: one dict per rule with a "description" line.

    The measured rules (first name, birth date) also carry their figures: near-identical pairs
    measured, conflicts, and whether the rule refused outright. The line is kept as written, so
    the report of an old run says what that run did even after the rules change.
    """
    kept: list[dict[str, Any]] = [
        {"rule": s.rule, **_kept_measurement(s), "strict": s.strict, "description": s.describe()}
        for s in book.strictness.values() if s.rule not in MEASUREMENTS
    ]
    personal = [book.strictness[rule] for rule in FIRST_NAME_WAIVERS if rule in book.strictness]
    first = next((k for k in kept if k["rule"] == FIRST_NAME), None)
    if first is None and (book.variants or personal):
        first = {"rule": FIRST_NAME, "description": f"{RULE_TITLES[FIRST_NAME]}: not measured on this drop"}
        kept.insert(0, first)
    for measured in personal:   # measurements that only make the first-name rule give way: kept and told with it
        first[measured.rule] = _kept_measurement(measured)
        first["description"] += "; " + measured.describe()
    if book.variants:
        names = sorted(book.variants)
        shown = ", ".join(f"{x}/{y}" for x, y in names[:SHOWN_VARIANTS])
        more = f" and {len(names) - SHOWN_VARIANTS} more" if len(names) > SHOWN_VARIANTS else ""
        first["variants"] = [list(pair) for pair in names]
        first["description"] += (f"; {len(names)} pair{'s' if len(names) > 1 else ''} of first names the drop "
                                 f"shows as one person's: {shown}{more}")
    def birth_entry() -> dict[str, Any]:
        """Return the birth-date rule's entry, added (as not measured) after the first-name rule's where missing."""
        birth = next((k for k in kept if k["rule"] == BIRTH_DATE), None)
        if birth is None:
            birth = {"rule": BIRTH_DATE, "description": unmeasured(BIRTH_DATE)}
            kept.insert(1 if first is not None else 0, birth)
        return birth

    if book.dates is not None and book.dates.conflicts:
        birth = birth_entry()
        birth["date_typos"] = {"conflicts": book.dates.conflicts, "two_digits": book.dates.two_digits}
        birth["description"] += "; " + book.dates.describe()
    if book.placeholder_dates:
        birth = birth_entry()
        birth["placeholder_dates"] = dict(book.placeholder_dates)
        birth["description"] += "; " + describe_placeholders(book.placeholder_dates)
    for rule in BIRTH_DATE_WAIVERS:   # measurements that only make the birth-date rule give way: kept and told with it
        if rule in book.strictness:
            measured, birth = book.strictness[rule], birth_entry()
            birth[rule] = _kept_measurement(measured)
            birth["description"] += "; " + measured.describe()
    kept.append({"rule": NAMELESS, "description": f"{RULE_TITLES[NAMELESS]}: such a record joins only on a birth "
                                                  "date, mobile or e-mail it shares with the other"})
    how = ("only where no third person in the drop holds its full name" if math.isinf(names_only_threshold)
           else f"only from match probability {names_only_threshold}, or where no third person in the drop holds its "
                "full name")
    kept.append({"rule": NAMES_ONLY, "description": f"{RULE_TITLES[NAMES_ONLY]}: such a pair joins {how}"})
    if book.placeholder_values:
        kept.append({"rule": PLACEHOLDER_VALUES, "values": {c: dict(v) for c, v in book.placeholder_values.items()},
                     "description": describe_values(book.placeholder_values)})
    if book.household_caps is not None:
        kept.append({"rule": HOUSEHOLDS, **book.household_caps.kept(), "description": book.household_caps.describe()})
    return kept


def book_of_run(name_counts: Mapping[str, int], rules: list[dict[str, Any]]) -> RuleBook:
    """Return the rule book of a run as it kept it (``rules_of_run``), over these first-name counts."""
    measured = [Strictness(r["rule"], int(r["pairs"]), int(r["conflicts"]), _witnessed(r.get("witnessed")))
                for r in rules if {"pairs", "conflicts"} <= set(r)]
    measured += [Strictness(rule, int(r[rule]["pairs"]), int(r[rule]["conflicts"]),
                            _witnessed(r[rule].get("witnessed")))
                 for r in rules for rule in MEASUREMENTS if isinstance(r.get(rule), dict)]
    variants = [(x, y) for r in rules for x, y in r.get("variants", ())]
    dates = next((DateTypos(int(r["date_typos"]["conflicts"]), int(r["date_typos"]["two_digits"]))
                  for r in rules if isinstance(r.get("date_typos"), dict)), None)
    book = RuleBook(name_counts, measured, variants, dates)
    book.placeholder_dates = placeholders_of_run(rules)
    book.household_caps = next((HouseholdCaps.of_kept(r) for r in rules if r.get("rule") == HOUSEHOLDS), None)
    book.placeholder_values = placeholder_values_of_run(rules)
    return book


def _kept_measurement(measured: Strictness) -> dict[str, Any]:
    """Return a measurement's figures as a run keeps them: pairs, conflicts and what witnessed them (on a measured
    rule's own entry, or on the entry of the rule a measurement that only makes it give way belongs to)."""
    kept: dict[str, Any] = {"pairs": measured.pairs, "conflicts": measured.conflicts}
    seen = measured.witnessed
    if seen is not None:
        kept["witnessed"] = {"held": seen.held, "agreeing": seen.agreeing, "expected": seen.expected,
                             "agree": dict(seen.agree)}
    return kept


def _witnessed(kept: object) -> Witnessed | None:
    """Return a rule's Witnessed as a run kept it (None: a run of before the measurement, or a rule without one)."""
    if not isinstance(kept, dict):
        return None
    return Witnessed(int(kept["held"]), int(kept["agreeing"]), float(kept["expected"]),
                     tuple((str(f), float(q)) for f, q in kept.get("agree", {}).items()))


def placeholder_values_of_run(rules: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Return the identifiers a run read as placeholders (identity.placeholder_values), per column, as it kept them."""
    return next(({str(c): {str(v): int(n) for v, n in found.items()} for c, found in r["values"].items()}
                 for r in rules if r.get("rule") == PLACEHOLDER_VALUES and isinstance(r.get("values"), dict)), {})


def placeholders_of_run(rules: list[dict[str, Any]]) -> dict[str, int]:
    """Return the birth dates a run read as placeholders (identity.placeholders), as it kept them."""
    return next(({str(d): int(n) for d, n in r["placeholder_dates"].items()} for r in rules
                 if isinstance(r.get("placeholder_dates"), dict)), {})
