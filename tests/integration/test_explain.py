"""Explanations and confidence end to end: the small drop resolved by `herken resolve` (SQLite and the real
PostgreSQL), steward decisions taken with `herken steward` and honoured by a second run, then
ExplainMatch through a real server and a real client, `herken explain` and `herken links`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pandas as pd
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from herken.cli import main
from identity.rules import STEWARD, rule_of
from profile_api._generated.herken.v1 import profile_service_pb2 as pb
from profile_api._generated.herken.v1 import profile_service_pb2_grpc as pb_grpc
from identity.explain import HOUSEHOLD_KIND_WORDS, PairExplanation
from profile_api.aio_server import serve_aio
from profile_api.explain import Explainer
from profile_api.server import serve
from profile_api.store import open_store, read_links

SOURCE_RECORD = pb.IDENTIFIER_KIND_SOURCE_RECORD


@dataclass
class Resolved:
    """A store with the small drop resolved twice, steward decisions between the runs, and a server over it."""

    url: str
    engine: Engine
    links: pd.DataFrame
    stub: pb_grpc.ProfileServiceStub
    cannot: dict            # the cannot-link decision (steward list --json) and its records
    must: dict
    refused: list[tuple[str, str, str]]   # pairs the first run refused on their own values: (a, b, reason)
    first_run: PairExplanation            # the first of them, explained right after the first run

    def rows(self, sql: str, **params: object) -> list:
        """Return rows of the store (to choose test subjects and to compare with what the run stored)."""
        with self.engine.connect() as con:
            return list(con.execute(text(sql), params))

    def person_of(self, record: str) -> str:
        source, record_id = record.split(":", 1)
        return self.links.loc[(self.links["source"] == source) & (self.links["record_id"] == record_id),
                              "customer_id"].iloc[0]


def keys(links: pd.DataFrame) -> pd.Series:
    return links["source"] + ":" + links["record_id"]


def identifier(record: str) -> pb.Identifier:
    source, record_id = record.split(":", 1)
    return pb.Identifier(kind=SOURCE_RECORD, source=source, value=record_id)


def explain(stub: pb_grpc.ProfileServiceStub, a: str, b: str | None = None) -> pb.ExplainMatchResponse:
    request = pb.ExplainMatchRequest(a=identifier(a), **({"b": identifier(b)} if b else {}))
    return stub.ExplainMatch(request, timeout=60)


# The standardised value each rule compares, in the store.
_RULE_COLUMNS = {"birth_date": "std_birth_date", "first_name": "std_given", "surname": "std_surname"}


def _refused_on_their_own_values(engine: Engine) -> list[tuple[str, str, str]]:
    """Return the refused pairs whose reason names the two records' own values ("... 1949-01-14 / 1981-09-21")."""
    with engine.connect() as con:
        edges = list(con.execute(text("SELECT unique_id_l, unique_id_r, reason FROM match_edge WHERE kind = 'refused' "
                                      "ORDER BY match_probability DESC, unique_id_l, unique_id_r")))
        values = {f"{r.source}:{r.record_id}": r for r in con.execute(text("SELECT * FROM source_record"))}
    own = []
    for a, b, reason in edges:
        column = _RULE_COLUMNS.get(rule_of(reason))
        va, vb = (getattr(values[a], column), getattr(values[b], column)) if column else (None, None)
        if va and vb and reason.endswith((f" {va} / {vb}", f" {vb} / {va}")):
            own.append((a, b, reason))
    assert own, "the first run refused no pair on the pair's own values"
    return own


