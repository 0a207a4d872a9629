"""bench/linkable.py: what evidence two records share, its class, rivals, and the pieces a person falls into."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.linkable import (  # noqa: E402
    CLASSES, NOTHING, CandidateIndex, class_of, classify, evidence, main, pieces, rival_floor, strong_edge,
)
from identity.standardise import standardise_record  # noqa: E402
from synth.writer import generate_drop  # noqa: E402

_ids = iter(range(1, 1000))


def record(person: str, household: str = "H1", **raw: str) -> dict:
    """Return a standardised record of raw drop fields, with its true person and household."""
    row = standardise_record({"source": "webshop", "record_id": str(next(_ids)), **raw})
    return {**row, "person_id": person, "household_id": household}


def name_of(r: dict, candidates: list[dict], own: list[dict]) -> str:
    """Return the class name of a record's verdict."""
    return CLASSES[classify(r, own, candidates, r["person_id"], r["household_id"]).klass][0]


JAN = dict(first_name="Jan", last_name="de Vries", birth_date="1980-03-14", street="Dorpsstraat", house_number="12",
           postcode="1234 AB", city="Utrecht")


def test_an_email_with_fitting_names_is_the_strongest_class():
    a = record("P1", **JAN, email="jan.devries@example.nl")
    b = record("P1", first_name="J.", last_name="Vries, de", email="jan.devries@example.nl")
    e = evidence(a, b)
    assert "E" in e and "Fx" not in e
    assert class_of(e) == 0


def test_a_mistyped_email_domain_still_counts_as_the_email():
    a = record("P1", first_name="Jan", last_name="de Vries", email="jan.devries@gmail.com")
    b = record("P1", first_name="Jan", last_name="de Vries", email="jan.devries@gmial.com")
    assert "E~" in evidence(a, b)


def test_full_name_and_birth_date_and_full_name_and_address():
    a = record("P1", **JAN)
    born = record("P1", first_name="Jan", last_name="de Vries", birth_date="1980-03-14")
    lives = record("P1", first_name="Jan", last_name="de Vries", street="Dorpsstraat", house_number="12",
                   postcode="1234AB", city="Utrecht")
    assert CLASSES[class_of(evidence(a, born))][0] == "full name + birth date"
    assert CLASSES[class_of(evidence(a, lives))][0] == "full name + address"


def test_a_shared_email_under_another_first_name_is_a_weaker_class_and_no_strong_edge():
    a = record("P1", **JAN, email="fam.devries@example.nl")
    b = record("P1", first_name="Piet", last_name="de Vries", email="fam.devries@example.nl")
    e = evidence(a, b)
    assert "Fx" in e
    assert CLASSES[class_of(e)][0] == "identifier, first name differs"
    assert not strong_edge(e)


def test_nothing_shared_is_nothing_identifying():
    a = record("P1", **JAN)
    b = record("P1", first_name="Kees", last_name="Bakker", city="Zwolle")
    assert class_of(evidence(a, b)) == NOTHING


def test_a_namesake_elsewhere_is_a_rival_for_a_name_only_match_but_not_for_an_email():
    held = record("P1", first_name="Jan", last_name="de Vries", email="jan.devries@example.nl")
    own = [record("P1", first_name="Jan", last_name="de Vries")]
    namesake = record("P2", household="H2", first_name="Jan", last_name="de Vries")
    index = CandidateIndex([*own, namesake])
    verdict = classify(held, own, index.of(held), "P1", "H1")
    assert CLASSES[verdict.klass][0] == "full name only"
    assert (verdict.rivals, verdict.rivals_same_household, verdict.linkable) == (1, 0, False)
    own_email = [record("P1", first_name="Jan", last_name="de Vries", email="jan.devries@example.nl")]
    verdict = classify(held, own_email, CandidateIndex([*own_email, namesake]).of(held), "P1", "H1")
    assert verdict.klass == 0 and verdict.linkable
    assert rival_floor(held, [namesake]) == class_of(evidence(held, namesake))


def test_a_person_falls_into_pieces_where_records_share_no_edge():
    a = record("P1", **JAN, email="jan@example.nl")
    b = record("P1", first_name="Jan", last_name="de Vries", email="jan@example.nl")
    c = record("P1", first_name="Jan", last_name="de Vries", birth_date="1980-03-14")   # joins a by name + birth
    d = record("P1", first_name="J", last_name="Jansen", city="Zwolle")                 # joins no one
    assert pieces([a, b, c, d], lambda x, y: strong_edge(evidence(x, y))) == [0, 0, 0, 1]


def test_the_benchmark_runs_on_a_small_drop(tmp_path, capsys):
    generate_drop(tmp_path / "drop", households=40, seed=4)
    assert main(["--drop", str(tmp_path / "drop"), "--known", "10", "--unknown", "3", "--seed", "1",
                 "--precision", "0.98", "--out", str(tmp_path / "out.json")]) == 0
    figures = json.loads((tmp_path / "out.json").read_text())
    held = figures["held_out"]
    assert held["known"] == 10 == sum(c["n"] for c in held["classes"].values())
    assert 0 <= held["ceiling"] <= 1
    pairs = figures["pairs"]
    recalls = [pairs[edge]["recall_ceiling"] for edge in ("strong", "linkable", "any_evidence")]
    assert recalls == sorted(recalls)
    assert pairs["linkable"]["f1_at_measured_precision"] <= pairs["linkable"]["f1_at_precision_1"]
    # households: fewer persons to start from (the pieces) can only lose household pairs, never add false ones
    homes = pairs["households"]
    assert homes["on true persons"]["precision"] == homes["on the linkable pieces"]["precision"] == 1.0
    assert homes["on the linkable pieces"]["recall"] <= homes["on true persons"]["recall"]
