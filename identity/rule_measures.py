"""What a rule is called, and how strict the drop in front of it shows it should be. Pure values.

The cannot-link rules (:mod:`identity.rules`) are measured on each drop (:mod:`identity.strictness`): how often
each finds a conflict among near-identical record pairs, and whether the pairs' own mobile numbers and e-mail
addresses show those conflicts to be one person's or two people's. This module holds the names and titles of
the rules and the figures of those measurements, with what they decide.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

FIRST_NAME, BIRTH_DATE, NAMES_ONLY, STEWARD = "first_name", "birth_date", "names_only", "steward"
NAMELESS, SURNAME, MOBILE = "nameless", "surname", "mobile"
PERSONAL_MOBILE = "personal_mobile"   # a measurement, not a rule: how far one mobile number is one person's
PERSONAL_EMAIL = "personal_email"     # the same for one e-mail address
RULE_TITLES: dict[str, str] = {
    FIRST_NAME: "different first names",
    BIRTH_DATE: "different birth dates",
    SURNAME: "no first name and a different surname",
    MOBILE: "different mobile numbers",
    NAMELESS: "no first name, fits several household members",
    NAMES_ONLY: "only the names agree",
    STEWARD: "separated by a data steward",
}
PERSONAL_MOBILE_TITLE = "different first names on one mobile number"   # not a rule: it never refuses
# The measurements of PERSONAL_MOBILE's kind: per measurement, the field of NameAndBirth it reads, its
# title, and what the value is called in a sentence.
PERSONAL_VALUES: dict[str, tuple[str, str, str]] = {
    PERSONAL_MOBILE: ("mobile", PERSONAL_MOBILE_TITLE, "mobile number"),
    PERSONAL_EMAIL: ("email", "different first names on one e-mail address", "e-mail address"),
}
# The same measurements made again on the pairs that also carry one surname (``measure_personal(one_surname=True)``),
# by the measurement of all such pairs they refine. They judge the pairs a birth date cannot: a record without one
# beside a record of one surname on the same number or address, under another first name. Such a pair is one
# person's as often as the dated pairs of its kind are, and one person under two first names keeps one surname
# where partners on one address often do not: our default generator at a million records, on one e-mail address
# under two first names, 1,414 of 4,837 dated pairs carry two birth dates (29%), of those with one surname 272 of
# 2,569 (11%); the undated pairs with one surname were one person's 90% of the time, the others 45%.
ONE_SURNAME: dict[str, str] = {rule: f"{rule}_one_surname" for rule in PERSONAL_VALUES}
ONE_SURNAME_OF: dict[str, str] = {kept: rule for rule, kept in ONE_SURNAME.items()}

# Whether the pairs the model is sure of (SURE) under two first names are one person's: measured on the drop as how
# often such pairs, both with a birth date, carry different ones. Where households are in the drop, the model is sure
# of partners and children (a surname, an address, a card and an e-mail address in common) and they show different
# birth dates (our default generator at 300k records: 44% of 3,444 such pairs); where the drop holds no households,
# two first names on a sure pair are a nickname, a title or a typo (Splink's historical_50k: 0 of 4,514). Where that
# is as rare as kin, the first-name rule gives way to any pair the model is sure of; elsewhere, or where too few
# pairs were measured, this changes nothing.
SURE_PAIRS = "sure_pairs"   # a measurement, not a rule
SURE_PAIRS_TITLE = "different first names on pairs the model is sure of"
# The measurements that only make the first-name rule give way: no rule of their own, kept and told with it.
FIRST_NAME_WAIVERS: tuple[str, ...] = (*PERSONAL_VALUES, *ONE_SURNAME.values(), SURE_PAIRS)
# The same for the birth-date rule, witnessed by first names (SURE_DATES): among sure pairs whose birth dates the
# rules hold apart, both with a first name, how often the first names differ too. A household's sure pairs are
# partners and children under their own first names (our default generator at 300k: 1,513 of 1,697, 89%); where
# the drop shifts one person's birth date about, its sure pairs keep one first name (Splink's fake_1000: 2 of 326,
# fake_20000: 69 of 5,157). Where that is as rare as kin, with at least 30 such pairs, and near-identical pairs
# already show the rule's conflicts to be mostly noise (it is soft), the birth-date rule gives way to a sure pair
# whose first names fit. A father and the son with his name are what the first names cannot witness: the rule
# stays strict where near-identical pairs show birth dates to be kept (historical_50k, our generator).
SURE_DATES = "sure_dates"   # a measurement, not a rule
SURE_DATES_TITLE = "different birth dates on pairs the model is sure of"
BIRTH_DATE_WAIVERS: tuple[str, ...] = (SURE_DATES,)
MEASUREMENTS: tuple[str, ...] = (*FIRST_NAME_WAIVERS, *BIRTH_DATE_WAIVERS)   # no rule of their own


def rule_of(reason: str) -> str:
    """Return the rule a refusal's reason text comes from (FIRST_NAME, BIRTH_DATE, ...)."""
    for rule, title in RULE_TITLES.items():
        if reason.startswith(title):
            return rule
    return reason


