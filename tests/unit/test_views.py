"""What a view withholds of an explanation's decision (profile_api.views): plain messages, no server."""

from __future__ import annotations

from profile_api._generated.herken.v1 import profile_service_pb2 as pb
from profile_api.consent import Allowed
from profile_api.views import (
    restrict_ambiguous, restrict_candidates, restrict_explanation, restrict_profile, value_free_decision,
)


def test_a_rules_sentence_is_made_again_from_its_title_without_the_values_it_quotes():
    for decision, rule, title in (
            ("kept apart by the cannot-link rule birth_date: different birth dates 1940-03-04 / 1943-08-07 (the model "
             "scored the pair 0.9987)", "birth_date", "different birth dates"),
            ("kept apart by the cannot-link rule first_name: different first names anna / bert (the model scored the "
             "pair 0.9987)", "first_name", "different first names")):
        reply = pb.ExplainMatchResponse(decision=decision, rule=rule, match_probability=0.9987)
        assert value_free_decision(reply) == (f"kept apart by the cannot-link rule {rule}: {title} (match probability "
                                              "0.9987); the values compared are withheld from this view")
    refused = pb.ExplainMatchResponse(decision="kept apart: joining their persons was refused on the pair pos:12 - "
                                               "webshop:5 by ...", match_probability=0.5)
    assert "pos:12" not in value_free_decision(refused)
    assert value_free_decision(pb.ExplainMatchResponse(decision="one person: joined directly by the model at 0.99",
                                                       same_person=True, match_probability=0.99)) == \
        "one person (match probability 0.9900 for this pair); what links them is withheld from this view"


def test_a_stewards_reason_is_withheld_from_every_view_but_full():
    said = ("kept apart by steward decision S-7 (cannot-link by ana on 2026-11-02: twins, birth date 03-03-1987 and "
            "phone 0632159464)")
    for view, shown in (("full", said), ("store", "kept apart by steward decision S-7; its reason is withheld from "
                                                  "this view"), ("checkout", None)):
        reply = pb.ExplainMatchResponse(decision=said, rule="steward", steward_decision_id="S-7")
        restrict_explanation(reply, view)
        assert reply.decision == (shown or "kept apart by steward decision S-7; its reason is withheld from this view")


def test_one_records_place_in_its_person_is_told_as_such_to_a_view_that_may_not_read_the_links():
    reply = pb.ExplainMatchResponse(customer_id_a="C-1", match_probability=0.97,
                                    decision="one of 3 records of C-1: joined to pos:7 at 0.97 (same e-mail ...)")
    restrict_explanation(reply, "store")
    assert reply.decision == ("a record of C-1 (confidence 0.9700); what links it to the person's other records is "
                              "withheld from this view")


def test_a_person_known_by_no_name_is_shown_by_a_masked_address_to_the_store_and_by_first_names_to_checkout():
    profile = pb.Profile(customer_id="C-1", display_name="tara.vandijk@hotmail.com")
    profile.household.members.add(customer_id="C-2", display_name="r.schuylenborch@hotmail.nl")
    profile.household.members.add(customer_id="C-3", display_name="Martin de Vries")
    restrict_profile(profile, "store", Allowed(True, True))
    assert profile.display_name == "t***@hotmail.com"
    assert [m.display_name for m in profile.household.members] == ["r***@hotmail.nl", "Martin"]
    for view, shown in (("store", ["a***@gmail.com", "J.A. Horrocks"]), ("checkout", ["a***@gmail.com", "J.A."]),
                        ("full", ["arjanhue@gmail.com", "J.A. Horrocks"])):
        ambiguous = pb.Ambiguous()
        ambiguous.candidates.add(customer_id="C-4", display_name="arjanhue@gmail.com")
        ambiguous.candidates.add(customer_id="C-5", display_name="J.A. Horrocks")
        restrict_ambiguous(ambiguous, view)
        assert [c.display_name for c in ambiguous.candidates] == shown
    found = pb.SearchCustomersResponse()
    found.candidates.add(customer_id="C-4", display_name="arjanhue@gmail.com")
    restrict_candidates(found.candidates, "store")
    assert found.candidates[0].display_name == "a***@gmail.com"
