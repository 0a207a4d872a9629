"""The servicer's plain parts: checking requests (field named in the error) and packing store values
(``profile_api.messages``)."""

from __future__ import annotations

import datetime as dt
import json

import grpc
import pytest
from hypothesis import given
from hypothesis import strategies as st

from profile_api._generated.herken.v1 import profile_service_pb2 as pb
from profile_api.profiles import (
    Attribute, FieldValue, GoldenRecord, HouseholdMember, HouseholdSummary, PreferenceValue, Profile,
)
from profile_api.messages import (
    ambiguous_pb, encode_fixed, encode_live, encode_precomputed, profile_of_encoded, profile_pb, profile_reply_bytes,
    timestamp,
)
from profile_api.requests import (
    IdentifierLookup, RequestError, explain_request_of, household_id_of, invalid_from_store, lookup_of, preference_update_of,
    search_criteria,
)


def field_of(error: RequestError) -> str:
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    return str(error).split(":", 1)[0]


def rejected(function, request) -> str:
    with pytest.raises(RequestError) as err:
        function(request)
    return field_of(err.value)


def identifier(kind: int, value: str, source: str = "") -> pb.GetProfileRequest:
    return pb.GetProfileRequest(identifier=pb.Identifier(kind=kind, value=value, source=source))


def test_lookup_of_accepts_a_customer_id_or_a_complete_identifier():
    assert lookup_of(pb.GetProfileRequest(customer_id=" C1 ")) == "C1"
    assert lookup_of(identifier(pb.IDENTIFIER_KIND_EMAIL, " A@B.NL ")) == IdentifierLookup(
        "email", "A@B.NL", None, "e-mail address")
    assert lookup_of(identifier(pb.IDENTIFIER_KIND_SOURCE_RECORD, "W1", "webshop")).source == "webshop"


@pytest.mark.parametrize("request_, field", [
    (pb.GetProfileRequest(), "lookup"),
    (pb.GetProfileRequest(customer_id=""), "customer_id"),
    (identifier(pb.IDENTIFIER_KIND_UNSPECIFIED, "x"), "identifier.kind"),
    (identifier(42, "x"), "identifier.kind"),
    (identifier(pb.IDENTIFIER_KIND_PHONE, "  "), "identifier.value"),
    (identifier(pb.IDENTIFIER_KIND_SOURCE_RECORD, "W1"), "identifier.source"),
    (identifier(pb.IDENTIFIER_KIND_LOYALTY_CARD, "123", "pos"), "identifier.source"),
])
def test_lookup_of_names_the_field_of_a_malformed_request(request_, field):
    assert rejected(lookup_of, request_) == field


def test_search_criteria_default_limit_and_validation():
    criteria, limit = search_criteria(pb.SearchCustomersRequest(name=" Jan ", postcode="1234 AB", house_number="1"))
    assert criteria["name"] == "Jan" and criteria["phone"] is None and limit == 10
    assert search_criteria(pb.SearchCustomersRequest(email="a@b.nl", limit=100))[1] == 100
    assert rejected(search_criteria, pb.SearchCustomersRequest(name="x", limit=101)) == "limit"
    assert rejected(search_criteria, pb.SearchCustomersRequest(name="x", limit=-1)) == "limit"
    assert rejected(search_criteria, pb.SearchCustomersRequest(name=" ")) == "name"
    assert rejected(search_criteria, pb.SearchCustomersRequest(house_number="12")) == "house_number"
    assert rejected(search_criteria, pb.SearchCustomersRequest(name="Jansen", postcode="1234 AB\x00")) == "postcode"


def test_household_id_of_refuses_empty_and_nul():
    assert household_id_of(pb.GetHouseholdRequest(household_id=" H1 ")) == "H1"
    assert rejected(household_id_of, pb.GetHouseholdRequest(household_id=" ")) == "household_id"
    assert rejected(household_id_of, pb.GetHouseholdRequest(household_id="H1\x00junk")) == "household_id"


def test_preference_update_of_checks_every_entry():
    request = pb.UpdatePreferencesRequest(customer_id="C1", source="app", preferences=[
        pb.PreferenceEntry(key="shoe_size", value=" 43 ")])
    update = preference_update_of(request)
    assert update.preferences == [("shoe_size", "43")] and update.stated_at is None
    request.stated_at.FromDatetime(dt.datetime(2024, 5, 1, 12, tzinfo=dt.timezone.utc))
    assert preference_update_of(request).stated_at == dt.datetime(2024, 5, 1, 12, tzinfo=dt.timezone.utc)
    twice = pb.UpdatePreferencesRequest(customer_id="C1", source="app", preferences=[
        pb.PreferenceEntry(key="k", value="1"), pb.PreferenceEntry(key="k", value="2")])
    assert rejected(preference_update_of, twice) == "preferences[1].key"
    assert rejected(preference_update_of, pb.UpdatePreferencesRequest(customer_id="C1", source=" ",
                                                                      preferences=request.preferences)) == "source"


