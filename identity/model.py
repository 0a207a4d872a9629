"""The Splink model: comparisons, blocking rules and unsupervised training.

Comparisons are built from Splink's level creators and plain SQL conditions that every Splink
backend understands, so the same settings run on DuckDB and on Spark.

Household awareness starts here: an exact match on an e-mail address, mobile number or loyalty
card is split into two levels, "used by one name" and "used by several names" (the ``*_names``
columns count the different people using each value, see :func:`identity.link.prepare`). EM then
learns that a family card says far less than a personal one. How often two different people agree
on such a value is counted in the drop (:func:`shared_value_u`), not sampled: it falls with the
drop's size, as the chance that two records match does.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pandas as pd
import splink.comparison_level_library as cll
from rapidfuzz.distance import DamerauLevenshtein
from splink import Linker, SettingsCreator, block_on
from splink.internals.exceptions import EMTrainingException   # Splink 5 exports it nowhere else
from splink.comparison_library import CustomComparison

log = logging.getLogger(__name__)


EMAIL_DOMAIN_TYPO = "same local part, domain typo"   # the label of the e-mail level counted by email_domain_typo_u
TWO_DATE_PARTS = "two of year, month and day"        # the birth-date level of dates one part apart


def _null(*columns: str) -> cll.CustomLevel:
    """Return a null level: either side lacks all of the columns."""
    left = " AND ".join(f"{c}_l IS NULL" for c in columns)
    right = " AND ".join(f"{c}_r IS NULL" for c in columns)
    return cll.CustomLevel(f"({left}) OR ({right})", label_for_charts="missing").configure(is_null_level=True)


def _shared_value_comparison(column: str, label: str) -> CustomComparison:
    """Return exact-match levels split by how many names use the value: personal or shared."""
    return CustomComparison(
        output_column_name=column,
        comparison_description=label,
        comparison_levels=[
            _null(column),
            cll.CustomLevel(
                f"{column}_l = {column}_r AND {column}_names_l <= 1",
                label_for_charts=f"same {label}, used by one name",
            ),
            cll.CustomLevel(f"{column}_l = {column}_r", label_for_charts=f"same {label}, used by several names"),
            cll.ElseLevel(),
        ],
    )


def _has_street(side: str) -> str:
    """Return SQL that is true when a side's address says more than its city (an address key, postcode or street)."""
    return f"(address_key_{side} IS NOT NULL OR postcode_{side} IS NOT NULL OR street_{side} IS NOT NULL)"


def _same_date_part(start: int, length: int) -> str:
    """Return SQL that is true when two ISO birth dates agree on the characters from ``start`` (1-based) on."""
    return f"substr(birth_date_l, {start}, {length}) = substr(birth_date_r, {start}, {length})"


def _city_levels() -> list:
    """Return the levels that compare two cities, the last of a comparison: the same (weighed by how common
    it is in the drop), spelled alike, else."""
    return [
        cll.ExactMatchLevel("city", term_frequency_adjustments=True).configure(label_for_charts="same city"),
        cll.JaroWinklerLevel("city", 0.92).configure(label_for_charts="city spelled alike"),
        cll.ElseLevel(),
    ]


def _email_year_held(side: str, other: str) -> str:
    """Return SQL that is true when ``side`` has an e-mail year and no birth date and ``other`` a birth date."""
    return f"(email_year_{side} IS NOT NULL AND birth_date_{side} IS NULL AND birth_date_{other} IS NOT NULL)"


def _email_year_fits(side: str, other: str) -> str:
    """Return SQL that is true when ``side``'s e-mail year is ``other``'s birth year (two digits or four)."""
    return (f"({_email_year_held(side, other)} AND (email_year_{side} = substr(birth_date_{other}, 3, 2) "
            f"OR email_year_{side} = substr(birth_date_{other}, 1, 4)))")