@pytest.fixture(scope="module", params=["sqlite", pytest.param("pg", marks=pytest.mark.postgres)])
def resolved(request, small_drop, tmp_path_factory) -> Iterator[Resolved]:
    """Day 1 resolved; a steward separates the two records of a person and joins two persons of one record
    each; the drop resolved again; served on a loopback port."""
    work = tmp_path_factory.mktemp(f"explain-{request.param}")
    url = f"sqlite:///{work / 'herken.db'}" if request.param == "sqlite" else request.getfixturevalue("module_pg_url")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HERKEN_RUNS_DIR", str(work / "runs"))
        assert main(["resolve", str(small_drop), "--store", url]) == 0
        engine = open_store(url)
        links = read_links(engine)
        sizes = links.groupby("customer_id").size()
        with engine.connect() as con:
            merges = list(con.execute(text("SELECT unique_id_l, unique_id_r FROM match_edge WHERE kind = 'merge' "
                                           "ORDER BY match_probability DESC, unique_id_l, unique_id_r")))
        person = dict(zip(keys(links), links["customer_id"]))
        refused = _refused_on_their_own_values(engine)
        first_run = Explainer(engine).explain_pair(*refused[0][:2])
        a, b = next((a, b) for a, b in merges if sizes[person[a]] == 2)      # the whole of a person of two
        alone = sorted(keys(links[links["customer_id"].isin(sizes[sizes == 1].index)]))
        c, d = alone[0], alone[-1]
        assert main(["steward", "cannot-link", a, b, "--reason", "twins, seen at the till", "--by", "ana",
                     "--store", url]) == 0
        assert main(["steward", "must-link", c, d, "--reason", "one person, two addresses", "--by", "bo",
                     "--store", url]) == 0
        assert main(["resolve", str(small_drop), "--store", url]) == 0
    decisions = {}
    with engine.connect() as con:
        for decision_id, kind, ra, rb in con.execute(text(
                "SELECT decision_id, kind, record_a, record_b FROM steward_decision")):
            decisions[kind] = {"decision_id": decision_id, "records": (ra, rb)}
    server, port = serve(url, "127.0.0.1", 0)
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield Resolved(url, engine, read_links(engine), pb_grpc.ProfileServiceStub(channel),
                       decisions["cannot_link"], decisions["must_link"], refused, first_run)
    finally:
        channel.close()
        server.stop(0).wait()
        engine.dispose()


# --- confidence ---

def test_every_record_has_a_confidence_in_0_1_and_a_person_of_one_record_is_certain(resolved, tmp_path):
    assert main(["links", "--store", resolved.url, "--out", str(tmp_path / "links.csv")]) == 0
    links = pd.read_csv(tmp_path / "links.csv", dtype={"confidence": float})
    assert list(links.columns) == ["source", "record_id", "customer_id", "household_id", "confidence"]
    assert links["confidence"].between(0, 1, inclusive="right").all()
    sizes = links.groupby("customer_id")["record_id"].transform("size")
    assert (links.loc[sizes == 1, "confidence"] == 1.0).all() and (sizes == 1).any()
    # A record's confidence is at least that of every join the run made with it.
    confidence = dict(zip(keys(links), links["confidence"]))
    for a, b, p in resolved.rows("SELECT unique_id_l, unique_id_r, match_probability FROM match_edge "
                                 "WHERE kind = 'merge'"):
        assert confidence[a] >= p - 1e-12 and confidence[b] >= p - 1e-12


def test_records_joined_only_by_a_steward_must_link_are_certain(resolved):
    c, d = resolved.must["records"]
    assert resolved.person_of(c) == resolved.person_of(d)
    confidence = dict(zip(keys(resolved.links), resolved.links["confidence"]))
    assert confidence[c] == confidence[d] == 1.0


def test_every_golden_value_carries_the_confidence_of_the_record_it_came_from(resolved):
    links = resolved.links
    confidence = dict(zip(zip(links["source"], links["record_id"]), links["confidence"]))
    sizes = links.groupby("customer_id").size()
    checked = set()
    for customer_id in sorted(sizes[sizes >= 3].index)[:5]:
        golden = resolved.stub.GetProfile(pb.GetProfileRequest(customer_id=customer_id), timeout=10).profile.golden
        for field in golden.DESCRIPTOR.fields:
            if golden.HasField(field.name):
                value = getattr(golden, field.name)
                assert value.confidence == pytest.approx(confidence[value.source, value.record_id], abs=1e-12)
                assert 0 < value.confidence <= 1
                checked.add(value.confidence)
    assert len(checked) > 1      # not one number for everything


# --- ExplainMatch: a pair ---

