"""Identifiers held by far more people than share one at home are read as missing, learnt from the drop."""

import pandas as pd

from identity.placeholder_values import (
    FULL_NAME, IDENTIFIER_COLUMNS, NAME_COLUMNS, describe_values, people_per_value, placeholder_names, placeholder_values,
    without_placeholder_values, without_placeholders_in_row,
)
from identity.rules import RuleBook
from identity.strictness import book_of_run, placeholder_values_of_run, rules_of_run

COLUMNS = ["unique_id", "given_first", "surname_core", "email", "email_local", "email_domain", "email_domain_head",
           "email_year", "mobile", "landline", "loyalty_card"]


def _row(uid, given, surname, email=None, card=None, mobile=None):
    local, _, domain = (email or "").partition("@")
    return [uid, given, surname, email, local or None, domain or None, domain.split(".")[0] if domain else None, None,
            mobile, None, card]


def _drop(default_holders: int) -> pd.DataFrame:
    """Families of two or three sharing a card and an e-mail address, strangers with their own, and a till's default
    card given to ``default_holders`` strangers."""
    rows = []
    for f in range(200):
        members = 3 if f % 4 == 0 else 2
        for m in range(members):
            rows.append(_row(f"f{f}m{m}", "abcdefgh"[m], f"fam{f:03d}", email=f"fam{f}@x.nl", card=f"C{f}"))
            rows.append(_row(f"f{f}m{m}b", "abcdefgh"[m], f"fam{f:03d}", card=f"C{f}", mobile=f"06{f:04d}{m}"))
    for s in range(default_holders):
        rows.append(_row(f"s{s}", "p", f"{chr(97 + s % 26)}{chr(97 + s // 26)}str", card="2600000000017"))
    return pd.DataFrame(rows, columns=COLUMNS)


def test_people_are_counted_by_initial_and_surname_start_by_first_name_alone_and_a_nameless_record_alone():
    frame = pd.DataFrame([_row("1", "jan", "jansen", card="C"), _row("2", "jan", "janssen", card="C"),
                          _row("3", "piet", "jansen", card="C"), _row("4", None, None, card="C"),
                          _row("5", None, None, card="C"), _row("6", "kees", None, card="C"),
                          _row("7", "kees", None, card="C"), _row("8", "karel", None, card="C")], columns=COLUMNS)
    assert people_per_value(frame, "loyalty_card").to_dict() == {"C": 6}


def test_one_persons_many_app_accounts_under_a_first_name_alone_keep_their_identifiers():
    frame = pd.DataFrame([_row(f"a{i}", "jan", None, email="jan@x.nl", card="C9", mobile="0612345678")
                          for i in range(12)] + _drop(0).values.tolist(), columns=COLUMNS)
    assert placeholder_values(frame) == {}


def test_a_column_the_records_or_this_herken_do_not_know_is_passed_over():
    frame = pd.DataFrame([_row("1", "jan", "a", card="C1")], columns=COLUMNS)
    assert without_placeholder_values(frame, {"fax": {"C1": 40}, "loyalty_card": {}}) is frame
    assert people_per_value(frame.drop(columns=["loyalty_card"]), "loyalty_card").empty


def test_a_default_card_is_a_placeholder_and_family_values_are_not():
    found = placeholder_values(_drop(40))
    assert found == {"loyalty_card": {"2600000000017": 40}}


def test_a_value_held_by_fewer_than_min_people_is_never_a_placeholder():
    assert placeholder_values(_drop(9)) == {}


def test_a_placeholder_is_read_as_missing_with_what_derives_from_it():
    frame = pd.DataFrame([_row("1", "jan", "a", email="geen@email.nl"), _row("2", "els", "b", email="els@x.nl")],
                         columns=COLUMNS)
    out = without_placeholder_values(frame, {"email": {"geen@email.nl": 50}})
    assert out.loc[0, list(IDENTIFIER_COLUMNS["email"])].isna().all()
    assert out.loc[1, "email"] == "els@x.nl" and out.loc[1, "email_local"] == "els"
    assert without_placeholder_values(frame, {}) is frame


def test_the_run_keeps_its_placeholders_and_says_them():
    book = RuleBook()
    book.placeholder_values = {"loyalty_card": {"2600000000017": 809}, "email": {"geen@email.nl": 632}}
    kept = rules_of_run(book)
    assert placeholder_values_of_run(kept) == book.placeholder_values
    assert book_of_run({}, kept).placeholder_values == book.placeholder_values
    assert describe_values(book.placeholder_values) == (
        "placeholder identifiers: 2 values held by more people than share one at home, read as missing: "
        "loyalty card: 2600000000017 (809 people); email: geen@email.nl (632 people)")
    assert placeholder_values_of_run(rules_of_run(RuleBook())) == {}


NAMED = ["unique_id", "given_first", "surname_core", "birth_date", *[c for c in NAME_COLUMNS
                                                                   if c not in ("given_first", "surname_core")]]


def _named(uid, given, surname, born):
    return [uid, given, surname, born, *([given] * 4), None, surname, surname]


def test_a_tills_name_for_strangers_is_a_placeholder_and_a_common_real_name_is_not():
    rows = [_named(f"k{i}", "klant", "onbekend", f"19{50 + i}-01-01") for i in range(12)]
    rows += [_named(f"j{i}", "jan", "jansen", f"19{50 + i}-02-02") for i in range(15)]       # fifteen real jan jansens
    rows += [_named(f"o{i}", "jan", f"other{i}", "1980-03-03") for i in range(20)]          # jan has other surnames
    rows += [_named(f"p{i}", "piet", "pietersen", "1970-04-04") for i in range(30)]         # one person, many records
    frame = pd.DataFrame(rows, columns=NAMED)
    assert placeholder_names(frame) == {"klant|onbekend": 12}
    out = without_placeholder_values(frame, {FULL_NAME: {"klant|onbekend": 12}})
    assert out.loc[out["unique_id"].str.startswith("k"), list(NAME_COLUMNS)].isna().all().all()
    assert (out.loc[out["unique_id"] == "j0", "given_first"] == "jan").all()
    assert describe_values({FULL_NAME: {"klant|onbekend": 12}}).endswith("full name: klant onbekend (12 people)")


def test_a_name_held_with_fewer_than_min_people_birth_dates_is_never_a_placeholder():
    frame = pd.DataFrame([_named(f"k{i}", "klant", "onbekend", f"19{50 + i % 9}-01-01") for i in range(40)],
                         columns=NAMED)
    assert placeholder_names(frame) == {}


def test_one_record_is_read_as_a_frame_of_it_is():
    values = {"loyalty_card": {"2600000000017": 40}, FULL_NAME: {"klant|onbekend": 12}}
    frame = pd.DataFrame([_named("k1", "klant", "onbekend", "1980-01-01")], columns=NAMED).assign(
        loyalty_card="2600000000017", email="a@b.nl")
    row = frame.iloc[0].to_dict()
    without_placeholders_in_row(row, values)
    def plain(record):
        return {k: None if pd.isna(v) else v for k, v in record.items()}
    assert plain(row) == plain(without_placeholder_values(frame, values).iloc[0].to_dict())
    assert row["loyalty_card"] is None and row["given_first"] is None and row["email"] == "a@b.nl"