def email_year_comparison() -> CustomComparison:
    """Return the comparison of one side's e-mail year (``standardise.email_year``: "tara.devries93@" holds 93) with
    the other side's birth date, where only that other side has one.

    Where both sides have a birth date the birth-date comparison weighs them, and the year in an e-mail adds
    nothing to it; where neither has one there is nothing to compare. A year that fits says what a birth date
    in common says in part; one that does not is evidence against, as weighed by what EM learns from the drop
    (a "jan12@" address holds a number that is no year).
    """
    return CustomComparison(
        output_column_name="email_year",
        comparison_description="year in the e-mail address against the birth date",
        comparison_levels=[
            cll.CustomLevel(f"NOT ({_email_year_held('l', 'r')} OR {_email_year_held('r', 'l')})",
                            label_for_charts="no e-mail year against a birth date").configure(is_null_level=True),
            cll.CustomLevel(f"{_email_year_fits('l', 'r')} OR {_email_year_fits('r', 'l')}",
                            label_for_charts="e-mail year is the birth year"),
            cll.ElseLevel(),
        ],
    )


def comparisons() -> list[CustomComparison]:
    """Return the model's comparisons, most specific level first within each."""
    given = CustomComparison(
        output_column_name="given_name",
        comparison_description="first name",
        comparison_levels=[
            _null("given_first", "initials"),
            cll.ExactMatchLevel("given_first", term_frequency_adjustments=True),
            cll.CustomLevel(
                "given_first_l = surname_core_r AND surname_core_l = given_first_r",
                label_for_charts="first and last name swapped",
            ),
            cll.ExactMatchLevel("given_canonical").configure(label_for_charts="nickname of the same name"),
            cll.JaroWinklerLevel("given_first", 0.88),
            cll.CustomLevel(
                "substr(coalesce(given_first_l, initials_l), 1, 1) = "
                "substr(coalesce(given_first_r, initials_r), 1, 1)",
                label_for_charts="same initial",
            ),
            cll.ElseLevel(),
        ],
    )
    surname = CustomComparison(
        output_column_name="surname",
        comparison_description="surname without particles",
        comparison_levels=[
            _null("surname_core"),
            cll.ExactMatchLevel("surname_core", term_frequency_adjustments=True),
            cll.CustomLevel(
                "given_first_l = surname_core_r AND surname_core_l = given_first_r",
                label_for_charts="first and last name swapped",
            ),
            cll.CustomLevel(
                "(given_first_l IS NULL AND surname_core_l = given_first_r) "
                "OR (given_first_r IS NULL AND surname_core_r = given_first_l)",
                label_for_charts="a name in the other field",
            ),
            cll.CustomLevel(
                "surname_first_l = surname_first_r OR surname_last_l = surname_last_r "
                "OR surname_first_l = surname_last_r OR surname_last_l = surname_first_r",
                label_for_charts="one part of a double surname",
            ),
            cll.JaroWinklerLevel("surname_core", 0.9),
            # One typo in a short surname stays below Jaro-Winkler 0.9 (Koch / Kocn 0.88, Fuchs / Fjchs 0.88,
            # Sauer / Saier 0.89): R's RLdata10000 left 32 duplicates whose only difference was such a typo apart.
            cll.DamerauLevenshteinLevel("surname_core", 1).configure(label_for_charts="one typo"),
            cll.ElseLevel(),
        ],
    )
    birth = CustomComparison(
        output_column_name="birth_date",
        comparison_description="birth date",
        comparison_levels=[
            _null("birth_date"),
            cll.ExactMatchLevel("birth_date"),
            cll.Or(
                cll.DamerauLevenshteinLevel("birth_date", 1),
                cll.CustomLevel(
                    "substr(birth_date_l, 1, 4) = substr(birth_date_r, 1, 4) "
                    "AND substr(birth_date_l, 6, 2) = substr(birth_date_r, 9, 2) "
                    "AND substr(birth_date_l, 9, 2) = substr(birth_date_r, 6, 2)"
                ),
            ).configure(label_for_charts="typo or day-month swap"),
            # One of the three parts written wrong or replaced whole, the other two kept: "1949-11-16" / "2003-11-16",
            # a month or day replaced likewise. The cannot-link rules take such dates for one person's already
            # (identity.rules.birth_dates_compatible); without a level of their own a replaced year fell to "all
            # other comparisons" and a replaced month or day to "same year": R's RLdata10000 corrupts one field of
            # each duplicate, and 74 of the 98 duplicates herken left apart had one date part replaced and both
            # names intact. A father and the son with his first name share two parts one year in 365.
            cll.CustomLevel(
                f"{_same_date_part(1, 4)} AND ({_same_date_part(6, 2)} OR {_same_date_part(9, 2)}) "
                f"OR {_same_date_part(6, 5)}",
                label_for_charts=TWO_DATE_PARTS,
            ),
            cll.CustomLevel(_same_date_part(1, 4), label_for_charts="same year"),
            cll.ElseLevel(),
        ],
    )
    email = CustomComparison(
        output_column_name="email",
        comparison_description="e-mail address",
        comparison_levels=[
            _null("email"),
            cll.CustomLevel("email_l = email_r AND email_names_l <= 1", label_for_charts="same e-mail, one name"),
            cll.CustomLevel("email_l = email_r", label_for_charts="same e-mail, several names"),
            cll.And(
                cll.ExactMatchLevel("email_local"), cll.DamerauLevenshteinLevel("email_domain", 2)
            ).configure(label_for_charts=EMAIL_DOMAIN_TYPO),
            # No fuzzy level on the whole address: e-mails are made from names, so two people
            # called Mustafa Ouali have near-identical ones.
            cll.ElseLevel(),
        ],
    )
    address = CustomComparison(
        output_column_name="address",
        comparison_description="address",
        comparison_levels=[
            # a side with a city and nothing more is compared by ``city_only`` (below)
            _null("address_key", "postcode", "street"),
            cll.ExactMatchLevel("address_key").configure(label_for_charts="same address"),
            cll.And(cll.ExactMatchLevel("postcode"), cll.ExactMatchLevel("house_number")).configure(
                label_for_charts="same postcode and number, other addition"
            ),
            cll.And(cll.ExactMatchLevel("street"), cll.ExactMatchLevel("house_number")).configure(
                label_for_charts="same street and number"
            ),
            cll.ExactMatchLevel("postcode").configure(label_for_charts="same postcode"),
            *_city_levels(),
        ],
    )
    # Sparse records carry a name and a city and nothing else: the city is what they offer, and it
    # weighs by how common it is in this drop. Compared on its own, apart from full addresses: within
    # the address comparison, m of "same city" is the share of all matches that reach it (5%: most
    # share the address), where one person's records of which one has only a city agree on it nine
    # times in ten; the match weight of a name-and-city pair was some four bits short.
    city_only = CustomComparison(
        output_column_name="city_only",
        comparison_description="city, where one side has no street or postcode",
        comparison_levels=[
            cll.CustomLevel(f"city_l IS NULL OR city_r IS NULL OR ({_has_street('l')} AND {_has_street('r')})",
                            label_for_charts="missing, or both with a street or postcode").configure(is_null_level=True),
            *_city_levels(),
        ],
    )
    landline = CustomComparison(
        output_column_name="landline",
        comparison_description="landline",
        comparison_levels=[_null("landline"), cll.ExactMatchLevel("landline"), cll.ElseLevel()],
    )
    return [
        given,
        surname,
        birth,
        email,
        _shared_value_comparison("mobile", "mobile number"),
        landline,
        _shared_value_comparison("loyalty_card", "loyalty card"),
        address,
        city_only,
        email_year_comparison(),
    ]


