"""Packing store values into herken.v1 messages: plain functions, no gRPC and no database.

These run for every reply, so they take the store's values as they are (text, as its dataclasses
say) and convert each distinct timestamp text once.

A profile is served from two encoded parts (see ``profile_api.precompute``): the part fixed for a
run, encoded once when the run is published (``encode_precomputed``), and the live part, encoded
whenever preferences are stated (``encode_live``); the store keeps only these, and reads a profile's
values back from them (``profile_of_encoded``). Protobuf reads concatenated encodings
of a message as one message (repeated fields appended, singular message fields merged), so
``encode_fixed(p) + encode_live(p.preferences, p.household)`` decodes to ``profile_pb(p)``; the
server sends it without decoding it again.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import lru_cache

from google.protobuf.timestamp_pb2 import Timestamp

from identity.explain import HouseholdExplanation, HouseholdLink, HouseholdTree, Link, PairExplanation, RecordExplanation
from identity.standardise import parse_timestamp
from profile_api._generated.herken.v1 import profile_service_pb2 as pb
from profile_api.preferences import HouseholdSummary, PreferenceValue, household_summary
from profile_api.values import Attribute, Candidate, FieldValue, GoldenRecord, Profile

__all__ = ["timestamp", "preference_pb", "profile_pb", "household_reply", "ambiguous_pb", "ambiguous_of_encoded",
           "candidate_pb",
           "encode_fixed", "encode_precomputed", "profile_of_encoded", "encode_live", "encode_own_preferences", "encode_household_live", "profile_reply_bytes",
           "explanation_pb", "record_explanation_pb"]

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


@lru_cache(maxsize=1 << 16)
def _instant(text: str) -> tuple[int, int] | None:
    """Return (seconds, nanos) since the epoch of a timestamp or date text (naive is UTC), or None."""
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        try:
            value = parse_timestamp(text)     # a drop's other notations (dd-mm-yyyy ...)
        except ValueError:
            return None
        if value is None:
            return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    delta = value - _EPOCH
    return delta.days * 86_400 + delta.seconds, delta.microseconds * 1000


def timestamp(value: dt.datetime | dt.date | str | None) -> Timestamp | None:
    """Return a Timestamp of a datetime, date or text (naive means UTC), or None when there is none.

    Text that is not a time gives None (the field stays unset) rather than failing the whole reply.
    """
    ts = Timestamp()
    return ts if _set_time(ts, value) else None


def _set_time(ts: Timestamp, value: dt.datetime | dt.date | str | None) -> bool:
    """Set ts to value (see timestamp); return False, leaving it unset, when there is no time."""
    if not value:
        return False
    instant = _instant(value if isinstance(value, str) else value.isoformat())
    if instant is None:
        return False
    ts.seconds, ts.nanos = instant
    return True


# Messages are filled in place (a nested message passed to a constructor is copied): twice as fast.

def _fill_preference(message: pb.Preference, pref: PreferenceValue) -> None:
    message.key, message.value, message.source = pref.key, pref.value, pref.source
    _set_time(message.stated_at, pref.stated_at)


def _fill_golden(message: pb.GoldenRecord, golden: GoldenRecord) -> None:
    for name in _GOLDEN_FIELDS:
        value = getattr(golden, name)
        if value is not None:
            _fill_field(getattr(message, name), value.value, value.source, value.record_id, value.updated_at,
                        value.confidence)


def _fill_field(field: pb.FieldValue, value: str, source: str, record_id: str, updated_at: str | None,
                confidence: float | None) -> None:
    field.value, field.source, field.record_id = value, source, record_id
    _set_time(field.updated_at, updated_at)
    if confidence is not None:
        field.confidence = confidence


def _fill_attribute(message: pb.Attribute, evidence: dict) -> None:
    for key, value in evidence.items():
        if value is not None:       # evidence without a value is left out
            message.evidence[key] = value if isinstance(value, str) else str(value)


def _fill_household(message: pb.Household, household: HouseholdSummary) -> None:
    _fill_household_fixed(message, household)
    _fill_household_live(message, household)


def _fill_household_fixed(message: pb.Household, household: HouseholdSummary) -> None:
    message.household_id = household.household_id
    for member in household.members:
        message.members.add(customer_id=member.customer_id, display_name=member.display_name)


def _fill_household_live(message: pb.Household, household: HouseholdSummary) -> None:
    message.pets.extend(household.pets)
    message.delivery_preference = household.delivery_preference or ""
    for pref in household.shared_preferences:
        _fill_preference(message.shared_preferences.add(), pref)


def _fill_profile(message: pb.Profile, profile: Profile) -> None:
    _fill_profile_fixed(message, profile)
    _fill_profile_live(message, profile.preferences, profile.household)


def _fill_profile_fixed(message: pb.Profile, profile: Profile) -> None:
    message.customer_id, message.household_id = profile.customer_id, profile.household_id
    message.display_name = profile.display_name
    _fill_golden(message.golden, profile.golden)
    for attribute in profile.attributes:
        _fill_attribute(message.attributes.add(name=attribute.name, value=attribute.value), attribute.evidence)
    _fill_household_fixed(message.household, profile.household)


def _fill_profile_live(message: pb.Profile, preferences: list[PreferenceValue], household: HouseholdSummary) -> None:
    for pref in preferences:
        _fill_preference(message.preferences.add(), pref)
    _fill_household_live(message.household, household)


_GOLDEN_FIELDS = ("first_name", "last_name", "email", "phone", "street", "house_number", "postcode", "city",
                  "birth_date")


def preference_pb(pref: PreferenceValue) -> pb.Preference:
    """Return the Preference message of a PreferenceValue."""
    message = pb.Preference()
    _fill_preference(message, pref)
    return message


def profile_pb(profile: Profile) -> pb.Profile:
    """Return the Profile message of a Profile."""
    message = pb.Profile()
    _fill_profile(message, profile)
    return message


def household_reply(household: HouseholdSummary) -> pb.GetHouseholdResponse:
    """Return the GetHouseholdResponse carrying a household."""
    reply = pb.GetHouseholdResponse()
    _fill_household(reply.household, household)
    return reply


def ambiguous_pb(profiles: list[Profile], what: str) -> pb.Ambiguous:
    """Return the Ambiguous reply for an identifier shared by the persons of these profiles."""
    return _ambiguous([profile_pb(p) for p in profiles], what)


def ambiguous_of_encoded(profiles: list[bytes], what: str) -> pb.Ambiguous:
    """Return ``ambiguous_pb`` of these persons from their encoded profiles (as ``ProfileStore`` serves them)."""
    return _ambiguous([pb.Profile.FromString(encoded) for encoded in profiles], what)


def _ambiguous(profiles: list[pb.Profile], what: str) -> pb.Ambiguous:
    message = pb.Ambiguous(
        reason=f"this {what} is used by {len(profiles)} persons; ask who it is and call GetProfile by customer_id",
        candidates=[pb.PersonRef(customer_id=p.customer_id, household_id=p.household_id,
                                 display_name=p.display_name) for p in profiles])
    seen: set[str] = set()
    for p in profiles:
        if p.household.household_id not in seen:
            seen.add(p.household.household_id)
            message.households.add().CopyFrom(p.household)
    return message


def candidate_pb(candidate: Candidate) -> pb.Candidate:
    """Return the Candidate message of a search Candidate."""
    return pb.Candidate(customer_id=candidate.customer_id, household_id=candidate.household_id,
                        display_name=candidate.display_name, score=candidate.score, matched_on=candidate.matched_on)


def _links_pb(links: list[Link]) -> list[pb.MatchLink]:
    return [pb.MatchLink(record_a=link.record_a, record_b=link.record_b, match_probability=link.match_probability,
                         joined_by=link.joined_by) for link in links]


def explanation_pb(explanation: PairExplanation) -> pb.ExplainMatchResponse:
    """Return the ExplainMatchResponse of a pair's explanation."""
    score, verdict = explanation.score, explanation.verdict
    return pb.ExplainMatchResponse(
        match_probability=score.match_probability, match_weight=score.match_weight, prior_weight=score.prior_weight,
        comparisons=[pb.ComparisonWeight(comparison=c.comparison, level=c.level, match_weight=c.match_weight,
                                         value_a=c.value_a, value_b=c.value_b) for c in score.comparisons],
        same_person=explanation.same_person, customer_id_a=explanation.customer_id_a,
        customer_id_b=explanation.customer_id_b, decision=verdict.decision, rule=verdict.rule,
        steward_decision_id=verdict.steward_decision_id, path=_links_pb(explanation.path),
        household=_household_pb(explanation.household))


