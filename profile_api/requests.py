"""Checking and unpacking the requests of the ProfileService: plain functions that raise RequestError (a status and
a message for the client), apart from the servicer (``profile_api.service``) that calls them.

INVALID_ARGUMENT messages start with the field path ("identifier.source: ..."); a source naming another channel
than the caller's token is PERMISSION_DENIED.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, NamedTuple

import grpc

from identity.ingest import CHANNELS
from profile_api._generated.herken.v1 import profile_service_pb2 as pb
from profile_api.consent import PURPOSES
from profile_api.messages import time_of

DEFAULT_SEARCH_LIMIT = 10
# What one person's preferences may hold: a profile is served in one message, so they must stay small.
MAX_PREFERENCES_PER_REQUEST = 50
MAX_PREFERENCE_KEY = 64            # characters
MAX_PREFERENCE_VALUE = 500         # characters
CLOCK_SKEW = dt.timedelta(minutes=5)   # a stated_at this far ahead of the server's clock is still taken as now
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


# --- checking and unpacking requests: plain functions that raise RequestError ---

def refuse_nul(*fields: tuple[str, str]) -> None:
    """Raise INVALID_ARGUMENT for the first (field path, text) holding a NUL character.

    No stored value holds one (PostgreSQL text cannot), and libpq cuts a parameter at NUL, so
    'C1\\x00junk' would be looked up as 'C1'.
    """
    for field, text in fields:
        if "\x00" in text:
            raise invalid(field, "must not contain a NUL character")


class IdentifierLookup(NamedTuple):
    """A checked Identifier: the store's kind name, the value, the source (record ids only), and words for it
    (a tuple: one is made per GetProfile by identifier)."""

    kind: str
    value: str
    source: str | None
    what: str


def lookup_of(request: pb.GetProfileRequest) -> str | IdentifierLookup:
    """Return the customer_id, or the checked identifier, a GetProfileRequest asks for."""
    lookup = request.WhichOneof("lookup")
    if lookup == "customer_id":
        return required_id(request, "customer_id")
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


def required_id(request: Any, field: str) -> str:
    """Return the ID a request's field names (customer_id, household_id), stripped; INVALID_ARGUMENT when it is
    empty or holds a NUL."""
    value = getattr(request, field).strip()
    if not value:
        raise invalid(field, "must not be empty")
    refuse_nul((field, value))
    return value


def household_id_of(request: pb.GetHouseholdRequest | pb.ExplainHouseholdRequest) -> str:
    """Return the household_id a GetHouseholdRequest (or ExplainHouseholdRequest) asks for."""
    return required_id(request, "household_id")


@dataclass(frozen=True)
class PreferenceUpdate:
    """A checked UpdatePreferencesRequest."""

    customer_id: str
    source: str
    preferences: list[tuple[str, str]]
    stated_at: dt.datetime | None


def preference_update_of(request: pb.UpdatePreferencesRequest, own_source: str | None = None) -> PreferenceUpdate:
    """Return the checked content of an UpdatePreferencesRequest.

    own_source: the data channel the caller's token writes as (None without tokens: the request's
    source is taken as given). A source naming another channel is PERMISSION_DENIED; none means own_source.
    """
    customer_id, source = request.customer_id.strip(), request.source.strip()
    if own_source is not None:
        if source and source != own_source:
            raise RequestError(grpc.StatusCode.PERMISSION_DENIED, f"source: this token writes as {own_source}, "
                               f"not {source!r}; leave source empty or set it to {own_source}")
        source = own_source
    if not customer_id:
        raise invalid("customer_id", "must not be empty")
    refuse_nul(("customer_id", customer_id), ("source", source),
               *((f"preferences[{i}].{part}", getattr(entry, part))
                 for i, entry in enumerate(request.preferences) for part in ("key", "value")))
    if not source:
        raise invalid("source", "must not be empty: the channel that heard it (pos, webshop, app, service)")
    if not request.preferences:
        raise invalid("preferences", "give at least one key and value")
    if len(request.preferences) > MAX_PREFERENCES_PER_REQUEST:
        raise invalid("preferences", f"{len(request.preferences)} given; at most {MAX_PREFERENCES_PER_REQUEST} "
                                     "in one request")
    entries: dict[str, str] = {}
    for i, entry in enumerate(request.preferences):
        key, value = entry.key.strip().lower(), entry.value.strip()     # one key in any case ("Pet" is pet)
        if not key:
            raise invalid(f"preferences[{i}].key", "must not be empty")
        if not value:
            raise invalid(f"preferences[{i}].value", f"must not be empty (key {key!r})")
        if len(key) > MAX_PREFERENCE_KEY:
            raise invalid(f"preferences[{i}].key", f"{len(key)} characters; at most {MAX_PREFERENCE_KEY}")
        if len(value) > MAX_PREFERENCE_VALUE:
            raise invalid(f"preferences[{i}].value", f"{len(value)} characters (key {key!r}); at most "
                                                     f"{MAX_PREFERENCE_VALUE}")
        if key in entries:
            raise invalid(f"preferences[{i}].key", f"{key!r} is given twice")
        entries[key] = value
    try:
        stated_at = time_of(request.stated_at) if request.HasField("stated_at") else None
    except ValueError as err:
        raise invalid("stated_at", str(err)) from None
    if stated_at is not None and stated_at > dt.datetime.now(dt.timezone.utc) + CLOCK_SKEW:
        # the latest statement wins: one from the future would outrank every true one until then
        raise invalid("stated_at", f"{stated_at.isoformat(timespec='seconds')} is in the future; leave it unset "
                                   "for now")
    return PreferenceUpdate(customer_id, source, list(entries.items()), stated_at)


def consent_update_of(request: pb.UpdateConsentRequest) -> tuple[str, list[tuple[str, bool]]]:
    """Return the customer_id and the (purpose, granted) pairs of an UpdateConsentRequest."""
    customer_id = required_id(request, "customer_id")
    if not request.consents:
        raise invalid("consents", "give at least one purpose and whether it is granted")
    entries: dict[str, bool] = {}
    for i, entry in enumerate(request.consents):
        purpose = PURPOSES.get(entry.purpose)
        if purpose is None:
            raise invalid(f"consents[{i}].purpose", "must be PERSONALISATION, MARKETING or PROFILING")
        if purpose in entries:
            raise invalid(f"consents[{i}].purpose", f"{purpose} is given twice")
        entries[purpose] = entry.granted
    return customer_id, list(entries.items())


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
    if source not in CHANNELS:
        raise invalid(f"{field}.source", f"{source!r} is not one of {', '.join(CHANNELS)}")
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
    return required_id(request, "customer_id")


def forget_request_of(request: pb.ForgetCustomerRequest) -> tuple[str, str]:
    """Return the customer_id and the reason of a ForgetCustomerRequest."""
    customer_id, reason = customer_id_of(request), request.reason.strip()
    refuse_nul(("reason", reason))
    if not reason:
        raise invalid("reason", "must not be empty: say why the person is erased (e.g. 'GDPR request 2026-118'), "
                      "with no personal data")
    return customer_id, reason


def invalid_from_store(err: ValueError, fields: dict[str, str], default: str) -> RequestError:
    """Return INVALID_ARGUMENT for a store's ValueError ("<name>: problem"), on the request field fields[name]."""
    name, sep, problem = str(err).partition(":")
    if sep and name.strip() in fields:
        return invalid(fields[name.strip()], problem.strip())
    return invalid(default, str(err))
