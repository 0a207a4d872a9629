"""Cannot-link rules: when two records are clearly not the same person. Pure functions.

A shared loyalty card, e-mail address, landline or address is household evidence, not proof of one
person. Clustering therefore refuses to join two groups of records when any record of one is
clearly incompatible with any record of the other: a different first name that is not a nickname,
initial or typo of it, or a different birth date that is not a typo or a day-month swap. This is
how a father and the son who carries his name, or twins, stay two customers.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

from identity.household_caps import FIXED, HouseholdCaps
from identity.nicknames import are_name_variants, group_names, name_groups
# the rules' names and measured strictness, imported from here by the modules that apply the rules
from identity.rule_measures import (  # noqa: F401
    BIRTH_DATE, BIRTH_DATE_WAIVERS, DATE_TYPO_EDITS, FIRST_NAME, FIRST_NAME_WAIVERS, KIN_SHARE, MEASUREMENTS,
    MEASURED_ONLY, MIN_MEASURED, MOBILE, NAMELESS, NAMES_ONLY, ONE_PERSON_MAJORITY, ONE_SURNAME, PERSONAL_EMAIL,
    PERSONAL_MOBILE, PERSONAL_MOBILE_TITLE, PERSONAL_SHARE, PERSONAL_VALUES, RULE_TITLES, STEWARD, SURE, SURE_DATES,
    SURE_PAIRS, SURNAME, WITNESSED_RULES, WITNESSES, DateTypos, Strictness, Witnessed, rule_of, unmeasured,
)
from identity.standardise import SURNAME_PARTICLES


@dataclass(frozen=True)
class NameAndBirth:
    """The fields a cannot-link rule looks at, taken from one standardised record."""

    given_first: str | None
    given: str | None
    initials: str | None
    surname_core: str | None
    birth_date: str | None  # ISO yyyy-mm-dd
    mobile: str | None = None   # E.164
    mobile_shared: bool = False  # the drop shows the number under several first names (a family phone)
    email: str | None = None


# Dutch spellings that sound alike, folded to one form: "Bram"/"Braam", "Mieke"/"Mieke",
# "Kees"/"Cees", "Theo"/"Teo", "Sofie"/"Sophie", "Heijn"/"Hein"/"Heyn", "Eveline"/"Evelijne".
_SOUNDS: tuple[tuple[str, str], ...] = (
    ("sch", "s"), ("ph", "f"), ("th", "t"), ("dt", "t"), ("ck", "k"), ("ch", "g"), ("ij", "ei"),
    ("y", "ei"), ("ey", "ei"), ("c", "k"), ("z", "s"), ("w", "v"), ("ou", "au"), ("ie", "i"), ("ee", "e"),
    ("oo", "o"), ("uu", "u"), ("aa", "a"), ("h", ""),
)


@lru_cache(maxsize=200_000)
def sound(name: str) -> str:
    """Return a Dutch phonetic key of a name: like-sounding spellings and doubled letters folded."""
    key = name
    for written, said in _SOUNDS:
        key = key.replace(written, said)
    return "".join(ch for i, ch in enumerate(key) if i == 0 or ch != key[i - 1])


def _one_swap_away(a: str, b: str) -> bool:
    """Return True when swapping two neighbouring letters of a leaves one edit to b ("rahcel", "rachyel")."""
    for i in range(len(a) - 1):
        if a[i] != a[i + 1]:
            swapped = a[:i] + a[i + 1] + a[i] + a[i + 2:]
            if DamerauLevenshtein.distance(swapped, b) <= 1:
                return True
    return False


def _letters_dropped(short: str, long: str) -> bool:
    """Return True when short is long with one or two letters left out ("charie", "charzlie")."""
    if not 0 < len(long) - len(short) <= 2:
        return False
    rest = iter(long)
    return all(ch in rest for ch in short)


def _typo(a: str, b: str) -> bool:
    """Return True when two names differ by what a typist does.

    One edit (length >= 3); a swap of neighbouring letters plus one more edit, or one or two
    letters left out or typed in (length >= 5); a spelling that sounds the same in Dutch; two edits
    in long names that stay close (Jaro-Winkler >= 0.9).
    """
    distance = DamerauLevenshtein.distance(a, b)
    shortest = min(len(a), len(b))
    if distance <= 1 and shortest >= 3:
        return True
    if shortest >= 3 and sound(a) == sound(b):
        return True
    if distance == 2 and shortest >= 5:
        short, long = sorted((a, b), key=len)
        if _one_swap_away(a, b) or _letters_dropped(short, long):
            return True
    return distance <= 2 and shortest >= 7 and JaroWinkler.similarity(a, b) >= 0.9


def _variant_typo(a: str, b: str) -> bool:
    """Return True when a is a typo of a known variant of b ("Tineje" of Tineke, for Christina)."""
    for group in name_groups(b):
        if any(_typo(a, variant) for variant in group_names(group)):
            return True
    return False


@lru_cache(maxsize=500_000)
def given_names_compatible(a_first: str, a_all: str, b_first: str, b_all: str) -> bool:
    """Return True when two given names may belong to one person.

    Compatible: equal, known variants (Hans, Johannes), a typo of either or of a known variant,
    one contained in the other (Max, Maximiliaan; Dini, Everdina), or a shared second given name.
    Unknown short forms are common, so only names that match none of these rule a pair out.
    """
    if a_first == b_first or are_name_variants(a_first, b_first) or _typo(a_first, b_first):
        return True
    short, long = sorted((a_first, b_first), key=len)
    if len(short) >= 3 and (short in long or _typo(short, long[-len(short):]) or _typo(short, long[:len(short)])):
        return True  # short forms are a name's head or tail: Dini for Everdina, Wil for Wilma
    if _variant_typo(a_first, b_first) or _variant_typo(b_first, a_first):
        return True
    a_words, b_words = set(a_all.split()), set(b_all.split())
    if len(a_words) > 1 or len(b_words) > 1:
        return bool(a_words & b_words)  # "Jan Peter" and "Peter": a second given name in use
    return False


def _name_initials(name: str) -> set[str]:
    """Return the letters a name may be abbreviated to: its own, and those of its formal names."""
    letters = {name[0]}
    for group in name_groups(name):
        letters.update(variant[0] for variant in group_names(group))
    return letters


def _initial_compatible(initials: str, other: NameAndBirth, letters: Callable[[str], set[str]] = _name_initials) -> bool:
    """Return True when written initials fit the other record's given names or initials.

    "P." fits "Nelly" because Nelly is short for Petronella, whose initial the till printed.
    ``letters`` gives the letters a name may be abbreviated to.
    """
    if other.given:
        return any(initials[0] in letters(word) for word in other.given.split())
    if other.initials:
        return initials[0] == other.initials[0]
    return True


def _as_initials(a: NameAndBirth) -> NameAndBirth:
    """Return the record with a two-letter first name that is no known name read as initials ("ME")."""
    if a.given_first and len(a.given_first) == 2 and not name_groups(a.given_first) and a.given == a.given_first:
        return NameAndBirth(None, None, a.given_first, a.surname_core, a.birth_date, a.mobile, a.mobile_shared, a.email)
    return a


GivenCheck = Callable[[str, str, str, str], bool]


def _nameless(a: NameAndBirth) -> bool:
    """Return True when a record carries neither a first name nor initials."""
    return not a.given_first and not a.initials


def _surname_conflict(a: NameAndBirth, b: NameAndBirth) -> bool:
    """Return True when a, which has no first name, carries a surname that is none of b's names.

    The one name of a sparse record may be a first name typed into the surname field, so it
    may match b's first name too.
    """
    if not (_nameless(a) and a.surname_core and b.surname_core):
        return False
    if surnames_compatible(a.surname_core, b.surname_core):
        return False
    return not (b.given_first and given_names_compatible(a.surname_core, a.surname_core,
                                                         b.given_first, b.given or b.given_first))


@lru_cache(maxsize=200_000)
def surnames_compatible(a: str, b: str) -> bool:
    """Return True when two surname cores may be one person's.

    Equal, a typo, one part of a double surname ("kortman velderman" / "velderman"), or one
    written inside the other ("edubois" / "dubois"). Without a first name, the surname is all a
    record says of who in a household it is: partners and step-children carry other surnames.
    """
    if a == b or _typo(a, b) or (min(len(a), len(b)) >= 4 and (a in b or b in a)):
        return True
    parts_a, parts_b = set(a.replace("-", " ").split()), set(b.replace("-", " ").split())
    if parts_a & parts_b:
        return True
    # a part mistyped ("jansdr visser" / "jansrd"), or a particle written onto a short name ("devos" / "vos")
    return (any(_typo(x, y) for x in parts_a for y in parts_b if min(len(x), len(y)) >= 4)
            or _glued(a, b) or _glued(b, a))


# The particles herken knows, written together ("vandenberg"); a single letter ("t") glued to a name is
# more often a typo than a particle, so only particles of two letters or more.
_GLUED_PARTICLES: tuple[str, ...] = tuple(sorted(
    {glued for glued in (p.replace(" ", "").replace("'", "") for p in SURNAME_PARTICLES) if len(glued) >= 2},
    key=lambda glued: (-len(glued), glued)))


def _glued(a: str, b: str) -> bool:
    """Return True when a is b with a particle written onto it ("devos" / "vos", "vandenberg" / "berg")."""
    return any(a.startswith(p) and a[len(p):] == b for p in _GLUED_PARTICLES if len(a) - len(p) >= 3)


def _names_compatible(a: NameAndBirth, b: NameAndBirth, given: GivenCheck | None = None,
                      letters: Callable[[str], set[str]] = _name_initials) -> bool:
    """Return True when the first names of two records do not rule out one person."""
    a, b = _as_initials(a), _as_initials(b)
    if a.given_first and b.given_first:
        return (given or given_names_compatible)(a.given_first, a.given or a.given_first,
                                                 b.given_first, b.given or b.given_first)
    if a.initials and not a.given_first:
        return _initial_compatible(a.initials, b, letters)
    if b.initials and not b.given_first:
        return _initial_compatible(b.initials, a, letters)
    return True


def _swapped_compatible(a: NameAndBirth, b: NameAndBirth, given: GivenCheck | None = None,
                        letters: Callable[[str], set[str]] = _name_initials) -> bool:
    """Return True when a, read with first and last name swapped, fits b."""
    if not (a.surname_core and a.given_first):
        return False
    surname_fits = b.surname_core is None or a.given_first == b.surname_core or _typo(a.given_first, b.surname_core)
    return surname_fits and _names_compatible(_swapped(a), b, given, letters)


def _swapped(a: NameAndBirth) -> NameAndBirth:
    """Return the record with its first and last name fields swapped (an agent's slip).

    An initial in the surname field ("Roukes, B.") becomes the initial of the first name.
    """
    core = a.surname_core or ""
    if len(core.replace(" ", "")) <= 2:
        return NameAndBirth(None, None, core.replace(" ", "") or None, a.given_first, a.birth_date, a.mobile,
                            a.mobile_shared, a.email)
    return NameAndBirth(core, core, core[0], a.given_first, a.birth_date, a.mobile, a.mobile_shared, a.email)


@lru_cache(maxsize=500_000)
def birth_dates_compatible(a: str, b: str) -> bool:
    """Return True when two ISO birth dates may be one person's.

    Equal, one typo apart, a day-month swap, or one of year, month and day mistyped while the
    other two agree ("1995-12-13" / "2005-12-13"). A father and the son with his first name share
    no two of the three, save a birthday shared one year in 365.
    """
    if a == b:
        return True
    da, db = a.replace("-", ""), b.replace("-", "")
    if DamerauLevenshtein.distance(da, db) <= 1:
        return True
    if da[:4] == db[:4] and da[4:6] == db[6:8] and da[6:8] == db[4:6]:
        return True
    return sum(x == y for x, y in ((da[:4], db[:4]), (da[4:6], db[4:6]), (da[6:8], db[6:8]))) >= 2


def date_edits(a: str, b: str) -> int:
    """Return how many digits two ISO dates are apart: the edits (a digit changed, added, dropped or two swapped)
    between their eight digits."""
    return DamerauLevenshtein.distance(a.replace("-", ""), b.replace("-", ""))


@lru_cache(maxsize=200_000)
def mobiles_compatible(a: str, b: str) -> bool:
    """Return True when two mobile numbers (E.164) may be one person's: equal, or one digit mistyped or swapped."""
    return a == b or DamerauLevenshtein.distance(a, b) <= 1


def _mobiles_conflict(a: NameAndBirth, b: NameAndBirth) -> bool:
    """Return True when two records carry personal mobile numbers that differ.

    A number the drop shows under several first names (a family phone, one copied from a partner's
    record) says nothing of who a record is, so it conflicts with nothing.
    """
    return bool(a.mobile and b.mobile and not a.mobile_shared and not b.mobile_shared
                and not mobiles_compatible(a.mobile, b.mobile))


# A spelling the drop carries at most this often, or at most this share as often as a name two
# edits away, is read as a typo of that name: typos are random, so each is rare; two names in use
# ("Maria" and "Marco") are both common.
RARE_SPELLING = 2
RARE_SHARE = 0.05


class RuleBook:
    """The cannot-link rules as they apply to one drop: its name spellings, the first names it shows
    to be one person's, and measured strictness."""

    def __init__(self, name_counts: Mapping[str, int] | None = None, strictness: Iterable[Strictness] = (),
                 variants: Iterable[tuple[str, str]] = (), dates: DateTypos | None = None) -> None:
        self.name_counts = dict(name_counts or {})
        # whether the drop shows dates two digits apart to be typos (identity.strictness.learn_date_typos)
        self.dates = dates
        self.date_typos = dates is not None and dates.learnt
        self.placeholder_dates: dict[str, int] = {}   # read as missing (identity.placeholders), with their people
        # per identifier column, the values read as missing (identity.placeholder_values), with their people
        self.placeholder_values: dict[str, dict[str, int]] = {}
        # how many persons one shared value may join into a household, as measured on the drop (None: not measured)
        self.household_caps: HouseholdCaps | None = None
        self.strictness = {s.rule: s for s in strictness}
        # pairs of first names the drop shows to be one person's (identity.strictness.learn_name_variants)
        self.variants = frozenset(tuple(sorted(pair)) for pair in variants)
        self._given: dict[tuple[str, str, str, str], bool] = {}
        # looked up per name rather than scanned per pair (a million-record drop learns hundreds of pairs)
        self._pairs = self.variants | {(y, x) for x, y in self.variants}
        self._variant_names = sorted({name for pair in self.variants for name in pair})
        self._letters: dict[str, set[str]] = {}
        for x, y in self.variants:
            for name in (x, y):
                self._letters.setdefault(name, set()).update((x[0], y[0]))
        self._fits: dict[str, tuple[str, ...]] = {}

    @property
    def caps(self) -> HouseholdCaps:
        """Return the household caps the run measured, or the fixed ones of a run from before they were measured."""
        return self.household_caps or FIXED

    def soft(self, rule: str) -> bool:
        """Return True when the drop showed a rule's conflicts to be mostly noise.

        A rule of MEASURED_ONLY is then not used at all (:meth:`applies`), so it never gives way;
        PERSONAL_MOBILE, PERSONAL_EMAIL, SURE_PAIRS and SURE_DATES are no rules (:meth:`on_personal_number`,
        :meth:`sure_pairs_one_person`).
        """
        measured = self.strictness.get(rule)
        return (rule not in MEASURED_ONLY and rule not in MEASUREMENTS and measured is not None
                and not measured.strict)

    def applies(self, rule: str) -> bool:
        """Return True when a rule is used in this drop: always, but one of MEASURED_ONLY only where measured strict."""
        if rule not in MEASURED_ONLY:
            return True
        measured = self.strictness.get(rule)
        return measured is not None and measured.strict

    def rare_typo(self, a: str, b: str) -> bool:
        """Return True when one of two names two edits apart is a spelling the drop hardly carries."""
        if min(len(a), len(b)) < 4 or not self.name_counts or DamerauLevenshtein.distance(a, b) > 2:
            return False
        low, high = sorted((self.name_counts.get(a, 0), self.name_counts.get(b, 0)))
        return low <= RARE_SPELLING or low <= RARE_SHARE * high

    def two_names(self, a: str, b: str) -> bool:
        """Return True when two first names at most two letters apart are both in use in the drop (neither a rare
        spelling of the other): Tim and Tom, Hendrik and Hendrika, Johannes and Johanna are two people's names, not a
        name and its typo (twins; a husband and wife on one e-mail address and card). Known forms of one name (Anne,
        Anna) are not."""
        if a == b or not self.name_counts or min(len(a), len(b)) < 3 or DamerauLevenshtein.distance(a, b) > 2:
            return False
        low, high = sorted((self.name_counts.get(a, 0), self.name_counts.get(b, 0)))
        return low > RARE_SPELLING and low > RARE_SHARE * high and not are_name_variants(a, b)

    def given_compatible(self, a_first: str, a_all: str, b_first: str, b_all: str) -> bool:
        """Return given_names_compatible, widened by the drop's rare spellings and the name pairs it shows as one person's,
        and narrowed by the names a letter apart that the drop shows both in use (``two_names``)."""
        key = (a_first, a_all, b_first, b_all)
        known = self._given.get(key)
        if known is None:
            learnt = self.learnt_variant(a_first, b_first)
            known = self._given[key] = learnt or (
                (given_names_compatible(*key) or self.rare_typo(a_first, b_first))
                and not self.two_names(a_first, b_first))
        return known

    def dates_compatible(self, a: str, b: str) -> bool:
        """Return birth_dates_compatible, widened to dates two digits apart where the drop shows those to be typos."""
        return birth_dates_compatible(a, b) or (self.date_typos and date_edits(a, b) <= DATE_TYPO_EDITS)

    def _fitting(self, name: str) -> tuple[str, ...]:
        """Return the names of learnt pairs that a name is, or is a typo of (worked out once per name)."""
        found = self._fits.get(name)
        if found is None:
            found = self._fits[name] = tuple(x for x in self._variant_names if name == x or _typo(name, x))
        return found

    def learnt_variant(self, a: str, b: str) -> bool:
        """Return True when two first names are, or are typos of, a pair the drop showed as one person's."""
        if not self.variants:
            return False
        fits_b = self._fitting(b)
        return bool(fits_b) and any((x, y) in self._pairs for x in self._fitting(a) for y in fits_b)

    def name_initials(self, name: str) -> set[str]:
        """Return the letters a name may be abbreviated to: its own, its formal names' and its learnt variants'."""
        learnt = self._letters.get(name)
        return _name_initials(name) | learnt if learnt else _name_initials(name)

    def names_compatible(self, a: NameAndBirth, b: NameAndBirth) -> bool:
        """Return True when the names of two records (read straight or swapped) may be one person's."""
        given = self.given_compatible
        letters = self.name_initials if self.variants else _name_initials
        return (_names_compatible(a, b, given, letters) or _swapped_compatible(a, b, given, letters)
                or _swapped_compatible(b, a, given, letters))

    def waived(self, probability: float, a: NameAndBirth, b: NameAndBirth) -> frozenset[str]:
        """Return the rules that give way to a pair of records of this match probability.

        A rule gives way when the drop showed its conflicts to be mostly noise, the model is sure
        of the pair, and the pair is near-identical apart from that rule (:meth:`near_identical`);
        the first-name rule, and the surname rule of a record without a first name, also give way to a mobile
        number or e-mail address the drop shows to be one person's (:meth:`on_personal_number`), whatever the
        probability: the number says who a nameless record ("tim", its first name typed as a surname) is. The
        first-name rule also gives way to any sure pair where the drop shows two first names on its sure pairs to be
        one person's (:meth:`sure_pairs_one_person`: a drop without households), and the birth-date rule, where it is
        soft, to a sure pair whose first names fit where the drop shows such pairs to be one person's (SURE_DATES).
        The first-name rule never gives way to two names a letter apart that the drop shows both in use (``two_names``).
        """
        waived: set[str] = set()
        if probability >= SURE:
            waived.update(rule for rule in self.strictness if self.soft(rule) and self.near_identical(rule, a, b)
                          and self._one_person_likely(rule, a, b))
            if self.sure_pairs_one_person():
                waived.add(FIRST_NAME)
            if self.soft(BIRTH_DATE) and self.sure_pairs_one_person(SURE_DATES) and self.names_compatible(a, b):
                waived.add(BIRTH_DATE)
        if self.on_personal_number(a, b):
            waived.update((FIRST_NAME, SURNAME))
        if FIRST_NAME in waived and a.given_first and b.given_first and self.two_names(a.given_first, b.given_first):
            waived.discard(FIRST_NAME)     # Tim and Tom: no score or shared number tells twins from a typo
        return frozenset(waived)

    def _one_person_likely(self, rule: str, a: NameAndBirth, b: NameAndBirth) -> bool:
        """Return False when the pair's own mobile numbers or e-mail addresses differ where the drop shows that to make
        its conflict more likely two people's than one's (twins at one address, each with their own number)."""
        seen = self.strictness[rule].witnessed
        if seen is None or not seen.enough or not seen.agree:
            return True
        differing = [field for field, _ in seen.agree      # the values the drop measured for this rule
                     if getattr(a, field) and getattr(b, field) and getattr(a, field) != getattr(b, field)]
        return not differing or seen.one_person_given(differing) >= ONE_PERSON_MAJORITY

    def mobiles_personal(self) -> bool:
        """Return False when the drop showed families to share mobile numbers (PERSONAL_MOBILE: enough pairs
        measured, birth dates differing more often than kin explain); True otherwise, as every drop we
        measured before showed."""
        measured = self.strictness.get(PERSONAL_MOBILE)
        return measured is None or measured.pairs < MIN_MEASURED or measured.rate <= KIN_SHARE

    def sure_pairs_one_person(self, measurement: str = SURE_PAIRS) -> bool:
        """Return True when the drop showed pairs the model is sure of under two first names to be one person's
        (SURE_PAIRS: enough such pairs with birth dates measured, as few carrying different ones as kin explain), or
        under two birth dates (SURE_DATES, witnessed by their first names)."""
        measured = self.strictness.get(measurement)
        return measured is not None and measured.number_waiver == "always"

    def on_personal_number(self, a: NameAndBirth, b: NameAndBirth) -> bool:
        """Return True when two records share a mobile number or e-mail address the drop shows to be one
        person's (PERSONAL_MOBILE, PERSONAL_EMAIL), with the same birth date where the drop asks for it, or under one
        surname without a birth date on one of them where the drop shows such pairs to be one person's (ONE_SURNAME)."""
        return self._personal_match(a, b) is not None

    def _personal_match(self, a: NameAndBirth, b: NameAndBirth) -> tuple[str, str, Strictness] | None:
        """Return the measurement of the shared value that makes two records one person's (:meth:`on_personal_number`):
        (PERSONAL_VALUES key, how it gives way, the measurement that decided), or None. Clustering asks this of every
        pair it joins: no words are made here."""
        for rule, (field, _, _) in PERSONAL_VALUES.items():
            measured = self.strictness.get(rule)
            value = getattr(a, field)
            if measured is None or not (value and value == getattr(b, field)):
                continue
            how = measured.number_waiver
            if how == "always" or (how == "same birth date" and bool(a.birth_date) and a.birth_date == b.birth_date):
                return rule, how, measured
            undated = self.strictness.get(ONE_SURNAME[rule])
            if (undated is not None and undated.number_waiver == "undated" and not (a.birth_date and b.birth_date)
                    and bool(a.surname_core) and a.surname_core == b.surname_core):
                return rule, "undated", undated
        return None

    def personal_number(self, a: NameAndBirth, b: NameAndBirth) -> str | None:
        """Return why two records' shared mobile number or e-mail address makes them one person's
        (:meth:`on_personal_number`), as a clause with the drop's figures, or None."""
        found = self._personal_match(a, b)
        if found is None:
            return None
        rule, how, measured = found
        value_words = PERSONAL_VALUES[rule][2]
        if how == "undated":
            return (f"one {value_words} under one surname, a birth date missing, where the drop shows such pairs "
                    f"to be one person's ({measured.conflicts:,} of {measured.pairs:,} dated pairs of that kind carry "
                    "two birth dates)")
        figures = (f"{measured.conflicts:,} of {measured.pairs:,} dated pairs on one {value_words} under two first "
                   "names carry two birth dates")
        if how == "always":
            return f"one {value_words}, which the drop shows to be one person's ({figures})"
        return f"one {value_words} and one birth date ({figures})"

    def gave_way(self, probability: float, a: NameAndBirth, b: NameAndBirth) -> str | None:
        """Return, for two records a rule holds apart that a run joins all the same (:meth:`waived`), the rule's
        conflict and why it gave way, as a sentence; None when no rule holds them apart or one still does."""
        found = self.conflict(a, b)
        if found is None:
            return None
        rule, reason = found
        waived = self.waived(probability, a, b)
        if rule not in waived or self.conflict(a, b, waived) is not None:
            return None
        personal = self.personal_number(a, b) if rule in (FIRST_NAME, SURNAME) else None
        if personal:
            why = personal
        elif rule == FIRST_NAME and probability >= SURE and self.sure_pairs_one_person():
            why = (f"the model is sure of the pair (match probability {SURE} or more) and the drop shows two first "
                   "names on such pairs to be one person's")
        elif rule == BIRTH_DATE and probability >= SURE and self.sure_pairs_one_person(SURE_DATES):
            why = (f"the model is sure of the pair (match probability {SURE} or more), their first names fit, and "
                   "the drop shows two birth dates on such pairs to be one person's")
        else:
            measured = self.strictness[rule]
            why = (f"the model is sure of the pair (match probability {SURE} or more), which agrees on everything else "
                   f"the rule was measured on, and the drop shows the rule's conflicts to be mostly noise "
                   f"({measured.conflicts:,} of {measured.pairs:,} near-identical pairs)")
        return f"{reason}, but the rule gave way: {why}"

    def near_identical(self, rule: str, a: NameAndBirth, b: NameAndBirth) -> bool:
        """Return True when two records agree on everything a rule's measurement held equal.

        A rule gives way only to such pairs: the drop showed that among them a conflict is mostly
        noise; a pair with less in common (partners on one card, a record without a birth date)
        is not what was measured.
        """
        born = bool(a.birth_date and b.birth_date)   # whether the dates agree is the birth-date rule's to judge
        same_surname = bool(a.surname_core and b.surname_core and surnames_compatible(a.surname_core, b.surname_core))
        if rule == FIRST_NAME:
            # A birth date written the same on both says more than any surname; one surname and one
            # mobile number are one person under two first names, but not where the drop shows
            # families to share mobile numbers (PERSONAL_MOBILE): a parent's number on a child's account.
            return ((born and (same_surname or a.birth_date == b.birth_date))
                    or (same_surname and a.mobile is not None and a.mobile == b.mobile and self.mobiles_personal()))
        if rule == BIRTH_DATE:   # one full name, read straight or with first and last name swapped on one side
            swapped = bool(a.surname_core and a.given_first) and (a.surname_core, a.given_first) == (b.given_first,
                                                                                                   b.surname_core)
            return (same_surname or swapped) and bool(a.given_first or b.given_first) and self.names_compatible(a, b)
        return born   # SURNAME: records without a first name, born on one day

    def conflict(self, a: NameAndBirth, b: NameAndBirth, waived: Collection[str] = ()) -> tuple[str, str] | None:
        """Return (rule, reason) when two records cannot be one person, or None; waived rules are skipped."""
        if (BIRTH_DATE not in waived and a.birth_date and b.birth_date
                and not self.dates_compatible(a.birth_date, b.birth_date)):
            return BIRTH_DATE, f"{RULE_TITLES[BIRTH_DATE]} {a.birth_date} / {b.birth_date}"
        if SURNAME not in waived and (_surname_conflict(a, b) or _surname_conflict(b, a)):
            return SURNAME, f"{RULE_TITLES[SURNAME]} {a.surname_core} / {b.surname_core}"
        if FIRST_NAME not in waived and not self.names_compatible(a, b):
            return FIRST_NAME, f"{RULE_TITLES[FIRST_NAME]} {a.given_first or a.initials} / {b.given_first or b.initials}"
        if MOBILE not in waived and _mobiles_conflict(a, b) and self.applies(MOBILE):
            return MOBILE, f"{RULE_TITLES[MOBILE]} {a.mobile} / {b.mobile}"
        return None


def rule_value(rule: str, record: NameAndBirth) -> object:
    """Return the value of a record that a cannot-link rule compares (None when it has none)."""
    if rule == FIRST_NAME:
        return record.given_first or (f"{record.initials}." if record.initials else None)
    if rule == BIRTH_DATE:
        return record.birth_date
    if rule == SURNAME:
        return record.surname_core
    if rule == MOBILE:
        return record.mobile
    return None


def rule_conflict(rule: str, a: NameAndBirth, b: NameAndBirth, book: RuleBook) -> bool:
    """Return True when two records conflict on one rule: :meth:`RuleBook.conflict` with every other rule waived."""
    others = _ALL_BUT.get(rule)
    return others is not None and book.conflict(a, b, others) is not None


def _same_value(rule: str, x: NameAndBirth, y: NameAndBirth, book: RuleBook) -> bool:
    """Return True when x's value of a rule is y's: equal or, for a first name, a known variant, a learnt
    variant or a typo of it (not merely compatible: "eva" fits the tail of "lieve", and "jo" fits many names)."""
    if rule_value(rule, x) == rule_value(rule, y):
        return True
    if rule == FIRST_NAME:
        a, b = x.given_first, y.given_first
        return bool(a and b) and (are_name_variants(a, b) or _typo(a, b) or book.learnt_variant(a, b))
    return not rule_conflict(rule, x, y, book)


def held_already(rule: str, a: NameAndBirth, b: NameAndBirth, left: Iterable[NameAndBirth],
                 right: Iterable[NameAndBirth], book: RuleBook | None = None) -> bool:
    """Return True when a conflict on rule between a (of the left person) and b (of the right one) is one the
    two persons hold already: right has a record x that stands for a (the same value, or for a first name the
    same name spelt otherwise: :func:`_same_value`) and that conflicts with b as a does, or left one that
    stands for b that way.

    The person already holds such a conflict (the pairs that joined x and b were sure of it, or a
    steward joined them): "pier", the short form of "pieter", joins the person who is "pieter" in one
    channel and "abraham" in another. A record that conflicts with nothing in the person ("jo" beside
    "johan") holds no conflict, so it does not open the person to "joke".
    """
    book = book or STRICT
    if rule_value(rule, a) is None or rule_value(rule, b) is None:
        return False

    def stands_for(x: NameAndBirth, y: NameAndBirth, other: NameAndBirth) -> bool:
        return (rule_value(rule, x) is not None and _same_value(rule, x, y, book)
                and rule_conflict(rule, x, other, book))

    return any(stands_for(x, a, b) for x in right) or any(stands_for(y, b, a) for y in left)


def first_conflict(left: Sequence[NameAndBirth], right: Sequence[NameAndBirth], book: RuleBook,
                   waived: Collection[str] = ()) -> tuple[str, str] | None:
    """Return (rule, reason) of the first conflict between a record of left and one of right that the two
    persons do not hold already (:func:`held_already`), or None when the rules let them be one person.

    A pair whose conflict on one rule is held already is still checked on the other rules.
    """
    for a in left:
        for b in right:
            skipped = set(waived)
            found = book.conflict(a, b, skipped)
            while found and held_already(found[0], a, b, left, right, book):
                skipped.add(found[0])
                found = book.conflict(a, b, skipped)
            if found:
                return found
    return None

STRICT = RuleBook()   # the rules without a drop: known variants and typos only, every rule strict


# The values an edit is checked on (rule_value): a new mobile number is what a customer who changed
# numbers writes, and the person's older records keep the old one.
EDIT_CHECKED: tuple[str, ...] = (FIRST_NAME, BIRTH_DATE, SURNAME)
_ALL_RULES: frozenset[str] = frozenset({FIRST_NAME, BIRTH_DATE, SURNAME, MOBILE})
_ALL_BUT: dict[str, frozenset[str]] = {rule: _ALL_RULES - {rule} for rule in _ALL_RULES}   # rule_conflict's waivers


def edit_conflict(now: NameAndBirth, was: NameAndBirth | None, others: Sequence[NameAndBirth],
                  book: RuleBook) -> tuple[str, str] | None:
    """Return (rule, reason) when an edited record's edit conflicts with the other records of the person it was
    with, or None when it may stay with them.

    Only a first name, birth date or surname the edit changed is checked (all three when ``was``, the
    record's fields before the edit, is not known): a conflict on a value the edit left as it was was
    there when the record was put with them.
    """
    checked = {rule for rule in EDIT_CHECKED if was is None or rule_value(rule, was) != rule_value(rule, now)}
    return first_conflict([now], others, book, _ALL_RULES - checked) if checked else None


def cannot_link_reason(a: NameAndBirth, b: NameAndBirth) -> str | None:
    """Return why two records cannot be one person, or None when nothing rules it out."""
    found = STRICT.conflict(a, b)
    return found[1] if found else None


def measure_strictness(rule: str, near_identical: Iterable[tuple[NameAndBirth, NameAndBirth]],
                       book: RuleBook, witnesses: tuple[str, ...] = WITNESSES) -> Strictness:
    """Return how often a rule finds a conflict among near-identical pairs of one drop.

    Near-identical for FIRST_NAME: same surname, birth date and postcode; for BIRTH_DATE: same
    first name, surname and postcode, both with a birth date; for SURNAME: same first name, birth
    date and postcode, both with a surname; for MOBILE: same first name, surname and birth date,
    both with a personal mobile number. The caller selects them.

    witnesses: the personal values that say who a conflict is (``Witnessed``): never one the caller selected the
    pairs on (pairs chosen for one e-mail address agree on it whoever they are).
    """
    pairs = conflicts = 0
    # per personal value: [pairs without a conflict holding it on both sides, of which agree,
    #                      conflicting pairs holding it on both sides, of which agree]
    values = {field: [0, 0, 0, 0] for field in (witnesses if rule in WITNESSED_RULES else ())}
    for a, b in near_identical:
        pairs += 1
        if rule == FIRST_NAME:
            conflict = not book.names_compatible(a, b)
        elif rule == SURNAME:
            conflict = bool(a.surname_core and b.surname_core
                            and not surnames_compatible(a.surname_core, b.surname_core))
        elif rule == MOBILE:
            conflict = _mobiles_conflict(a, b)
        else:
            conflict = bool(a.birth_date and b.birth_date and not book.dates_compatible(a.birth_date, b.birth_date))
        conflicts += conflict
        for field, counts in values.items():
            mine, theirs = getattr(a, field), getattr(b, field)
            if mine and theirs:
                counts[2 * conflict] += 1
                counts[2 * conflict + 1] += mine == theirs
    if rule not in WITNESSED_RULES:
        return Strictness(rule, pairs, conflicts)
    held = sum(c[2] for c in values.values())
    agreeing = sum(c[3] for c in values.values())
    expected = sum(c[2] * c[1] / c[0] for c in values.values() if c[0])
    # a share from a sample is never certainty: one agreement and one difference more (Laplace)
    agree = tuple((field, (c[1] + 1) / (c[0] + 2)) for field, c in values.items() if c[0] >= MIN_MEASURED)
    return Strictness(rule, pairs, conflicts, Witnessed(held, agreeing, expected, agree))