def test_a_pair_is_scored_as_the_run_scored_it_and_its_weights_add_up(resolved):
    stewarded = {frozenset(resolved.must["records"]), frozenset(resolved.cannot["records"])}
    edges = [e for kind in ("merge", "refused", "review") for e in resolved.rows(
        "SELECT unique_id_l, unique_id_r, match_probability, match_weight FROM match_edge WHERE kind = :kind "
        "ORDER BY unique_id_l, unique_id_r", kind=kind)[:6]]
    for a, b, probability, weight in edges:
        if frozenset((a, b)) in stewarded:
            continue      # a must-link's merge is stored at probability 1, whatever the model scores
        reply = explain(resolved.stub, a, b)
        assert reply.match_probability == pytest.approx(probability, abs=1e-9)
        assert reply.match_weight == pytest.approx(weight, abs=1e-6)
        parts = reply.prior_weight + sum(c.match_weight for c in reply.comparisons)
        assert abs(parts - reply.match_weight) < 1e-6
        assert [c.comparison for c in reply.comparisons] == [
            "given_name", "surname", "birth_date", "email", "mobile", "landline", "loyalty_card", "address",
            "city_only", "email_year"]
        assert all(c.level for c in reply.comparisons)


def test_two_records_of_one_person_are_linked_by_a_path_of_the_runs_joins(resolved):
    merges = {frozenset((a, b)): p for a, b, p in resolved.rows(
        "SELECT unique_id_l, unique_id_r, match_probability FROM match_edge WHERE kind = 'merge'")}
    sizes = resolved.links.groupby("customer_id").size()
    found = None
    for customer_id in sorted(sizes[sizes >= 3].index):
        records = sorted(keys(resolved.links[resolved.links["customer_id"] == customer_id]))
        found = next(((a, b) for a in records for b in records if a < b and frozenset((a, b)) not in merges), None)
        if found:
            break
    assert found, "no person of three records with two not joined directly"
    a, b = found
    reply = explain(resolved.stub, a, b)
    assert reply.same_person and reply.customer_id_a == reply.customer_id_b == resolved.person_of(a)
    assert len(reply.path) >= 2 and reply.path[0].record_a == a and reply.path[-1].record_b == b
    assert all(x.record_b == y.record_a for x, y in zip(reply.path, reply.path[1:]))
    for link in reply.path:
        assert link.match_probability == pytest.approx(merges[frozenset((link.record_a, link.record_b))])
        assert link.joined_by == "model"
    assert reply.decision.startswith(f"one person: joined through {len(reply.path)} links")
    assert not reply.rule and not reply.steward_decision_id


def test_a_refused_pair_names_the_rule_that_refused_it(resolved):
    a, b, reason = resolved.refused[0]
    first = resolved.first_run       # from the refusal the first run stored
    assert (first.verdict.rule, first.same_person) == (rule_of(reason), False) and reason in first.verdict.decision
    # The second run, over the published store, does not try unchanged records of two persons again and
    # stores no refusal of them: the explanation asks the run's rules about the pair itself.
    for a, b, reason in resolved.refused[:5]:
        reply = explain(resolved.stub, a, b)
        assert not reply.same_person and reply.customer_id_a != reply.customer_id_b
        assert reply.rule == rule_of(reason) and reason in reply.decision and not reply.path


def test_a_pair_below_the_threshold_says_so(resolved):
    a, b = resolved.rows("SELECT unique_id_l, unique_id_r FROM match_edge WHERE kind = 'review' "
                         "AND match_probability < 0.5 ORDER BY id")[0]
    if resolved.person_of(a) == resolved.person_of(b):
        pytest.skip("the borderline pair is one person through other records")
    reply = explain(resolved.stub, a, b)
    assert "below the match threshold 0.5" in reply.decision and not reply.rule


def test_a_steward_cannot_link_is_named_and_keeps_the_two_apart(resolved):
    a, b = resolved.cannot["records"]
    reply = explain(resolved.stub, b, a)
    assert not reply.same_person
    assert (reply.rule, reply.steward_decision_id) == (STEWARD, resolved.cannot["decision_id"])
    assert reply.decision.startswith(f"kept apart by steward decision {resolved.cannot['decision_id']} "
                                     "(cannot-link by ana on ")
    assert "twins, seen at the till" in reply.decision


def test_a_steward_must_link_joins_and_its_link_names_the_decision(resolved):
    c, d = resolved.must["records"]
    reply = explain(resolved.stub, c, d)
    decision_id = resolved.must["decision_id"]
    assert reply.same_person and (reply.rule, reply.steward_decision_id) == (STEWARD, decision_id)
    assert [(link.record_a, link.record_b, link.joined_by) for link in reply.path] == [
        (c, d, f"steward decision {decision_id}")]
    assert reply.path[0].match_probability == 1.0


