"""The live part of a served profile: what the household's stated preferences make of it."""

import json

from profile_api._generated.herken.v1 import profile_service_pb2 as pb
from profile_api.live import live_parts
from profile_api.messages import encode_live
from profile_api.preferences import household_summary

HOUSEHOLD = json.dumps({"members": [["C1", "Anna de Vries"], ["C2", "Bram de Vries"]], "pets": ["dog"],
                        "delivery": "home"})
PROFILES = [("C1", "H1", HOUSEHOLD), ("C2", "H1", HOUSEHOLD)]


def decoded(part: bytes) -> pb.Profile:
    return pb.Profile.FromString(part)


def test_a_household_without_statements_gets_the_live_part_of_nothing_stated():
    parts = live_parts(PROFILES, [])
    quiet = encode_live([], household_summary("H1", json.loads(HOUSEHOLD), {}))
    assert parts == {"C1": quiet, "C2": quiet}
    assert decoded(quiet).household.delivery_preference == "home"
    assert list(decoded(quiet).household.pets) == ["dog"]


def test_a_statement_is_the_persons_own_and_a_delivery_and_a_pet_are_the_households():
    stated = [
        ("H1", "C1", "clothing_size", "M", "webshop", "2025-01-01T10:00:00", 1),
        ("H1", "C1", "delivery_method", "parcel_locker", "app", "2025-02-01T10:00:00", 2),
        ("H1", "C2", "pet", "Cat", "pos", "2024-05-01T10:00:00", 3),
        ("H9", "C9", "clothing_size", "XL", "pos", "2025-01-01T10:00:00", 4),     # another household: ignored
    ]
    parts = live_parts(PROFILES, stated)
    anna, bram = decoded(parts["C1"]), decoded(parts["C2"])
    assert [(p.key, p.value) for p in anna.preferences] == [("clothing_size", "M"), ("delivery_method", "parcel_locker")]
    assert [(p.key, p.value) for p in bram.preferences] == [("pet", "Cat")]
    for person in (anna, bram):
        assert person.household.delivery_preference == "parcel_locker"
        assert list(person.household.pets) == ["cat", "dog"]
        assert [p.key for p in person.household.shared_preferences] == ["delivery_method"]


def test_a_member_saying_there_are_no_pets_any_more_hides_the_pets_bought_before_for_every_member():
    inferred = json.dumps({"members": [["C1", "Anna de Vries"], ["C2", "Bram de Vries"]], "pets": ["cat", "dog"],
                           "delivery": "home", "pets_last": {"dog": "2024-03-01T10:00:00", "cat": "2025-03-01T10:00:00"}})
    stated = [("H1", "C2", "pet", "none", "service", "2024-09-01T10:00:00", 1)]
    parts = live_parts([("C1", "H1", inferred), ("C2", "H1", inferred)], stated)
    for customer_id in ("C1", "C2"):
        assert list(decoded(parts[customer_id]).household.pets) == ["cat"]    # the cat food came after
