"""Tokens, channel rights, masks and consent as plain functions."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from profile_api._generated.herken.v1 import profile_service_pb2 as pb
from profile_api.access import (
    LOCAL, Access, AccessConfigError, Caller, Denied, access_of, channel_rights, token_hash, tokens_from_env,
    tokens_from_table,
)
from profile_api.consent import DEFAULT_CONSENT, allowed, consent_defaults, parse_state, state_json, state_of
from profile_api.views import (
    mask_email, mask_phone, mask_postcode, restrict_explanation, restrict_household_tree, restrict_profile,
)

BEARER = [("authorization", "Bearer s3cret")]


def test_without_tokens_every_caller_is_local_with_every_right():
    assert Access().caller([], "ForgetCustomer") == LOCAL and not Access().required


def test_tokens_from_the_environment_map_to_channels_and_are_known_by_a_hash_id():
    tokens = tokens_from_env("s3cret:store, other:webshop,")
    caller = Access(tokens).caller(BEARER, "GetProfile")
    assert caller == Caller("store", f"sha256:{token_hash('s3cret')[:12]}")


@pytest.mark.parametrize("value, problem", [("s3cret", "write token:channel"), ("s3cret:shop", "'shop' is not one of")])
def test_a_bad_environment_entry_says_what_to_write(value, problem):
    with pytest.raises(AccessConfigError, match=problem):
        tokens_from_env(value)


def test_a_token_table_takes_tokens_hashes_and_named_entries():
    tokens = tokens_from_table({"plain": "app", f"sha256:{token_hash('hashed')}": "service",
                                "tablet-7": {"sha256": token_hash("s3cret"), "channel": "store"},
                                "desk": {"token": "desk-token", "channel": "backoffice"}})
    access = Access(tokens)
    assert access.caller([("authorization", "Bearer plain")], "GetProfile").channel == "app"
    assert access.caller([("authorization", "Bearer hashed")], "ExportCustomer").channel == "service"
    assert access.caller(BEARER, "GetProfile") == Caller("store", "tablet-7")
    assert access.caller([("authorization", "bearer desk-token")], "ForgetCustomer").token_id == "desk"


@pytest.mark.parametrize("table, problem", [
    ({"x": {"channel": "store"}}, "either sha256"), ({"x": {"sha256": "abc", "channel": "store"}}, "not a SHA-256"),
    ({"sha256:zz": "store"}, "not a SHA-256"), ({"x": "till"}, "'till' is not one of"),
])
def test_a_bad_token_table_entry_is_refused(table, problem):
    with pytest.raises(AccessConfigError, match=problem):
        tokens_from_table(table)


def test_no_unknown_or_malformed_credentials_are_unauthenticated_and_a_missing_right_is_not():
    access = Access(tokens_from_env("s3cret:webshop"))
    for metadata in ([], [("authorization", "Bearer nope")], [("authorization", "Basic s3cret")],
                     [("authorization", "Bearer ")]):
        with pytest.raises(Denied) as err:
            access.caller(metadata, "GetProfile")
        assert err.value.unauthenticated
    with pytest.raises(Denied) as err:
        access.caller(BEARER, "SearchCustomers")
    assert not err.value.unauthenticated and err.value.caller.channel == "webshop"


def test_channel_rights_are_configurable_but_the_back_office_states_no_preferences():
    rights = channel_rights({"webshop": {"rpcs": ["GetProfile", "SearchCustomers"], "view": "store"}})
    assert rights["webshop"].rpcs == {"GetProfile", "SearchCustomers"} and rights["webshop"].view == "store"
    with pytest.raises(AccessConfigError, match="back office"):
        channel_rights({"backoffice": {"rpcs": ["UpdatePreferences"]}})
    with pytest.raises(AccessConfigError, match="view must be"):
        channel_rights({"store": {"view": "everything"}})
    with pytest.raises(AccessConfigError, match="rpcs must be"):
        channel_rights({"store": {"rpcs": ["DropTables"]}})
    assert access_of("a:store", {"b": "app"}).required


def test_masks():
    assert mask_email("jan.jansen@gmail.com") == "j***@gmail.com"
    assert mask_phone("+31612345678") == "06-****5678" and mask_phone("+32471123456") == "+3-****3456"
    assert mask_postcode("1234AB") == "1234 **"


@given(st.emails())
def test_a_masked_email_keeps_only_its_first_letter_and_domain(email):
    local, _, domain = email.partition("@")
    assert mask_email(email) == f"{local[0]}***@{domain}"


def test_consent_is_the_latest_statement_per_purpose_else_the_default():
    state = state_of([("profiling", False, "store", "2026-01-01T10:00:00", 1),
                      ("profiling", True, "app", "2026-01-01T10:00:00", 2),
                      ("personalisation", False, "service", "2025-01-01T00:00:00+00:00", 3)])
    assert state == {"personalisation": (False, "service", "2025-01-01T00:00:00"),
                     "profiling": (True, "app", "2026-01-01T10:00:00")}
    assert parse_state(state_json(state)) == state and state_json({}) is None
    assert allowed(state, DEFAULT_CONSENT).preferences is False and allowed({}, DEFAULT_CONSENT).attributes
    assert allowed({}, consent_defaults({"profiling": False})).attributes is False
    with pytest.raises(ValueError, match="purposes are"):
        consent_defaults({"tracking": True})


def test_restricting_a_profile_for_the_store_masks_and_for_consent_withholds():
    profile = pb.Profile(display_name="Jan de Vries", golden=pb.GoldenRecord(
        email=pb.FieldValue(value="jan@x.nl"), birth_date=pb.FieldValue(value="1980-05-01"),
        house_number=pb.FieldValue(value="12")), attributes=[pb.Attribute(name="pets", value="dog")],
        preferences=[pb.Preference(key="shoe_size", value="43")],
        household=pb.Household(members=[pb.HouseholdMember(display_name="Jan de Vries")], pets=["dog"]))
    restrict_profile(profile, "store", allowed({"profiling": (False, "app", "2026-01-01T00:00:00")}, DEFAULT_CONSENT))
    assert profile.golden.email.value == "j***@x.nl" and profile.golden.birth_date.value == "1980"
    assert not profile.golden.HasField("house_number") and profile.household.members[0].display_name == "Jan"
    assert not profile.attributes and not profile.household.pets and profile.preferences


@pytest.mark.parametrize("purpose", ["profiling", "personalisation"])
def test_withdrawing_either_purpose_hides_the_household_values_that_mix_statements_and_purchases(purpose):
    # pets: a dog stated at the till beside cat food bought; delivery: stated, else the one the orders used most
    profile = pb.Profile(attributes=[pb.Attribute(name="preferred_delivery", value="pickup_point")],
                         preferences=[pb.Preference(key="pet", value="dog")],
                         household=pb.Household(pets=["cat", "dog"], delivery_preference="pickup_point",
                                                shared_preferences=[pb.Preference(key="pet", value="dog")]))
    restrict_profile(profile, "full", allowed({purpose: (False, "app", "2026-01-01T00:00:00")}, DEFAULT_CONSENT))
    assert not profile.household.pets and not profile.household.delivery_preference
    assert bool(profile.attributes) == (purpose != "profiling")
    assert bool(profile.preferences) == bool(profile.household.shared_preferences) == (purpose != "personalisation")


def _explained() -> pb.ExplainMatchResponse:
    return pb.ExplainMatchResponse(
        comparisons=[pb.ComparisonWeight(comparison="email", value_a="jan@x.nl", value_b="jan@x.nl")],
        household=pb.HouseholdExplanation(
            same_household=True, household_id_a="H1", household_id_b="H1",
            decision="one household (H1), through 1 other member: C1 and C2 share the e-mail address fam@x.nl; "
                     "C2 and C3 live at 1011AA|1|",
            path=[pb.HouseholdLink(customer_id_a="C1", customer_id_b="C2", kind="email", value="fam@x.nl"),
                  pb.HouseholdLink(customer_id_a="C2", customer_id_b="C3", kind="address", value="1011AA|1|")]))


@pytest.mark.parametrize("view", ["store", "checkout"])
def test_an_explanation_shows_no_household_values_outside_the_full_view(view):
    reply = _explained()
    restrict_explanation(reply, view)
    text = str(reply)
    assert "fam@x.nl" not in text and "1011AA" not in text and "jan@x.nl" not in text
    assert reply.household.same_household and reply.household.decision.startswith("one household (H1)")
    # checkout shows no other household members at all
    assert [(link.customer_id_a, link.kind) for link in reply.household.path] == (
        [] if view == "checkout" else [("C1", "email"), ("C2", "address")])
    full = _explained()
    restrict_explanation(full, "full")
    assert full == _explained()


def _tree() -> pb.ExplainHouseholdResponse:
    return pb.ExplainHouseholdResponse(
        household_id="H1", customer_ids=["C1", "C2", "C3"], unlinked=["C3"],
        decision="one household (H1) of 3 persons: 1 reached from C1 through links, 1 by a shared e-mail address",
        links=[pb.HouseholdLink(customer_id_a="C1", customer_id_b="C2", kind="email", value="fam@x.nl")])


@pytest.mark.parametrize("view", ["store", "checkout", "full"])
def test_a_household_tree_shows_its_values_to_full_its_members_to_store_and_neither_to_checkout(view):
    reply = _tree()
    restrict_household_tree(reply, view)
    if view == "full":
        assert reply == _tree()
        return
    assert "fam@x.nl" not in str(reply) and reply.household_id == "H1"
    if view == "store":
        assert list(reply.customer_ids) == ["C1", "C2", "C3"] and [l.kind for l in reply.links] == ["email"]
    else:
        assert not reply.customer_ids and not reply.links and not reply.unlinked and "C2" not in reply.decision
