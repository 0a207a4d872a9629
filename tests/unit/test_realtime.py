"""Resolving one record (identity.realtime): blocking look-ups, standardising among the store's records,
and the decision best-first clustering would make for it."""

from __future__ import annotations

import pytest

from identity.pipeline import _standardise_span
from identity.realtime import (
    POS, BlockingRule, Candidate, RecordIndex, decide, parse_blocking_rule, rulebook_of_run,
)
from identity.rules import STRICT, Strictness
from identity.compiled_model import ModelScorer


def _level(sql: str, m: float, u: float, **more: object) -> dict:
    return {"sql_condition": sql, "m_probability": m, "u_probability": u, **more}


def _null(column: str) -> dict:
    return {"sql_condition": f"{column}_l IS NULL OR {column}_r IS NULL", "is_null_level": True}


def _exact(name: str, column: str, m: float, u: float) -> dict:
    return {"output_column_name": name, "comparison_levels": [
        _null(column), _level(f"{column}_l = {column}_r", m, u), _level("ELSE", 1 - m, 1 - u)]}


MODEL = {
    "link_type": "dedupe_only", "unique_id_column_name": "unique_id",
    "probability_two_random_records_match": 0.001,
    "comparisons": [
        _exact("given_name", "given_first", 0.9, 0.01),
        _exact("surname", "surname_core", 0.9, 0.01),
        _exact("birth_date", "birth_date", 0.9, 0.0001),
        _exact("email", "email", 0.8, 0.00001),
    ],
    "blocking_rules_to_generate_predictions": [],
}
SCORER = ModelScorer(MODEL, list(POS))
RULES = ["l.email = r.email", "l.surname_core = r.surname_core AND l.birth_date = r.birth_date",
         "l.given_first = r.surname_core AND l.surname_core = r.given_first"]


def _raw(record_id: str, first: str | None, last: str | None, birth: str | None = None, email: str | None = None,
         source: str = "pos", **more: str) -> dict:
    return {"source": source, "record_id": record_id, "first_name": first, "last_name": last, "birth_date": birth,
            "email": email, **more}


def _index(*raws: dict) -> RecordIndex:
    columns = {name: [r.get(name) for r in raws] for name in
               ("source", "record_id", "first_name", "last_name", "birth_date", "email", "phone", "street",
                "house_number", "postcode", "city", "loyalty_card", "updated_at")}
    frame = _standardise_span(0, len(raws), columns)
    return RecordIndex.from_standardised(frame, {}, [parse_blocking_rule(r) for r in RULES])


STORE = _index(
    _raw("1", "Jan", "Jansen", "1980-01-12", "jan@example.org"),
    _raw("2", "Jan", "Jansen", "1980-01-12"),
    _raw("3", "Piet", "Jansen", "1975-05-05", "jan@example.org"),   # the family address
    _raw("4", "Jansen", "Kees", "1990-02-02"),                     # names swapped
)


def test_blocking_rules_are_read_as_equalities_of_the_two_sides():
    assert parse_blocking_rule('(l."email" = r."email") AND (l.x = r.y)') == BlockingRule(
        '(l."email" = r."email") AND (l.x = r.y)', (("email", "email"), ("x", "y")))
    with pytest.raises(ValueError, match="only equalities"):
        parse_blocking_rule("levenshtein(l.a, r.a) < 2")


def test_candidates_are_what_the_blocking_rules_pair_with_in_either_direction():
    new = STORE.standardise(_raw("9", "Kees", "Jansen", "1990-02-02"))
    assert STORE.candidates(new) == ["pos:4"]                       # swapped names, one rule, both ways
    same_email = STORE.standardise(_raw("9", "J.", "Jansen", None, "jan@example.org"))
    assert STORE.candidates(same_email) == ["pos:1", "pos:3"]


def test_a_new_record_counts_itself_among_the_names_using_an_email():
    alone = STORE.standardise(_raw("9", "Anna", "Bos", None, "anna@example.org"))
    shared = STORE.standardise(_raw("9", "Sophie", "Jansen", None, "jan@example.org"))
    assert alone[POS["email_names"]] == 1
    assert shared[POS["email_names"]] == 3                          # jan, piet and sophie