def _household_pb(household: HouseholdExplanation | None) -> pb.HouseholdExplanation | None:
    if household is None:
        return None
    return pb.HouseholdExplanation(
        same_household=household.same_household, household_id_a=household.household_id_a,
        household_id_b=household.household_id_b, decision=household.decision,
        path=_household_links_pb(household.path))


def _household_links_pb(links: list[HouseholdLink]) -> list[pb.HouseholdLink]:
    return [pb.HouseholdLink(customer_id_a=link.customer_id_a, customer_id_b=link.customer_id_b, kind=link.kind,
                             value=link.value, match_probability=link.match_probability) for link in links]


def household_tree_pb(tree: HouseholdTree, redirected_from: str = "") -> pb.ExplainHouseholdResponse:
    """Return the ExplainHouseholdResponse of what holds a household together."""
    return pb.ExplainHouseholdResponse(
        household_id=tree.household_id, redirected_from=redirected_from, customer_ids=tree.customer_ids,
        links=_household_links_pb(tree.links), unlinked=tree.unlinked, decision=tree.decision)


def record_explanation_pb(explanation: RecordExplanation) -> pb.ExplainMatchResponse:
    """Return the ExplainMatchResponse of one record's place in its person (see ExplainMatchRequest.b)."""
    return pb.ExplainMatchResponse(
        match_probability=explanation.confidence or 0.0, customer_id_a=explanation.customer_id,
        decision=explanation.decision, path=_links_pb(explanation.links))


