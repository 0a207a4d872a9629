"""Birth dates two digits apart: one person's typos where the drop shows it, kin elsewhere."""

import pandas as pd

from identity.rules import BIRTH_DATE, DateTypos, NameAndBirth, RuleBook, date_edits
from identity.strictness import book_of_run, fit_rules, learn_date_typos, rules_of_run


def _pairs(dates: list[tuple[str, str]], first: str = "thomas", surname: str = "sharpe",
           place: dict[str, str] | None = None) -> tuple[pd.DataFrame, dict[str, NameAndBirth], pd.DataFrame]:
    """Return scored pairs with one first name and surname and the given birth dates, their rule fields and records."""
    fields: dict[str, NameAndBirth] = {}
    rows = []
    for i, (x, y) in enumerate(dates):
        a, b = f"a{i}", f"b{i}"
        fields[a] = NameAndBirth(first, first, first[0], f"{surname}{i}", x)
        fields[b] = NameAndBirth(first, first, first[0], f"{surname}{i}", y)
        rows.append({"unique_id_l": a, "unique_id_r": b, "match_probability": 0.999,
                     "given_first_l": first, "given_first_r": first,
                     "surname_core_l": f"{surname}{i}", "surname_core_r": f"{surname}{i}",
                     "birth_date_l": x, "birth_date_r": y,
                     **{f"{column}_{side}": f"{value}{i}" for column, value in (place or {}).items() for side in "lr"}})
    records = pd.DataFrame({"unique_id": list(fields), "given_first": [f.given_first for f in fields.values()]})
    return pd.DataFrame(rows), fields, records


TYPOS = [("1821-11-06", "1827-11-08"), ("1755-01-21", "1755-07-01"), ("1850-01-04", "1860-01-01")]   # two digits apart
KIN = [("1950-03-12", "1981-09-27"), ("1948-11-30", "1976-05-02")]                                 # father and son


def test_dates_two_digits_apart_are_learnt_where_they_are_most_of_the_conflicts():
    assert all(date_edits(x, y) == 2 for x, y in TYPOS) and all(date_edits(x, y) > 2 for x, y in KIN)
    pairs, fields, _ = _pairs(TYPOS * 12 + KIN * 10)       # 36 two digits apart, 20 kin
    found = learn_date_typos(pairs, fields)
    assert found == DateTypos(56, 36) and found.learnt
    # kin outnumber them: two digits apart is no sign of a typo
    pairs, fields, _ = _pairs(TYPOS * 12 + KIN * 20)
    assert not learn_date_typos(pairs, fields).learnt
    # too few to tell, however lopsided
    pairs, fields, _ = _pairs(TYPOS * 9)
    assert not learn_date_typos(pairs, fields).learnt
    # dates the rules take for one person's anyway (one digit, a day-month swap) are no conflicts
    pairs, fields, _ = _pairs([("1980-01-02", "1980-02-01"), ("1980-01-02", "1980-01-03")] * 40)
    assert learn_date_typos(pairs, fields) == DateTypos(0, 0)


def test_a_drop_that_mistypes_dates_by_two_digits_joins_them_and_still_keeps_father_and_son_apart():
    typo_a = NameAndBirth("thomas", "thomas", "t", "sharpe", "1821-11-06")
    typo_b = NameAndBirth("thomas", "thomas", "t", "sharpe", "1827-11-08")
    son = NameAndBirth("thomas", "thomas", "t", "sharpe", "1851-04-17")
    learnt = RuleBook({}, dates=DateTypos(1012, 866))
    assert RuleBook().conflict(typo_a, typo_b) is not None
    assert learnt.conflict(typo_a, typo_b) is None
    assert learnt.conflict(typo_a, son)[0] == BIRTH_DATE
    assert RuleBook({}, dates=DateTypos(1123, 95)).conflict(typo_a, typo_b) is not None   # our generator at 1M