# --- ExplainMatch: one record ---

def test_one_record_is_placed_in_its_person_with_its_confidence(resolved):
    sizes = resolved.links.groupby("customer_id").size()
    customer_id = sorted(sizes[sizes >= 3].index)[0]
    person = resolved.links[resolved.links["customer_id"] == customer_id]
    record = sorted(keys(person))[0]
    reply = explain(resolved.stub, record)
    assert reply.customer_id_a == customer_id and not reply.comparisons
    assert reply.match_probability == pytest.approx(person.set_index(keys(person))["confidence"][record])
    assert {link.record_b for link in reply.path} == set(keys(person)) - {record}
    assert reply.path[0].record_a == record and f"one of {len(person)} records of {customer_id}" in reply.decision
    alone = resolved.links[resolved.links["customer_id"].isin(sizes[sizes == 1].index)]
    single = explain(resolved.stub, keys(alone).iloc[0])
    assert single.match_probability == 1.0 and not single.path and "only record" in single.decision


def test_unknown_records_and_other_identifiers_are_refused_with_the_field(resolved):
    a = keys(resolved.links).iloc[0]
    with pytest.raises(grpc.RpcError) as err:
        explain(resolved.stub, a, "pos:NO-SUCH-RECORD")
    assert err.value.code() == grpc.StatusCode.NOT_FOUND and "no record pos:NO-SUCH-RECORD" in err.value.details()
    email = pb.Identifier(kind=pb.IDENTIFIER_KIND_EMAIL, value="jan@example.nl")
    with pytest.raises(grpc.RpcError) as err:
        resolved.stub.ExplainMatch(pb.ExplainMatchRequest(a=email, b=identifier(a)), timeout=10)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and err.value.details().startswith("a.kind: ")
    with pytest.raises(grpc.RpcError) as err:
        resolved.stub.ExplainMatch(pb.ExplainMatchRequest(a=identifier(a), b=email), timeout=10)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and err.value.details().startswith("b.kind: ")


def test_the_asyncio_server_explains_as_the_thread_pool_does(resolved):
    if not resolved.url.startswith("sqlite"):
        pytest.skip("one store is enough to compare the two server shapes")
    a, b = resolved.cannot["records"]
    server, port = serve_aio(resolved.url, "127.0.0.1", 0)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            reply = explain(pb_grpc.ProfileServiceStub(channel), a, b)
    finally:
        server.stop(0).wait()
    assert reply == explain(resolved.stub, a, b)


def test_an_explanation_scores_pairs_in_python_as_splink_scores_them(resolved):
    explainer = Explainer(resolved.engine)
    run = explainer._run_model()
    pairs = [(a, b) for a, b in resolved.rows("SELECT unique_id_l, unique_id_r FROM match_edge ORDER BY id LIMIT 60")]
    ids = sorted(keys(resolved.links))
    pairs += list(zip(ids[:40], ids[-40:]))        # and pairs no run scored
    with resolved.engine.connect() as con:
        stored = [explainer._stored(con, uid) for uid in sorted({uid for pair in pairs for uid in pair})]
        frame, quick = explainer._score(con, run, stored, pairs)
        _, splink = explainer._score(con, run, stored, pairs, splink=True)
    assert any(row["found_by_blocking_rules"] for row in splink) and not all(row["found_by_blocking_rules"] for row in splink)
    for python, theirs in zip(quick, splink):
        assert python["match_probability"] == pytest.approx(theirs["match_probability"], abs=1e-12)
        assert python["found_by_blocking_rules"] == bool(theirs["found_by_blocking_rules"])
        for key, value in theirs.items():
            if key.startswith(("gamma_", "mw_")):
                assert python.get(key, 0.0) == pytest.approx(value or 0.0, abs=1e-9), key
            elif key.endswith(("_l", "_r")) and key[:-2] in frame.columns:
                assert python[key] == value, key


# --- households ---

HOUSEHOLDS_EXPLAINED = 12    # each call scores the pair with Splink (~0.5 s): a sample of the drop's households


