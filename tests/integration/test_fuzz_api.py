"""Bad input at the API: random, oversized and malformed requests to every RPC of a real server.

Two kinds of request per RPC: messages of its request type built by hypothesis from the message's
descriptor (every field, nested messages, repeated fields, out-of-range enums and timestamps, text
with NUL and any Unicode, mixed with real IDs, e-mail addresses and channels of the store so that
the handlers get past their first checks), and raw random bytes sent through a generic
``channel.unary_unary`` with no serializer. Only the documented status codes may come back (never
INTERNAL, never UNKNOWN), and the server stays up (health SERVING after every RPC's run).

The server serves a store of its own (the small drop in a temporary SQLite file): ResolveRecord
with persist and UpdatePreferences write into it. The number of requests sent per RPC is printed
(``pytest -s``) and kept in pytest's cache (``.pytest_cache/v/herken/fuzz_counts``).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import grpc
import pytest
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import text

from herken.cli import main
from profile_api._generated.herken.v1 import profile_service_pb2 as pb
from profile_api.bounds import MiB
from profile_api.server import serve
from profile_api.store import open_store

SERVICE = pb.DESCRIPTOR.services_by_name["ProfileService"]
METHODS = [method.name for method in SERVICE.methods]
DOCUMENTED = {grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND,
              grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAVAILABLE,
              grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.DEADLINE_EXCEEDED,
              grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.UNIMPLEMENTED}
MESSAGES_PER_RPC = 150
BYTES_PER_RPC = 50


def fuzz(examples: int) -> settings:
    """Hypothesis settings for n examples: no deadline per example (a call may wait for a slow shared core)."""
    return settings(max_examples=examples, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

sent: Counter[str] = Counter()


@pytest.fixture(scope="module")
def fuzzed(small_drop, tmp_path_factory, request):
    """(channel, real values of the store) of a server over a store of this module's own."""
    work = tmp_path_factory.mktemp("fuzz")
    url = f"sqlite:///{work / 'herken.db'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HERKEN_RUNS_DIR", str(work / "runs"))
        assert main(["resolve", str(small_drop), "--store", url]) == 0
    engine = open_store(url)
    with engine.connect() as conn:
        real = {
            "customer_id": [r[0] for r in conn.execute(text("SELECT customer_id FROM profile LIMIT 20"))],
            "household_id": [r[0] for r in conn.execute(text("SELECT household_id FROM household LIMIT 20"))],
            "record_id": [r[0] for r in conn.execute(text("SELECT record_id FROM source_record LIMIT 20"))],
            "email": [r[0] for r in conn.execute(text("SELECT email FROM source_record WHERE email IS NOT NULL "
                                                      "LIMIT 10"))],
            "name": [r[0] for r in conn.execute(text("SELECT last_name FROM source_record WHERE last_name IS NOT NULL "
                                                     "LIMIT 10"))],
        }
    engine.dispose()
    server, port = serve(url)
    channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=[("grpc.max_send_message_length", 4 * MiB)])
    yield channel, real
    channel.close()
    server.stop(0).wait()
    counts = {method: sent[method] for method in METHODS}
    if getattr(request.config, "cache", None) is not None:     # absent under -p no:cacheprovider
        request.config.cache.set("herken/fuzz_counts", counts)
    print(f"\nfuzzed requests per RPC: {json.dumps(counts)} (total {sum(counts.values()):,})")


def _text(real: dict[str, list[str]]) -> st.SearchStrategy[str]:
    plain = st.text(max_size=40)
    with_nul = st.builds(lambda a, b: f"{a}\x00{b}", st.text(max_size=5), st.text(max_size=5))
    known = st.sampled_from([v for values in real.values() for v in values]
                            + ["pos", "webshop", "app", "service", "backoffice", " ", "", "1990-02-31",
                               "06-12345678", "+31612345678", "1234 AB", "12a", "pos:", ":x"])
    long = st.text(min_size=1000, max_size=5000, alphabet=st.characters(codec="utf-8"))
    return st.one_of(known, plain, with_nul, long)


