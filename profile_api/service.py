"""The gRPC ProfileService, kept thin: each RPC checks and unpacks its request, calls ProfileStore
(which knows nothing about gRPC) and packs the reply (``profile_api.messages``).

Every call first says who it is (``profile_api.access``: a bearer token maps to a channel;
UNAUTHENTICATED, PERMISSION_DENIED), then runs, then is written to the audit log with the persons it
read or changed (``profile_api.store.audit``). What a profile shows depends on the caller's channel
(``profile_api.views``) and the person's consent (``profile_api.consent``).

Status codes: INVALID_ARGUMENT with the field path first in the message ("identifier.source: ..."),
NOT_FOUND for unknown ids and identifiers, UNAVAILABLE for a write that waited too long for a
publishing run (nothing stored; retry) and for a store that cannot be reached now (a database
restart: ``profile_api.faults``), INTERNAL for anything unexpected. A client never sees a
traceback: it gets a short message with a reference that is logged beside the traceback.
"""

from __future__ import annotations

import functools
import logging
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import grpc

from profile_api._generated.herken.v1 import profile_service_pb2 as pb
from profile_api._generated.herken.v1 import profile_service_pb2_grpc as pb_grpc
from profile_api.access import LOCAL, PREFERENCE_SOURCE, Access, Caller, Denied
from profile_api.consent import (
    DEFAULT_CONSENT, Allowed, allowed, consent_messages, encoded_consents, parse_state,
)
from profile_api.events import EventsRequestError, events_query_of, events_reply
from profile_api.explain import Explainer, UnknownHousehold, UnknownRecord
from profile_api.faults import store_fault
from profile_api.messages import (
    ambiguous_of_encoded, ambiguous_pb, candidate_pb, explanation_pb, household_reply, household_tree_pb, preference_pb,
    profile_reply_bytes, record_explanation_pb, redirected_from_bytes,
)
from profile_api.profiles import Profile, ProfileStore, StoreBusy, UnknownCustomer
from profile_api.requests import (
    _IDENTIFIER_ERRORS, SEARCH_FIELDS, RequestError, consent_update_of, customer_id_of, explain_request_of,
    forget_request_of, household_id_of, invalid, invalid_from_store, lookup_of, not_found, preference_update_of,
    search_criteria,
)
from profile_api.resolve_record import (
    NothingPublished, RecordResolver, ResolveRequestError, WarmingUp, record_request_of, resolved_reply,
)
from profile_api.store.erase import ErasedRecord, RunsFolderUnwritable, forget_customer, runs_folder_missing
from profile_api.store.export import NoSuchCustomer, export_json
from profile_api.store.audit import AuditLog, Entry, now
from profile_api.views import (
    restrict_ambiguous, restrict_candidates, restrict_explanation, restrict_household, restrict_household_tree,
    restrict_profile, strip_household_by_consent,
)

log = logging.getLogger(__name__)

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["ProfileService"].full_name  # "herken.v1.ProfileService"


Handler = TypeVar("Handler", bound=Callable[..., Any])
Written = TypeVar("Written")


def rpc(method: Handler) -> Handler:
    """Run a handler as a call (who calls, may they, audit: ``ProfileServicer.guarded``), turning RequestError
    into its status and anything unexpected into INTERNAL, with the traceback logged.

    ``wrapper.__wrapped__`` is the guarded handler that raises instead of aborting: the asyncio server
    runs it and aborts in its own way.
    """

    def guarded(self: Any, request: Any, context: Any) -> Any:
        return self.guarded(method, request, context)

    @functools.wraps(method)
    def wrapper(self: Any, request: Any, context: grpc.ServicerContext) -> Any:
        try:
            return guarded(self, request, context)
        except Exception as err:    # noqa: BLE001  (status_of logs what it does not expect)
            code, message = status_of(method.__name__, err)
        context.abort(code, message)

    wrapper.__wrapped__ = guarded   # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


class Call:
    """One call under way: who makes it, the view they get, and the persons it read or changed (for the audit)."""

    __slots__ = ("caller", "view", "customers", "household_id", "detail")

    def __init__(self, caller: Caller, view: str) -> None:
        self.caller, self.view = caller, view
        self.customers: list[str] = []
        self.household_id: str | None = None
        self.detail: str | None = None


