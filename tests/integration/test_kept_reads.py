"""Keyed reads kept in memory (``profile_api.store.read.KeptReads``) and the served generation that tells a
server to forget them (``profile_api.store.generation``): the real server on a loopback port over a store
written directly (an SQLite file, a PostgreSQL database of the test's own), and writes from another process."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import grpc
import pytest
from sqlalchemy import text

from profile_api._generated.herken.v1 import profile_service_pb2 as pb
from profile_api._generated.herken.v1 import profile_service_pb2_grpc as pb_grpc
from profile_api.profiles import ProfileStore
from profile_api.server import start_server
from profile_api.service import ProfileServicer
from profile_api.store import open_store
from profile_api.store.read import CacheSettings

CHECK = 0.1         # seconds between two reads of the served generation
# A write must be served within one interval and the read of the generation; the rest is room for a busy machine.
WITHIN = CHECK + 1.5
RUN = "run-1"


def encoded(customer_id: str, name: str) -> bytes:
    return pb.Profile(customer_id=customer_id, household_id="H" + customer_id, display_name=name).SerializeToString()


def person(conn, customer_id: str, name: str, email: str) -> None:
    """Write a person with one record holding an e-mail address, as a publish would leave them."""
    record = "r" + customer_id
    conn.execute(text("INSERT INTO source_record (source, record_id, email, std_email, first_name) "
                      "VALUES ('webshop', :r, :e, :e, :n)"), {"r": record, "e": email, "n": name})
    conn.execute(text("INSERT INTO record_link (source, record_id, customer_id, household_id, run_id) "
                      "VALUES ('webshop', :r, :c, :h, :run)"), {"r": record, "c": customer_id, "h": "H" + customer_id,
                                                              "run": RUN})
    conn.execute(text("INSERT INTO profile (customer_id, household_id, display_name, household_inferred, "
                      "encoded, encoded_live) VALUES (:c, :h, :n, '{}', :enc, :live)"),
                 {"c": customer_id, "h": "H" + customer_id, "n": name, "enc": encoded(customer_id, name), "live": b""})


@dataclass
class Served:
    url: str
    store: ProfileStore
    stub: pb_grpc.ProfileServiceStub

    def name(self, **lookup) -> str | grpc.StatusCode:
        """Return the display name GetProfile answers, or its status code when it is not OK."""
        try:
            return self.stub.GetProfile(pb.GetProfileRequest(**lookup), timeout=10).profile.display_name
        except grpc.RpcError as err:
            return err.code()

    def becomes(self, expected: object, **lookup) -> float:
        """Wait until GetProfile answers expected; return how long it took (fails after WITHIN seconds)."""
        started = time.monotonic()
        while (seen := self.name(**lookup)) != expected:
            if time.monotonic() - started > WITHIN:
                pytest.fail(f"still {seen!r} after {WITHIN} s, expected {expected!r}")
            time.sleep(0.01)
        return time.monotonic() - started


def by_email(value: str) -> dict:
    return {"identifier": pb.Identifier(kind=pb.IDENTIFIER_KIND_EMAIL, value=value)}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def served(request, tmp_path) -> Iterator[Served]:
    """A server (cache on, generation read every CHECK s) over a store holding two persons."""
    url = f"sqlite:///{tmp_path / 'herken.db'}" if request.param == "sqlite" else request.getfixturevalue("fresh_pg_url")
    engine = open_store(url)
    with engine.begin() as conn:
        person(conn, "C1", "Anna", "anna@example.nl")
        person(conn, "C2", "Bram", "bram@example.nl")
    store = ProfileStore(engine, cache=CacheSettings(check_seconds=CHECK))
    server, port = start_server(ProfileServicer(store), port=0)
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    yield Served(url, store, pb_grpc.ProfileServiceStub(channel))
    channel.close()
    server.stop(0).wait()
    store.close()
    engine.dispose()


def another_process(url: str, *statements: str, **params: object) -> None:
    """Run statements in one transaction in a new Python process that knows nothing of herken (bytes as hex)."""
    program = ("import sys, json; from sqlalchemy import create_engine, text\n"
               "url, statements, params = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])\n"
               "params = {k: bytes.fromhex(v[4:]) if v.startswith('hex:') else v for k, v in params.items()}\n"
               "engine = create_engine(url)\n"
               "with engine.begin() as conn:\n"
               "    for s in statements: conn.execute(text(s), params)\n")
    shown = {k: "hex:" + v.hex() if isinstance(v, bytes) else v for k, v in params.items()}
    subprocess.run([sys.executable, "-c", program, url, json.dumps(statements), json.dumps(shown)], check=True,
                   timeout=60)


def test_a_profile_changed_by_another_process_is_served_new_within_the_interval(served):
    assert served.name(**by_email("anna@example.nl")) == "Anna"
    assert served.name(customer_id="C1") == "Anna"
    assert served.name(**by_email("carla@example.nl")) == grpc.StatusCode.NOT_FOUND
    assert served.store.kept_reads[0] == 3          # both profile reads and the unknown e-mail are kept
    another_process(served.url, "UPDATE profile SET encoded = :enc WHERE customer_id = 'C1'",
                    enc=encoded("C1", "Anna Jansen"))
    assert served.becomes("Anna Jansen", **by_email("anna@example.nl")) <= WITHIN
    assert served.name(customer_id="C1") == "Anna Jansen"
    # a person new to the store, under an e-mail address that was answered NOT_FOUND before
    another_process(served.url,
                    "INSERT INTO source_record (source, record_id, email, std_email) VALUES ('app', 'r3', :e, :e)",
                    "INSERT INTO record_link (source, record_id, customer_id, household_id, run_id) "
                    "VALUES ('app', 'r3', 'C3', 'HC3', 'run-1')",
                    "INSERT INTO profile (customer_id, household_id, display_name, household_inferred, "
                    "encoded, encoded_live) VALUES ('C3', 'HC3', 'Carla', '{}', :enc, :live)",
                    e="carla@example.nl", enc=encoded("C3", "Carla"), live=b"")
    assert served.becomes("Carla", **by_email("carla@example.nl")) <= WITHIN
    # Bram's record deleted (an incremental publish): his e-mail leads nowhere, his ID is not found
    assert served.name(**by_email("bram@example.nl")) == "Bram"
    another_process(served.url, "DELETE FROM record_link WHERE customer_id = 'C2'",
                    "DELETE FROM source_record WHERE record_id = 'rC2'", "DELETE FROM profile WHERE customer_id = 'C2'")
    assert served.becomes(grpc.StatusCode.NOT_FOUND, **by_email("bram@example.nl")) <= WITHIN
    assert served.name(customer_id="C2") == grpc.StatusCode.NOT_FOUND


def test_a_write_through_the_server_is_served_at_once(served):
    """Read-your-writes within one server: a preference stated through it shows in the next read."""
    assert served.name(customer_id="C1") == "Anna"
    assert served.store.kept_reads[0] == 1
    served.stub.UpdatePreferences(pb.UpdatePreferencesRequest(
        customer_id="C1", source="webshop", preferences=[pb.PreferenceEntry(key="size", value="M")]), timeout=10)
    assert served.store.kept_reads[0] == 0
    reply = served.stub.GetProfile(pb.GetProfileRequest(customer_id="C1"), timeout=10).profile
    assert [(p.key, p.value) for p in reply.preferences] == [("size", "M")]


def test_the_kept_answers_stay_within_their_bound(tmp_path):
    engine = open_store(f"sqlite:///{tmp_path / 'herken.db'}")
    with engine.begin() as conn:
        for i in range(300):
            person(conn, f"C{i:03d}", f"Person {i} " + "x" * 1000, f"p{i}@example.nl")
    store = ProfileStore(engine, cache=CacheSettings(megabytes=0.1, check_seconds=60))
    try:
        for _ in range(2):
            for i in range(300):
                assert store.served_profile(f"C{i:03d}") is not None
                count, size = store.kept_reads
                assert size <= 0.1 * 1024 * 1024
        assert 50 <= count < 300                       # about 100 KiB of 1 KiB profiles: the recent ones
        # the most recently read are the ones kept: reading them again reads nothing from the store
        store.close()
        engine.dispose()
        (tmp_path / "herken.db").rename(tmp_path / "gone.db")
        assert store.served_profile("C299") is not None
    finally:
        store.close()
        engine.dispose()
    off = ProfileStore(open_store(f"sqlite:///{tmp_path / 'gone.db'}"), cache=CacheSettings(megabytes=0))
    assert off.served_profile("C001") is not None and off.kept_reads == (0, 0)
    off.close()
