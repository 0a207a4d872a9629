"""Health follows the store: the real server on a loopback port and the real health client, over an
SQLite file that goes away and comes back, and a PostgreSQL database that stops taking connections
(its connections ended, as in a restart) and takes them again."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sqlalchemy import create_engine, text

from profile_api._generated.herken.v1 import profile_service_pb2 as pb
from profile_api._generated.herken.v1 import profile_service_pb2_grpc as pb_grpc
from profile_api.aio_server import serve_aio
from profile_api.server import serve
from profile_api.service import SERVICE_NAME
from profile_api.store import open_store
from tests.conftest import PG_ADMIN_URL

SERVING, NOT_SERVING = health_pb2.HealthCheckResponse.SERVING, health_pb2.HealthCheckResponse.NOT_SERVING
INTERVAL = 0.2      # seconds between two checks of the store
# A change must show within one interval and the check itself (milliseconds); the rest is room for
# a busy machine.
WITHIN = INTERVAL + 1.5


def statuses(channel: grpc.Channel) -> set[int]:
    """Return the health statuses of the whole server and of the ProfileService."""
    stub = health_pb2_grpc.HealthStub(channel)
    return {stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=10).status
            for service in ("", SERVICE_NAME)}


def becomes(channel: grpc.Channel, status: int) -> float:
    """Wait until both statuses are status; return how long that took. Fails after WITHIN seconds."""
    started = time.monotonic()
    while (seen := statuses(channel)) != {status}:
        if time.monotonic() - started > WITHIN:
            name = health_pb2.HealthCheckResponse.ServingStatus.Name
            pytest.fail(f"still {[name(s) for s in seen]} after {WITHIN} s, expected {name(status)}")
        time.sleep(0.02)
    return time.monotonic() - started


@pytest.mark.parametrize("serve_it", [serve, serve_aio], ids=["threads", "aio"])
def test_health_is_not_serving_while_the_sqlite_file_is_gone_and_serving_when_it_is_back(tmp_path, serve_it):
    path = tmp_path / "herken.db"
    open_store(f"sqlite:///{path}").dispose()
    server, port = serve_it(f"sqlite:///{path}", "127.0.0.1", 0, health_interval=INTERVAL)
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(service=SERVICE_NAME),
                                                        timeout=30)
    try:
        assert statuses(channel) == {SERVING}         # as soon as serve() returns
        assert next(watch).status == SERVING
        path.rename(tmp_path / "moved.db")
        assert becomes(channel, NOT_SERVING) <= WITHIN
        assert next(watch).status == NOT_SERVING      # the watcher is told once, not at every check
        assert not path.exists()                      # checking did not leave an empty store in its place
        (tmp_path / "moved.db").rename(path)
        assert becomes(channel, SERVING) <= WITHIN
        assert next(watch).status == SERVING
        code = _status_of_unknown_profile(channel)
        assert code == grpc.StatusCode.NOT_FOUND     # the store is read: an unknown id is not found
    finally:
        watch.cancel()
        channel.close()
        server.stop(0).wait()


@pytest.fixture
def fresh_pg_store() -> Iterator[str]:
    """URL of a store in a PostgreSQL database of its own (the test ends its connections)."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"herken_health_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    open_store(url).dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("serve_it", [serve, serve_aio], ids=["threads", "aio"])
def test_health_is_not_serving_while_postgresql_refuses_the_store_and_serving_when_it_takes_it_again(fresh_pg_store,
                                                                                                     serve_it):
    name = fresh_pg_store.rsplit("/", 1)[1]
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    server, port = serve_it(fresh_pg_store, "127.0.0.1", 0, health_interval=INTERVAL)
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        assert statuses(channel) == {SERVING}
        assert _status_of_unknown_profile(channel) == grpc.StatusCode.NOT_FOUND    # a thread keeps a connection
        with admin.connect() as conn:   # the database goes away for the server: no new connections, old ones ended
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"),
                         {"name": name})
        assert becomes(channel, NOT_SERVING) <= WITHIN
        assert _status_of_unknown_profile(channel) != grpc.StatusCode.NOT_FOUND   # the requests fail meanwhile
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        assert becomes(channel, SERVING) <= WITHIN
        assert _status_of_unknown_profile(channel) == grpc.StatusCode.NOT_FOUND    # and are answered again
    finally:
        channel.close()
        server.stop(0).wait()
        admin.dispose()


@pytest.mark.parametrize("serve_it", [serve, serve_aio], ids=["threads", "aio"])
def test_a_removed_sqlite_file_is_unavailable_and_never_made_again_empty(tmp_path, serve_it):
    path = tmp_path / "herken.db"
    open_store(f"sqlite:///{path}").dispose()
    server, port = serve_it(f"sqlite:///{path}", "127.0.0.1", 0, health_interval=INTERVAL)
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    stub = pb_grpc.ProfileServiceStub(channel)
    try:
        for suffix in ("", "-wal", "-shm"):
            (tmp_path / f"herken.db{suffix}").unlink(missing_ok=True)
        assert becomes(channel, NOT_SERVING) <= WITHIN
        calls = (lambda: stub.ExportCustomer(pb.ExportCustomerRequest(customer_id="C-1"), timeout=10),
                 lambda: stub.GetProfile(pb.GetProfileRequest(identifier=pb.Identifier(
                     kind=pb.IDENTIFIER_KIND_EMAIL, value="someone@example.org")), timeout=10),
                 lambda: stub.UpdatePreferences(pb.UpdatePreferencesRequest(
                     customer_id="C-1", source="pos", preferences=[pb.PreferenceEntry(key="k", value="v")]), timeout=10))
        for call in calls:
            with pytest.raises(grpc.RpcError) as err:
                call()
            assert err.value.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.NOT_FOUND), err.value.details()
        assert not path.exists()             # no empty store was made in its place
    finally:
        channel.close()
        server.stop(0).wait()


def _status_of_unknown_profile(channel: grpc.Channel) -> grpc.StatusCode:
    """Return the status of a GetProfile for a customer_id no store holds."""
    with pytest.raises(grpc.RpcError) as err:
        pb_grpc.ProfileServiceStub(channel).GetProfile(pb.GetProfileRequest(customer_id="no-such-customer"),
                                                       timeout=10)
    return err.value.code()