def test_a_store_value_error_is_put_on_the_request_field_it_names():
    err = invalid_from_store(ValueError("source: 'kiosk' is not one of pos, webshop"), {"source": "identifier.source"},
                             "identifier.value")
    assert str(err) == "identifier.source: 'kiosk' is not one of pos, webshop"
    assert field_of(invalid_from_store(ValueError("something else"), {}, "name")) == "name"


@given(st.datetimes(min_value=dt.datetime(1970, 1, 1), max_value=dt.datetime(2100, 1, 1)))
def test_timestamp_keeps_the_instant_of_naive_utc_text_and_datetimes(moment):
    moment = moment.replace(microsecond=0)
    for value in (moment, moment.isoformat()):
        assert timestamp(value).ToDatetime() == moment


def test_timestamp_of_nothing_or_nonsense_is_unset_rather_than_an_error():
    assert timestamp(None) is None and timestamp("") is None and timestamp("yesterday-ish") is None
    assert timestamp("03-08-2023").ToDatetime() == dt.datetime(2023, 8, 3)
    assert timestamp(dt.date(2023, 8, 3)).ToDatetime() == dt.datetime(2023, 8, 3)


def _profile(customer_id: str, name: str) -> Profile:
    household = HouseholdSummary("H1", [HouseholdMember("C1", "Jan Jansen"), HouseholdMember("C2", "Els Jansen")],
                                 ["dog"], "pickup_point",
                                 [PreferenceValue("delivery_slot", "evening", "app", "2024-01-02T03:04:05")])
    golden = GoldenRecord(FieldValue(name.split()[0], "pos", "P1", "2023-01-01T00:00:00", 0.875), None, None, None, None,
                          None, None, None, FieldValue("1980-02-03", "webshop", "W1", None))
    return Profile(customer_id, "H1", name, golden,
                   [PreferenceValue("shoe_size", "43", "webshop", "2024-03-01T10:00:00")],
                   [Attribute("purchase_count", "3", {"purchases": "3", "first": "2022-01-01"})], household)


def test_profile_pb_carries_every_part_with_its_source():
    message = profile_pb(_profile("C1", "Jan Jansen"))
    assert (message.customer_id, message.household_id, message.display_name) == ("C1", "H1", "Jan Jansen")
    assert (message.golden.first_name.value, message.golden.first_name.source) == ("Jan", "pos")
    assert message.golden.first_name.confidence == 0.875
    assert message.golden.birth_date.confidence == 0.0     # a profile precomputed before confidences: unset
    assert not message.golden.HasField("email")
    assert message.golden.birth_date.value == "1980-02-03" and not message.golden.birth_date.HasField("updated_at")
    assert [(p.key, p.value, p.source) for p in message.preferences] == [("shoe_size", "43", "webshop")]
    assert message.preferences[0].stated_at.ToDatetime() == dt.datetime(2024, 3, 1, 10)
    assert dict(message.attributes[0].evidence) == {"purchases": "3", "first": "2022-01-01"}
    assert [m.customer_id for m in message.household.members] == ["C1", "C2"]
    assert list(message.household.pets) == ["dog"] and message.household.delivery_preference == "pickup_point"
    assert message.household.shared_preferences[0].key == "delivery_slot"


def test_ambiguous_pb_lists_every_candidate_and_each_household_once():
    message = ambiguous_pb([_profile("C1", "Jan Jansen"), _profile("C2", "Els Jansen")], "loyalty card")
    assert [c.customer_id for c in message.candidates] == ["C1", "C2"]
    assert [h.household_id for h in message.households] == ["H1"]
    assert message.reason.startswith("this loyalty card is used by 2 persons")


def test_the_fixed_and_the_live_part_together_decode_to_the_whole_profile():
    profile = _profile("C1", "Jan Jansen")
    whole = pb.Profile.FromString(encode_fixed(profile) + encode_live(profile.preferences, profile.household))
    assert whole == profile_pb(profile)
    fixed = pb.Profile.FromString(encode_fixed(profile))
    assert not fixed.preferences and not fixed.household.pets and not fixed.household.shared_preferences
    assert [m.customer_id for m in fixed.household.members] == ["C1", "C2"] and fixed.attributes