_calls = threading.local()     # the Call the handler running in this thread serves


def status_of(method_name: str, err: Exception) -> tuple[grpc.StatusCode, str]:
    """Return the status and message a client gets for what a handler raised (``rpc``, and the asyncio
    server's handlers): a RequestError's own, or INTERNAL with a reference logged beside the traceback."""
    if isinstance(err, RequestError):
        return err.code, shortened(str(err))
    fault = store_fault(err)       # the store gone (UNAVAILABLE: retry) or a statement past the deadline
    if fault is not None:
        log.warning("%s: %s (%s)", method_name, fault[1], " ".join(str(err).split())[:200])
        return fault
    ref = uuid.uuid4().hex[:12]
    log.error("%s failed (ref %s)", method_name, ref, exc_info=err)
    return grpc.StatusCode.INTERNAL, f"internal error (ref {ref}); the server log has the details"


MAX_MESSAGE_CHARS = 1000    # a status message travels in a header: gRPC clients refuse one of more than 16 KiB


def shortened(message: str) -> str:
    """Return a status message cut to MAX_MESSAGE_CHARS (a message may quote a value of the request)."""
    if len(message) <= MAX_MESSAGE_CHARS:
        return message
    return f"{message[:MAX_MESSAGE_CHARS]}... ({len(message) - MAX_MESSAGE_CHARS:,} characters more)"


# --- the servicer ---