def _household_pairs(resolved) -> tuple[list[tuple[str, str]], tuple[str, str]]:
    """Return one record of each of two persons, for every household of two or more persons; and two records of two
    households."""
    first = resolved.links.assign(key=keys(resolved.links)).sort_values("key").groupby(
        ["household_id", "customer_id"])["key"].first().reset_index()
    shared = [(group["key"].iloc[0], group["key"].iloc[-1]) for _, group in first.groupby("household_id")
              if len(group) >= 2]
    assert shared, "the small drop has no household of two persons"
    homes = first.drop_duplicates("household_id")["key"].tolist()
    return shared, (homes[0], homes[-1])


def test_two_persons_of_one_household_are_explained_by_the_values_that_link_them(resolved):
    shared, apart = _household_pairs(resolved)
    with resolved.engine.connect() as con:
        held = {(f"{r.source}:{r.record_id}", value) for r in con.execute(text("SELECT * FROM source_record"))
                for value in (r.std_email, r.std_loyalty_card, r.std_phone) if value}
    person = dict(zip(keys(resolved.links), resolved.links["customer_id"]))
    records_of: dict[str, set[str]] = {}
    for record, customer_id in person.items():
        records_of.setdefault(customer_id, set()).add(record)
    for a, b in shared[:HOUSEHOLDS_EXPLAINED]:
        household = explain(resolved.stub, a, b).household
        assert household.same_household and household.household_id_a == household.household_id_b
        steps = list(household.path)
        assert steps, household.decision
        assert steps[0].customer_id_a == person[a] and steps[-1].customer_id_b == person[b]
        assert all(x.customer_id_b == y.customer_id_a for x, y in zip(steps, steps[1:]))
        assert household.decision.startswith(f"one household ({household.household_id_a})")
        for step in steps:
            assert step.kind in HOUSEHOLD_KIND_WORDS
            if step.kind in ("email", "loyalty_card"):    # stored as compared: both persons hold the value
                for customer_id in (step.customer_id_a, step.customer_id_b):
                    assert any((record, step.value) in held for record in records_of[customer_id])
    other = explain(resolved.stub, *apart).household
    assert not other.same_household and not other.path and other.decision.startswith("two households")


