"""What a customer told us through the API (consent, preferences) outlives the record it was kept on: real runs
(full and --incremental) on a real SQLite store, statements made and read through a real gRPC server."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import grpc
import pytest
from sqlalchemy import text

from herken.cli import main
from profile_api._generated.herken.v1 import profile_service_pb2 as pb
from profile_api._generated.herken.v1 import profile_service_pb2_grpc as pb_grpc
from profile_api.server import start_server, store_servicer
from profile_api.store import open_store, read_links
from profile_api.store.rehome import choose_record

WITHDRAWN = (pb.CONSENT_PURPOSE_MARKETING, pb.CONSENT_PURPOSE_PROFILING)   # personalisation kept: preferences served


@pytest.fixture(scope="module")
def day_one(small_drop, tmp_path_factory) -> Path:
    """The small drop resolved into an SQLite file (copied by each test)."""
    tmp = tmp_path_factory.mktemp("statements")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HERKEN_RUNS_DIR", str(tmp / "runs"))
        assert main(["resolve", str(small_drop), "--store", f"sqlite:///{tmp / 'day1.db'}"]) == 0
    return tmp / "day1.db"


def _store(day_one: Path, tmp_path: Path, monkeypatch) -> str:
    monkeypatch.setenv("HERKEN_RUNS_DIR", str(tmp_path / "runs"))
    shutil.copy(day_one, tmp_path / "store.db")
    return f"sqlite:///{tmp_path / 'store.db'}"


def _person_of_sources(url: str, count: int) -> str:
    """A customer_id with records in at least ``count`` sources."""
    links = read_links(open_store(url))
    sources = links.groupby("customer_id")["source"].nunique()
    return sources[sources >= count].index[0]


def _state(url: str, customer_id: str) -> tuple[object, set[tuple[str, str]]]:
    """Withdraw marketing and profiling and state a shoe size for customer_id through a real server."""
    server, port = start_server(store_servicer(url), port=0)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = pb_grpc.ProfileServiceStub(channel)
            stub.UpdateConsent(pb.UpdateConsentRequest(customer_id=customer_id, consents=[
                pb.ConsentEntry(purpose=purpose, granted=False) for purpose in WITHDRAWN]))
            stub.UpdatePreferences(pb.UpdatePreferencesRequest(customer_id=customer_id, source="webshop", preferences=[
                pb.PreferenceEntry(key="shoe_size", value="44")]))
    finally:
        server.stop(None)
    with open_store(url).connect() as conn:
        return conn.execute(text("SELECT DISTINCT source, record_id FROM consent")).all(), \
            set(conn.execute(text("SELECT source, record_id FROM preference WHERE origin = 'api'")).all())


def _profile(url: str, customer_id: str) -> pb.GetProfileResponse:
    server, port = start_server(store_servicer(url), port=0)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            return pb_grpc.ProfileServiceStub(channel).GetProfile(pb.GetProfileRequest(customer_id=customer_id))
    finally:
        server.stop(None)


def _withdrawn_and_stated(reply: pb.GetProfileResponse) -> None:
    consents = {c.purpose: c for c in reply.profile.consents}
    for purpose in WITHDRAWN:
        assert not consents[purpose].granted and not consents[purpose].by_default, consents[purpose]
    assert ("shoe_size", "44") in {(p.key, p.value) for p in reply.profile.preferences}


def _deletions(tmp_path: Path, keys) -> Path:  # type: ignore[no-untyped-def]
    delta = tmp_path / "delta"
    delta.mkdir()
    with open(delta / "deletions.csv", "w", newline="") as f:
        csv.writer(f).writerows([("source", "record_id"), *keys])
    return delta


def test_a_withdrawn_consent_outlives_the_record_a_delta_deletes(day_one, tmp_path, monkeypatch):
    url = _store(day_one, tmp_path, monkeypatch)
    customer = _person_of_sources(url, 2)
    held, api = _state(url, customer)
    assert len(held) == 1 and api == set(held)     # both on one record of the person
    assert main(["resolve", str(_deletions(tmp_path, held)), "--incremental", "--store", url]) == 0
    reply = _profile(url, customer)
    _withdrawn_and_stated(reply)
    links = read_links(open_store(url))
    own = set(zip(links["source"], links["record_id"]))
    with open_store(url).connect() as conn:
        kept = set(conn.execute(text("SELECT source, record_id FROM consent")).all())
    assert kept and kept <= own and not kept & set(held)


def test_a_withdrawn_consent_outlives_the_record_a_full_drop_no_longer_holds(day_one, small_drop, tmp_path,
                                                                           monkeypatch):
    url = _store(day_one, tmp_path, monkeypatch)
    customer = _person_of_sources(url, 2)
    held, _ = _state(url, customer)
    (source, record_id), = held
    drop = tmp_path / "drop"
    shutil.copytree(small_drop, drop)
    path = drop / f"{source}.csv"
    rows = list(csv.reader(open(path, newline="")))
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows([row for row in rows if row[0] != record_id])
    assert main(["resolve", str(drop), "--store", url]) == 0
    _withdrawn_and_stated(_profile(url, customer))


def test_statements_go_with_the_last_record_of_their_person(day_one, tmp_path, monkeypatch):
    url = _store(day_one, tmp_path, monkeypatch)
    customer = _person_of_sources(url, 2)
    _state(url, customer)
    links = read_links(open_store(url))
    own = links[links["customer_id"] == customer]
    assert main(["resolve", str(_deletions(tmp_path, zip(own["source"], own["record_id"]))), "--incremental",
                 "--store", url]) == 0
    with open_store(url).connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM consent")).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM preference WHERE origin = 'api'")).scalar() == 0


def test_statements_move_to_the_newest_record_in_the_channel_of_the_one_gone():
    kept = {("pos", "1"): "2024-05-01T10:00:00", ("webshop", "2"): "2023-01-01T00:00:00",
            ("webshop", "3"): "2022-01-01T00:00:00", ("app", "4"): None}
    assert choose_record("webshop", kept) == ("webshop", "2")
    assert choose_record("service", kept) == ("pos", "1")
    assert choose_record("webshop", {}) is None


def test_statements_go_to_the_part_of_a_split_person_that_keeps_its_id():
    from profile_api.store.rehome import _of_heir
    linked = {("pos", "1"): ("C1", "2024-01-01T00:00:00"), ("app", "2"): ("C9", "2025-01-01T00:00:00"),
              ("app", "3"): ("C9", "2025-02-01T00:00:00")}
    assert _of_heir("C1", list(linked), linked) == [("pos", "1")]             # C1 kept its ID: its part
    assert _of_heir("C5", list(linked), linked) == [("app", "2"), ("app", "3")]   # retired: the part with most
    assert choose_record("app", {("pos", "1"): "2024-05-01 18:00:00", ("pos", "2"): "2024-05-01T09:00:00"}) == \
        ("pos", "1")                                                          # a space-form time read as one
