"""ListIdentityEvents: reading a request (page token, page size, since) and answering a page of events."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from profile_api._generated.herken.v1 import profile_service_pb2 as pb
from profile_api.messages import time_of
from profile_api.store.history import StoredEvent

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000

KIND_PB = {
    "created": pb.IDENTITY_EVENT_KIND_CREATED,
    "merged": pb.IDENTITY_EVENT_KIND_MERGED,
    "split": pb.IDENTITY_EVENT_KIND_SPLIT,
    "household_changed": pb.IDENTITY_EVENT_KIND_HOUSEHOLD_CHANGED,
    "deleted": pb.IDENTITY_EVENT_KIND_DELETED,
}


class EventsRequestError(ValueError):
    """A malformed ListIdentityEventsRequest: (field path, problem)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field, self.problem = field, problem


@dataclass(frozen=True)
class EventsQuery:
    """What a ListIdentityEventsRequest asks for."""

    after_seq: int
    page_size: int
    since: dt.datetime | None
    customer_id: str | None


def events_query_of(request: pb.ListIdentityEventsRequest) -> EventsQuery:
    """Return the query of a request; raise EventsRequestError for a bad page token or page size."""
    after = 0
    if request.page_token:
        token = request.page_token
        digits = token[1:]
        if not (token.startswith("e") and digits.isascii() and digits.isdigit() and len(digits) <= 18):
            raise EventsRequestError("page_token", "not a token this service gave; pass next_page_token as it came")
        after = int(digits)
    size = request.page_size or DEFAULT_PAGE_SIZE
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise EventsRequestError("page_size", f"must be 1 to {MAX_PAGE_SIZE} (0 means {DEFAULT_PAGE_SIZE})")
    try:
        since = time_of(request.since) if request.HasField("since") else None
    except ValueError as err:
        raise EventsRequestError("since", str(err)) from None
    customer_id = request.customer_id.strip() or None
    if customer_id is not None and "\x00" in customer_id:
        raise EventsRequestError("customer_id", "must not contain a NUL character")
    return EventsQuery(after, size, since, customer_id)


def event_pb(event: StoredEvent) -> pb.IdentityEvent:
    """Return a stored event as a herken.v1.IdentityEvent."""
    message = pb.IdentityEvent(event_id=event.event_id, kind=KIND_PB.get(event.kind, pb.IDENTITY_EVENT_KIND_UNSPECIFIED),
                               customer_ids_before=list(event.before), customer_ids_after=list(event.after),
                               household_id=event.household_id or "", reason=event.reason, run_id=event.run_id)
    message.occurred_at.FromDatetime(event.occurred_at)
    return message


def events_reply(events: list[StoredEvent], page_size: int) -> pb.ListIdentityEventsResponse:
    """Return a page of events (read one more than page_size, to know whether another page follows)."""
    page = events[:page_size]
    token = f"e{page[-1].seq}" if len(events) > page_size else ""
    return pb.ListIdentityEventsResponse(events=[event_pb(e) for e in page], next_page_token=token)