# Twins (1.7% of Dutch births) and a son with his father's first name at one address make at most
# a few percent of the near-identical record pairs of a retail population. When a rule's
# conflicts among near-identical pairs in the drop are more than twice that, most of them are the
# drop's own noise (a first name replaced, a birth date corrupted), and the rule gives way to a
# model that is sure (SURE) instead of refusing outright.
KIN_SHARE = 0.02
SURE = 0.99
MIN_MEASURED = 30   # fewer near-identical pairs than this tell nothing: the rule stays strict
# Rules that apply only where the drop shows them safe. Whether one person's records carry one mobile
# number or several is a property of the data (people change numbers, a till keeps an old one), not of
# kin: where near-identical pairs (same first name, surname and birth date) carry different numbers no
# more often than kin explain, two numbers mean two people (a father and the son with his name at one
# address, each with his own phone); elsewhere, or where too few pairs were measured, the rule is not used.
MEASURED_ONLY: frozenset[str] = frozenset({MOBILE})
# Whether a mobile number shared by two records with different first names is one person's (a first
# name replaced, an official name beside the call name) or a family's (a parent's number on a child's
# account): measured on the drop as how often such pairs, both with a birth date, carry different
# birth dates; two people almost always do, one person only as often as the drop mistypes dates.
# Where that is as rare as kin, the number says more than the first names and the first-name rule
# gives way to it; where two people are under half of such pairs, it gives way only to a birth date
# written the same on both (then only twins on one number remain, a few percent of two-person pairs);
# elsewhere, or where too few pairs were measured, it does not give way. An e-mail address is measured
# the same way, apart (PERSONAL_EMAIL): families share addresses far more often than numbers (our default
# generator at 100k records: 160 of 591 such pairs carry different birth dates, against 0 of 279 on one
# mobile number), so it gives way there only to a birth date written the same on both.
PERSONAL_SHARE = 0.5
# Birth dates this many digits apart (and no further) are read as one person's typo where the drop shows it
# (identity.strictness.learn_date_typos): one digit apart is a typo in every drop (birth_dates_compatible).
DATE_TYPO_EDITS = 2


# Rules whose conflicts the drop's personal values (mobile number, e-mail address) can tell apart: one person
# under two first names, two surnames or two birth dates keeps one number and address as often as any of its
# record pairs does; twins, a father and the son with his name, each keep their own (``Witnessed``).
WITNESSED_RULES: frozenset[str] = frozenset({FIRST_NAME, BIRTH_DATE, SURNAME})
WITNESSES: tuple[str, ...] = ("mobile", "email")   # the fields of NameAndBirth that witness
ONE_PERSON_MAJORITY = 0.5   # conflicts more often one person's than two people's: the rule gives way to a sure model
MOST_ONE_PERSON = 0.999     # a measured share is never taken as certain: a differing value still counts


