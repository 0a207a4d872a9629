"""Explanations on plain values: a scored pair as comparison weights, the path between two records of a
person, the sentence that says what decided, and records made ready to score as their run had them."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from identity.cluster import Refusal
from identity.explain import (
    CANNOT_LINK, LIKELY_MEMBER, MUST_LINK, HouseholdLink, Link, StewardNote, household_path, household_sentence,
    household_tree, household_tree_sentence, level_of, link_path, links_from, pair_score, prior_weight, record_verdict, rule_against, shared_apart, verdict,
)
from identity.household_caps import FIXED, HouseholdCaps
from identity.rules import BIRTH_DATE, FIRST_NAME, NAMES_ONLY, RULE_TITLES, STEWARD, NameAndBirth, RuleBook
from identity.scoring import (
    NEIGHBOUR_COLUMNS, restandardise, scoring_frame, term_frequencies, term_frequency_columns,
)

MODEL = {
    "probability_two_random_records_match": 0.001,
    "comparisons": [
        {"output_column_name": "given_name", "comparison_levels": [
            {"sql_condition": "given_first_l IS NULL", "label_for_charts": "missing", "is_null_level": True},
            {"sql_condition": "given_first_l = given_first_r", "label_for_charts": "exact",
             "tf_adjustment_column": "given_first"},
            {"sql_condition": "jaro(given_first_l, given_first_r) > 0.9", "label_for_charts": "alike"},
            {"sql_condition": "ELSE", "label_for_charts": "All other comparisons"},
        ]},
        {"output_column_name": "shoe", "comparison_levels": [
            {"sql_condition": "shoe_size_l IS NULL", "is_null_level": True},
            {"sql_condition": "shoe_size_l = shoe_size_r", "label_for_charts": "same size"},
            {"sql_condition": "ELSE", "label_for_charts": "All other comparisons"},
        ]},
    ],
}


def test_levels_are_numbered_as_splink_numbers_them():
    given = MODEL["comparisons"][0]
    assert [level_of(given, g)["label_for_charts"] for g in (-1, 2, 1, 0)] == [
        "missing", "exact", "alike", "All other comparisons"]
    with pytest.raises(ValueError):
        level_of(given, 3)


def test_the_prior_and_the_comparisons_add_up_to_the_match_weight():
    prior = prior_weight(MODEL)
    row = {"gamma_given_name": 2, "mw_given_name": 4.5, "mw_tf_adj_given_name": -0.75, "gamma_shoe": 0,
           "mw_shoe": -2.0, "given_first_l": "jan", "given_first_r": "jan", "shoe_size_l": "43",
           "shoe_size_r": "44", "found_by_blocking_rules": True}
    row["match_weight"] = prior + 4.5 - 0.75 - 2.0
    row["match_probability"] = 2 ** row["match_weight"] / (1 + 2 ** row["match_weight"])
    score = pair_score(row, MODEL)
    assert math.isclose(score.prior_weight, math.log2(0.001 / 0.999))
    assert abs(score.prior_weight + sum(c.match_weight for c in score.comparisons) - score.match_weight) < 1e-9
    given, shoe = score.comparisons
    assert (given.level, given.match_weight, given.term_frequency_weight) == ("exact", 3.75, -0.75)
    assert (given.value_a, given.value_b) == ("jan", "jan")
    # A comparison without a shown-columns entry shows the columns its conditions read.
    assert (shoe.comparison, shoe.level, shoe.value_a, shoe.value_b) == ("shoe", "All other comparisons", "43", "44")
    assert score.compared


def test_a_missing_value_is_the_null_level_with_no_weight():
    row = {"gamma_given_name": -1, "mw_given_name": 0.0, "mw_tf_adj_given_name": None, "gamma_shoe": -1,
           "mw_shoe": 0.0, "match_weight": prior_weight(MODEL), "match_probability": 0.001,
           "found_by_blocking_rules": False}
    score = pair_score(row, MODEL)
    # A level without a label is named by its condition.
    assert [(c.level, c.match_weight) for c in score.comparisons] == [("missing", 0.0), ("shoe_size_l IS NULL", 0.0)]
    assert not score.compared


def chain(*records: str, probability: float = 0.9) -> list[Link]:
    return [Link(a, b, probability) for a, b in zip(records, records[1:])]


def test_the_path_follows_the_links_from_one_record_to_the_other():
    links = chain("a", "b", "c") + [Link("b", "d", 0.7, "steward decision S1")]
    path = link_path(links, "d", "c")
    assert [(link.record_a, link.record_b) for link in path] == [("d", "b"), ("b", "c")]
    assert path[0].joined_by == "steward decision S1"
    assert link_path(links, "a", "a") == []
    assert link_path(links, "a", "z") is None


def test_links_from_a_record_reach_every_record_of_its_person_once():
    links = chain("a", "b", "c") + [Link("a", "d", 0.6)]
    tree = links_from(links, "b")
    assert [(link.record_a, link.record_b) for link in tree] == [("b", "a"), ("b", "c"), ("a", "d")]


@given(st.lists(st.integers(0, 10_000), min_size=1, max_size=30), st.data())
def test_in_any_spanning_tree_the_path_connects_the_two_records(parents, data):
    # Record i+1 joins a record before it: a tree, as the merges of one person are.
    links = [Link(f"r{p % (i + 1)}", f"r{i + 1}", 0.5 + (p % 50) / 100) for i, p in enumerate(parents)]
    records = [f"r{i}" for i in range(len(parents) + 1)]
    a, b = data.draw(st.sampled_from(records)), data.draw(st.sampled_from(records))
    path = link_path(links, a, b)
    assert path is not None
    stops = [a] + [link.record_b for link in path]
    assert stops[-1] == b and all(x.record_b == y.record_a for x, y in zip(path, path[1:]))
    pairs = {frozenset((link.record_a, link.record_b)) for link in links}
    assert all(frozenset((link.record_a, link.record_b)) in pairs for link in path)
    assert len(links_from(links, a)) == len(records) - 1


NOTE = StewardNote("S7", CANNOT_LINK, "twins, checked at the till", "ana", "2025-03-01 10:00:00")


def test_a_steward_decision_decides_first_and_is_named():
    found = verdict("pos:1", "app:2", False, 0.99, 0.5, steward=NOTE,
                    refusal=Refusal("pos:1", "app:2", 0.99, "separated by a data steward", STEWARD))
    assert (found.rule, found.steward_decision_id) == (STEWARD, "S7")
    assert found.decision.startswith("kept apart by steward decision S7 (cannot-link by ana on 2025-03-01: twins")
    must = StewardNote("S8", MUST_LINK, "same customer card", "bo", "2025-03-02 09:00:00")
    assert verdict("pos:1", "app:2", True, 0.2, 0.5, steward=must, path=chain("pos:1", "app:2")).decision \
        .startswith("joined by steward decision S8 (must-link by bo")
    late = verdict("pos:1", "app:2", False, 0.2, 0.5, steward=must)
    assert "predates it" in late.decision and late.rule == STEWARD


def test_a_refused_pair_names_its_rule():
    reason = f"{RULE_TITLES[BIRTH_DATE]} 1949-01-14 / 1981-09-21"
    found = verdict("pos:1", "pos:2", False, 0.9996, 0.5, refusal=Refusal("pos:2", "pos:1", 0.9996, reason, BIRTH_DATE))
    assert found.rule == BIRTH_DATE and reason in found.decision and not found.steward_decision_id
    # A refusal on another pair of the two persons names that pair; the rule comes from its reason.
    other = verdict("pos:1", "pos:2", False, 0.7, 0.5, refusal=Refusal("pos:9", "pos:2", 0.95, reason))
    assert other.rule == BIRTH_DATE and "pos:9 – pos:2" in other.decision
    # Below the threshold the pair's own score decided; the refusal elsewhere is told besides.
    low = verdict("pos:1", "pos:2", False, 0.3, 0.5, refusal=Refusal("pos:9", "pos:2", 0.95, reason))
    assert low.rule == "" and low.decision.startswith("two persons: match probability 0.3000 is below")
    assert "besides, joining their persons was refused on the pair pos:9 – pos:2" in low.decision


def test_two_persons_below_the_threshold_or_never_compared():
    assert "below the match threshold 0.5" in verdict("a:1", "b:2", False, 0.12, 0.5).decision
    assert "never compared" in verdict("a:1", "b:2", False, 0.001, 0.5, compared=False).decision
    # Above the threshold and not refused: unchanged records that were two persons before stay apart.
    kept = verdict("a:1", "b:2", False, 0.95, 0.5).decision
    assert kept.startswith("two persons: the run did not join them at match probability 0.9500")
    assert "only through a new or changed record" in kept


def test_one_person_names_its_links():
    direct = verdict("a:1", "b:2", True, 0.97, 0.5, path=[Link("a:1", "b:2", 0.97)])
    assert direct.decision == "one person: joined directly by the model at match probability 0.9700"
    through = verdict("a:1", "c:3", True, 0.2, 0.5,
                      path=[Link("a:1", "b:2", 0.97), Link("b:2", "c:3", 0.81, "steward decision S1")])
    assert "2 links" in through.decision and "0.8100" in through.decision and "steward decision S1" in through.decision


def test_a_record_alone_is_certain_and_one_of_several_names_its_best_link():
    assert record_verdict("a:1", "C1", 1.0, [], 1) == "a:1 is the only record of C1: confidence 1"
    text = record_verdict("a:1", "C1", 0.93, [Link("a:1", "b:2", 0.93), Link("b:2", "c:3", 0.99)], 3)
    assert "one of 3 records" in text and "0.9300" in text and "b:2" in text


def test_a_record_is_standardised_again_with_its_runs_completions():
    raw = {"source": "app", "record_id": "A1", "first_name": "Jose", "email": "jose.lelijveld@gmail.com",
           "street": "Dorpsstraat", "house_number": "12", "city": "Ede"}
    stored = {"std_surname": "lelijveld", "std_particles": None, "std_postcode": "6711AB"}
    record = restandardise(raw, stored)
    assert (record["unique_id"], record["given_first"], record["surname_core"]) == ("app:A1", "jose", "lelijveld")
    assert (record["postcode"], record["address_key"]) == ("6711AB", "6711AB|12|")
    plain = restandardise(raw, {})
    assert plain["surname_core"] is None and plain["postcode"] is None


def test_a_birth_date_its_run_read_as_a_placeholder_is_missing_again():
    raw = {"source": "pos", "record_id": "P1", "first_name": "Jan", "last_name": "Vries", "birth_date": "01-01-1900"}
    assert restandardise(raw, {"std_birth_date": None})["birth_date"] is None        # identity.placeholders
    assert restandardise(raw, {"std_birth_date": "1900-01-01"})["birth_date"] == "1900-01-01"
    assert restandardise(raw, {})["birth_date"] == "1900-01-01"                       # a run that kept nothing


def test_term_frequencies_are_shares_of_the_records_with_a_value():
    assert term_frequencies([("jan", 3), ("piet", 1), (None, 4)]) == {"jan": 0.75, "piet": 0.25}
    assert term_frequencies([("Den Haag", 1), ("den  haag", 1), ("Ede", 2)], str.lower) == {
        "den haag": 0.25, "den  haag": 0.25, "ede": 0.5}
    assert term_frequency_columns(MODEL) == ["given_first"]


def test_scoring_counts_the_names_behind_a_shared_card_among_all_records_that_use_it():
    a = restandardise({"source": "pos", "record_id": "1", "first_name": "Roy", "loyalty_card": "2600"}, {})
    b = restandardise({"source": "app", "record_id": "2", "loyalty_card": "2600"}, {})
    neighbours = pd.DataFrame([("pos:3", "judith", None, None, "2600"), ("pos:1", "roy", None, None, "2600")],
                              columns=list(NEIGHBOUR_COLUMNS))
    frame = scoring_frame([b, a], neighbours, {"given_first": {"roy": 0.01}})
    assert list(frame["unique_id"]) == ["app:2", "pos:1"]          # the order given
    assert list(frame["loyalty_card_names"]) == [2, 2]             # roy and judith use the card
    assert frame["tf_given_first"].iloc[1] == 0.01 and math.isnan(frame["tf_given_first"].iloc[0])
    alone = scoring_frame([b, a], neighbours.iloc[1:], {})
    assert list(alone["loyalty_card_names"]) == [1, 1]


def test_the_rules_are_asked_about_the_pair_itself():
    jan = NameAndBirth("jan", "jan", "j", "jansen", "1980-01-02")
    piet = NameAndBirth("piet", "piet", "p", "jansen", "1980-01-02")
    row = {"unique_id_l": "pos:1", "unique_id_r": "app:2", "match_probability": 0.97,
           "gamma_given_name": 0, "gamma_birth_date": 3, "gamma_email": 2}
    found = rule_against(row, jan, piet, RuleBook())
    assert (found.rule, found.unique_id_l, found.unique_id_r) == (FIRST_NAME, "pos:1", "app:2")
    assert found.reason == f"{RULE_TITLES[FIRST_NAME]} jan / piet"
    assert rule_against(row, jan, jan, RuleBook()) is None
    # Only the names agree, below NAMES_ONLY_THRESHOLD: the names-only rule.
    names = {**row, "match_probability": 0.7, "gamma_given_name": 4, "gamma_surname": 4, "gamma_birth_date": 0,
             "gamma_email": -1}
    assert rule_against(names, jan, jan, RuleBook()).rule == NAMES_ONLY


# --- households ---

EVIDENCE = [("loyalty_card", "C1", "jan"), ("loyalty_card", "C1", "anna"), ("address", "1011AA|1|", "anna"),
            ("address", "1011AA|1|", "piet"), ("email", "fam@x.nl", "jan"), ("email", "fam@x.nl", "piet")]


def test_the_household_path_is_the_fewest_shared_values_from_one_person_to_the_other():
    assert household_path(EVIDENCE, [], "jan", "piet") == [HouseholdLink("jan", "piet", "email", "fam@x.nl")]
    assert household_path(EVIDENCE, [], "anna", "jan") == [HouseholdLink("anna", "jan", "loyalty_card", "C1")]
    assert household_path(EVIDENCE[:4], [], "jan", "piet") == [
        HouseholdLink("jan", "anna", "loyalty_card", "C1"), HouseholdLink("anna", "piet", "address", "1011AA|1|")]


def test_a_household_tree_reaches_every_linked_member_from_the_first_by_the_fewest_links():
    likely = [HouseholdLink("kim", "anna", LIKELY_MEMBER, "", 0.91)]
    links, unlinked = household_tree(EVIDENCE[:4], likely, ["anna", "jan", "kim", "piet", "zoe"])
    assert links == [HouseholdLink("anna", "jan", "loyalty_card", "C1"), HouseholdLink("anna", "piet", "address",
                                                                                    "1011AA|1|"),
                     HouseholdLink("anna", "kim", LIKELY_MEMBER, "", 0.91)]
    assert unlinked == ["zoe"]
    said = household_tree_sentence("H1", ["anna", "jan", "kim", "piet", "zoe"], links, unlinked)
    assert said == ("one household (H1) of 5 persons: 3 reached from anna through links, 1 by a shared address, 1 by "
                    "the model's score (no address, card or landline of their own), 1 by a shared loyalty card; 1 not "
                    "linked in the records as they are now (zoe): the run joined them on values changed since")
    # only the household's own persons are followed: a value they share with someone outside does not link them
    assert household_tree(EVIDENCE, [], ["jan", "piet"]) == ([HouseholdLink("jan", "piet", "email", "fam@x.nl")], [])
    assert household_tree(EVIDENCE[:4], [], ["jan", "piet"]) == ([], ["piet"])
    assert household_tree(EVIDENCE, [], ["jan"]) == ([], [])
    assert household_tree_sentence("H2", ["jan"], [], []) == "one household (H2) of one person"


def test_a_person_without_shared_values_is_reached_by_the_models_link_and_nobody_by_nothing():
    likely = [HouseholdLink("kim", "anna", LIKELY_MEMBER, "", 0.91)]
    assert household_path(EVIDENCE, [], "kim", "jan") is None
    assert household_path(EVIDENCE, likely, "jan", "kim") == [
        HouseholdLink("jan", "anna", "loyalty_card", "C1"), HouseholdLink("anna", "kim", LIKELY_MEMBER, "", 0.91)]


def test_the_household_sentence_names_each_link_and_the_members_between():
    path = household_path(EVIDENCE[:4], [HouseholdLink("kim", "piet", LIKELY_MEMBER, "", 0.91)], "jan", "kim")
    said = household_sentence(True, path, "H1", "H1")
    assert said.startswith("one household (H1), through 2 other members: jan and anna use the loyalty card C1")
    assert said.endswith("piet and kim may be one person (one of them has no address, card or landline): "
                         "the model scores them at 0.910")
    assert household_sentence(False, None, "H1", "H2").startswith("two households (H1, H2)")
    assert household_sentence(True, [], "H1", "H1") == "one person, so one household (H1)"


def _home(uid, person, when, address=None, card=None, email=None):
    postcode = address.split("|")[0] if address else None
    return {"unique_id": uid, "person": person, "updated_at": when, "address_key": address, "postcode": postcode,
            "loyalty_card": card, "landline": None, "email": email, "mobile": None}


def test_two_households_name_what_their_persons_share_and_why_it_does_not_join_them():
    records = pd.DataFrame([
        _home("a1", "jan", "2022-01-01", "1011AA|1|", card="C1"),
        _home("a2", "jan", "2024-06-01", "3033CC|5|", email="fam@x.nl"),
        _home("b1", "els", "2023-01-01", "1011AA|1|", card="C1", email="fam@x.nl"),
    ])
    now = {"jan": "3033CC|5|", "els": "1011AA|1|"}      # as identity.households.current_addresses gives them
    notes = shared_apart(records, "jan", "els", now, {("email", "fam@x.nl"): 9, ("loyalty_card", "C1"): 2}, FIXED)
    assert notes == [
        "the address 1011AA|1|, from an earlier address of jan (now at 3033CC|5|)",
        "the loyalty card C1, from a record at an earlier address of jan (now at 3033CC|5|)",
        "the e-mail address fam@x.nl, which 9 persons use: more than 8, the most the drop's households make likely, "
        "so it says nothing",
    ]
    said = household_sentence(False, None, "H1", "H2", notes)
    assert said.startswith("two households (H1, H2); their persons share the address 1011AA|1|, from an earlier")
    assert shared_apart(records[records["person"] == "jan"], "jan", "els", now, {}, FIXED) == []


def test_a_value_is_said_to_say_nothing_beyond_the_cap_the_run_measured_for_its_kind():
    records = pd.DataFrame([_home("a1", "jan", "2022-01-01", "1011AA|1|", email="fam@x.nl"),
                            _home("b1", "els", "2023-01-01", "1011AA|1|", email="fam@x.nl")])
    now = {"jan": "1011AA|1|", "els": "1011AA|1|"}
    caps = HouseholdCaps({"email": 12, "address": 3}, {"email": 900, "address": 4000}, {"email": 30, "address": 300})
    notes = shared_apart(records, "jan", "els", now, {("email", "fam@x.nl"): 9, ("address_key", "1011AA|1|"): 4}, caps)
    assert notes == ["the address 1011AA|1|, which 4 persons use: more than 3, the most the drop's households make "
                     "likely, so it says nothing", "the e-mail address fam@x.nl"]


def test_identifiers_and_a_name_its_run_read_as_placeholders_are_missing_again():
    raw = {"source": "pos", "record_id": "P1", "first_name": "Klant", "last_name": "Onbekend",
           "email": "geen@email.nl", "loyalty_card": "2600000000017", "phone": "0612345678"}
    record = restandardise(raw, {"std_given": None, "std_surname": None, "std_email": None, "std_loyalty_card": None,
                                 "std_phone": None})
    assert all(record[c] is None for c in ("given_first", "surname_core", "initial", "email", "email_local",
                                          "loyalty_card", "mobile"))
    kept = restandardise(raw, {"std_given": "klant", "std_surname": "onbekend", "std_email": "geen@email.nl",
                               "std_loyalty_card": "2600000000017", "std_phone": "+31612345678"})
    assert (kept["given_first"], kept["surname_core"], kept["email"]) == ("klant", "onbekend", "geen@email.nl")
    # a store whose surname is kept while its first name is not says nothing of a placeholder name
    assert restandardise(raw, {"std_given": None, "std_surname": "onbekend"})["given_first"] == "klant"


def test_a_steward_decision_on_other_records_of_the_two_persons_says_which():
    across = StewardNote("S9", CANNOT_LINK, "two brothers", "ana", "2025-03-01 10:00:00", ("pos:1", "app:3"))
    found = verdict("pos:2", "app:3", False, 0.2, 0.5, steward=across)
    assert found.steward_decision_id == "S9" and found.rule == STEWARD
    assert found.decision.endswith("between pos:1 and app:3 of their persons")
