"""The gRPC ProfileService, kept thin: each RPC checks and unpacks its request, calls ProfileStore
(which knows nothing about gRPC) and packs the reply.

Status codes: INVALID_ARGUMENT with the field path first in the message ("identifier.source: ..."),
NOT_FOUND for unknown ids and identifiers, INTERNAL for anything unexpected. A client never sees a
traceback: it gets a short message with a reference that is logged beside the traceback.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from identity.standardise import parse_timestamp
from profile_api._generated.herken.v1 import profile_service_pb2 as pb
from profile_api._generated.herken.v1 import profile_service_pb2_grpc as pb_grpc
from profile_api.profiles import (
    Candidate, GoldenRecord, HouseholdSummary, PreferenceValue, Profile, ProfileStore, UnknownCustomer,
)

log = logging.getLogger(__name__)

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["ProfileService"].full_name  # "herken.v1.ProfileService"
DEFAULT_SEARCH_LIMIT = 10
MAX_SEARCH_LIMIT = 100

# The store's names for the identifier kinds, and the words used in messages to people.
IDENTIFIER_KINDS: dict[int, tuple[str, str]] = {
    pb.IDENTIFIER_KIND_LOYALTY_CARD: ("loyalty_card", "loyalty card"),
    pb.IDENTIFIER_KIND_EMAIL: ("email", "e-mail address"),
    pb.IDENTIFIER_KIND_PHONE: ("phone", "phone number"),
    pb.IDENTIFIER_KIND_SOURCE_RECORD: ("source_record", "source record"),
}
# A store's ValueError names what it is about; these are the request fields that carry it.
_IDENTIFIER_ERRORS = {"kind": "identifier.kind", "source": "identifier.source", "source_record": "identifier.source",
                      **{kind: "identifier.value" for kind, _ in IDENTIFIER_KINDS.values()}}


class RequestError(Exception):
    """A request the service answers with a status other than OK; the message is shown to the client."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code


def invalid(field: str, problem: str) -> RequestError:
    """Return an INVALID_ARGUMENT error whose message starts with the field path."""
    return RequestError(grpc.StatusCode.INVALID_ARGUMENT, f"{field}: {problem}")


def not_found(message: str) -> RequestError:
    """Return a NOT_FOUND error."""
    return RequestError(grpc.StatusCode.NOT_FOUND, message)


Handler = TypeVar("Handler", bound=Callable[..., Any])


def rpc(method: Handler) -> Handler:
    """Turn RequestError into its status and anything unexpected into INTERNAL, with the traceback logged."""

    @functools.wraps(method)
    def wrapper(self: Any, request: Any, context: grpc.ServicerContext) -> Any:
        try:
            return method(self, request, context)
        except RequestError as err:
            code, message = err.code, str(err)
        except Exception:
            ref = uuid.uuid4().hex[:12]
            log.exception("%s failed (ref %s)", method.__name__, ref)
            code, message = grpc.StatusCode.INTERNAL, f"internal error (ref {ref}); the server log has the details"
        context.abort(code, message)

    return wrapper  # type: ignore[return-value]


# --- packing store values into messages: plain functions, no gRPC ---
# These run for every reply, so they take the store's values as they are (text, as its dataclasses
# say) and convert each distinct timestamp text once.

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
            field = getattr(message, name)
            field.value, field.source, field.record_id = value.value, value.source, value.record_id
            _set_time(field.updated_at, value.updated_at)


def _fill_household(message: pb.Household, household: HouseholdSummary) -> None:
    message.household_id = household.household_id
    for member in household.members:
        message.members.add(customer_id=member.customer_id, display_name=member.display_name)
    message.pets.extend(household.pets)
    message.delivery_preference = household.delivery_preference or ""
    for pref in household.shared_preferences:
        _fill_preference(message.shared_preferences.add(), pref)


def _fill_profile(message: pb.Profile, profile: Profile) -> None:
    message.customer_id, message.household_id = profile.customer_id, profile.household_id
    message.display_name = profile.display_name
    _fill_golden(message.golden, profile.golden)
    for pref in profile.preferences:
        _fill_preference(message.preferences.add(), pref)
    for attribute in profile.attributes:
        evidence = message.attributes.add(name=attribute.name, value=attribute.value).evidence
        for key, value in attribute.evidence.items():
            if value is not None:       # evidence without a value is left out
                evidence[key] = value if isinstance(value, str) else str(value)
    _fill_household(message.household, profile.household)


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