@dataclass(frozen=True)
class Witnessed:
    """What the personal values of a rule's near-identical pairs say of its conflicts.

    Among the pairs the rule finds no conflict in (one person, nearly always), a share ``agreeing / held`` of those
    with a mobile number on both sides carry the same one, and likewise e-mail addresses. Were every conflicting
    pair one person's, its pairs would agree as often: ``expected`` is that many agreements over the conflicting
    pairs with values on both sides (``held``), and ``agreeing`` is how many did. Their ratio estimates the share of
    the conflicts that are one person's, measured on the drop rather than assumed from the share of kin.
    """

    held: int          # conflicting pairs with a mobile number on both sides, plus those with an e-mail on both
    agreeing: int      # of which carry the same value
    expected: float    # the agreements were they one person's, at the rate of the pairs without a conflict
    # per personal value ("mobile", "email"): the share of the pairs without a conflict, both holding one, that agree
    agree: tuple[tuple[str, float], ...] = ()

    @property
    def one_person(self) -> float:
        """Return the estimated share of the conflicts that are one person's (at most 1)."""
        return min(1.0, self.agreeing / self.expected) if self.expected > 0 else 0.0

    def one_person_given(self, differing: Iterable[str]) -> float:
        """Return the share of conflicting pairs that are one person's among those whose values of these fields differ.

        One person's records differ on a field as often as the pairs without a conflict do (1 - agree); two people's
        nearly always do. So each differing field multiplies the odds of one person by 1 - agree: a differing mobile
        number, which one person's near-identical records hardly ever show (0.2% on our generator), all but rules one
        person out; a differing e-mail address, which one person shows in a quarter of such pairs, less so.
        """
        share = min(self.one_person, MOST_ONE_PERSON)
        odds = share / (1 - share)
        agree = dict(self.agree)
        for field in differing:
            odds *= 1 - agree.get(field, 0.0)
        return odds / (1 + odds)

    @property
    def enough(self) -> bool:
        """Return True when enough conflicting pairs carried values to tell."""
        return self.held >= MIN_MEASURED and self.expected > 0


