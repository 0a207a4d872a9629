"""bench/misses.py: the true pairs a run left apart by why, the false pairs by household, and calibration."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.misses import (  # noqa: E402
    ABOVE, BELOW, NOT_SCORED, _both_ways, calibration, capped_name_blocks, false_pairs, false_pairs_by_merge,
    household_evidence_ceiling, left_apart_by_pattern, missed_pairs, never_scored_sharing,
)


def test_missed_pairs_count_each_split_person_by_why_its_pieces_stayed_apart():
    truth = {"a1": "A", "a2": "A", "a3": "A", "b1": "B", "b2": "B", "c1": "C", "c2": "C", "d1": "D", "d2": "D"}
    labels = {"a1": "x", "a2": "x", "a3": "y", "b1": "b1", "b2": "b2", "c1": "c1", "c2": "c2", "d1": "d1", "d2": "d2"}
    probability = _both_ways([("a1", "a3", 0.97), ("b1", "b2", 0.3), ("d1", "d2", 0.9)])
    refused = _both_ways([("a1", "a3", "first_name")])
    counted = missed_pairs(labels, truth, probability, refused)
    assert counted == {"first_name": 2, BELOW: 1, NOT_SCORED: 1, ABOVE: 1}


def test_false_pairs_tell_a_household_from_strangers():
    truth = {"1": "P1", "2": "P2", "3": "P3", "4": "P3"}
    household = {"1": "H1", "2": "H1", "3": "H2", "4": "H2"}
    labels = {"1": "x", "2": "x", "3": "x", "4": "y"}
    assert false_pairs(labels, truth, household) == {"same household": 1, "other household": 2}


def test_calibration_sets_a_patterns_probability_beside_the_share_that_is_one_person():
    pairs = pd.DataFrame({"unique_id_l": ["a", "b", "c", "d"], "unique_id_r": ["a2", "b2", "c2", "d2"],
                          "match_probability": [0.5, 0.5, 0.5, 0.5], "gamma_address": [6, 6, 6, 6],
                          "gamma_surname": [5, 5, 5, 5]})
    truth = {"a": "1", "a2": "1", "b": "2", "b2": "2", "c": "3", "c2": "3", "d": "4", "d2": "5"}
    [row] = calibration(pairs, truth, min_pairs=2)
    assert row == {"levels": "address,surname = 6,5", "pairs": 4, "probability": 0.5, "one_person": 0.75,
                   "gap_pairs": 1.0}


def test_true_pairs_left_apart_are_counted_per_pattern_beside_how_often_it_is_one_person():
    pairs = pd.DataFrame({"unique_id_l": ["a", "b", "c", "d", "e"], "unique_id_r": ["a2", "b2", "c2", "d2", "e2"],
                          "match_probability": [0.9, 0.9, 0.9, 0.9, 0.99], "gamma_given_name": [0, 0, 0, 0, 5],
                          "gamma_email": [2, 2, 2, 2, 2]})
    truth = {"a": "1", "a2": "1", "b": "2", "b2": "2", "c": "3", "c2": "3", "d": "4", "d2": "5", "e": "6", "e2": "6"}
    labels = {"a": "x", "a2": "x", "b": "b", "b2": "b2", "c": "c", "c2": "c2", "d": "d", "d2": "d2", "e": "e", "e2": "e"}
    assert left_apart_by_pattern(pairs, truth, labels) == [
        {"levels": "given_name,email = 0,2", "left_apart": 2, "pairs": 4, "one_person": 0.75, "joined": 0.25}]


def test_never_scored_pieces_are_told_by_what_their_closest_records_share():
    records = pd.DataFrame({"unique_id": ["a1", "a2", "a3", "b1", "b2"],
                            "given_canonical": ["jan", "jan", "jan", "els", None],
                            "surname_core": ["bos", "bos", "bos", "vos", "mol"],
                            "city": ["gouda", None, "delft", None, None]})
    truth = {"a1": "A", "a2": "A", "a3": "A", "b1": "B", "b2": "B"}
    labels = {"a1": "x", "a2": "y", "a3": "z", "b1": "b1", "b2": "b2"}
    # x-y never scored (full name), x-z scored, y-z never scored (full name), b1-b2 never scored (nothing)
    shared = never_scored_sharing(records, labels, truth, {("a3", "a1")})
    assert shared == {"given_canonical surname_core": 2, "(nothing)": 1}


def test_false_pairs_are_laid_at_the_merge_that_made_them():
    truth = {"a1": "A", "a2": "A", "b1": "B", "c1": "C"}
    pattern = {("a1", "a2"): "5,5,3", ("a2", "b1"): "5,5,-1", ("c1", "b1"): "0,5,-1"}
    merges = [("a1", "a2", 0.99), ("a2", "b1", 0.64), ("b1", "c1", 0.55), ("a1", "b1", 0.5)]
    rows = false_pairs_by_merge(merges, truth, pattern)
    assert rows[0] == {"levels": "0,5,-1", "probability_from": 0.5, "merges": 1, "false_pairs": 3, "true_pairs": 0}
    assert {"levels": "5,5,-1", "probability_from": 0.6, "merges": 1, "false_pairs": 2, "true_pairs": 0} in rows
    assert {"levels": "5,5,3", "probability_from": 0.9, "merges": 1, "false_pairs": 0, "true_pairs": 1} in rows


def test_household_misses_tell_a_split_person_an_orphan_and_an_address_apart():
    from bench.misses import (NO_ADDRESS, ORPHAN_CONTACT, ORPHAN_NOTHING, ORPHAN_SURNAME, OTHER_ADDRESS,
                              PERSON_SPLIT, SAME_ADDRESS, household_misses)

    def v(address=None, email=None, mobile=None, surnames=()):
        return {"address_key": address, "email": email, "mobile": mobile, "surnames": set(surnames)}

    # true households: H1 = a1, a2 (one person split), H2 = b (anchored) + o (orphan, shares a surname),
    # H3 = c + d at other addresses, H4 = e + f at one address, H5 = g (a card only) + h, H6 = i + j (orphan
    # sharing an e-mail), H7 = k + l (orphan, nothing in common)
    records = {"a1": ("P1", "H1", "x1", "p1", v("A")), "a2": ("P1", "H1", "x2", "p2", v()),
               "b": ("P2", "H2", "x3", "p3", v("B", surnames={"bos"})), "o": ("P3", "H2", "x4", "p4", v(surnames={"bos"})),
               "c": ("P4", "H3", "x5", "p5", v("C")), "d": ("P5", "H3", "x6", "p6", v("D")),
               "e": ("P6", "H4", "x7", "p7", v("E")), "f": ("P7", "H4", "x8", "p8", v("E")),
               "g": ("P8", "H5", "x9", "p9", v()), "h": ("P9", "H5", "x10", "p10", v("G")),
               "i": ("P10", "H6", "x11", "p11", v("I")), "j": ("P11", "H6", "x12", "p12", v(email="fam@x.nl")),
               "k": ("P12", "H7", "x13", "p13", v("K")), "l": ("P13", "H7", "x14", "p14", v())}
    records["i"][4]["email"] = "fam@x.nl"
    truth = {u: r[0] for u, r in records.items()}
    truth_household = {u: r[1] for u, r in records.items()}
    household = {u: r[2] for u, r in records.items()}
    person = {u: r[3] for u, r in records.items()}
    values = {u: r[4] for u, r in records.items()}
    anchored = {"p1", "p2", "p3", "p5", "p6", "p7", "p8", "p9", "p10", "p11", "p13"}   # p4, p12, p14: no address, card, landline
    counted = household_misses(household, truth_household, truth, person, anchored, values)
    assert counted == {PERSON_SPLIT: 1, ORPHAN_SURNAME: 1, OTHER_ADDRESS: 1, SAME_ADDRESS: 1, NO_ADDRESS: 1,
                       ORPHAN_CONTACT: 1, ORPHAN_NOTHING: 1}


def test_false_household_pairs_tell_a_merged_person_from_an_address_in_common():
    from bench.misses import SAME_ADDRESS, false_household_pairs

    truth_household = {"1": "H1", "2": "H2", "3": "H3", "4": "H4", "5": "H4"}
    household = {u: "X" for u in truth_household}
    person = {"1": "p", "2": "p", "3": "q", "4": "r", "5": "s"}
    values = {"1": {"address_key": "A"}, "2": {"address_key": None}, "3": {"address_key": "A"},
              "4": {"address_key": "B"}, "5": {"address_key": None}}
    # H1-H2: one person across them (1); H1-H3: address A (1); H1-H4, H2-H3, H2-H4, H3-H4: neither (2+1+2+2)
    assert false_household_pairs(household, truth_household, person, values) == {
        "a person merged across them": 1, SAME_ADDRESS: 1, "no address in common": 7}


def test_capped_name_blocks_tell_pairs_the_cap_kept_out_from_candidates_scored_too_low():
    def record(uid, person, given, surname, city=None, birth=None):
        return {"unique_id": uid, "person": person, "given_canonical": given, "surname_core": surname,
                "initial": given[0] if given else None, "city": city, "birth_date": birth}
    records = pd.DataFrame([
        record("a1", "x", "anna", "visser"), record("a2", "y", "anna", "visser"),    # one person, a block of 3
        record("s1", "s", "anna", "visser"),                                          # a namesake in that block
        record("b1", "b1", "bram", "smit"), record("b2", "b2", "bert", "smit"),       # surname + initial, scored
        record("c1", "c", "cor", "bos"), record("c2", "c", "cor", "bos"),             # joined: not missed
        record("d1", "d1", "dirk", "mol", "ede"), record("d2", "d2", "dirk", "mol", "ede"),  # blocks of 2
        # a block of 3 on the full name, but paired by birth date + city: a candidate, not kept out
        record("e1", "e1", "eva", "dam", "epe", "1990-01-01"), record("e2", "e2", "eva", "dam", "epe", "1990-01-01"),
        record("e3", "e3", "eva", "dam", "epe"),
    ])
    truth = {"a1": "A", "a2": "A", "s1": "S", "b1": "B", "b2": "B", "c1": "C", "c2": "C", "d1": "D", "d2": "D",
             "e1": "E", "e2": "E", "e3": "E3"}
    rules = ['(l."given_canonical" = r."given_canonical") AND (l."surname_core" = r."surname_core")',
             '(l."surname_core" = r."surname_core") AND (l."initial" = r."initial")',
             '(l."birth_date" = r."birth_date") AND (l."city" = r."city")']
    counted = capped_name_blocks(records, truth, {("b2", "b1")},
                                 lambda l, r: 0.9 if l["given_canonical"] == "anna" else 0.1, rules, cap=2)
    assert counted == {"given_canonical+surname_core, kept out by the cap, scores at the threshold or more": 1,
                       "given_canonical+surname_core, a candidate, scores under it": 2}


def test_the_household_evidence_ceiling_follows_shared_values_within_a_true_household_only():
    def record(uid, address=None, email=None):
        return {"unique_id": uid, "address_key": address, "loyalty_card": None, "landline": None, "email": email,
                "mobile": None}
    records = pd.DataFrame([record("r1", "1234AB|5", "fam@x.nl"), record("r2", "1234AB|5"), record("r3", None, "fam@x.nl"),
                            record("r4"), record("r5", "1234AB|5")])
    truth = {"r1": "P1", "r2": "P1", "r3": "P2", "r4": "P3", "r5": "P9"}
    household = {"r1": "H1", "r2": "H1", "r3": "H1", "r4": "H1", "r5": "H2"}   # r5: a neighbour at the same address
    ceiling = household_evidence_ceiling(records, truth, household)
    assert ceiling == {"precision": 1.0, "recall": 0.5, "f1": 0.6667}   # r1 r2 r3 joined: 3 of H1's 6 pairs