def blocking_rules() -> list[Any]:
    """Return the rules that generate candidate pairs: any one shared strong value."""
    return [
        block_on("email"),
        block_on("email_local", "email_domain_head"),
        block_on("mobile"),
        block_on("landline"),
        block_on("loyalty_card"),
        block_on("address_key"),
        block_on("surname_core", "birth_date"),
        block_on("given_canonical", "surname_core"),
        block_on("given_canonical", "birth_date"),
        block_on("birth_date", "postcode"),
        block_on("surname_core", "initial"),
        block_on("postcode", "house_number"),
        block_on("birth_date", "house_number"),
        block_on("birth_date", "city"),
        block_on("surname_core", "city"),
        block_on("given_canonical", "city"),
        # A name typed into the other field: "Heleen" / "Lamore" against "Lamore" / "Heleen".
        "l.given_first = r.surname_core AND l.surname_core = r.given_first",
    ]


# EM learns m, what matches look like, from the pairs its blocking rule makes. Blocked on the birth
# date those grow with the square of the drop (18 million pairs at a million records, 80 s); beyond
# this many Splink samples the records so that about this many pairs are made (a 300,000-record drop
# makes fewer and is trained on all of them). m is a property of matches, which a random sample of
# records keeps in proportion.
EM_MAX_PAIRS = 2e6

