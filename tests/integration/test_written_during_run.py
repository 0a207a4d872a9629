"""Records persisted in real time (ResolveRecord with persist) while a run runs: a delta publishes nothing and says
to run again; a full run gives the persons made meanwhile an event, so that events reconcile and the ID answers.
Through the real command (a subprocess of `herken resolve` paused with HERKEN_PAUSE_AT) and a real server."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys

import grpc
import pytest
from sqlalchemy import text

from herken.cli import main
from identity.lifecycle import reconcile
from profile_api._generated.herken.v1 import profile_service_pb2 as pb
from profile_api._generated.herken.v1 import profile_service_pb2_grpc as pb_grpc
from profile_api.server import start_server, store_servicer
from profile_api.store import open_store, read_links
from profile_api.store.history import alias_of, read_events
from tests.integration.test_kill_resolve import start_resolve, wait_until_paused

WALK_IN = pb.SourceRecord(record_id="RT-WALK-IN-1", first_name="Wendelien", last_name="Oosterhuis-Klaassen",
                          birth_date="1961-03-14", email="wendelien.ok@example.org", phone="0612398745",
                          street="Zeeweg", house_number="7", postcode="1971HA", city="IJmuiden")


@pytest.fixture(scope="module")
def day_one(small_drop, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("during")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HERKEN_RUNS_DIR", str(tmp / "runs"))
        assert main(["resolve", str(small_drop), "--store", f"sqlite:///{tmp / 'day1.db'}"]) == 0
    return tmp / "day1.db"


def _persist(url: str, source: str, record: pb.SourceRecord) -> pb.ResolveRecordResponse:
    """Persist one record through ResolveRecord on a real server of the store at url."""
    server, port = start_server(store_servicer(url), port=0)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            return pb_grpc.ProfileServiceStub(channel).ResolveRecord(
                pb.ResolveRecordRequest(source=source, record=record, persist=True), timeout=30)
    finally:
        server.stop(None)


def _persist_walk_in(url: str) -> str:
    reply = _persist(url, "pos", WALK_IN)
    assert reply.created
    return reply.customer_id


def _ids(url: str) -> set[str]:
    return set(read_links(open_store(url))["customer_id"])


def test_a_full_run_accounts_for_a_person_made_in_real_time_while_it_ran(day_one, small_drop, tmp_path):
    shutil.copy(day_one, tmp_path / "store.db")
    url = f"sqlite:///{tmp_path / 'store.db'}"
    with open_store(url).connect() as conn:
        last = max(e.seq for e in read_events(conn))
    run = start_resolve(small_drop, url, tmp_path / "runs", pause_at="writing", pause_seconds=3)
    wait_until_paused(run, "writing")
    walk_in = _persist_walk_in(url)
    between = _ids(url)
    assert walk_in in between
    _, err = run.communicate(timeout=300)
    assert run.returncode == 0, err
    after = _ids(url)
    with open_store(url).connect() as conn:
        events = read_events(conn, after_seq=last)
    assert walk_in not in after
    assert any(e.kind == "deleted" and e.before == (walk_in,) for e in events)
    assert any(e.kind == "created" and e.after == (walk_in,) for e in events)   # the real-time write's own
    assert reconcile(_ids(f"sqlite:///{day_one}"), events) == after


def test_a_delta_refuses_to_publish_over_a_record_persisted_while_it_ran(day_one, small_drop, tmp_path, capsys):
    shutil.copy(day_one, tmp_path / "store.db")
    url = f"sqlite:///{tmp_path / 'store.db'}"
    delta = tmp_path / "delta"
    delta.mkdir()
    rows = list(csv.reader(open(small_drop / "app.csv", newline="")))
    with open(delta / "app.csv", "w", newline="") as f:
        csv.writer(f).writerows([rows[0], [*rows[1][:-1], "2025-12-30T10:00:00"]])
    env = {**os.environ, "HERKEN_RUNS_DIR": str(tmp_path / "runs"), "HERKEN_PAUSE_AT": "delta-scoring",
           "HERKEN_PAUSE_SECONDS": "3"}
    run = subprocess.Popen([sys.executable, "-m", "herken.cli", "resolve", str(delta), "--incremental", "--store", url],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_until_paused(run, "delta-scoring")
    walk_in = _persist_walk_in(url)
    before = dict(zip(*[read_links(open_store(url))[c] for c in ("record_id", "customer_id")]))
    _, err = run.communicate(timeout=300)
    assert run.returncode == 1 and "run the delta again" in err and "Traceback" not in err, err
    assert dict(zip(*[read_links(open_store(url))[c] for c in ("record_id", "customer_id")])) == before
    assert main(["resolve", str(delta), "--incremental", "--store", url]) == 0     # run again: published
    assert walk_in in _ids(url)


def test_a_person_merged_in_real_time_while_a_full_run_ran_that_the_run_keeps_apart_is_current_again(
        day_one, small_drop, tmp_path):
    shutil.copy(day_one, tmp_path / "store.db")
    url = f"sqlite:///{tmp_path / 'store.db'}"
    links = read_links(open_store(url))
    sizes = links.groupby("customer_id").size()
    single = links[links["customer_id"].isin(sizes[sizes == 1].index) & (links["source"] == "webshop")].iloc[0]
    with open_store(url).connect() as conn:
        last = max(e.seq for e in read_events(conn))
        target = conn.execute(text(  # another person's record with the fields that name them
            "SELECT r.*, l.customer_id FROM source_record r JOIN record_link l USING (source, record_id) "
            "WHERE r.email <> '' AND r.phone <> '' AND r.birth_date <> '' AND l.customer_id <> :c LIMIT 1"),
            {"c": single["customer_id"]}).mappings().one()
    sent = pb.SourceRecord(record_id=single["record_id"], **{f: target[f] or "" for f in (
        "first_name", "last_name", "birth_date", "email", "phone", "street", "house_number", "postcode", "city")})
    run = start_resolve(small_drop, url, tmp_path / "runs", pause_at="writing", pause_seconds=3)
    wait_until_paused(run, "writing")
    reply = _persist(url, "webshop", sent)
    assert reply.customer_id == target["customer_id"]        # the record moved: its old person merged away
    _, err = run.communicate(timeout=300)
    assert run.returncode == 0, err
    after = _ids(url)
    with open_store(url).connect() as conn:
        events = read_events(conn, after_seq=last)
        alias = alias_of(conn, single["customer_id"])
    assert single["customer_id"] in after and alias is None     # the drop keeps it apart: current, no redirect
    assert reconcile(_ids(f"sqlite:///{day_one}"), events) == after


def test_on_postgresql_a_consent_stated_while_a_run_publishes_waits_and_then_is_refused_not_lost(
        small_drop, tmp_path, fresh_pg_url, monkeypatch):
    monkeypatch.setenv("HERKEN_RUNS_DIR", str(tmp_path / "runs"))
    assert main(["resolve", str(small_drop), "--store", fresh_pg_url]) == 0
    customer = sorted(read_links(open_store(fresh_pg_url))["customer_id"])[0]
    run = start_resolve(small_drop, fresh_pg_url, tmp_path / "runs", pause_at="publishing", pause_seconds=8)
    wait_until_paused(run, "publishing")
    server, port = start_server(store_servicer(fresh_pg_url), port=0)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = pb_grpc.ProfileServiceStub(channel)
            request = pb.UpdateConsentRequest(customer_id=customer, consents=[
                pb.ConsentEntry(purpose=pb.CONSENT_PURPOSE_MARKETING, granted=False)])
            with pytest.raises(grpc.RpcError) as refused:
                stub.UpdateConsent(request, timeout=30)
            assert refused.value.code() == grpc.StatusCode.UNAVAILABLE     # nothing stored: try again
            _, err = run.communicate(timeout=300)
            assert run.returncode == 0, err
            stub.UpdateConsent(request, timeout=30)                          # again, after the publish: stored
            consents = {c.purpose: c for c in stub.GetProfile(pb.GetProfileRequest(customer_id=customer)).profile.consents}
    finally:
        server.stop(None)
    assert not consents[pb.CONSENT_PURPOSE_MARKETING].granted


def _published_run_id(url: str) -> str:
    with open_store(url).connect() as conn:
        return conn.execute(text("SELECT run_id FROM run")).scalar()


def test_a_run_that_another_run_published_over_while_it_ran_publishes_nothing(day_one, small_drop, tmp_path):
    """Two runs on one store at once: the later to publish would replace the other's result with one that never saw
    it (IDs it issued gone without an event). It refuses, says so, and the other's result stays."""
    shutil.copy(day_one, tmp_path / "store.db")
    url = f"sqlite:///{tmp_path / 'store.db'}"
    first = start_resolve(small_drop, url, tmp_path / "runs", pause_at="writing", pause_seconds=15)
    wait_until_paused(first, "writing")
    empty = tmp_path / "empty-delta"      # a run that publishes within the pause
    empty.mkdir()
    (empty / "deletions.csv").write_text("source,record_id\n")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HERKEN_RUNS_DIR", str(tmp_path / "runs-b"))
        assert main(["resolve", str(empty), "--incremental", "--store", url]) == 0
    second = _published_run_id(url)
    links = read_links(open_store(url))
    _, err = first.communicate(timeout=300)
    assert first.returncode == 1, err
    assert "was published to this store while this one ran" in err and "run this one again" in err, err
    assert "Traceback" not in err, err
    assert _published_run_id(url) == second
    assert read_links(open_store(url)).equals(links)