def test_what_the_drop_showed_of_its_dates_is_kept_with_the_run_and_told():
    book = RuleBook({}, dates=DateTypos(1012, 866))
    kept = rules_of_run(book)
    birth = next(r for r in kept if r["rule"] == BIRTH_DATE)
    assert birth["date_typos"] == {"conflicts": 1012, "two_digits": 866}
    assert birth["description"].endswith("866 of 1,012 conflicting dates of pairs with one name are two digits "
                                         "apart (85.6%): dates two digits apart are read as one person's typos")
    again = book_of_run({}, kept)
    assert again.date_typos and again.dates == book.dates
    held = rules_of_run(RuleBook({}, dates=DateTypos(1123, 95)))
    assert next(r for r in held if r["rule"] == BIRTH_DATE)["description"].endswith("are held apart")
    assert not book_of_run({}, held).date_typos
    assert book_of_run({}, []).dates is None                  # a run kept before dates were measured


def test_fit_rules_learns_the_dates_and_measures_the_birth_date_rule_at_one_email_address_without_postcodes():
    dates = TYPOS * 12 + [("1980-01-01", "1980-01-01")] * 10
    pairs, fields, records = _pairs(dates, place={"email": "t.sharpe@example.nl", "postcode": None})
    pairs[["postcode_l", "postcode_r"]] = None
    book = fit_rules(records, fields, pairs)
    assert book.date_typos
    measured = book.strictness[BIRTH_DATE]
    # the 36 two-digit pairs are compatible now; the ten equal ones were measured too, at one e-mail address
    assert (measured.pairs, measured.conflicts) == (46, 0)
    noisy, fields, records = _pairs([("1980-01-01", "1993-06-20")] * 20 + [("1980-01-01", "1980-01-01")] * 20,
                                    place={"email": "x@example.nl", "postcode": None})
    noisy[["postcode_l", "postcode_r"]] = None
    measured = fit_rules(records, fields, noisy).strictness[BIRTH_DATE]
    assert (measured.pairs, measured.conflicts) == (40, 20) and not measured.strict


def test_a_birth_date_rule_the_drop_shows_noisy_gives_way_to_a_sure_pair_with_its_names_swapped_on_one_side():
    from identity.rules import SURE, Strictness

    noisy = RuleBook({}, [Strictness(BIRTH_DATE, 133, 53)])    # fake_1000: 53 of 133 near-identical pairs conflict
    straight = NameAndBirth("lola", "lola", "l", "taylor", "2017-11-20")
    swapped = NameAndBirth("taylor", "taylor", "t", "lola", "2016-10-23")
    assert noisy.waived(SURE, swapped, straight) == {BIRTH_DATE}
    assert noisy.conflict(swapped, straight, noisy.waived(SURE, swapped, straight)) is None
    assert noisy.waived(0.95, swapped, straight) == frozenset()                     # the model is not sure
    other = NameAndBirth("lola", "lola", "l", "smit", "2017-11-20")
    assert noisy.waived(SURE, swapped, other) == frozenset()                        # another surname altogether
    # a swap is the same two names, not names alike: a patronymic surname is a first name's cousin
    willem = NameAndBirth("willem", "willem", "w", "hendriks", "1950-03-01")
    hendrik = NameAndBirth("hendrik", "hendrik", "h", "willems", "1985-07-12")
    assert noisy.waived(SURE, willem, hendrik) == frozenset()
    strict = RuleBook({}, [Strictness(BIRTH_DATE, 16177, 204)])                   # our generator: kin, not noise
    assert strict.waived(SURE, swapped, straight) == frozenset()


def test_a_soft_birth_date_rule_gives_way_to_a_sure_pair_where_one_side_has_no_first_name():
    from identity.rules import SURE, Strictness

    noisy = RuleBook({}, [Strictness(BIRTH_DATE, 2038, 974)])    # fake_20000: dates shifted by a month or a year
    named = NameAndBirth("grace", "grace", "g", "kelly", "1991-04-26")
    nameless = NameAndBirth(None, None, None, "kelly", "1997-04-26")
    assert noisy.waived(SURE, nameless, named) == {BIRTH_DATE}
    assert noisy.waived(SURE, nameless, NameAndBirth(None, None, None, "kelly", "1991-04-26")) == frozenset()
    assert noisy.waived(SURE, nameless, NameAndBirth("grace", "grace", "g", "smit", "1991-04-26")) == frozenset()
    assert RuleBook({}, [Strictness(BIRTH_DATE, 16177, 204)]).waived(SURE, nameless, named) == frozenset()