def profile_reply(profile: Profile) -> pb.GetProfileResponse:
    """Return the GetProfileResponse carrying a profile."""
    reply = pb.GetProfileResponse()
    _fill_profile(reply.profile, profile)
    return reply


def ambiguous_pb(profiles: list[Profile], what: str) -> pb.Ambiguous:
    """Return the Ambiguous reply for an identifier shared by the persons of these profiles."""
    message = pb.Ambiguous(
        reason=f"this {what} is used by {len(profiles)} persons; ask who it is and call GetProfile by customer_id",
        candidates=[pb.PersonRef(customer_id=p.customer_id, household_id=p.household_id,
                                 display_name=p.display_name) for p in profiles])
    seen: set[str] = set()
    for p in profiles:
        if p.household.household_id not in seen:
            seen.add(p.household.household_id)
            _fill_household(message.households.add(), p.household)
    return message


def candidate_pb(candidate: Candidate) -> pb.Candidate:
    """Return the Candidate message of a search Candidate."""
    return pb.Candidate(customer_id=candidate.customer_id, household_id=candidate.household_id,
                        display_name=candidate.display_name, score=candidate.score, matched_on=candidate.matched_on)


# --- checking and unpacking requests: plain functions that raise RequestError ---

@dataclass(frozen=True)
class IdentifierLookup:
    """A checked Identifier: the store's kind name, the value, the source (record ids only), and words for it."""

    kind: str
    value: str
    source: str | None
    what: str


def lookup_of(request: pb.GetProfileRequest) -> str | IdentifierLookup:
    """Return the customer_id, or the checked identifier, a GetProfileRequest asks for."""
    lookup = request.WhichOneof("lookup")
    if lookup == "customer_id":
        customer_id = request.customer_id.strip()
        if not customer_id:
            raise invalid("customer_id", "must not be empty")
        return customer_id
    if lookup != "identifier":
        raise invalid("lookup", "set customer_id or identifier")
    ident = request.identifier
    if ident.kind not in IDENTIFIER_KINDS:
        name = pb.IdentifierKind.Name(ident.kind) if ident.kind in pb.IdentifierKind.values() else ident.kind
        raise invalid("identifier.kind", f"must be LOYALTY_CARD, EMAIL, PHONE or SOURCE_RECORD, not {name}")
    kind, what = IDENTIFIER_KINDS[ident.kind]
    value, source = ident.value.strip(), ident.source.strip()
    if not value:
        raise invalid("identifier.value", f"must not be empty (the {what})")
    if ident.kind == pb.IDENTIFIER_KIND_SOURCE_RECORD:
        if not source:
            raise invalid("identifier.source", "required for IDENTIFIER_KIND_SOURCE_RECORD: the channel of the "
                          "record_id (pos, webshop, app, service)")
    elif source:
        raise invalid("identifier.source", "only for IDENTIFIER_KIND_SOURCE_RECORD; leave it empty")
    return IdentifierLookup(kind, value, source or None, what)


SEARCH_FIELDS = ("name", "postcode", "house_number", "phone", "email", "birth_date")


def search_criteria(request: pb.SearchCustomersRequest) -> tuple[dict[str, str | None], int]:
    """Return the search criteria (None for those not given) and the limit of a SearchCustomersRequest."""
    if request.limit < 0 or request.limit > MAX_SEARCH_LIMIT:
        raise invalid("limit", f"must be between 1 and {MAX_SEARCH_LIMIT} (0 means {DEFAULT_SEARCH_LIMIT}), "
                      f"not {request.limit}")
    criteria = {name: getattr(request, name).strip() or None for name in SEARCH_FIELDS}
    if not any(criteria.values()):
        raise invalid("name", "give at least one criterion: name, postcode (+ house_number), phone, email "
                      "or birth_date")
    if criteria["house_number"] and not criteria["postcode"]:
        raise invalid("house_number", "needs postcode")
    return criteria, request.limit or DEFAULT_SEARCH_LIMIT


@dataclass(frozen=True)
class PreferenceUpdate:
    """A checked UpdatePreferencesRequest."""

    customer_id: str
    source: str
    preferences: list[tuple[str, str]]
    stated_at: dt.datetime | None