def test_an_encoded_reply_decodes_to_the_profile_it_carries():
    sizes = set()
    for n in [*range(0, 300), *range(16_300, 16_400), 2_100_000]:   # lengths of 1, 2, 3 and 4 varint bytes
        encoded = pb.Profile(customer_id="C1", display_name="x" * n).SerializeToString()
        sizes.add(len(encoded))
        reply = pb.GetProfileResponse.FromString(profile_reply_bytes(encoded))
        assert reply.WhichOneof("result") == "profile" and reply.profile.SerializeToString() == encoded
    assert {127, 128, 16_383, 16_384} <= sizes
    assert pb.GetProfileResponse.FromString(profile_reply_bytes(b"")).WhichOneof("result") == "profile"


SOURCE_RECORD = pb.IDENTIFIER_KIND_SOURCE_RECORD


def record_id(source: str, value: str, kind: int = SOURCE_RECORD) -> pb.Identifier:
    return pb.Identifier(kind=kind, source=source, value=value)


def refusal(request: pb.ExplainMatchRequest) -> str:
    with pytest.raises(RequestError) as err:
        explain_request_of(request)
    assert err.value.code == grpc.StatusCode.INVALID_ARGUMENT
    return str(err.value)


def test_explain_match_takes_source_records_and_names_the_field_of_a_wrong_one():
    ok = pb.ExplainMatchRequest(a=record_id(" pos ", "P1 "), b=record_id("app", "A1"))
    assert explain_request_of(ok) == ("pos:P1", "app:A1")
    assert explain_request_of(pb.ExplainMatchRequest(a=record_id("pos", "P1"))) == ("pos:P1", None)
    wrong = pb.ExplainMatchRequest(a=record_id("", "x@y.nl", pb.IDENTIFIER_KIND_EMAIL), b=record_id("app", "A1"))
    assert refusal(wrong).startswith("a.kind: must be IDENTIFIER_KIND_SOURCE_RECORD")
    unspecified = pb.ExplainMatchRequest(a=record_id("pos", "P1"), b=record_id("app", "A1", 0))
    assert refusal(unspecified).startswith("b.kind: ")
    assert refusal(pb.ExplainMatchRequest(a=record_id("", "P1"))).split(":")[0] == "a.source"
    assert refusal(pb.ExplainMatchRequest(a=record_id("pos", " "))).split(":")[0] == "a.value"
    assert refusal(pb.ExplainMatchRequest()).split(":")[0] == "a"
    same = pb.ExplainMatchRequest(a=record_id("pos", "P1"), b=record_id("pos", "P1"))
    assert refusal(same).split(":")[0] == "b"


def test_a_profile_encoded_from_its_json_reads_back_as_the_same_values():
    golden = json.dumps({"first_name": ["Jan", "pos", "P1", "2023-01-01 00:00:00", 0.875],
                         "birth_date": ["1980-02-03", "webshop", "W1", None, None]})
    attributes = json.dumps([["purchase_count", "3", {"purchases": "3", "first": "2022-01-01", "none": None}],
                             ["spend_12m", "10.00", {"paid_eur": 10.0}]])
    members = json.dumps([["C1", "Jan Jansen"], ["C2", "Els Jansen"]])
    encoded = encode_precomputed("C1", "H1", "Jan Jansen", golden, attributes, members)
    stated = {"C2": [PreferenceValue("delivery_method", "parcel_locker", "app", "2024-01-02T03:04:05")]}
    profile = profile_of_encoded(encoded, json.dumps({"pets": ["dog"], "delivery": "home"}), stated)
    # the values read back encode to the same bytes: one way from values to a message
    assert encode_fixed(profile) == encoded
    assert profile.golden.first_name == FieldValue("Jan", "pos", "P1", "2023-01-01T00:00:00", 0.875)
    assert profile.golden.birth_date == FieldValue("1980-02-03", "webshop", "W1", None, None)
    assert profile.golden.email is None
    assert [(a.name, a.evidence) for a in profile.attributes] == [
        ("purchase_count", {"purchases": "3", "first": "2022-01-01"}), ("spend_12m", {"paid_eur": "10.0"})]
    household = profile.household
    assert [(m.customer_id, m.display_name) for m in household.members] == [("C1", "Jan Jansen"), ("C2", "Els Jansen")]
    assert household.pets == ["dog"] and household.delivery_preference == "parcel_locker"   # a member said so
    assert profile.preferences == [] and profile_pb(profile).household.shared_preferences[0].key == "delivery_method"