def test_a_surname_is_read_from_the_email_when_the_store_knows_it():
    record = STORE.standardise(_raw("9", "Kees", None, None, "kees.jansen@example.org"))
    assert record[POS["surname_core"]] == "jansen"


def _candidates(record: tuple, *uids: str) -> tuple[list[Candidate], dict[str, list[tuple]]]:
    persons = {"pos:1": "C1", "pos:2": "C1", "pos:3": "C3", "pos:4": "C4"}
    candidates = [Candidate(uid, persons[uid], STORE.record(uid)) for uid in uids]
    members: dict[str, list[tuple]] = {}
    for uid, person in persons.items():
        members.setdefault(person, []).append(STORE.record(uid))
    return candidates, {p: members[p] for p in {c.customer_id for c in candidates}}


def test_the_best_person_at_the_threshold_is_joined_and_the_candidates_come_best_first():
    new = STORE.standardise(_raw("9", "Jan", "Jansen", "1980-01-12", "jan@example.org"))
    candidates, members = _candidates(new, "pos:1", "pos:2", "pos:3")
    decision = decide(new, candidates, members, SCORER, STRICT, 0.5)
    assert decision.customer_id == "C1"
    assert [p.customer_id for p in decision.candidates] == ["C1", "C3"]
    assert decision.probability == decision.candidates[0].probability > 0.99


def test_a_person_with_a_record_the_rules_rule_out_is_not_joined():
    # Piet shares the e-mail, but a different first name and birth date keep the new Jan out.
    new = STORE.standardise(_raw("9", "Jan", None, "1980-01-12", "jan@example.org"))
    candidates, members = _candidates(new, "pos:3")
    decision = decide(new, candidates, members, SCORER, STRICT, 0.01)
    assert decision.customer_id is None
    assert decision.candidates[0].refused.startswith("different birth dates")


def test_steward_decisions_come_before_the_model():
    new = STORE.standardise(_raw("9", "Jan", "Jansen", "1980-01-12", "jan@example.org"))
    candidates, members = _candidates(new, "pos:1", "pos:2")
    kept_apart = decide(new, candidates, members, SCORER, STRICT, 0.5, cannot_link={"pos:2"})
    assert kept_apart.customer_id is None and kept_apart.candidates[0].refused == "separated by a data steward"
    members["C4"] = [STORE.record("pos:4")]
    joined = decide(new, candidates, members, SCORER, STRICT, 0.5, must_link={"pos:4"})
    assert (joined.customer_id, joined.steward, joined.probability) == ("C4", True, 1.0)


def test_a_pair_on_which_only_the_names_agree_needs_the_names_only_threshold():
    weaker_names = ModelScorer({**MODEL, "comparisons": [_exact("given_name", "given_first", 0.8, 0.02),
                                                         _exact("surname", "surname_core", 0.8, 0.02),
                                                         *MODEL["comparisons"][2:]]}, list(POS))
    new = STORE.standardise(_raw("9", "Jan", "Jansen"))
    candidates, members = _candidates(new, "pos:2")
    decision = decide(new, candidates, members, weaker_names, STRICT, 0.5)
    assert 0.5 <= decision.candidates[0].probability < 0.8
    assert decision.customer_id is None and decision.candidates[0].refused == "only the names agree"


def test_the_rules_of_a_run_come_back_from_what_the_run_kept():
    kept = [{"rule": "first_name", "pairs": 100, "conflicts": 40, "strict": False, "description": "..."},
            {"rule": "names_only", "description": "..."}]
    book = rulebook_of_run(kept, {"jan": 3})
    assert book.strictness == {"first_name": Strictness("first_name", 100, 40)} and book.soft("first_name")
    assert rulebook_of_run(None, {}).strictness == {}