# The rules that pair records on a name alone (no identifier, address or date) pair every two records
# that carry a common name: their pairs grow with the square of a name's frequency, and at a million
# records they made 63 of the 69 million pairs scored. In the batch they are limited to blocks of at
# most NAME_BLOCK_CAP records: a pair that only its name found, among more than that many records
# sharing the name, has prior odds of less than one in a hundred of being the one, which its other
# fields would have to overcome; such fields (an e-mail, a phone, an address, a date) pair the
# records through the other rules. Measured at 300,000 records: of the 94 true pairs above the match
# threshold that only the surname+initial rule found, 93 lay in blocks of at most 100 records (the
# largest 113), and all 10 of the surname+city rule's (the largest 22). The model keeps the plain
# rules (real-time and delta runs score one record or a delta against all); the cap applies to the
# batch's predict (:func:`capped_rules`), over block sizes counted in the drop (:func:`with_block_sizes`).
NAME_BLOCK_CAP = 100
NAME_BLOCKS: dict[tuple[str, str], str] = {
    ("given_canonical", "surname_core"): "block_size_given_surname",
    ("surname_core", "initial"): "block_size_surname_initial",
    ("surname_core", "city"): "block_size_surname_city",
    ("given_canonical", "city"): "block_size_given_city",
}


def with_block_sizes(records: pd.DataFrame) -> pd.DataFrame:
    """Return the records with, per capped name rule (NAME_BLOCKS), how many records share its block."""
    sizes = {}
    for columns, name in NAME_BLOCKS.items():
        keys = records[list(columns)]
        present = keys.notna().all(axis=1)
        counts = keys[present].groupby(list(columns), sort=False)[columns[0]].transform("size")
        sizes[name] = counts.reindex(records.index).fillna(0).astype("int64")
    return records.assign(**sizes)


def _cap_suffix(size_column: str, cap: int) -> str:
    """Return what a capped rule adds to the plain rule's SQL."""
    return f" AND l.{size_column} <= {cap} AND r.{size_column} <= {cap}"


def _plain_rule_sql(columns: tuple[str, ...], dialect: str) -> str:
    """Return the SQL Splink writes for a block_on rule of these columns."""
    return block_on(*columns).get_blocking_rule(dialect).blocking_rule_sql


def rule_sql(rule: object) -> str:
    """Return the SQL of a saved model's blocking rule (a string, or a {"blocking_rule": ...} entry)."""
    return rule["blocking_rule"] if isinstance(rule, dict) else str(rule)


def blocking_rules_of(model: Mapping[str, Any]) -> list[str]:
    """Return the SQL of a saved model's blocking rules, in order."""
    return [rule_sql(rule) for rule in model.get("blocking_rules_to_generate_predictions", [])]