def test_a_household_is_explained_by_links_that_reach_every_member_from_its_first(resolved, capsys):
    members = resolved.links.groupby("household_id")["customer_id"].agg(lambda c: sorted(set(c)))
    largest = members[members.map(len) >= 2].sort_values(key=lambda m: m.map(len), ascending=False)
    assert len(largest), "the small drop has no household of two persons"
    for household_id, persons in list(largest.items())[:HOUSEHOLDS_EXPLAINED]:
        reply = resolved.stub.ExplainHousehold(pb.ExplainHouseholdRequest(household_id=household_id), timeout=60)
        assert reply.household_id == household_id and not reply.redirected_from
        assert list(reply.customer_ids) == persons
        reached = {link.customer_id_b for link in reply.links}
        # a tree from the first member: each other member reached once, from one reached before it
        assert reached | set(reply.unlinked) == set(persons[1:]) and not reached & set(reply.unlinked)
        assert len(reached) == len(reply.links)
        seen = {persons[0]}
        for link in reply.links:
            assert link.kind in HOUSEHOLD_KIND_WORDS and link.customer_id_a in seen
            seen.add(link.customer_id_b)
        assert not reply.unlinked, reply.decision      # the records as published link every member
        assert reply.decision.startswith(f"one household ({household_id}) of {len(persons)} persons")
    with pytest.raises(grpc.RpcError) as missing:
        resolved.stub.ExplainHousehold(pb.ExplainHouseholdRequest(household_id="H-no-such"), timeout=10)
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as empty:
        resolved.stub.ExplainHousehold(pb.ExplainHouseholdRequest(household_id=" "), timeout=10)
    assert empty.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    household_id = largest.index[0]
    capsys.readouterr()
    assert main(["explain-household", household_id, "--store", resolved.url]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"household {household_id}: one household ({household_id}) of ")
    assert out[1] == f"  from {largest.iloc[0][0]}:" and len(out) == 2 + len(largest.iloc[0]) - 1
    assert main(["explain-household", household_id, "--store", resolved.url, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["customer_ids"] == largest.iloc[0]
    assert main(["explain-household", "H-no-such", "--store", resolved.url]) == 2
    assert "no household H-no-such in the store" in capsys.readouterr().err


# --- herken explain ---

def test_herken_explain_prints_the_weights_the_decision_and_the_path(resolved, capsys):
    c, d = resolved.must["records"]
    a, b = resolved.cannot["records"]
    capsys.readouterr()
    assert main(["explain", a, b, "--store", resolved.url, "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert abs(found["prior_weight"] + sum(c["match_weight"] for c in found["comparisons"])
               - found["match_weight"]) < 1e-6
    assert (found["rule"], found["steward_decision_id"]) == (STEWARD, resolved.cannot["decision_id"])
    assert main(["explain", c, d, "--store", resolved.url]) == 0
    out = capsys.readouterr().out
    assert f"{c}  and  {d}: one person" in out and "prior" in out and "total" in out
    assert f"decision: joined by steward decision {resolved.must['decision_id']}" in out
    assert f"steward decision {resolved.must['decision_id']}" in out.split("path:")[1]
    assert main(["explain", c, "--store", resolved.url]) == 0
    assert f"{c} is one of 2 records" in capsys.readouterr().out
    shared, _ = _household_pairs(resolved)
    assert main(["explain", *shared[0], "--store", resolved.url]) == 0
    assert "  household: one household (" in capsys.readouterr().out


def test_herken_explain_says_what_to_do_with_an_unknown_or_malformed_record(resolved, capsys):
    a = keys(resolved.links).iloc[0]
    capsys.readouterr()
    assert main(["explain", a, "pos:NO-SUCH-RECORD", "--store", resolved.url]) == 2
    err = capsys.readouterr().err
    assert "no record pos:NO-SUCH-RECORD in the store" in err and "herken links" in err
    assert main(["explain", "NOCOLON", "--store", resolved.url]) == 2
    assert "is not SOURCE:RECORD_ID" in capsys.readouterr().err
    assert main(["explain", a, a, "--store", resolved.url]) == 2
    assert "given twice" in capsys.readouterr().err


# --- after a delta drop (herken resolve --incremental) ---

def test_an_incremental_run_keeps_every_confidence_and_its_pairs_are_explained_as_it_scored_them(
        resolved, small_drop, tmp_path, monkeypatch):
    if not resolved.url.startswith("sqlite"):
        pytest.skip("the incremental path is the same on both stores")
    from synth.day2 import write_day2

    url = f"sqlite:///{tmp_path / 'copy.db'}"
    (tmp_path / "copy.db").write_bytes(Path(resolved.url[len("sqlite:///"):]).read_bytes())
    write_day2(small_drop, tmp_path / "full", tmp_path / "delta", seed=7, new=0.04, changed=0.03, deleted=0.02)
    monkeypatch.setenv("HERKEN_RUNS_DIR", str(tmp_path / "runs"))
    assert main(["resolve", str(tmp_path / "delta"), "--incremental", "--store", url]) == 0
    engine = open_store(url)
    links = read_links(engine)
    assert links["confidence"].notna().all() and links["confidence"].between(0, 1, inclusive="right").all()
    sizes = links.groupby("customer_id")["record_id"].transform("size")
    assert (links.loc[sizes == 1, "confidence"] == 1.0).all()
    with engine.connect() as con:
        run_id = con.execute(text("SELECT run_id FROM run")).scalar_one()
        edges = list(con.execute(text("SELECT unique_id_l, unique_id_r, match_probability FROM match_edge "
                                      "WHERE run_id = :run AND kind = 'merge' AND match_probability < 1 "
                                      "ORDER BY unique_id_l LIMIT 3"), {"run": run_id}))
    assert edges, "the incremental run made no merge of its own"
    server, port = serve(url, "127.0.0.1", 0)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = pb_grpc.ProfileServiceStub(channel)
            for a, b, probability in edges:
                reply = explain(stub, a, b)
                assert reply.match_probability == pytest.approx(probability, abs=1e-9) and reply.same_person
                assert abs(reply.prior_weight + sum(c.match_weight for c in reply.comparisons)
                           - reply.match_weight) < 1e-6
    finally:
        server.stop(0).wait()
        engine.dispose()