def message_strategy(descriptor: Descriptor, real: dict[str, list[str]], depth: int = 0) -> st.SearchStrategy[Message]:
    """Return a strategy for messages of descriptor: any subset of its fields, each of any value of its type."""
    from google.protobuf import message_factory

    cls = message_factory.GetMessageClass(descriptor)
    if descriptor.full_name == "google.protobuf.Timestamp":
        return st.builds(lambda s, n: cls(seconds=s, nanos=n), st.integers(-2**63, 2**63 - 1) | st.integers(-10**10, 10**10),
                         st.integers(-2**31, 2**31 - 1))
    scalars = {
        FieldDescriptor.TYPE_STRING: _text(real),
        FieldDescriptor.TYPE_BYTES: st.binary(max_size=40),
        FieldDescriptor.TYPE_BOOL: st.booleans(),
        FieldDescriptor.TYPE_INT32: st.integers(-2**31, 2**31 - 1) | st.integers(-5, 1200),
        FieldDescriptor.TYPE_INT64: st.integers(-2**63, 2**63 - 1),
        FieldDescriptor.TYPE_UINT32: st.integers(0, 2**32 - 1),
        FieldDescriptor.TYPE_DOUBLE: st.floats(allow_nan=True),
        FieldDescriptor.TYPE_ENUM: st.integers(-2**31, 2**31 - 1) | st.integers(-1, 6),
    }

    def value(field: FieldDescriptor) -> st.SearchStrategy:
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            if depth >= 3:
                return st.just(None)
            return message_strategy(field.message_type, real, depth + 1)
        return scalars.get(field.type, st.just(None))

    fields = [f for f in descriptor.fields if not (f.message_type and f.message_type.GetOptions().map_entry)]
    draws = {f.name: (st.lists(value(f), max_size=4) if f.is_repeated else value(f))
             for f in fields}

    @st.composite
    def build(draw) -> Message:
        message = cls()
        for name in draw(st.lists(st.sampled_from(sorted(draws)), unique=True)) if draws else []:
            field = descriptor.fields_by_name[name]
            drawn = draw(draws[name])
            if drawn is None:
                continue
            if field.is_repeated:
                target = getattr(message, name)
                for item in drawn:
                    if item is None:
                        continue
                    if field.type == FieldDescriptor.TYPE_MESSAGE:
                        target.add().CopyFrom(item)
                    else:
                        target.append(item)
            elif field.type == FieldDescriptor.TYPE_MESSAGE:
                getattr(message, name).CopyFrom(drawn)
            else:
                setattr(message, name, drawn)
        return message

    return build()


def call_raw(channel: grpc.Channel, method: str, data: bytes) -> tuple[grpc.StatusCode, str]:
    """Send bytes as method's request (no serializer); return the status and its details."""
    sent[method] += 1
    try:
        channel.unary_unary(f"/{SERVICE.full_name}/{method}")(data, timeout=20)
        return grpc.StatusCode.OK, ""
    except grpc.RpcError as err:
        return err.code(), err.details()


def assert_serving(channel: grpc.Channel) -> None:
    reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


@pytest.mark.parametrize("method", METHODS)
def test_random_messages_get_only_documented_status_codes(fuzzed, method):
    channel, real = fuzzed
    descriptor = SERVICE.methods_by_name[method].input_type

    @fuzz(MESSAGES_PER_RPC)
    @given(message_strategy(descriptor, real))
    def one(message: Message) -> None:
        code, details = call_raw(channel, method, message.SerializeToString())
        assert code in DOCUMENTED, f"{method}({message!r:.300}) -> {code.name}: {details}"

    one()
    assert_serving(channel)


@pytest.mark.parametrize("method", METHODS)
def test_random_bytes_get_only_documented_status_codes(fuzzed, method):
    channel, _ = fuzzed

    @fuzz(BYTES_PER_RPC)
    @given(st.binary(max_size=2000))
    def one(data: bytes) -> None:
        code, details = call_raw(channel, method, data)
        assert code in DOCUMENTED, f"{method}({data[:100]!r}) -> {code.name}: {details}"

    one()
    assert_serving(channel)


@pytest.mark.parametrize("method", METHODS)
def test_an_oversized_request_is_resource_exhausted_and_the_server_stays_up(fuzzed, method):
    channel, _ = fuzzed
    field = next(iter(SERVICE.methods_by_name[method].input_type.fields))
    oversized = bytes([field.number << 3 | 2]) + _varint(2 * MiB) + b"x" * (2 * MiB)   # a 2 MiB string field
    code, _ = call_raw(channel, method, oversized)
    assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert_serving(channel)


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)
