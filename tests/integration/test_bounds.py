"""What the server bounds, through a real server: calls at once (RESOURCE_EXHAUSTED), time per call
(DEADLINE_EXCEEDED), message sizes, undecodable requests; and a PostgreSQL store whose connections
the database ended (a restart): UNAVAILABLE (try again) or an answer, then the server recovers by itself."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sqlalchemy import text

from herken.cli import main
from profile_api._generated.herken.v1 import profile_service_pb2 as pb
from profile_api._generated.herken.v1 import profile_service_pb2_grpc as pb_grpc
from profile_api.aio_server import serve_aio, start_aio_server
from profile_api.bounds import MiB, ServerLimits
from profile_api.server import ServeOptions, serve, start_server
from profile_api.store import open_store
from tests.integration.resolving import resolve_drop

CODE = grpc.StatusCode


@pytest.fixture(scope="module")
def sqlite_store(small_drop, tmp_path_factory) -> str:
    work = tmp_path_factory.mktemp("bounds-sqlite")
    url = f"sqlite:///{work / 'herken.db'}"
    resolve_drop(small_drop, url, work / "runs")
    return url


@pytest.fixture(scope="module")
def pg_store(small_drop, module_pg_url, tmp_path_factory) -> str:
    resolve_drop(small_drop, module_pg_url, tmp_path_factory.mktemp("bounds-pg") / "runs")
    return module_pg_url


class Slow(pb_grpc.ProfileServiceServicer):
    """GetProfile takes `seconds`; counts the calls it ran."""

    def __init__(self, seconds: float) -> None:
        self.seconds, self.ran, self._lock = seconds, 0, threading.Lock()

    def GetProfile(self, request, context):
        with self._lock:
            self.ran += 1
        time.sleep(self.seconds)
        return pb.GetProfileResponse()


class AioSlow(pb_grpc.ProfileServiceServicer):
    def __init__(self, seconds: float) -> None:
        self.seconds, self.ran = seconds, 0

    async def GetProfile(self, request, context):
        self.ran += 1
        await asyncio.sleep(self.seconds)
        return pb.GetProfileResponse()


@contextmanager
def stub_of(server_and_port) -> Iterator[pb_grpc.ProfileServiceStub]:
    server, port = server_and_port
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield pb_grpc.ProfileServiceStub(channel)
    finally:
        channel.close()
        server.stop(0).wait()


def outcomes(call, request, n: int, timeout: float | None = 10) -> list[CODE]:
    """Return the status of n calls made at once."""
    def one(_):
        try:
            call(request, timeout=timeout)
            return CODE.OK
        except grpc.RpcError as err:
            return err.code()
    with futures.ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


@pytest.mark.parametrize("shape", ["threads", "aio"])
def test_calls_beyond_the_bound_are_resource_exhausted_at_once(shape):
    limits = ServerLimits(max_queued=2)
    started = (start_server(Slow(1.0), max_workers=1, limits=limits) if shape == "threads"
               else start_aio_server(AioSlow(1.0), limits=limits))
    with stub_of(started) as stub:
        begun = time.monotonic()
        codes = outcomes(stub.GetProfile, pb.GetProfileRequest(customer_id="C1"), 6)
        assert codes.count(CODE.RESOURCE_EXHAUSTED) >= 3, codes    # 2 under way or queued, the rest refused
        assert codes.count(CODE.OK) >= 1 and set(codes) <= {CODE.OK, CODE.RESOURCE_EXHAUSTED}, codes
        assert time.monotonic() - begun < 5


@pytest.mark.parametrize("shape", ["threads", "aio"])
def test_a_call_past_the_servers_deadline_is_deadline_exceeded_without_a_client_deadline(shape):
    limits = ServerLimits(deadline_seconds=0.5)
    servicer = Slow(1.0) if shape == "threads" else AioSlow(1.0)
    started = (start_server(servicer, max_workers=1, limits=limits) if shape == "threads"
               else start_aio_server(servicer, limits=limits))
    with stub_of(started) as stub:
        with pytest.raises(grpc.RpcError) as err:
            stub.GetProfile(pb.GetProfileRequest(customer_id="C1"))       # no client deadline at all
        assert err.value.code() == CODE.DEADLINE_EXCEEDED
        assert "GetProfile took longer than its deadline (0.5 s)" in err.value.details()


def test_a_call_that_waited_in_the_queue_past_its_deadline_is_not_run():
    servicer = Slow(1.0)
    with stub_of(start_server(servicer, max_workers=1, limits=ServerLimits(deadline_seconds=0.6))) as stub:
        with futures.ThreadPoolExecutor(2) as pool:
            first = pool.submit(outcomes, stub.GetProfile, pb.GetProfileRequest(customer_id="C1"), 1, None)
            time.sleep(0.1)
            with pytest.raises(grpc.RpcError) as err:
                stub.GetProfile(pb.GetProfileRequest(customer_id="C2"))
            first.result()
        assert err.value.code() == CODE.DEADLINE_EXCEEDED
        assert "waited in the server's queue" in err.value.details()
        assert servicer.ran == 1          # the second never ran: its time was up before a thread was free


def test_the_clients_shorter_deadline_counts_on_the_server_too():
    servicer = Slow(1.0)
    with stub_of(start_server(servicer, max_workers=1)) as stub:     # the server's own bound is 10 s
        codes = outcomes(stub.GetProfile, pb.GetProfileRequest(customer_id="C1"), 3, timeout=0.5)
        assert codes == [CODE.DEADLINE_EXCEEDED] * 3
        time.sleep(1.5)
        assert servicer.ran == 1          # the calls queued behind the first were not run after their deadline


def test_an_oversized_request_is_refused_by_grpc_and_one_within_the_limit_answered(sqlite_store):
    with stub_of(serve(sqlite_store, options=ServeOptions(limits=ServerLimits(max_request_bytes=1 * MiB)))) as stub:
        with pytest.raises(grpc.RpcError) as err:
            stub.GetProfile(pb.GetProfileRequest(customer_id="C" * (2 * MiB)), timeout=10)
        assert err.value.code() == CODE.RESOURCE_EXHAUSTED
        with pytest.raises(grpc.RpcError) as err:
            stub.GetProfile(pb.GetProfileRequest(customer_id="C" * (MiB // 2)), timeout=10)
        assert err.value.code() == CODE.NOT_FOUND


@pytest.mark.parametrize("shape", ["threads", "aio"])
def test_bytes_that_are_no_request_are_invalid_argument_not_internal(sqlite_store, shape):
    server, port = (serve if shape == "threads" else serve_aio)(sqlite_store)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            call = channel.unary_unary("/herken.v1.ProfileService/GetProfile")     # bytes in, bytes out
            with pytest.raises(grpc.RpcError) as err:
                call(b"\xff\xff\xff\xff", timeout=10)
            assert err.value.code() == CODE.INVALID_ARGUMENT
            assert err.value.details().startswith("request: not a valid herken.v1.GetProfileRequest")
    finally:
        server.stop(0).wait()


def test_serve_refuses_bounds_that_are_no_bounds(sqlite_store, capsys):
    assert main(["serve", "--store", sqlite_store, "--max-queued", "0"]) == 2
    assert "--max-queued must be at least 1, not 0" in capsys.readouterr().err
    assert main(["serve", "--store", sqlite_store, "--deadline", "0"]) == 2
    assert "--deadline must be more than 0" in capsys.readouterr().err


@pytest.mark.postgres
def test_a_statement_held_up_past_the_deadline_is_deadline_exceeded_and_frees_the_thread(pg_store):
    engine = open_store(pg_store)
    customer_id = engine.connect().execute(text("SELECT min(customer_id) FROM profile")).scalar()
    with stub_of(serve(pg_store, options=ServeOptions(limits=ServerLimits(deadline_seconds=1.0)))) as stub:
        with engine.connect() as blocker:      # what a writer holding the table does to a read
            blocker.execute(text("LOCK TABLE profile IN ACCESS EXCLUSIVE MODE"))
            begun = time.monotonic()
            with pytest.raises(grpc.RpcError) as err:
                stub.GetProfile(pb.GetProfileRequest(customer_id=customer_id), timeout=10)
            assert err.value.code() == CODE.DEADLINE_EXCEEDED
            assert time.monotonic() - begun < 3
            blocker.rollback()
        assert stub.GetProfile(pb.GetProfileRequest(customer_id=customer_id), timeout=10).profile.customer_id \
            == customer_id
    engine.dispose()


# --- a PostgreSQL restart, simulated by ending the store's connections from the database side ---

def _calls(engine) -> dict[str, tuple]:
    """One call of every RPC that reads or writes the store, on real subjects."""
    with engine.connect() as conn:
        customer_id, household_id = conn.execute(text(
            "SELECT customer_id, household_id FROM record_link ORDER BY customer_id LIMIT 1")).one()
        email = conn.execute(text("SELECT std_email FROM source_record WHERE std_email IS NOT NULL "
                                  "ORDER BY 1 LIMIT 1")).scalar()
        surname = conn.execute(text("SELECT min(last_name) FROM source_record")).scalar()
    return {
        "GetProfile": ("GetProfile", pb.GetProfileRequest(customer_id=customer_id)),
        "GetProfile by e-mail": ("GetProfile", pb.GetProfileRequest(
            identifier=pb.Identifier(kind=pb.IDENTIFIER_KIND_EMAIL, value=email))),
        "GetHousehold": ("GetHousehold", pb.GetHouseholdRequest(household_id=household_id)),
        "SearchCustomers": ("SearchCustomers", pb.SearchCustomersRequest(email=email)),
        "SearchCustomers by name": ("SearchCustomers", pb.SearchCustomersRequest(name=surname)),
        "ListIdentityEvents": ("ListIdentityEvents", pb.ListIdentityEventsRequest(customer_id=customer_id)),
        "UpdatePreferences": ("UpdatePreferences", pb.UpdatePreferencesRequest(
            customer_id=customer_id, source="service", preferences=[pb.PreferenceEntry(key="restart", value="yes")])),
    }


def _code(stub, method: str, request) -> tuple[CODE, str]:
    try:
        getattr(stub, method)(request, timeout=10)
        return CODE.OK, ""
    except grpc.RpcError as err:
        return err.code(), err.details()


@pytest.mark.postgres
def test_a_database_restart_is_unavailable_then_the_server_recovers_by_itself(pg_store):
    engine = open_store(pg_store)
    calls = _calls(engine)
    server, port = serve(pg_store, max_workers=2)
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    stub = pb_grpc.ProfileServiceStub(channel)
    try:
        for _ in range(4):       # every serving thread holds its connections
            for name, (method, request) in calls.items():
                assert _code(stub, method, request)[0] == CODE.OK, name
        with engine.connect() as conn:
            ended = conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                      "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()
        assert ended >= 2
        seen: dict[str, list[CODE]] = {}
        unavailable: list[str] = []
        for _ in range(4):       # the broken connections are found, each by one call, and replaced
            for name, (method, request) in calls.items():
                code, details = _code(stub, method, request)
                seen.setdefault(name, []).append(code)
                if code == CODE.UNAVAILABLE:
                    unavailable.append(details)
        assert all(set(codes) <= {CODE.OK, CODE.UNAVAILABLE} for codes in seen.values()), seen
        # A call that meets a broken connection answers UNAVAILABLE and asks to try again. Whether any does
        # is a race: the audit log's writer may meet the break first, and SQLAlchemy then replaces the whole
        # pool before the next call (CI saw both), so the test asks only that none fails otherwise.
        assert all("try again" in details for details in unavailable), unavailable
        assert all(codes[-1] == CODE.OK for codes in seen.values()), seen      # the server recovered
        for name, (method, request) in calls.items():
            assert _code(stub, method, request)[0] == CODE.OK, name
        health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
        assert health.status == health_pb2.HealthCheckResponse.SERVING
    finally:
        channel.close()
        server.stop(0).wait()
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM preference WHERE key = 'restart'"))
        engine.dispose()