def capped_rules(model: dict, dialect: str, cap: int = NAME_BLOCK_CAP) -> dict:
    """Return the model with its name-only blocking rules limited to blocks of at most cap records.

    The records it predicts over must carry the block sizes (:func:`with_block_sizes`).
    """
    plain = {_plain_rule_sql(columns, dialect): name for columns, name in NAME_BLOCKS.items()}
    rules = []
    for rule in model.get("blocking_rules_to_generate_predictions", []):
        sql = rule_sql(rule)
        if sql in plain:
            sql += _cap_suffix(plain[sql], cap)
            rule = {**rule, "blocking_rule": sql} if isinstance(rule, dict) else sql
        rules.append(rule)
    return {**model, "blocking_rules_to_generate_predictions": rules}


def plain_rules(model: dict, cap: int = NAME_BLOCK_CAP) -> dict:
    """Return the model with capped blocking rules (:func:`capped_rules`) as plain rules again."""
    suffixes = [_cap_suffix(name, cap) for name in NAME_BLOCKS.values()]
    rules = []
    for rule in model.get("blocking_rules_to_generate_predictions", []):
        sql = rule_sql(rule)
        for suffix in suffixes:
            sql = sql.removesuffix(suffix)
        rules.append({**rule, "blocking_rule": sql} if isinstance(rule, dict) else sql)
    return {**model, "blocking_rules_to_generate_predictions": rules}


def settings() -> SettingsCreator:
    """Return untrained settings for deduplicating standardised records."""
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=comparisons(),
        blocking_rules_to_generate_predictions=blocking_rules(),
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=True,
        additional_columns_to_retain=["source", "record_id"],
    )


# EM splits the pairs of a session into two classes and calls the one that agrees on most fields
# "matches". Among pairs blocked on the address most are the family, who agree on the surname, the
# card, the landline and the e-mail: EM learnt the household, not the person (at 100,000 records it
# put m of "a different birth date" at 0.38 where the truth gives 0.003, and of "exact first name"
# at 0.59 against 0.73), so one person's records agreeing on their names scored too low and a
# different birth date cost a pair almost nothing. Pairs that share a birth date, or a first name
# and a surname, are one person or two strangers (twins aside): no third kind of pair agrees on most
# fields there, and the m so learnt came out within about 0.02 of the truth on every level (the
# generator's labels, used only to check). Between them the two sessions estimate every comparison:
# the names in the first, the birth date in the second, the rest in both.
EM_SESSIONS = (block_on("birth_date"), block_on("given_first", "surname_core"))


PRIOR_RECALL = 0.6   # the share of true pairs the match rate's deterministic rules are taken to find
MOST_PRIOR = 0.99    # the highest match rate training sets
FLOOR_MOST = 0.5     # one pair's worth in a drop of two or three records: no more than even odds, before any evidence


def train(linker: Linker, seed: int = 42, records: int | None = None) -> None:
    """Train a linker without labels: direct estimate of the match rate, random-sampling u, EM for m.

    records: how many records the linker holds; where the deterministic rules find no pair at all, the
    match rate is taken as if they had found one (the smallest rate they can tell), not as zero, which
    no score can be made from. The scores refine it afterwards (identity.prior).
    """
    deterministic = [block_on("given_first", "surname_core", "birth_date"), block_on("email", "given_first")]
    chosen = linker._settings_obj   # Splink 5 keeps the estimate here and offers no setter
    try:
        linker.training.estimate_probability_two_random_records_match(deterministic, recall=PRIOR_RECALL)
    except ValueError:
        # The rules found more pairs than that recall allows (a drop of a few records, or of exact duplicates):
        # they found them all, and the rate stays short of certainty, which no score can be made from.
        linker.training.estimate_probability_two_random_records_match(deterministic, recall=1.0)
        chosen._probability_two_random_records_match = min(chosen._probability_two_random_records_match, MOST_PRIOR)
    if chosen._probability_two_random_records_match <= 0 and records and records > 1:
        chosen._probability_two_random_records_match = min(1 / (PRIOR_RECALL * records * (records - 1) / 2),
                                                           FLOOR_MOST)
        log.warning("no two records of this drop share a full name and birth date, or an e-mail address and first "
                    "name: the chance that two records are one person starts from one such pair")
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=seed)
    for rule in EM_SESSIONS:
        prior = chosen._probability_two_random_records_match
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(rule, max_pairs=EM_MAX_PAIRS)
        except EMTrainingException:
            # A drop in which no two records share, say, a birth date (an extract without them, or one that
            # mistypes every duplicate's) trains its m on the other session; a comparison no session reaches
            # keeps the m values it is defined with. Splink leaves the failed session's match rate (adjusted
            # for its blocking rule) in the settings: the estimate is put back.
            chosen._probability_two_random_records_match = prior
            log.warning("EM training skipped %s: no two records of this drop share it",
                        rule.get_blocking_rule("duckdb").blocking_rule_sql)