def test_a_mobile_number_under_several_first_names_is_shared_in_real_time_as_in_the_batch():
    import pandas as pd

    from identity.pipeline import rule_fields_of
    from identity.realtime import rule_fields

    index = _index(_raw("m1", "Anna", "Smit", phone="06-11111111"), _raw("m2", "Bert", "Smit", phone="06-11111111"),
                   _raw("m3", "Carla", "Smit", phone="06-22222222"))
    live = {r[POS["unique_id"]]: rule_fields(r) for r in index.records}
    batch = rule_fields_of(pd.DataFrame({
        "unique_id": ["m1", "m2", "m3"], "given_first": ["anna", "bert", "carla"], "given": ["anna", "bert", "carla"],
        "initials": ["a", "b", "c"], "surname_core": ["smit"] * 3, "birth_date": [None] * 3,
        "mobile": ["+31611111111", "+31611111111", "+31622222222"], "mobile_names": [2, 2, 1]}))
    assert [batch[u].mobile_shared for u in ("m1", "m2", "m3")] == [True, True, False]
    assert [f.mobile_shared for _, f in sorted(live.items())] == [True, True, False]


def test_a_names_only_pair_joins_from_the_threshold_when_that_person_alone_holds_the_full_name():
    weaker_names = ModelScorer({**MODEL, "comparisons": [_exact("given_name", "given_first", 0.8, 0.02),
                                                         _exact("surname", "surname_core", 0.8, 0.02),
                                                         *MODEL["comparisons"][2:]]}, list(POS))
    new = STORE.standardise(_raw("9", "Jan", "Jansen"))
    assert STORE.full_name_holders(new) == 2                          # records 1 and 2, both of C1
    candidates, members = _candidates(new, "pos:2")
    members = {"C1": [STORE.record("pos:1"), STORE.record("pos:2")]}
    joined = decide(new, candidates, members, weaker_names, STRICT, 0.5, full_name_holders=2)
    assert joined.customer_id == "C1" and 0.5 <= joined.probability < 0.8
    # a third holder elsewhere in the store (not among the candidate's records): the names-only rule holds
    apart = decide(new, candidates, members, weaker_names, STRICT, 0.5, full_name_holders=3)
    assert apart.customer_id is None and apart.candidates[0].refused == "only the names agree"
    assert decide(new, candidates, members, weaker_names, STRICT, 0.5).customer_id is None   # not known: as before


def test_the_index_counts_full_names_as_records_come_and_change():
    index = _index(_raw("1", "Jan", "Jansen"), _raw("2", "Jan", "Jansen"), _raw("3", "Piet", "Jansen"))
    probe = index.standardise(_raw("9", "Jan", "Jansen"))
    assert index.full_name_holders(probe) == 2
    index.add(index.standardise(_raw("9", "Jan", "Jansen")), 1)        # the record itself, now stored
    assert index.full_name_holders(index.standardise(_raw("9", "Jan", "Jansen"))) == 2   # itself left out
    assert index.full_name_holders(index.standardise(_raw("8", "Jan", "Jansen"))) == 3
    index.add(index.standardise(_raw("2", "Joop", "Jansen")), 2)       # record 2 renamed: records 1 and 9 hold it
    assert index.full_name_holders(index.standardise(_raw("8", "Jan", "Jansen"))) == 2


def test_a_conflict_the_person_holds_already_does_not_keep_a_record_out_in_real_time():
    # Person C1 holds 'jan' and, by a steward's word, 'heenk': a new 'jan' conflicts with 'heenk', but the
    # person holds that conflict already (as best-first clustering in the batch decides); a new 'kees' does not.
    heenk = STORE.standardise(_raw("5", "Heenk", "Jansen", "1980-01-12"))
    candidates, members = _candidates(None, "pos:1")
    members = {"C1": [*members["C1"], heenk]}
    jan = STORE.standardise(_raw("9", "Jan", "Jansen", "1980-01-12", "jan@example.org"))
    assert decide(jan, candidates, members, SCORER, STRICT, 0.5).customer_id == "C1"
    kees = STORE.standardise(_raw("9", "Kees", "Jansen", "1980-01-12", "jan@example.org"))
    assert decide(kees, candidates, members, SCORER, STRICT, 0.01).customer_id is None