def preference_update_of(request: pb.UpdatePreferencesRequest) -> PreferenceUpdate:
    """Return the checked content of an UpdatePreferencesRequest."""
    customer_id, source = request.customer_id.strip(), request.source.strip()
    if not customer_id:
        raise invalid("customer_id", "must not be empty")
    if not source:
        raise invalid("source", "must not be empty: the channel that heard it (pos, webshop, app, service)")
    if not request.preferences:
        raise invalid("preferences", "give at least one key and value")
    entries: dict[str, str] = {}
    for i, entry in enumerate(request.preferences):
        key, value = entry.key.strip(), entry.value.strip()
        if not key:
            raise invalid(f"preferences[{i}].key", "must not be empty")
        if not value:
            raise invalid(f"preferences[{i}].value", f"must not be empty (key {key!r})")
        if key in entries:
            raise invalid(f"preferences[{i}].key", f"{key!r} is given twice")
        entries[key] = value
    stated_at = request.stated_at.ToDatetime(tzinfo=dt.timezone.utc) if request.HasField("stated_at") else None
    return PreferenceUpdate(customer_id, source, list(entries.items()), stated_at)


# --- the servicer ---

class ProfileServicer(pb_grpc.ProfileServiceServicer):
    """herken.v1.ProfileService over a ProfileStore."""

    def __init__(self, store: ProfileStore) -> None:
        self.store = store

    @rpc
    def GetProfile(self, request: pb.GetProfileRequest, context: grpc.ServicerContext) -> pb.GetProfileResponse:
        """The profile by customer_id or identifier; Ambiguous when the identifier has several persons."""
        lookup = lookup_of(request)
        if isinstance(lookup, str):
            return profile_reply(self._profile(lookup))
        try:
            customer_ids = self.store.resolve_identifier(lookup.kind, lookup.value, lookup.source)
        except ValueError as err:
            raise invalid_from_store(err, _IDENTIFIER_ERRORS, "identifier.value") from None
        if not customer_ids:
            raise not_found(f"no customer has this {lookup.what}")
        if len(customer_ids) == 1:
            return profile_reply(self._profile(customer_ids[0]))
        return pb.GetProfileResponse(ambiguous=ambiguous_pb([self._profile(c) for c in customer_ids], lookup.what))

    @rpc
    def SearchCustomers(self, request: pb.SearchCustomersRequest,
                        context: grpc.ServicerContext) -> pb.SearchCustomersResponse:
        """Ranked candidates for any of name, postcode + house number, phone, e-mail, birth date."""
        criteria, limit = search_criteria(request)
        try:
            candidates = self.store.search(**criteria, limit=limit)
        except ValueError as err:
            given = next(name for name, value in criteria.items() if value)
            raise invalid_from_store(err, {name: name for name in SEARCH_FIELDS}, given) from None
        return pb.SearchCustomersResponse(candidates=[candidate_pb(c) for c in candidates])

    @rpc
    def UpdatePreferences(self, request: pb.UpdatePreferencesRequest,
                          context: grpc.ServicerContext) -> pb.UpdatePreferencesResponse:
        """Store preferences a channel heard; return the person's preferences after the update."""
        update = preference_update_of(request)
        try:
            stored = self.store.update_preferences(update.customer_id, update.source, update.preferences,
                                                   stated_at=update.stated_at)
        except UnknownCustomer:
            raise not_found(f"no customer {update.customer_id!r}") from None
        except ValueError as err:
            raise invalid_from_store(err, {"source": "source", "preferences": "preferences"}, "preferences") from None
        return pb.UpdatePreferencesResponse(preferences=[preference_pb(p) for p in stored])

    @rpc
    def GetHousehold(self, request: pb.GetHouseholdRequest, context: grpc.ServicerContext) -> pb.GetHouseholdResponse:
        """Members, pets, delivery preference and shared preferences of a household."""
        household_id = request.household_id.strip()
        if not household_id:
            raise invalid("household_id", "must not be empty")
        household = self.store.get_household(household_id)
        if household is None:
            raise not_found(f"no household {household_id!r}")
        reply = pb.GetHouseholdResponse()
        _fill_household(reply.household, household)
        return reply

    def _profile(self, customer_id: str) -> Any:
        profile = self.store.get_profile(customer_id)
        if profile is None:
            raise not_found(f"no customer {customer_id!r}")
        return profile


def invalid_from_store(err: ValueError, fields: dict[str, str], default: str) -> RequestError:
    """Return INVALID_ARGUMENT for a store's ValueError ("<name>: problem"), on the request field fields[name]."""
    name, sep, problem = str(err).partition(":")
    if sep and name.strip() in fields:
        return invalid(fields[name.strip()], problem.strip())
    return invalid(default, str(err))