@dataclass(frozen=True)
class Strictness:
    """How often one rule's conflict shows up among near-identical record pairs of a drop."""

    rule: str
    pairs: int        # near-identical pairs measured
    conflicts: int    # of which the rule calls different people
    witnessed: Witnessed | None = None   # what personal values say of the conflicts (WITNESSED_RULES)

    @property
    def rate(self) -> float:
        """Return the share of measured pairs in conflict."""
        return self.conflicts / self.pairs if self.pairs else 0.0

    @property
    def strict(self) -> bool:
        """Return True when a conflict forbids a merge outright (conflicts are as rare as kin).

        Too few pairs tell nothing: a rule stays strict, but one of MEASURED_ONLY is not used. Where enough
        conflicting pairs carry personal values (``Witnessed``), they decide: the rule gives way when they show most
        conflicts to be one person's. Elsewhere conflicts beyond twice the share of kin are read as noise.
        """
        if self.pairs < MIN_MEASURED:
            return self.rule not in MEASURED_ONLY
        if self.witnessed is not None and self.witnessed.enough:
            return self.witnessed.one_person < ONE_PERSON_MAJORITY
        return self.rate <= 2 * KIN_SHARE

    @property
    def two_people(self) -> float:
        """Return the share of the measured pairs that are two people's: their share in conflict, or where what one
        person's pairs show of the witness was measured too (``witnessed``), the share the agreements fall short by."""
        if self.witnessed is not None and self.witnessed.expected > 0:
            return 1.0 - self.witnessed.one_person
        return self.rate

    @property
    def number_waiver(self) -> str:
        """Return how far the first-name rule gives way to a shared mobile number (PERSONAL_MOBILE) or
        e-mail address (PERSONAL_EMAIL): "always", "same birth date" or "never"; whether it gives way to such a value
        under one surname where a birth date is missing (ONE_SURNAME): "undated" (the dated pairs of that kind are
        more often one person's than two people's) or "never"; or whether a rule gives way to the pairs the model is
        sure of (SURE_PAIRS, SURE_DATES): "always" or "never"."""
        if self.rule not in MEASUREMENTS or self.pairs < MIN_MEASURED:
            return "never"
        if self.rule in (SURE_PAIRS, SURE_DATES):
            return "always" if self.two_people <= KIN_SHARE else "never"
        if self.rule in ONE_SURNAME_OF:
            return "undated" if self.rate <= PERSONAL_SHARE else "never"
        if self.rate <= KIN_SHARE:
            return "always"
        return "same birth date" if self.rate <= PERSONAL_SHARE else "never"

    def describe(self) -> str:
        """Return one line for the run's output and report."""
        if self.rule in (SURE_PAIRS, SURE_DATES):
            always = self.number_waiver == "always"
            title, witness, how = (
                (SURE_PAIRS_TITLE, "birth dates", "the first-name rule " + ("gives way to them" if always
                                                                            else "does not give way to them"))
                if self.rule == SURE_PAIRS else
                (SURE_DATES_TITLE, "first names",
                 "the rule " + ("gives way to those whose first names fit, where it is soft" if always
                                else "does not give way to them")))
            few = " (too few pairs to tell)" if self.pairs < MIN_MEASURED else ""
            seen = self.witnessed
            noise = "" if seen is None or not seen.agree else (
                f", as one person's sure pairs do {1 - seen.agree[0][1]:.1%} of the time: {self.two_people:.0%} "
                "two people's")
            return (f"{title} (match probability {SURE} or more): {self.conflicts:,} of {self.pairs:,} such pairs with "
                    f"{witness} carry different ones ({self.rate:.1%}{noise}); {how}{few}")
        if self.rule in ONE_SURNAME_OF:
            title = PERSONAL_VALUES[ONE_SURNAME_OF[self.rule]][1]
            how = ("gives way to such a pair where a birth date is missing" if self.number_waiver == "undated"
                   else "does not give way to such a pair where a birth date is missing")
            few = " (too few pairs to tell)" if self.pairs < MIN_MEASURED else ""
            return (f"{title} under one surname: {self.conflicts:,} of {self.pairs:,} such pairs with birth dates "
                    f"carry different ones ({self.rate:.1%}); the first-name rule {how}{few}")
        if self.rule in PERSONAL_VALUES:
            _, title, value = PERSONAL_VALUES[self.rule]
            how = {"always": f"gives way to a shared {value}",
                   "same birth date": f"gives way to a shared {value} with the same birth date",
                   "never": f"does not give way to a shared {value}"}[self.number_waiver]
            few = " (too few pairs to tell)" if self.pairs < MIN_MEASURED else ""
            return (f"{title}: {self.conflicts:,} of {self.pairs:,} such pairs with birth dates "
                    f"carry different ones ({self.rate:.1%}); the first-name rule {how}{few}")
        if self.rule in MEASURED_ONLY and not self.strict:
            how = ("is not used (too few pairs to tell)" if self.pairs < MIN_MEASURED
                   else "is not used (one person's records carry several in this drop)")
        else:
            how = "refuses outright" if self.strict else f"gives way from match probability {SURE}"
        seen = self.witnessed
        told = "" if seen is None or not seen.held or self.pairs < MIN_MEASURED else (
            f"; their mobile numbers and e-mail addresses show {seen.one_person:.0%} of the conflicts to be one "
            f"person's ({seen.agreeing:,} of {seen.held:,} agree, {seen.expected:,.0f} would for one person)"
            + ("" if seen.enough else " (too few to tell)"))
        return (f"{RULE_TITLES[self.rule]}: {self.conflicts:,} of {self.pairs:,} near-identical pairs "
                f"({self.rate:.1%}){told}; the rule {how}")


@dataclass(frozen=True)
class DateTypos:
    """How the conflicting birth dates of a drop's pairs with one name lie (identity.strictness.learn_date_typos)."""

    conflicts: int     # scored pairs with one first name and surname, both born, whose dates conflict
    two_digits: int    # of which two digits apart

    @property
    def learnt(self) -> bool:
        """Return True when the drop shows dates two digits apart to be typos (enough of them, most conflicts)."""
        return self.two_digits >= MIN_MEASURED and self.two_digits > self.conflicts - self.two_digits

    def describe(self) -> str:
        """Return the clause the birth-date rule's line of the run's output and report carries."""
        share = self.two_digits / self.conflicts if self.conflicts else 0.0
        how = ("read as one person's typos" if self.learnt
               else "held apart (too few to tell)" if self.two_digits < MIN_MEASURED else "held apart")
        return (f"{self.two_digits:,} of {self.conflicts:,} conflicting dates of pairs with one name are two "
                f"digits apart ({share:.1%}): dates two digits apart are {how}")


def unmeasured(rule: str) -> str:
    """Return the line for a rule that was not measured on a run's drop: what it did there."""
    how = "is not used" if rule in MEASURED_ONLY else "refuses outright"
    return f"{RULE_TITLES[rule]}: not measured on this drop; the rule {how}"