def test_a_record_that_joins_two_parts_of_one_person_answers_the_id_a_merge_keeps():
    # pos:1 and pos:2 are one Jan Jansen the run left as two persons; a new record fits both (the batch would
    # merge them through it): the answer is the ID that survives the merge, the one first seen.
    new = STORE.standardise(_raw("9", "Jan", "Jansen", "1980-01-12", "jan@example.org"))
    candidates = [Candidate("pos:1", "CA", STORE.record("pos:1")), Candidate("pos:2", "CB", STORE.record("pos:2"))]
    members = {"CA": [STORE.record("pos:1")], "CB": [STORE.record("pos:2")]}
    plain = decide(new, candidates, members, SCORER, STRICT, 0.5)
    assert plain.customer_id == "CA" and plain.bridged == ["CB"]          # same first-seen: the smaller ID
    earlier = decide(new, candidates, members, SCORER, STRICT, 0.5,
                     first_seen={"CA": "2026-12-02T10:00:00", "CB": "2026-12-01T10:00:00"})
    assert earlier.customer_id == "CB" and earlier.bridged == ["CA"]
    # a person the rules keep apart from the one joined is not bridged: Piet shares the e-mail only
    piet = [Candidate("pos:1", "CA", STORE.record("pos:1")), Candidate("pos:3", "C3", STORE.record("pos:3"))]
    apart = decide(new, piet, {"CA": [STORE.record("pos:1")], "C3": [STORE.record("pos:3")]}, SCORER, STRICT, 0.01)
    assert apart.customer_id == "CA" and apart.bridged == []


def test_a_record_does_not_bridge_its_person_to_a_person_without_first_names_on_nothing_personal():
    # The batch left a nameless 'Kirpenstein' at Johan's address apart from him (a nameless record fits every
    # member of its household); a new 'J. Kirpenstein' there joins Johan and answers his ID, though the nameless
    # person was seen first.
    scorer = ModelScorer({**MODEL, "comparisons": [*MODEL["comparisons"], _exact("address", "postcode", 0.9, 0.0001)]},
                         list(POS))
    at_home = {"postcode": "1011AB", "house_number": "1"}
    store = _index(_raw("1", "Johan", "Kirpenstein", None, "johan@example.org", **at_home),
                   _raw("2", None, "Kirpenstein", "1981-03-03", **at_home))
    new = store.standardise(_raw("9", "J", "Kirpenstein", None, "johan@example.org", **at_home))
    candidates = [Candidate("pos:1", "CJ", store.record("pos:1")), Candidate("pos:2", "CN", store.record("pos:2"))]
    members = {"CJ": [store.record("pos:1")], "CN": [store.record("pos:2")]}
    seen = {"CJ": "2026-12-02T10:00:00", "CN": "2026-12-01T10:00:00"}
    decision = decide(new, candidates, members, scorer, STRICT, 0.5, first_seen=seen)
    assert decision.customer_id == "CJ" and decision.bridged == []
    assert [c.customer_id for c in decision.candidates] == ["CJ", "CN"]
    # with the nameless person's birth date on it, the record says which member it is: the two are bridged
    born = store.standardise(_raw("9", "J", "Kirpenstein", "1981-03-03", "johan@example.org", **at_home))
    bridged = decide(born, candidates, members, scorer, STRICT, 0.5, first_seen=seen)
    assert bridged.customer_id == "CN" and bridged.bridged == ["CJ"]


def _at(uid: str, address: str | None, updated: str | None, card: str | None = None) -> tuple:
    row = [None] * len(POS)
    postcode, number = address.split("|")[:2] if address else (None, None)
    row[POS["unique_id"]], row[POS["address_key"]], row[POS["postcode"]], row[POS["house_number"]] = (
        uid, address, postcode, number)
    row[POS["updated_at"]], row[POS["loyalty_card"]] = updated, card
    return tuple(row)


def test_a_person_counts_for_a_household_by_their_current_address_only():
    from profile_api.resolve_record import current_records
    old, new = _at("pos-1", "5612LA|133|", "2024-01-01", card="2600"), _at("pos-2", "1015AB|5|", "2025-06-01")
    bare = _at("app-3", None, "2023-01-01", card="2700")
    assert current_records([old, new, bare]) == [new, bare]       # moved: the old home's card no longer counts
    flat = _at("web-4", "1015AB|5|2", "2024-01-01")
    assert current_records([old, new, flat]) == [new, flat]     # the same building, another spelling
    assert current_records([bare]) == [bare]
