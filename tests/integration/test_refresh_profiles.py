"""A delta rebuilds the profiles it touches as of its latest interaction; `herken refresh-profiles` brings every
profile to that instant; the same delta run twice counts its purchases once: real runs and real deltas on an SQLite
store (and PostgreSQL), profiles read through a real server."""

from __future__ import annotations

import csv

import grpc
import pytest
from sqlalchemy import text

from herken.cli import main
from profile_api._generated.herken.v1 import profile_service_pb2 as pb
from profile_api._generated.herken.v1 import profile_service_pb2_grpc as pb_grpc
from profile_api.server import start_server, store_servicer
from profile_api.store import open_store, read_links

LATER = "2026-06-01T10:00:00"


def _as_of(url: str, customers: list[str]) -> dict[str, str]:
    """The instant each customer's lifecycle stage is as of (customers who bought)."""
    server, port = start_server(store_servicer(url), port=0)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = pb_grpc.ProfileServiceStub(channel)
            found = {}
            for customer in customers:
                for attribute in stub.GetProfile(pb.GetProfileRequest(customer_id=customer)).profile.attributes:
                    if attribute.name == "lifecycle_stage":
                        found[customer] = attribute.evidence["as_of"]
            return found
    finally:
        server.stop(None)


def _purchase_delta(tmp_path, small_drop, links):  # type: ignore[no-untyped-def]
    """A delta of one purchase of one record, months after the drop's latest."""
    source, record_id = links.iloc[0][["source", "record_id"]]
    delta = tmp_path / "delta"
    delta.mkdir()
    header = next(csv.reader(open(small_drop / "interactions.csv", newline="")))
    row = {c: "" for c in header} | {"source": source, "record_id": record_id, "type": "purchase",
                                     "occurred_at": LATER, "category": "garden", "quantity": "1", "amount_eur": "10"}
    with open(delta / "interactions.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, header)
        writer.writeheader()
        writer.writerow(row)
    return delta


def test_refresh_profiles_brings_every_profile_to_the_latest_purchase(small_drop, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HERKEN_RUNS_DIR", str(tmp_path / "runs"))
    url = f"sqlite:///{tmp_path / 'store.db'}"
    assert main(["resolve", str(small_drop), "--store", url]) == 0
    links = read_links(open_store(url))
    buyers = sorted(links["customer_id"].unique())[:40]
    before = _as_of(url, buyers)
    assert len(set(before.values())) == 1
    # only interactions: a delta of purchases alone (no identity file) is read
    assert main(["resolve", str(_purchase_delta(tmp_path, small_drop, links)), "--incremental", "--store", url]) == 0
    capsys.readouterr()
    assert main(["refresh-profiles", "--store", url]) == 0
    assert "rebuilt" in capsys.readouterr().out
    after = _as_of(url, buyers)
    assert set(after.values()) == {LATER[:10]} and after.keys() == before.keys()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_same_delta_run_twice_counts_its_purchases_once(small_drop, tmp_path, monkeypatch, backend, request):
    monkeypatch.setenv("HERKEN_RUNS_DIR", str(tmp_path / "runs"))
    url = f"sqlite:///{tmp_path / 'store.db'}" if backend == "sqlite" else request.getfixturevalue("fresh_pg_url")
    assert main(["resolve", str(small_drop), "--store", url]) == 0
    delta = _purchase_delta(tmp_path, small_drop, read_links(open_store(url)))

    def count() -> int:
        with open_store(url).connect() as conn:
            return conn.execute(text("SELECT count(*) FROM interaction")).scalar()

    first = count()
    assert main(["resolve", str(delta), "--incremental", "--store", url]) == 0
    assert count() == first + 1
    assert main(["resolve", str(delta), "--incremental", "--store", url]) == 0     # sent again: not counted again
    assert count() == first + 1
    if backend == "sqlite":
        # the search for rows sent again looks them up by record_id: on a store without statistics (as a full run
        # leaves it) SQLite took the index on source, scanning a channel's every interaction per row inserted
        # (165 s for a day-2 delta at 100k records; session 34, bench/incremental.py)
        from profile_api.store.write_delta import sent_again_sql

        with open_store(url).connect() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS sqlite_stat1")
            plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + sent_again_sql("sqlite").replace(":before", "0")))
        assert "ix_interaction_record_id" in plan and "ix_interaction_source" not in plan, plan
