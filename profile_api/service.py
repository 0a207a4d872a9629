"""The gRPC ProfileService, kept thin: each RPC checks and unpacks its request, calls ProfileStore
(which knows nothing about gRPC) and packs the reply (``profile_api.messages``).

Status codes: INVALID_ARGUMENT with the field path first in the message ("identifier.source: ..."),
NOT_FOUND for unknown ids and identifiers, UNAVAILABLE for a write that waited too long for a
publishing run (nothing stored; retry), INTERNAL for anything unexpected. A client never sees a
traceback: it gets a short message with a reference that is logged beside the traceback.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import grpc

from profile_api._generated.herken.v1 import profile_service_pb2 as pb
from profile_api._generated.herken.v1 import profile_service_pb2_grpc as pb_grpc
from profile_api.access import LOCAL, Caller
from profile_api.events import EventsRequestError, events_query_of, events_reply
from profile_api.explain import Explainer, UnknownRecord
from profile_api.messages import (
    ambiguous_pb, candidate_pb, explanation_pb, household_reply, preference_pb, profile_reply_bytes,
    record_explanation_pb, redirected_from_bytes,
)
from profile_api.profiles import Profile, ProfileStore, StoreBusy, UnknownCustomer
from profile_api.resolve_record import (
    NothingPublished, RecordResolver, ResolveRequestError, WarmingUp, record_request_of, resolved_reply,
)
from profile_api.store.erase import ErasedRecord, forget_customer
from profile_api.store.export import NoSuchCustomer, export_json

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

    @functools.wraps(method)     # the undecorated method stays reachable as wrapper.__wrapped__
    def wrapper(self: Any, request: Any, context: grpc.ServicerContext) -> Any:
        try:
            return method(self, request, context)
        except Exception as err:    # noqa: BLE001  (status_of logs what it does not expect)
            code, message = status_of(method.__name__, err)
        context.abort(code, message)

    return wrapper  # type: ignore[return-value]


def status_of(method_name: str, err: Exception) -> tuple[grpc.StatusCode, str]:
    """Return the status and message a client gets for what a handler raised (``rpc``, and the asyncio
    server's handlers): a RequestError's own, or INTERNAL with a reference logged beside the traceback."""
    if isinstance(err, RequestError):
        return err.code, str(err)
    ref = uuid.uuid4().hex[:12]
    log.error("%s failed (ref %s)", method_name, ref, exc_info=err)
    return grpc.StatusCode.INTERNAL, f"internal error (ref {ref}); the server log has the details"


# --- checking and unpacking requests: plain functions that raise RequestError ---

def refuse_nul(*fields: tuple[str, str]) -> None:
    """Raise INVALID_ARGUMENT for the first (field path, text) holding a NUL character.

    No stored value holds one (PostgreSQL text cannot), and libpq cuts a parameter at NUL, so
    'C1\\x00junk' would be looked up as 'C1'.
    """
    for field, text in fields:
        if "\x00" in text:
            raise invalid(field, "must not contain a NUL character")


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
        refuse_nul(("customer_id", customer_id))
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
    refuse_nul(("identifier.value", value), ("identifier.source", source))
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
    refuse_nul(*((name, value) for name, value in criteria.items() if value))
    if not any(criteria.values()):
        raise invalid("name", "give at least one criterion: name, postcode (+ house_number), phone, email "
                      "or birth_date")
    if criteria["house_number"] and not criteria["postcode"]:
        raise invalid("house_number", "needs postcode")
    return criteria, request.limit or DEFAULT_SEARCH_LIMIT


def household_id_of(request: pb.GetHouseholdRequest) -> str:
    """Return the household_id a GetHouseholdRequest asks for."""
    household_id = request.household_id.strip()
    if not household_id:
        raise invalid("household_id", "must not be empty")
    refuse_nul(("household_id", household_id))
    return household_id


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
    refuse_nul(("customer_id", customer_id), ("source", source),
               *((f"preferences[{i}].{part}", getattr(entry, part))
                 for i, entry in enumerate(request.preferences) for part in ("key", "value")))
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


def source_record_of(field: str, ident: pb.Identifier) -> str:
    """Return the record (source:record_id) an Identifier of kind SOURCE_RECORD names; field is its path."""
    if ident.kind != pb.IDENTIFIER_KIND_SOURCE_RECORD:
        name = pb.IdentifierKind.Name(ident.kind) if ident.kind in pb.IdentifierKind.values() else ident.kind
        raise invalid(f"{field}.kind", f"must be IDENTIFIER_KIND_SOURCE_RECORD (the record_id in value, its channel "
                      f"in source), not {name}")
    value, source = ident.value.strip(), ident.source.strip()
    refuse_nul((f"{field}.value", value), (f"{field}.source", source))
    if not value:
        raise invalid(f"{field}.value", "must not be empty (the record_id)")
    if not source:
        raise invalid(f"{field}.source", "required: the channel of the record_id (pos, webshop, app, service)")
    return f"{source}:{value}"


def explain_request_of(request: pb.ExplainMatchRequest) -> tuple[str, str | None]:
    """Return the two records an ExplainMatchRequest asks about (b None: a's place in its person)."""
    if not request.HasField("a"):
        raise invalid("a", "required: the record to explain (IDENTIFIER_KIND_SOURCE_RECORD)")
    a = source_record_of("a", request.a)
    if not request.HasField("b"):
        return a, None
    b = source_record_of("b", request.b)
    if a == b:
        raise invalid("b", "the same record as a; leave b unset to explain a's place in its person")
    return a, b


def customer_id_of(request: pb.ExportCustomerRequest | pb.ForgetCustomerRequest) -> str:
    """Return the customer_id an ExportCustomerRequest or ForgetCustomerRequest names."""
    customer_id = request.customer_id.strip()
    if not customer_id:
        raise invalid("customer_id", "must not be empty")
    refuse_nul(("customer_id", customer_id))
    return customer_id


def forget_request_of(request: pb.ForgetCustomerRequest) -> tuple[str, str]:
    """Return the customer_id and the reason of a ForgetCustomerRequest."""
    customer_id, reason = customer_id_of(request), request.reason.strip()
    refuse_nul(("reason", reason))
    if not reason:
        raise invalid("reason", "must not be empty: say why the person is erased (e.g. 'GDPR request 2026-118'), "
                      "with no personal data")
    return customer_id, reason


# --- the servicer ---

class ProfileServicer(pb_grpc.ProfileServiceServicer):
    """herken.v1.ProfileService over a ProfileStore.

    GetProfile answers a profile already encoded (bytes: the store keeps profiles encoded, and
    decoding them only to encode them again would double the server's work per request); register
    it with ``profile_api.server.add_profile_service``, whose serializer passes bytes through.
    """

    def __init__(self, store: ProfileStore, explainer: Explainer | None = None,
                 resolver: RecordResolver | None = None, runs_dir: Path | None = None) -> None:
        """explainer: answers ExplainMatch (default: one over the store's engine, which loads the run's model
        on the first call and keeps it); resolver: answers ResolveRecord (default: one over the store's engine,
        which loads the published run on its first call and keeps it warm); runs_dir: the runs folder that
        ForgetCustomer scrubs of the person (None: it is left alone)."""
        self.store = store
        self.explainer = explainer or Explainer(store.engine)
        self.resolver = resolver or RecordResolver(store.engine)
        self.runs_dir = runs_dir

    def _caller(self, context: grpc.ServicerContext, rpc_name: str) -> Caller:
        """Return who is calling (the authentication wires ``caller_of``; without it every caller is local)."""
        caller_of = getattr(self, "caller_of", None)
        return caller_of(context, rpc_name) if caller_of is not None else LOCAL

    @rpc
    def GetProfile(self, request: pb.GetProfileRequest,
                   context: grpc.ServicerContext) -> bytes | pb.GetProfileResponse:
        """The profile by customer_id or identifier (encoded); Ambiguous when the identifier has several persons."""
        lookup = lookup_of(request)
        if isinstance(lookup, str):
            return self._encoded_reply(lookup)
        try:
            if lookup.source is None:    # e-mail, phone, card: the persons and their profiles in one read
                found = self.store.encoded_profiles_by_identifier(lookup.kind, lookup.value)
                if len(found) == 1:
                    return profile_reply_bytes(found[0][1])
                customer_ids = [customer_id for customer_id, _ in found]
            else:
                customer_ids = self.store.resolve_identifier(lookup.kind, lookup.value, lookup.source)
        except ValueError as err:
            raise invalid_from_store(err, _IDENTIFIER_ERRORS, "identifier.value") from None
        if not customer_ids:
            raise not_found(f"no customer has this {lookup.what}")
        if len(customer_ids) == 1:
            return self._encoded_reply(customer_ids[0])
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
        except StoreBusy as err:
            raise RequestError(grpc.StatusCode.UNAVAILABLE, str(err)) from None
        except ValueError as err:
            raise invalid_from_store(err, {"source": "source", "preferences": "preferences"}, "preferences") from None
        return pb.UpdatePreferencesResponse(preferences=[preference_pb(p) for p in stored])

    @rpc
    def GetHousehold(self, request: pb.GetHouseholdRequest, context: grpc.ServicerContext) -> pb.GetHouseholdResponse:
        """Members, pets, delivery preference and shared preferences of a household."""
        household_id = household_id_of(request)
        household = self.store.get_household(household_id)
        if household is not None:
            return household_reply(household)
        alias = self.store.alias(household_id)
        if alias is None:
            raise not_found(f"no household {household_id!r}")
        current, reason = alias
        household = self.store.get_household(current) if current else None
        if household is None:
            raise not_found(f"household {household_id!r} no longer exists: {reason}")
        reply = household_reply(household)
        reply.redirected_from = household_id
        return reply

    @rpc
    def ListIdentityEvents(self, request: pb.ListIdentityEventsRequest,
                           context: grpc.ServicerContext) -> pb.ListIdentityEventsResponse:
        """Identity events oldest first, a page at a time."""
        try:
            query = events_query_of(request)
        except EventsRequestError as err:
            raise invalid(err.field, err.problem) from None
        events = self.store.identity_events(since=query.since, customer_id=query.customer_id,
                                            after_seq=query.after_seq, limit=query.page_size + 1)
        return events_reply(events, query.page_size)

    @rpc
    def ExplainMatch(self, request: pb.ExplainMatchRequest, context: grpc.ServicerContext) -> pb.ExplainMatchResponse:
        """Why two records are one person or two; with b unset, a's place in its person."""
        a, b = explain_request_of(request)
        try:
            if b is None:
                return record_explanation_pb(self.explainer.explain_record(a))
            return explanation_pb(self.explainer.explain_pair(a, b))
        except UnknownRecord as err:
            which = "a" if err.record == a else "b"
            raise not_found(f"{which}: {err} (check the channel in {which}.source and the record_id in "
                            f"{which}.value)") from None

    @rpc
    def ResolveRecord(self, request: pb.ResolveRecordRequest,
                      context: grpc.ServicerContext) -> pb.ResolveRecordResponse:
        """The person a record belongs to, scored against the store's records; with persist the record joins it."""
        try:
            resolved = self.resolver.resolve(record_request_of(request))
        except ResolveRequestError as err:
            raise invalid(err.field, err.problem) from None
        except (NothingPublished, ErasedRecord) as err:
            raise RequestError(grpc.StatusCode.FAILED_PRECONDITION, str(err)) from None
        except (StoreBusy, WarmingUp) as err:
            raise RequestError(grpc.StatusCode.UNAVAILABLE, str(err)) from None
        return resolved_reply(resolved)

    @rpc
    def ExportCustomer(self, request: pb.ExportCustomerRequest,
                       context: grpc.ServicerContext) -> pb.ExportCustomerResponse:
        """Everything the store holds on the person, as JSON (an old ID that leads to them is followed)."""
        customer_id = customer_id_of(request)
        try:
            return pb.ExportCustomerResponse(json=export_json(self.store.engine, customer_id))
        except NoSuchCustomer as err:
            raise not_found(str(err)) from None

    @rpc
    def ForgetCustomer(self, request: pb.ForgetCustomerRequest,
                       context: grpc.ServicerContext) -> pb.ForgetCustomerResponse:
        """Erase the person for good (``profile_api.store.erase``); answer how many records went."""
        customer_id, reason = forget_request_of(request)
        caller = self._caller(context, "ForgetCustomer")
        try:
            erased = forget_customer(self.store.engine, customer_id, reason, caller=caller, runs_dir=self.runs_dir)
        except NoSuchCustomer as err:
            raise not_found(str(err)) from None
        self.store.drop_caches()        # the search's name index held their names
        self.resolver.drop_warm()       # the warm records held theirs; the next call loads the run again
        return pb.ForgetCustomerResponse(records_erased=erased.records_erased)

    def _encoded_reply(self, customer_id: str) -> bytes:
        encoded = self.store.encoded_profile(customer_id)
        if encoded is not None:
            return profile_reply_bytes(encoded)
        alias = self.store.alias(customer_id)
        if alias is None:
            raise not_found(f"no customer {customer_id!r}")
        current, reason = alias
        if current is None:
            raise not_found(f"customer {customer_id!r} no longer exists: {reason}")
        encoded = self.store.encoded_profile(current)
        if encoded is None:
            raise not_found(f"customer {customer_id!r} now is {current!r}, which is not in the published result")
        return profile_reply_bytes(encoded) + redirected_from_bytes(customer_id)

    def _profile(self, customer_id: str) -> Profile:
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