# The comparisons whose first two levels are "same value, used by one name" and "same value, used
# by several names" (the ``<column>_names`` counts of :func:`identity.link.prepare`).
SHARED_VALUE_COLUMNS: tuple[str, ...] = ("email", "mobile", "loyalty_card")


def _per_pair(count: float, carriers: int) -> float:
    """Return a count of agreeing pairs as a share of all pairs of ``carriers`` records: at least half a pair
    (a level where nothing is counted still has some u), and 0.5 when there are no pairs at all."""
    all_pairs = carriers * (carriers - 1) / 2
    return max(count, 0.5) / all_pairs if all_pairs else 0.5


def shared_value_u(records: pd.DataFrame, column: str) -> tuple[float, float]:
    """Return the u-probabilities of "same value, one name" and "same value, several names", counted in this drop.

    u is the chance that two records of different people agree at the level, among the pairs that
    both carry a value. Sampling a million random pairs cannot see an agreement rarer than about one
    in a million, and two people share a personal e-mail address or mobile number far more rarely
    than that in a large drop: the sampled u stayed near 1e-6 whatever the drop's size while the
    chance that two records match fell with it, so a record that carries nothing but an e-mail
    address scored below even odds against the same address on a full record at any size (98.7% of
    such pairs were one person, at 300,000 records). Counted instead, from the drop itself:

    - several names: of a value's n records, the pairs that fall between its people, as if its
      records were spread evenly over them: C(n, 2) * (1 - 1 / people);
    - one name: only a record without a first name can be someone else there; such a pair is two
      people as often as a value that two or more named records carry turns out to be used by
      several people in this drop.

    A level where nothing is counted gets half a pair (the count is below one).
    """
    names = f"{column}_names"
    present = records[records[column].notna()]
    carriers = len(present)
    if carriers < 2:
        return 0.5, 0.5
    per_value = pd.DataFrame({
        "value": present[column].to_numpy(),
        "nameless": present["given_first"].isna().to_numpy(),
        "people": present[names].to_numpy(),
    }).groupby("value", sort=False).agg(n=("nameless", "size"), nameless=("nameless", "sum"), people=("people", "max"))
    named = per_value["n"] - per_value["nameless"]
    several = per_value["people"] >= 2
    checked = int((named >= 2).sum())
    shared_share = int(several.sum()) / checked if checked else 0.0
    one = per_value[~several]
    nameless_pairs = float((one["nameless"] * (one["n"] - one["nameless"]) + one["nameless"] * (one["nameless"] - 1) / 2).sum())
    many = per_value[several]
    between_people = float((many["n"] * (many["n"] - 1) / 2 * (1 - 1 / many["people"])).sum())
    return _per_pair(nameless_pairs * shared_share, carriers), _per_pair(between_people, carriers)