def test_a_steward_decision_applied_while_a_full_run_ran_is_not_undone_by_it(day_one, small_drop, tmp_path):
    shutil.copy(day_one, tmp_path / "store.db")
    url = f"sqlite:///{tmp_path / 'store.db'}"
    with open_store(url).connect() as conn:
        customer = conn.execute(text("SELECT customer_id FROM record_link GROUP BY customer_id HAVING count(*) = 2 "
                                     "ORDER BY customer_id LIMIT 1")).scalar()
        a, b = [f"{s}:{r}" for s, r in conn.execute(text(
            "SELECT source, record_id FROM record_link WHERE customer_id = :c ORDER BY source, record_id"),
            {"c": customer})]
    run = start_resolve(small_drop, url, tmp_path / "runs", pause_at="writing", pause_seconds=15)
    wait_until_paused(run, "writing")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HERKEN_RUNS_DIR", str(tmp_path / "runs"))
        assert main(["steward", "cannot-link", a, b, "--reason", "twins", "--apply", "--store", url]) == 0

    def person(uid: str) -> str:
        links = read_links(open_store(url))
        return links.loc[links["source"] + ":" + links["record_id"] == uid, "customer_id"].item()

    assert person(a) != person(b)
    _, err = run.communicate(timeout=300)
    # refused: the decision's own delta run published meanwhile (without --apply: the decision changed)
    assert run.returncode == 1 and "nothing was published and the store is unchanged" in err, err
    assert person(a) != person(b)      # the decision stays applied


def test_a_steward_decision_made_while_a_full_run_ran_makes_it_publish_nothing(day_one, small_drop, tmp_path):
    shutil.copy(day_one, tmp_path / "store.db")
    url = f"sqlite:///{tmp_path / 'store.db'}"
    with open_store(url).connect() as conn:
        a, b = [f"{s}:{r}" for s, r in conn.execute(text("SELECT source, record_id FROM record_link "
                                                         "ORDER BY source, record_id LIMIT 2"))]
    run = start_resolve(small_drop, url, tmp_path / "runs", pause_at="writing", pause_seconds=3)
    wait_until_paused(run, "writing")
    assert main(["steward", "must-link", a, b, "--reason", "one customer", "--store", url]) == 0
    _, err = run.communicate(timeout=300)
    assert run.returncode == 1 and "steward decisions changed while this run ran (made: " in err, err
