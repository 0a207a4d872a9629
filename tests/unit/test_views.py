"""What a view withholds of an explanation's decision (profile_api.views): plain messages, no server."""

from __future__ import annotations

from profile_api._generated.herken.v1 import profile_service_pb2 as pb
from profile_api.views import restrict_explanation, value_free_decision


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
