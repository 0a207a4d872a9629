"""What a server bounds, and how: time per call, calls at once, message sizes, requests it cannot decode.

Both server shapes (``server.start_server``, ``aio_server.AioServer``) are built from
``server_arguments``, so they answer alike:

- **Time.** Every ProfileService call has a deadline: the client's, or ``deadline_seconds`` after it
  arrived when that comes first. A call that waited in the queue past it is answered
  DEADLINE_EXCEEDED without being run; a call that ran past it is answered DEADLINE_EXCEEDED instead of
  its reply. Python cannot stop a thread half-way, so the work itself is bounded where it waits:
  on PostgreSQL every statement of the server's reads has ``statement_timeout`` at the bound
  (``profile_api.store.db.statement_bound``), and a statement cancelled by it is DEADLINE_EXCEEDED too
  (``profile_api.faults``). SQLite reads are not cut off (they wait for no writer: WAL).
- **Calls at once.** At most ``max_queued`` calls are under way or waiting for a thread; gRPC answers
  the next RESOURCE_EXHAUSTED ("Concurrent RPC limit exceeded!") at once rather than queueing it
  without end. Health checks count too, so the bound is well above the clients a server expects.
- **Message sizes.** A request larger than ``max_request_bytes`` is refused by gRPC with
  RESOURCE_EXHAUSTED before it is decoded (no request of the contract comes near 1 MiB); replies may
  be up to ``max_reply_bytes`` (the large ones: a page of 1,000 identity events, an export of
  everything held on one person; a client expecting more than gRPC's default of 4 MiB must raise
  its own ``grpc.max_receive_message_length``).
- **Undecodable requests.** gRPC answers INTERNAL for a request its deserializer rejects; the
  server's deserializers (``decoder``) hand the handler an ``Undecodable`` instead, answered
  INVALID_ARGUMENT here.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.message import DecodeError, Message

MiB = 1024 * 1024

DEFAULT_DEADLINE_SECONDS = 10.0
DEFAULT_MAX_QUEUED = 64
DEFAULT_MAX_REQUEST_BYTES = 1 * MiB
DEFAULT_MAX_REPLY_BYTES = 16 * MiB


@dataclass(frozen=True)
class ServerLimits:
    """How much a server takes on (see the module's docstring).

    Attributes:
        deadline_seconds: the longest a call may take from its arrival, when the client allows longer.
        max_queued: calls under way or waiting for a thread at once; beyond it RESOURCE_EXHAUSTED.
        max_request_bytes: the largest request message accepted.
        max_reply_bytes: the largest reply message sent.
    """

    deadline_seconds: float = DEFAULT_DEADLINE_SECONDS
    max_queued: int = DEFAULT_MAX_QUEUED
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES

    def __post_init__(self) -> None:
        if not self.deadline_seconds > 0:
            raise ValueError(f"deadline_seconds must be more than 0, not {self.deadline_seconds}")
        if self.max_queued < 1:
            raise ValueError(f"max_queued must be at least 1, not {self.max_queued}")


DEFAULT_LIMITS = ServerLimits()


def server_arguments(limits: ServerLimits, *, share_port: bool, aio: bool) -> dict[str, Any]:
    """Return the keyword arguments of ``grpc.server`` (aio False) or ``grpc.aio.server`` (aio True) for limits:
    options (message sizes, port sharing), maximum_concurrent_rpcs and the deadline interceptor."""
    return {
        "options": [
            ("grpc.so_reuseport", 1 if share_port else 0),
            ("grpc.max_receive_message_length", limits.max_request_bytes),
            ("grpc.max_send_message_length", limits.max_reply_bytes),
        ],
        "maximum_concurrent_rpcs": limits.max_queued,
        "interceptors": [AioDeadlines(limits) if aio else Deadlines(limits)],
    }


# --- requests that cannot be decoded ---

@dataclass(frozen=True)
class Undecodable:
    """A request whose bytes are not a message of the method's request type; answered INVALID_ARGUMENT."""

    message: str


def decoder(message_class: type[Message]) -> Callable[[bytes], Message | Undecodable]:
    """Return a request deserializer that yields an Undecodable, not an exception, for bytes it cannot decode."""
    name = message_class.DESCRIPTOR.full_name

    def decode(data: bytes) -> Message | Undecodable:
        try:
            return message_class.FromString(data)
        except (DecodeError, RuntimeError, ValueError) as err:
            said = " ".join(str(err).split()) or type(err).__name__
            return Undecodable(f"request: not a valid {name} ({said}); send the message the proto defines")

    return decode


# --- deadlines ---

def _deadline(arrived: float, bound: float, client_remaining: float | None, now: float) -> float:
    """Return a call's deadline (monotonic): bound seconds after it arrived, or the client's, whichever comes first."""
    own = arrived + bound
    if client_remaining is None or not math.isfinite(client_remaining):
        return own
    return min(own, now + client_remaining)


def _late(method: str, deadline: float, arrived: float, ran: bool) -> str:
    waited = deadline - arrived
    what = "took longer than" if ran else "waited in the server's queue longer than"
    return f"{method.rsplit('/', 1)[-1]} {what} its deadline ({waited:.1f} s); the server is busy: try again"


class Deadlines(grpc.ServerInterceptor):
    """Gives every unary call of the thread-pool server a deadline, answers undecodable requests
    INVALID_ARGUMENT (see the module's docstring)."""

    def __init__(self, limits: ServerLimits) -> None:
        self._bound = limits.deadline_seconds

    def intercept_service(self, continuation: Callable[[Any], Any], details: grpc.HandlerCallDetails) -> Any:
        arrived = time.monotonic()      # on gRPC's own thread, before the call waits for one of the pool's
        handler = continuation(details)
        if handler is None or handler.unary_unary is None:
            return handler
        behaviour, bound, method = handler.unary_unary, self._bound, details.method

        def bounded(request: Any, context: grpc.ServicerContext) -> Any:
            if isinstance(request, Undecodable):
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, request.message)
            now = time.monotonic()
            deadline = _deadline(arrived, bound, context.time_remaining(), now)
            if now >= deadline:
                context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, _late(method, deadline, arrived, ran=False))
            reply = behaviour(request, context)
            if time.monotonic() > deadline:
                context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, _late(method, deadline, arrived, ran=True))
            return reply

        return grpc.unary_unary_rpc_method_handler(bounded, request_deserializer=handler.request_deserializer,
                                                   response_serializer=handler.response_serializer)


class AioDeadlines(grpc.aio.ServerInterceptor):
    """``Deadlines`` for the asyncio server: the same checks around an async handler."""

    def __init__(self, limits: ServerLimits) -> None:
        self._bound = limits.deadline_seconds

    async def intercept_service(self, continuation: Callable[[Any], Any], details: grpc.HandlerCallDetails) -> Any:
        arrived = time.monotonic()
        handler = await continuation(details)
        if handler is None or handler.unary_unary is None:
            return handler
        behaviour, bound, method = handler.unary_unary, self._bound, details.method

        async def bounded(request: Any, context: grpc.aio.ServicerContext) -> Any:
            if isinstance(request, Undecodable):
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, request.message)
            now = time.monotonic()
            deadline = _deadline(arrived, bound, context.time_remaining(), now)
            if now >= deadline:
                await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, _late(method, deadline, arrived, ran=False))
            reply = behaviour(request, context)
            if hasattr(reply, "__await__"):
                reply = await reply
            if time.monotonic() > deadline:
                await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, _late(method, deadline, arrived, ran=True))
            return reply

        return grpc.unary_unary_rpc_method_handler(bounded, request_deserializer=handler.request_deserializer,
                                                   response_serializer=handler.response_serializer)
