"""What a view withholds of an explanation's decision (profile_api.views): plain messages, no server."""

from __future__ import annotations

from profile_api._generated.herken.v1 import profile_service_pb2 as pb
from profile_api.views import restrict_explanation, value_free_decision


def test_a_rules_sentence_keeps_its_words_and_probabilities_but_not_the_values_it_quotes():
    reply = pb.ExplainMatchResponse(decision="kept apart by the cannot-link rule birth_date: different birth dates "
                                             "1940-03-04 / 1943-08-07 (the model scored the pair 0.9987)",
                                    rule="birth_date")
    assert value_free_decision(reply) == ("kept apart by the cannot-link rule birth_date: different birth dates "
                                          "*** / *** (the model scored the pair 0.9987)")
    for said in ("different mobile numbers +31612345678 / 06-1234 5678", "e-mail j.bos@gmail.com", "name 'Jan Bos'"):
        masked = value_free_decision(pb.ExplainMatchResponse(decision=said))
        assert not any(value in masked for value in ("612345678", "1234 5678", "j.bos@", "Jan Bos")), masked


def test_a_stewards_reason_is_withheld_from_every_view_but_full():
    said = ("kept apart by steward decision S-7 (cannot-link by ana on 2026-11-02: twins, birth date 03-03-1987 and "
            "phone 0632159464)")
    for view, shown in (("full", said), ("store", "kept apart by steward decision S-7; its reason is withheld from "
                                                  "this view"), ("checkout", None)):
        reply = pb.ExplainMatchResponse(decision=said, rule="steward", steward_decision_id="S-7")
        restrict_explanation(reply, view)
        assert reply.decision == (shown or "kept apart by steward decision S-7; its reason is withheld from this view")