def email_domain_typo_u(records: pd.DataFrame) -> float:
    """Return the u-probability of "same local part, domain typo", counted in this drop as an upper bound.

    Random sampling of a million pairs never sees two records with one local part at domains a
    typo apart (``jan.smit@hotmail.com`` / ``jan.smit@hotmil.com``), so the level kept no u and
    Splink scored it with its untrained default: a weight below zero on evidence nearly as strong
    as the same address. Counted instead: every pair of the drop that reaches the level, over all
    pairs that both carry an e-mail address. Most such pairs are one person, so this overstates u
    (understates the weight) and never claims more than the drop shows.
    """
    present = records.loc[records["email"].notna() & records["email_local"].notna(), ["email_local", "email_domain"]]
    domains = present.groupby(["email_local", "email_domain"], sort=False).size()
    several = domains[domains.index.get_level_values(0).duplicated(keep=False)]   # local parts at two domains or more
    pairs = 0.0
    for _, group in several.groupby(level=0, sort=False):
        names, counts = group.index.get_level_values(1).tolist(), group.tolist()
        for i in range(len(names)):
            for j in range(i + 1, len(names)):
                if DamerauLevenshtein.distance(names[i], names[j]) <= 2:
                    pairs += counts[i] * counts[j]
    return _per_pair(pairs, len(present))


# The address levels that agree on whole values, and the columns they agree on (labels as ``comparisons`` names them).
ADDRESS_LEVEL_KEYS: dict[str, tuple[str, ...]] = {
    "same address": ("address_key",),
    "same postcode and number, other addition": ("postcode", "house_number"),
    "same street and number": ("street", "house_number"),
    "same postcode": ("postcode",),
}


def _unsampled(level: dict) -> bool:
    """Return True when random sampling left a level without a u of its own (absent, None or "not observed")."""
    return not isinstance(level.get("u_probability"), float)


def address_level_u(records: pd.DataFrame, columns: tuple[str, ...]) -> float:
    """Return the u-probability of an address level that agrees on these columns, counted in this drop as an upper
    bound: every pair of records that agree on all of them, over all pairs of records that carry them.

    Random sampling draws a million pairs. Two records share an address about once per household
    pair, so the chance falls with the drop: at a million records sampling saw no two records at one
    address, the "same address" level kept Splink's untrained default u, and a pair with one surname,
    one initial and one address scored 0.62 on average where 89% of them were one person (0.999 at
    100,000 records). Counted here, the pairs of one person and of one household count too, so this
    overstates u (understates the weight) and never claims more than the drop shows.
    """
    present = records[list(columns)].dropna()
    sizes = present.groupby(list(columns), sort=False).size().to_numpy(dtype=float)
    return _per_pair(float((sizes * (sizes - 1) / 2).sum()), len(present))


def with_counted_u(model: dict, records: pd.DataFrame) -> dict:
    """Return a trained model whose shared-value levels (:func:`shared_value_u`) and e-mail domain-typo level
    (:func:`email_domain_typo_u`) carry the u counted in the drop, as do the address levels that random sampling
    left without one (:func:`address_level_u`)."""
    for comparison in model.get("comparisons", []):
        column = comparison.get("output_column_name")
        if column == "address":
            for level in comparison.get("comparison_levels", []):
                keys = ADDRESS_LEVEL_KEYS.get(level.get("label_for_charts", ""))
                if keys and not level.get("is_null_level") and _unsampled(level) and set(keys) <= set(records.columns):
                    level["u_probability"] = address_level_u(records, keys)
                    log.info("address: u of %s counted in the drop (sampling saw none): %.3g",
                             level["label_for_charts"], level["u_probability"])
        if column not in SHARED_VALUE_COLUMNS:
            continue
        levels = [level for level in comparison.get("comparison_levels", []) if not level.get("is_null_level")]
        one, several = shared_value_u(records, column)
        levels[0]["u_probability"], levels[1]["u_probability"] = one, several
        log.info("%s: u counted in the drop: one name %.3g, several names %.3g", column, one, several)
        for level in levels:
            if level.get("label_for_charts") == EMAIL_DOMAIN_TYPO:
                level["u_probability"] = email_domain_typo_u(records)
                log.info("email: u of %s counted in the drop: %.3g", EMAIL_DOMAIN_TYPO, level["u_probability"])
    return model