# --- a profile in two encoded parts ---

_PROFILE_FIELD = pb.GetProfileResponse.DESCRIPTOR.fields_by_name["profile"].number
_REDIRECTED_FIELD = pb.GetProfileResponse.DESCRIPTOR.fields_by_name["redirected_from"].number


def encode_fixed(profile: Profile) -> bytes:
    """Return the encoded herken.v1.Profile without its live part (see encode_live)."""
    message = pb.Profile()
    _fill_profile_fixed(message, profile)
    # deterministic: an attribute's evidence is a map, whose order protobuf otherwise leaves to chance,
    # so the same profile is stored as the same bytes in every run
    return message.SerializeToString(deterministic=True)


def encode_precomputed(customer_id: str, household_id: str, display_name: str, golden: str, attributes: str,
                       members: str) -> bytes:
    """Return the encoded part of a profile that is fixed for the run, from the JSON it is built as
    (``profile_api.precompute``); ``encode_fixed`` of the same profile, byte for byte.

    Filled from the JSON directly: a publish encodes every profile, and the values in between would
    cost twice the encoding.
    """
    message = pb.Profile(customer_id=customer_id, household_id=household_id, display_name=display_name)
    fields = message.golden
    for name, value in json.loads(golden).items():
        _fill_field(getattr(fields, name), *value)
    for name, value, evidence in json.loads(attributes):
        _fill_attribute(message.attributes.add(name=name, value=value), evidence)
    household = message.household
    household.household_id = household_id
    for member, name in json.loads(members):
        household.members.add(customer_id=member, display_name=name)
    return message.SerializeToString(deterministic=True)