class ProfileServicer(pb_grpc.ProfileServiceServicer):
    """herken.v1.ProfileService over a ProfileStore.

    GetProfile answers a profile already encoded (bytes: the store keeps profiles encoded, and
    decoding them only to encode them again would double the server's work per request); register
    it with ``profile_api.server.add_profile_service``, whose serializer passes bytes through.
    """

    def __init__(self, store: ProfileStore, explainer: Explainer | None = None,
                 resolver: RecordResolver | None = None, *, access: Access | None = None,
                 audit: AuditLog | None = None, consent_defaults: dict[str, bool] | None = None,
                 runs_dir: Path | None = None) -> None:
        """explainer: answers ExplainMatch (default: one over the store's engine, which loads the run's model
        on the first call and keeps it); resolver: answers ResolveRecord (default: one over the store's engine,
        which loads the published run on its first call and keeps it warm); access: tokens and channel
        rights (default none: every caller is local, with every right); audit: where calls are logged
        (default: the store's audit log); consent_defaults: what a person who never said allows; runs_dir:
        the runs folder that ForgetCustomer scrubs of the person (None: it is left alone)."""
        self.store = store
        self.explainer = explainer or Explainer(store.engine)
        self.resolver = resolver or RecordResolver(store.engine)
        self.access = access or Access()
        self.audit = audit or AuditLog(store.engine)
        self.consent_defaults = dict(consent_defaults or DEFAULT_CONSENT)
        self.runs_dir = runs_dir
        self._default_consents = encoded_consents({}, self.consent_defaults)
        self._everything = allowed({}, self.consent_defaults)

    def close(self) -> None:
        """Write the audit entries still queued (the server calls it when it stops)."""
        self.audit.close()

    def guarded(self, method: Callable[..., Any], request: Any, context: Any) -> Any:
        """Run a handler as a call: refuse an unknown caller or a channel without the right, then log it."""
        name = method.__name__
        try:     # without tokens every caller is local: the metadata (a tuple built per call) is not asked for
            caller = self.access.caller(context.invocation_metadata(), name) if self.access.required else LOCAL
        except Denied as err:
            code = grpc.StatusCode.UNAUTHENTICATED if err.unauthenticated else grpc.StatusCode.PERMISSION_DENIED
            who = err.caller or Caller("unauthenticated")
            self.audit.record(Entry(now(), who.channel, who.token_id, name, outcome=code.name, detail=str(err)))
            raise RequestError(code, str(err)) from None
        call = Call(caller, self.access.view_of(caller))
        _calls.call = call
        outcome = "OK"
        try:
            return method(self, request, context)
        except RequestError as err:
            outcome = err.code.name
            raise
        except Exception:
            outcome = "INTERNAL"
            raise
        finally:
            _calls.call = None
            at = now()
            for customer_id in call.customers or [None]:
                self.audit.record(Entry(at, caller.channel, caller.token_id, name, customer_id, call.household_id,
                                        outcome, call.detail))

    @staticmethod
    def _call() -> Call:
        """Return the call this thread serves (a handler called outside ``guarded``, as in a test: a local one)."""
        return getattr(_calls, "call", None) or Call(LOCAL, "full")

    def _present(self, encoded: bytes, consent: str | None, call: Call) -> bytes:
        """Return a profile as the call's view and the person's consent let it be shown, with its consents (encoded)."""
        if consent is None:
            if call.view == "full" and self._everything.preferences and self._everything.attributes:
                return encoded + self._default_consents      # the common case: no decoding
            state, consents = {}, self._default_consents
        else:
            state = parse_state(consent)
            consents = encoded_consents(state, self.consent_defaults)
        profile = pb.Profile.FromString(encoded)
        restrict_profile(profile, call.view, allowed(state, self.consent_defaults))
        return profile.SerializeToString() + consents

    @rpc
    def GetProfile(self, request: pb.GetProfileRequest,
                   context: grpc.ServicerContext) -> bytes | pb.GetProfileResponse:
        """The profile by customer_id or identifier (encoded); Ambiguous when the identifier has several persons."""
        lookup = lookup_of(request)
        call = self._call()
        if isinstance(lookup, str):
            return self._encoded_reply(lookup, call)
        try:
            if lookup.source is None:    # e-mail, phone, card: the persons and their profiles in one read
                found = self.store.served_profiles_by_identifier(lookup.kind, lookup.value)
                if len(found) == 1:
                    call.customers.append(found[0][0])
                    return profile_reply_bytes(self._present(found[0][1], found[0][2], call))
                if found:      # the persons' profiles came with the read: no read per person
                    call.customers.extend(customer_id for customer_id, _, _ in found)
                    ambiguous = ambiguous_of_encoded([encoded for _, encoded, _ in found], lookup.what)
                    restrict_ambiguous(ambiguous, call.view)
                    self._strip_households(list(ambiguous.households))
                    return pb.GetProfileResponse(ambiguous=ambiguous)
                customer_ids = []
            else:
                customer_ids = self.store.resolve_identifier(lookup.kind, lookup.value, lookup.source)
        except ValueError as err:
            raise invalid_from_store(err, _IDENTIFIER_ERRORS, "identifier.value") from None
        if not customer_ids:
            raise not_found(f"no customer has this {lookup.what}")
        if len(customer_ids) == 1:
            return self._encoded_reply(customer_ids[0], call)
        call.customers.extend(customer_ids)
        ambiguous = ambiguous_pb([self._profile(c) for c in customer_ids], lookup.what)
        restrict_ambiguous(ambiguous, call.view)
        self._strip_households(list(ambiguous.households))
        return pb.GetProfileResponse(ambiguous=ambiguous)

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
        call = self._call()
        call.customers.extend(c.customer_id for c in candidates)
        call.detail = "criteria: " + ", ".join(name for name, value in criteria.items() if value)
        reply = pb.SearchCustomersResponse(candidates=[candidate_pb(c) for c in candidates])
        restrict_candidates(reply.candidates, call.view)
        return reply

    @rpc
    def UpdatePreferences(self, request: pb.UpdatePreferencesRequest,
                          context: grpc.ServicerContext) -> pb.UpdatePreferencesResponse:
        """Store preferences a channel heard; return the person's preferences after the update."""
        call = self._call()
        own = PREFERENCE_SOURCE.get(call.caller.channel) if self.access.required else None
        update = preference_update_of(request, own)
        call.customers.append(update.customer_id)
        call.detail = "keys: " + ", ".join(key for key, _ in update.preferences)
        try:
            customer_id, stored = self._to_current(update.customer_id, lambda customer_id: self.store.update_preferences(
                customer_id, update.source, update.preferences, stated_at=update.stated_at))
        except StoreBusy as err:
            raise RequestError(grpc.StatusCode.UNAVAILABLE, str(err)) from None
        except ValueError as err:
            raise invalid_from_store(err, {"source": "source", "preferences": "preferences"}, "preferences") from None
        call.customers[:] = [customer_id]
        consent = self.store.consent_of(customer_id)
        if not allowed(parse_state(consent) if consent else {}, self.consent_defaults).preferences:
            # what they told other channels stays withheld, as GetProfile withholds it: only this statement returns
            told = dict(update.preferences)
            stored = [p for p in stored if told.get(p.key) == p.value and p.source == update.source]
        return pb.UpdatePreferencesResponse(preferences=[preference_pb(p) for p in stored])

    @rpc
    def GetHousehold(self, request: pb.GetHouseholdRequest, context: grpc.ServicerContext) -> pb.GetHouseholdResponse:
        """Members, pets, delivery preference and shared preferences of a household."""
        household_id = household_id_of(request)
        call = self._call()
        call.household_id = household_id
        household = self.store.get_household(household_id)
        if household is not None:
            return self._household(household, call)
        alias = self.store.alias(household_id)
        if alias is None:
            raise not_found(f"no household {household_id!r}")
        current, reason = alias
        household = self.store.get_household(current) if current else None
        if household is None:
            raise not_found(f"household {household_id!r} no longer exists: {reason}")
        reply = self._household(household, call)
        reply.redirected_from = household_id
        return reply

    @rpc
    def ExplainHousehold(self, request: pb.ExplainHouseholdRequest,
                         context: grpc.ServicerContext) -> pb.ExplainHouseholdResponse:
        """What holds a household together: from its first member, the links that reach every other one."""
        household_id = household_id_of(request)
        call = self._call()
        call.household_id = household_id
        redirected_from = ""
        try:
            tree = self.explainer.explain_household(household_id)
        except UnknownHousehold:
            alias = self.store.alias(household_id)
            if alias is None:
                raise not_found(f"no household {household_id!r}") from None
            current, reason = alias
            if not current:
                raise not_found(f"household {household_id!r} no longer exists: {reason}") from None
            try:
                tree = self.explainer.explain_household(current)
            except UnknownHousehold:
                raise not_found(f"household {household_id!r} no longer exists: {reason}") from None
            redirected_from = household_id
        reply = household_tree_pb(tree, redirected_from)
        call.customers.extend(reply.customer_ids)
        restrict_household_tree(reply, call.view)
        return reply

    @rpc
    def ListIdentityEvents(self, request: pb.ListIdentityEventsRequest,
                           context: grpc.ServicerContext) -> pb.ListIdentityEventsResponse:
        """Identity events oldest first, a page at a time."""
        try:
            query = events_query_of(request)
        except EventsRequestError as err:
            raise invalid(err.field, err.problem) from None
        if query.customer_id:
            self._call().customers.append(query.customer_id)
        events = self.store.identity_events(since=query.since, customer_id=query.customer_id,
                                            after_seq=query.after_seq, limit=query.page_size + 1)
        return events_reply(events, query.page_size)

    @rpc
    def ExplainMatch(self, request: pb.ExplainMatchRequest, context: grpc.ServicerContext) -> pb.ExplainMatchResponse:
        """Why two records are one person or two; with b unset, a's place in its person."""
        a, b = explain_request_of(request)
        call = self._call()
        # the channels of the records, not their ids: an id leads to the person in the channel's own system, and the
        # audit log outlives an erasure
        call.detail = "records of " + (f"{a.split(':', 1)[0]}, {b.split(':', 1)[0]}" if b else a.split(":", 1)[0])
        try:
            if b is None:
                reply = record_explanation_pb(self.explainer.explain_record(a))
            else:
                reply = explanation_pb(self.explainer.explain_pair(a, b))
        except UnknownRecord as err:
            which = "a" if err.record == a else "b"
            raise not_found(f"{which}: {err} (check the channel in {which}.source and the record_id in "
                            f"{which}.value)") from None
        call.customers.extend(c for c in dict.fromkeys((reply.customer_id_a, reply.customer_id_b)) if c)
        restrict_explanation(reply, call.view)
        return reply

    @rpc
    def ResolveRecord(self, request: pb.ResolveRecordRequest,
                      context: grpc.ServicerContext) -> pb.ResolveRecordResponse:
        """The person a record belongs to, scored against the store's records; with persist the record joins it."""
        own = PREFERENCE_SOURCE.get(self._call().caller.channel) if self.access.required else None
        if request.persist and self.access.required and request.source.strip() != own:
            # a channel writes its own records only, as it writes preferences only as itself
            raise RequestError(grpc.StatusCode.PERMISSION_DENIED,
                               f"source: this token writes {own} records, not {request.source.strip()!r}" if own else
                               "persist: this token's channel writes no records; ask without persist")
        try:
            resolved = self.resolver.resolve(record_request_of(request))
        except ResolveRequestError as err:
            raise invalid(err.field, err.problem) from None
        except (NothingPublished, ErasedRecord) as err:
            raise RequestError(grpc.StatusCode.FAILED_PRECONDITION, str(err)) from None
        except (StoreBusy, WarmingUp) as err:
            raise RequestError(grpc.StatusCode.UNAVAILABLE, str(err)) from None
        if request.persist:
            self.store.forget_kept_reads()     # the record joined a person: this process serves it at once
            self.store.note_written(resolved.customer_id)     # and finds it by name
        reply = resolved_reply(resolved)
        call = self._call()
        if self.access.required and "SearchCustomers" not in self.access.rights[call.caller.channel].rpcs:
            self._known_by_identifiers_only(request.record, reply, joined=request.persist)
        call.customers.extend(dict.fromkeys(c for c in [reply.customer_id, *(m.customer_id for m in reply.candidates)]
                                            if c))
        call.detail = "persist" if request.persist else None
        restrict_candidates(reply.candidates, call.view)
        return reply

    @rpc
    def ExportCustomer(self, request: pb.ExportCustomerRequest,
                       context: grpc.ServicerContext) -> pb.ExportCustomerResponse:
        """Everything the store holds on the person, as JSON (an old ID that leads to them is followed)."""
        customer_id = customer_id_of(request)
        call = self._call()
        call.customers.append(customer_id)
        try:
            return pb.ExportCustomerResponse(json=export_json(self.store.engine, customer_id))
        except NoSuchCustomer as err:
            raise not_found(str(err)) from None

    @rpc
    def ForgetCustomer(self, request: pb.ForgetCustomerRequest,
                       context: grpc.ServicerContext) -> pb.ForgetCustomerResponse:
        """Erase the person for good (``profile_api.store.erase``); answer how many records went."""
        customer_id, reason = forget_request_of(request)
        call = self._call()
        call.customers.append(customer_id)
        if self.runs_dir is not None and (missing := runs_folder_missing(self.store.engine, self.runs_dir)):
            log.warning("ForgetCustomer: the runs folder %s holds none of the store's runs (%s): their "
                        "quarantine.csv and reports are not scrubbed here; run `herken forget` where `herken resolve` "
                        "ran, or serve with HERKEN_RUNS_DIR set to that folder", self.runs_dir, missing)
        try:
            erased = forget_customer(self.store.engine, customer_id, reason, caller=call.caller,
                                     runs_dir=self.runs_dir)
        except NoSuchCustomer as err:
            raise not_found(str(err)) from None
        except RunsFolderUnwritable as err:
            raise RequestError(grpc.StatusCode.FAILED_PRECONDITION, str(err)) from None
        call.household_id = erased.household_id
        call.detail = f"{erased.erasure_id}: {erased.records_erased} records"
        self.store.drop_caches()        # the search's name index held their names
        self.resolver.drop_warm()       # the warm records held theirs; the next call loads the run again
        return pb.ForgetCustomerResponse(records_erased=erased.records_erased)

    @rpc
    def UpdateConsent(self, request: pb.UpdateConsentRequest,
                      context: grpc.ServicerContext) -> pb.UpdateConsentResponse:
        """Record a person's consent per purpose, with the time and the caller's channel; return all purposes."""
        asked, entries = consent_update_of(request)
        call = self._call()
        call.customers.append(asked)
        call.detail = "; ".join(f"{purpose}={'granted' if granted else 'refused'}" for purpose, granted in entries)
        try:
            current, state = self._to_current(asked, lambda customer_id: self.store.update_consent(
                customer_id, entries, channel=call.caller.channel, token_id=call.caller.token_id,
                source=PREFERENCE_SOURCE.get(call.caller.channel)))
        except StoreBusy as err:
            raise RequestError(grpc.StatusCode.UNAVAILABLE, str(err)) from None
        call.customers[:] = [current]
        return pb.UpdateConsentResponse(consents=consent_messages(state, self.consent_defaults))

    def _household(self, household: Any, call: Call) -> pb.GetHouseholdResponse:
        reply = household_reply(household)
        call.customers.extend(member.customer_id for member in reply.household.members)
        restrict_household(reply.household, call.view)
        self._strip_households([reply.household])
        return reply

    def _known_by_identifiers_only(self, record: pb.SourceRecord, reply: pb.ResolveRecordResponse,
                                   joined: bool) -> None:
        """Leave in a ResolveRecord answer only the persons who use the record's e-mail, phone or card: a channel that
        may not search (checkout) finds no one by name and address alone, as it could not by SearchCustomers. A
        record written (``joined``) names only the person it joined: the channel's record is theirs now."""
        if joined:      # the record is the person's now: the answer names them alone
            kept = [c for c in reply.candidates if c.customer_id == reply.customer_id]
            del reply.candidates[:]
            reply.candidates.extend(kept)
            return
        holders: set[str] = set()
        for kind, value in (("email", record.email), ("phone", record.phone), ("loyalty_card", record.loyalty_card)):
            if value.strip():
                try:
                    holders.update(self.store.resolve_identifier(kind, value.strip()))
                except ValueError:      # not a value of its kind: it finds no one
                    continue
        if reply.customer_id not in holders:
            reply.customer_id = reply.household_id = ""
            reply.match_probability = 0.0
        kept = [c for c in reply.candidates if c.customer_id in holders]
        del reply.candidates[:]
        reply.candidates.extend(kept)

    def _strip_households(self, households: list[pb.Household]) -> None:
        """Withhold of each household what its members' consent does not allow: pets where not every member
        allows profiling, shared and delivery preferences where not every member allows personalisation."""
        if not any(h.pets or h.delivery_preference or h.shared_preferences for h in households):
            return
        consents = self.store.household_consents([h.household_id for h in households])
        for household in households:
            members = [allowed(parse_state(c) if c else {}, self.consent_defaults)
                       for c in consents.get(household.household_id, [])]
            strip_household_by_consent(household, Allowed(preferences=all(m.preferences for m in members),
                                                          attributes=all(m.attributes for m in members)))

    def _to_current(self, customer_id: str, write: Callable[[str], Written]) -> tuple[str, Written]:
        """Write to a person by customer_id, or, when it is no longer current, to the person it was merged into;
        return that customer_id and what the write answered (NOT_FOUND when no person has it, or its records
        were all deleted or erased)."""
        try:
            return customer_id, write(customer_id)
        except UnknownCustomer:
            current = self._lead_of(customer_id)
        try:
            return current, write(current)
        except UnknownCustomer:
            raise not_found(f"customer {customer_id!r} now is {current!r}, which is not in the published result") \
                from None

    def _lead_of(self, customer_id: str) -> str:
        """Return the customer_id an ID no longer current leads to; NOT_FOUND when it leads nowhere (its records were
        all deleted or erased) or was never one."""
        alias = self.store.alias(customer_id)
        if alias is None:
            raise not_found(f"no customer {customer_id!r}")
        current, reason = alias
        if current is None:
            raise not_found(f"customer {customer_id!r} no longer exists: {reason}")
        return current

    def _encoded_reply(self, customer_id: str, call: Call) -> bytes:
        served = self.store.served_profile(customer_id)
        if served is not None:
            call.customers.append(customer_id)
            return profile_reply_bytes(self._present(*served, call))
        current = self._lead_of(customer_id)
        served = self.store.served_profile(current)
        if served is None:
            raise not_found(f"customer {customer_id!r} now is {current!r}, which is not in the published result")
        call.customers.append(current)
        return profile_reply_bytes(self._present(*served, call)) + redirected_from_bytes(customer_id)

    def _profile(self, customer_id: str) -> Profile:
        profile = self.store.get_profile(customer_id)
        if profile is None:
            raise not_found(f"no customer {customer_id!r}")
        return profile