def _field_value(field: pb.FieldValue) -> FieldValue:
    updated = field.updated_at.ToDatetime().isoformat() if field.HasField("updated_at") else None
    return FieldValue(field.value, field.source, field.record_id, updated, field.confidence or None)


def profile_of_encoded(encoded: bytes, household_inferred: str,
                       members: dict[str, list[PreferenceValue]]) -> Profile:
    """Return a profile's values from its stored row: the encoded part fixed for the run, what its household's
    live part starts from (``profile.household_inferred``), and the household's current preferences by member.

    ``profile_pb`` of it is the profile as served. What the message does not tell apart comes back as it
    is served: a time as ISO 8601 UTC, evidence as text, a confidence of 0 (none kept) as None.
    """
    message = pb.Profile.FromString(encoded)
    golden = message.golden
    household = {"members": [(m.customer_id, m.display_name) for m in message.household.members],
                 **json.loads(household_inferred)}
    return Profile(
        customer_id=message.customer_id,
        household_id=message.household_id,
        display_name=message.display_name,
        golden=GoldenRecord(**{name: _field_value(getattr(golden, name)) if golden.HasField(name) else None
                               for name in _GOLDEN_FIELDS}),
        preferences=members.get(message.customer_id, []),
        attributes=[Attribute(a.name, a.value, dict(a.evidence)) for a in message.attributes],
        household=household_summary(message.household_id, household, members),
    )


def encode_live(preferences: list[PreferenceValue], household: HouseholdSummary) -> bytes:
    """Return the live part of a profile, encoded as a herken.v1.Profile: the person's preferences and the
    household's pets, delivery preference and shared preferences (all that stated preferences change).

    It is ``encode_own_preferences(preferences) + encode_household_live(household)``, byte for byte
    (Profile.preferences is field 5, Profile.household field 7: fields are encoded in number order).
    """
    return encode_own_preferences(preferences) + encode_household_live(household)


def encode_own_preferences(preferences: list[PreferenceValue]) -> bytes:
    """Return the person's own preferences, encoded as a herken.v1.Profile (empty when there are none)."""
    message = pb.Profile()
    for pref in preferences:
        _fill_preference(message.preferences.add(), pref)
    return message.SerializeToString()


def encode_household_live(household: HouseholdSummary) -> bytes:
    """Return the household's live part (pets, delivery preference, shared preferences) as a herken.v1.Profile,
    the same for every member."""
    message = pb.Profile()
    _fill_household_live(message.household, household)
    return message.SerializeToString()


def _length_delimited(field: int, value: bytes) -> bytes:
    """Return one length-delimited field (a message or a string) as protobuf encodes it."""
    size, length = len(value), bytearray()
    while size > 0x7F:                 # the length as a base-128 varint, low groups first
        length.append(size & 0x7F | 0x80)
        size >>= 7
    length.append(size)
    return bytes([field << 3 | 2]) + bytes(length) + value


def profile_reply_bytes(profile: bytes) -> bytes:
    """Return the encoded GetProfileResponse carrying an encoded Profile, without decoding it."""
    return _length_delimited(_PROFILE_FIELD, profile)


def redirected_from_bytes(customer_id: str) -> bytes:
    """Return GetProfileResponse.redirected_from encoded: appended to an encoded reply, it sets that field."""
    return _length_delimited(_REDIRECTED_FIELD, customer_id.encode())


def time_of(stamp: Timestamp) -> dt.datetime:
    """Return a request's Timestamp as an aware UTC datetime.

    Raises:
        ValueError: saying what a valid one is, for seconds or nanos out of Timestamp's range.
    """
    try:
        return stamp.ToDatetime(tzinfo=dt.timezone.utc)
    except (ValueError, OverflowError):
        raise ValueError(f"not a time (seconds {stamp.seconds}, nanos {stamp.nanos}): seconds must fall between "
                         "0001-01-01 and 9999-12-31 and nanos between 0 and 999,999,999") from None
