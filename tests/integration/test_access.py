"""Who may ask what, end to end: a real server with tokens for every channel over the resolved small
drop (an SQLite file; consent also on the real PostgreSQL), a real client per channel.

A test per status code of the access rules and per channel view, consent per purpose (and that it
survives a new run, as it hangs on records), the audit log, TLS, and `herken serve` refusing to
listen beyond loopback without tokens.
"""

from __future__ import annotations

import json
import re
import subprocess

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sqlalchemy import text

from herken.cli import main
from profile_api._generated.herken.v1 import profile_service_pb2 as pb
from profile_api._generated.herken.v1 import profile_service_pb2_grpc as pb_grpc
from profile_api.access import DEFAULT_CHANNELS, access_of
from profile_api.profiles import ProfileStore
from profile_api.server import ServeOptions, start_server
from profile_api.service import ProfileServicer
from profile_api.store import open_store
from tests.integration.resolving import resolve_drop

TOKENS = {"store": "tok-store", "webshop": "tok-webshop", "app": "tok-app", "service": "tok-service",
          "backoffice": "tok-backoffice"}
UNAUTHENTICATED, DENIED = grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED
PERSONALISATION, MARKETING, PROFILING = (pb.CONSENT_PURPOSE_PERSONALISATION, pb.CONSENT_PURPOSE_MARKETING,
                                         pb.CONSENT_PURPOSE_PROFILING)


class Served:
    """A server with a token per channel over a store, its servicer (to flush the audit), and a stub per channel."""

    def __init__(self, url: str, options: ServeOptions) -> None:
        self.url = url
        self.servicer = ProfileServicer(ProfileStore(open_store(url)), access=options.access,
                                        consent_defaults=options.consent_defaults)
        self.server, self.port = start_server(self.servicer, credentials=options.credentials())
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        self.stub = pb_grpc.ProfileServiceStub(self.channel)

    def call(self, rpc: str, request: object, channel: str | None = None, token: str | None = None,
             **kwargs: object) -> object:
        """Call rpc as a channel (its token), with a token given, or with none."""
        token = token if token is not None else TOKENS.get(channel or "")
        metadata = (("authorization", f"Bearer {token}"),) if token else ()
        return getattr(self.stub, rpc)(request, metadata=metadata, timeout=20, **kwargs)

    def rows(self, sql: str, **params: object) -> list:
        with self.servicer.store.engine.connect() as conn:
            return list(conn.execute(text(sql), params))

    def stop(self) -> None:
        self.channel.close()
        self.server.stop(1).wait()
        self.servicer.close()


def _options(**consent: bool) -> ServeOptions:
    env = ",".join(f"{token}:{channel}" for channel, token in TOKENS.items())
    return ServeOptions(access=access_of(env), consent_defaults={"personalisation": True, "marketing": False,
                                                                  "profiling": True, **consent})


@pytest.fixture(scope="module")
def store_url(small_drop, tmp_path_factory) -> str:
    work = tmp_path_factory.mktemp("access")
    url = f"sqlite:///{work / 'herken.db'}"
    resolve_drop(small_drop, url, work / "runs")
    return url


@pytest.fixture(scope="module")
def served(store_url):
    served = Served(store_url, _options())
    yield served
    served.stop()


@pytest.fixture(scope="module")
def subject(served) -> str:
    """A person with e-mail, phone, birth date, house number, attributes and a household of two or more."""
    rows = served.rows("""
        SELECT p.customer_id, p.encoded FROM profile p WHERE p.household_id IN (
            SELECT household_id FROM profile GROUP BY household_id HAVING count(*) >= 2) ORDER BY p.customer_id""")
    wanted = ("email", "phone", "birth_date", "house_number")
    rows = [row for row in rows if (profile := pb.Profile.FromString(bytes(row[1]))).attributes
            and all(profile.golden.HasField(name) for name in wanted)]
    assert rows, "the small drop has such a person"
    return rows[0][0]


def by_id(customer_id: str) -> pb.GetProfileRequest:
    return pb.GetProfileRequest(customer_id=customer_id)


EMPTY_REQUESTS = {
    "GetProfile": pb.GetProfileRequest(customer_id="C-none"), "SearchCustomers": pb.SearchCustomersRequest(name="x"),
    "UpdatePreferences": pb.UpdatePreferencesRequest(customer_id="C-none"),
    "GetHousehold": pb.GetHouseholdRequest(household_id="H-none"),
    "ListIdentityEvents": pb.ListIdentityEventsRequest(), "ResolveRecord": pb.ResolveRecordRequest(),
    "ExplainMatch": pb.ExplainMatchRequest(), "ExplainHousehold": pb.ExplainHouseholdRequest(household_id="H-none"),
    "UpdateConsent": pb.UpdateConsentRequest(customer_id="C-none"),
    "ExportCustomer": pb.ExportCustomerRequest(customer_id="C-none"),
    "ForgetCustomer": pb.ForgetCustomerRequest(customer_id="C-none"),
}


# The RPCs the servicer implements (those it does not answer UNIMPLEMENTED before any check).
IMPLEMENTED = sorted(rpc for rpc in EMPTY_REQUESTS if hasattr(getattr(ProfileServicer, rpc), "__wrapped__"))


# --- UNAUTHENTICATED ---

@pytest.mark.parametrize("rpc", IMPLEMENTED)
def test_every_rpc_without_a_token_is_unauthenticated(served, rpc):
    with pytest.raises(grpc.RpcError) as err:
        served.call(rpc, EMPTY_REQUESTS[rpc])
    assert err.value.code() == UNAUTHENTICATED
    assert "authorization: Bearer TOKEN" in err.value.details()


@pytest.mark.parametrize("token", ["not-a-token", "tok-store2", " "])
def test_an_unknown_token_is_unauthenticated(served, subject, token):
    with pytest.raises(grpc.RpcError) as err:
        served.call("GetProfile", by_id(subject), token=token)
    assert err.value.code() == UNAUTHENTICATED


def test_a_scheme_other_than_bearer_is_unauthenticated(served, subject):
    with pytest.raises(grpc.RpcError) as err:
        served.stub.GetProfile(by_id(subject), metadata=(("authorization", "Basic dG9rLXN0b3Jl"),), timeout=10)
    assert err.value.code() == UNAUTHENTICATED


def test_health_and_reflection_need_no_token(served):
    health = health_pb2_grpc.HealthStub(served.channel)
    assert health.Check(health_pb2.HealthCheckRequest(service="herken.v1.ProfileService"), timeout=10).status == \
        health_pb2.HealthCheckResponse.SERVING


# --- PERMISSION_DENIED ---

@pytest.mark.parametrize("channel, rpc", [
    ("webshop", "SearchCustomers"), ("app", "SearchCustomers"), ("store", "ExportCustomer"),
    ("store", "ForgetCustomer"), ("webshop", "ForgetCustomer"), ("store", "ListIdentityEvents"),
    ("store", "ExplainMatch"), ("app", "ExportCustomer"), ("backoffice", "UpdatePreferences"),
    ("store", "ExplainHousehold"), ("webshop", "ExplainHousehold"),
])
def test_a_channel_calling_an_rpc_it_may_not_is_denied(served, channel, rpc):
    if rpc not in IMPLEMENTED:
        pytest.skip(f"{rpc} is not implemented yet")
    with pytest.raises(grpc.RpcError) as err:
        served.call(rpc, EMPTY_REQUESTS[rpc], channel)
    assert err.value.code() == DENIED
    assert err.value.details() == f"channel {channel} may not call {rpc}"


def test_a_channel_writes_preferences_only_as_itself(served, subject):
    request = pb.UpdatePreferencesRequest(customer_id=subject, source="webshop",
                                          preferences=[pb.PreferenceEntry(key="shoe_size", value="43")])
    with pytest.raises(grpc.RpcError) as err:
        served.call("UpdatePreferences", request, "store")
    assert err.value.code() == DENIED and err.value.details().startswith("source: this token writes as pos")
    request.source = ""        # the token says which channel heard it
    reply = served.call("UpdatePreferences", request, "store")
    assert [(p.key, p.value, p.source) for p in reply.preferences if p.key == "shoe_size"] == [("shoe_size", "43", "pos")]
    request.source = "webshop"
    reply = served.call("UpdatePreferences", request, "webshop")
    assert ("shoe_size", "webshop") in {(p.key, p.source) for p in reply.preferences}


# --- channel views ---

def test_the_store_tablet_sees_names_and_preferences_but_masked_contact_data_and_the_birth_year(served, subject):
    full = served.call("GetProfile", by_id(subject), "service").profile
    seen = served.call("GetProfile", by_id(subject), "store").profile
    assert seen.display_name == full.display_name
    assert (seen.golden.first_name, seen.golden.last_name) == (full.golden.first_name, full.golden.last_name)
    local, domain = full.golden.email.value.split("@")
    assert seen.golden.email.value == f"{local[0]}***@{domain}"
    assert re.fullmatch(r"\d\d-\*\*\*\*\d{4}", seen.golden.phone.value)
    assert seen.golden.phone.value[-4:] == full.golden.phone.value[-4:]
    assert seen.golden.birth_date.value == full.golden.birth_date.value[:4]
    assert not seen.golden.HasField("house_number")
    assert seen.golden.postcode.value.endswith(" **") and seen.golden.postcode.value[:4] == full.golden.postcode.value[:4]
    assert list(seen.attributes) == list(full.attributes) and list(seen.preferences) == list(full.preferences)
    assert [m.display_name for m in seen.household.members] == \
        [m.display_name.split(" ")[0] for m in full.household.members]     # household first names
    assert full.golden.email.value not in seen.SerializeToString().decode("utf-8", "replace")


@pytest.mark.parametrize("channel", ["webshop", "app"])
def test_webshop_and_app_see_what_a_checkout_prefill_needs(served, subject, channel):
    full = served.call("GetProfile", by_id(subject), "service").profile
    seen = served.call("GetProfile", by_id(subject), channel).profile
    for name in ("first_name", "last_name", "email", "phone", "street", "house_number", "postcode", "city"):
        assert getattr(seen.golden, name) == getattr(full.golden, name), name
    assert not seen.golden.HasField("birth_date")
    assert not seen.household.members and seen.household.household_id == full.household.household_id
    assert list(seen.preferences) == list(full.preferences)


@pytest.mark.parametrize("channel", ["service", "backoffice"])
def test_customer_service_and_back_office_see_all(served, subject, channel):
    local = ProfileServicer(ProfileStore(open_store(served.url)))     # no tokens: the whole profile
    server, port = start_server(local)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
            whole = pb_grpc.ProfileServiceStub(ch).GetProfile(by_id(subject), timeout=10).profile
    finally:
        server.stop(0).wait()
        local.close()
    assert served.call("GetProfile", by_id(subject), channel).profile == whole


def test_the_store_tablet_sees_household_first_names_in_get_household(served, subject):
    household_id = served.call("GetProfile", by_id(subject), "service").profile.household_id
    full = served.call("GetHousehold", pb.GetHouseholdRequest(household_id=household_id), "service").household
    seen = served.call("GetHousehold", pb.GetHouseholdRequest(household_id=household_id), "store").household
    assert [m.display_name for m in seen.members] == [m.display_name.split(" ")[0] for m in full.members]
    assert len(full.members) >= 2


def test_the_store_tablet_searches_but_the_webshop_may_not(served, subject):
    name = served.call("GetProfile", by_id(subject), "service").profile.display_name
    found = served.call("SearchCustomers", pb.SearchCustomersRequest(name=name), "store").candidates
    assert subject in [c.customer_id for c in found]


# --- consent ---

def _consents(profile: pb.Profile) -> dict[int, tuple[bool, str, bool]]:
    return {c.purpose: (c.granted, c.channel, c.by_default) for c in profile.consents}


def test_consent_per_purpose_governs_attributes_and_preferences(served, subject):
    before = served.call("GetProfile", by_id(subject), "service").profile
    assert before.attributes and _consents(before) == {
        PERSONALISATION: (True, "", True), MARKETING: (False, "", True), PROFILING: (True, "", True)}
    served.call("UpdatePreferences", pb.UpdatePreferencesRequest(
        customer_id=subject, preferences=[pb.PreferenceEntry(key="clothing_size", value="M")]), "app")
    reply = served.call("UpdateConsent", pb.UpdateConsentRequest(customer_id=subject, consents=[
        pb.ConsentEntry(purpose=PROFILING, granted=False)]), "store")
    assert {c.purpose: (c.granted, c.channel) for c in reply.consents} == {
        PERSONALISATION: (True, ""), MARKETING: (False, ""), PROFILING: (False, "store")}
    for channel in ("store", "webshop", "service"):
        profile = served.call("GetProfile", by_id(subject), channel).profile
        assert not profile.attributes and profile.preferences, channel     # no profiling; preferences still
        assert _consents(profile)[PROFILING] == (False, "store", False)
        assert next(c for c in profile.consents if c.purpose == PROFILING).stated_at.seconds > 0
    served.call("UpdateConsent", pb.UpdateConsentRequest(customer_id=subject, consents=[
        pb.ConsentEntry(purpose=PERSONALISATION, granted=False), pb.ConsentEntry(purpose=PROFILING, granted=True),
        pb.ConsentEntry(purpose=MARKETING, granted=True)]), "app")
    profile = served.call("GetProfile", by_id(subject), "service").profile
    assert profile.attributes and not profile.preferences and not profile.household.shared_preferences
    assert _consents(profile) == {PERSONALISATION: (False, "app", False), MARKETING: (True, "app", False),
                                  PROFILING: (True, "app", False)}
    served.call("UpdateConsent", pb.UpdateConsentRequest(customer_id=subject, consents=[
        pb.ConsentEntry(purpose=PERSONALISATION, granted=True)]), "service")
    profile = served.call("GetProfile", by_id(subject), "service").profile
    assert profile.attributes and ("clothing_size", "M") in {(p.key, p.value) for p in profile.preferences}


@pytest.mark.parametrize("consents, field", [
    ([], "consents"), ([pb.ConsentEntry(purpose=pb.CONSENT_PURPOSE_UNSPECIFIED)], "consents[0].purpose"),
    ([pb.ConsentEntry(purpose=99)], "consents[0].purpose"),
    ([pb.ConsentEntry(purpose=PROFILING), pb.ConsentEntry(purpose=PROFILING, granted=True)], "consents[1].purpose"),
])
def test_update_consent_rejects_a_malformed_request_naming_the_field(served, subject, consents, field):
    with pytest.raises(grpc.RpcError) as err:
        served.call("UpdateConsent", pb.UpdateConsentRequest(customer_id=subject, consents=consents), "service")
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and err.value.details().startswith(field + ":")


def test_update_consent_of_an_unknown_customer_is_not_found(served):
    with pytest.raises(grpc.RpcError) as err:
        served.call("UpdateConsent", pb.UpdateConsentRequest(
            customer_id="C-nobody", consents=[pb.ConsentEntry(purpose=MARKETING, granted=True)]), "service")
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


def test_the_configured_default_applies_to_who_never_said(store_url, served, subject):
    quiet = next(customer_id for customer_id, encoded in served.rows(
        "SELECT customer_id, encoded FROM profile WHERE consent IS NULL ORDER BY customer_id")
        if pb.Profile.FromString(bytes(encoded)).attributes)
    strict = Served(store_url, _options(profiling=False))
    try:
        profile = strict.call("GetProfile", by_id(quiet), "service").profile
        assert not profile.attributes and _consents(profile)[PROFILING] == (False, "", True)
    finally:
        strict.stop()


def test_consent_survives_a_new_run_and_is_kept_on_postgresql(small_drop, fresh_pg_url, tmp_path):
    resolve_drop(small_drop, fresh_pg_url, tmp_path / "runs")
    served = Served(fresh_pg_url, _options())
    try:
        customer_id = next(customer_id for customer_id, encoded in served.rows(
            "SELECT customer_id, encoded FROM profile ORDER BY 1") if pb.Profile.FromString(bytes(encoded)).attributes)
        served.call("UpdateConsent", pb.UpdateConsentRequest(customer_id=customer_id, consents=[
            pb.ConsentEntry(purpose=PROFILING, granted=False)]), "webshop")
        model = next((tmp_path / "runs").glob("*/model.json"))      # a new run (the first run's model): the person is written anew
        resolve_drop(small_drop, fresh_pg_url, tmp_path / "runs", "--model", str(model))
        profile = served.call("GetProfile", by_id(customer_id), "service").profile
        assert not profile.attributes and _consents(profile)[PROFILING] == (False, "webshop", False)
    finally:
        served.stop()


# --- the audit log ---

def test_the_audit_log_says_who_read_or_changed_whom(served, subject, capsys):
    served.call("GetProfile", by_id(subject), "store")
    served.call("UpdateConsent", pb.UpdateConsentRequest(customer_id=subject, consents=[
        pb.ConsentEntry(purpose=MARKETING, granted=True)]), "app")
    with pytest.raises(grpc.RpcError):
        served.call("ListIdentityEvents", pb.ListIdentityEventsRequest(customer_id=subject), "store")
    with pytest.raises(grpc.RpcError):
        served.call("GetProfile", by_id(subject), token="stolen")
    served.servicer.audit.flush()
    capsys.readouterr()
    assert main(["audit", "--store", served.url, "--customer", subject, "--json"]) == 0
    entries = json.loads(capsys.readouterr().out)
    seen = {(e["channel"], e["action"], e["outcome"]) for e in entries}
    assert {("store", "GetProfile", "OK"), ("app", "UpdateConsent", "OK")} <= seen
    store_read = next(e for e in entries if e["channel"] == "store" and e["action"] == "GetProfile")
    assert store_read["token_id"].startswith("sha256:") and "tok-store" not in json.dumps(entries)
    assert main(["audit", "--store", served.url, "--channel", "store", "--json"]) == 0
    denied = [e for e in json.loads(capsys.readouterr().out) if e["outcome"] == "PERMISSION_DENIED"]
    assert any(e["action"] == "ListIdentityEvents" for e in denied)
    assert main(["audit", "--store", served.url, "--channel", "unauthenticated", "--json"]) == 0
    assert any(e["outcome"] == "UNAUTHENTICATED" for e in json.loads(capsys.readouterr().out))
    assert main(["audit", "--store", served.url, "--since", "2999-01-01", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_searches_are_audited_per_candidate_shown(served, subject):
    name = served.call("GetProfile", by_id(subject), "service").profile.display_name
    found = served.call("SearchCustomers", pb.SearchCustomersRequest(name=name, limit=3), "store").candidates
    served.servicer.audit.flush()
    rows = served.rows("SELECT customer_id, detail FROM audit_log WHERE action = 'SearchCustomers' "
                       "ORDER BY seq DESC LIMIT :n", n=len(found))
    assert {r[0] for r in rows} == {c.customer_id for c in found} and rows[0][1] == "criteria: name"


# --- serving: loopback without tokens, TLS ---

def test_serve_refuses_to_listen_beyond_loopback_without_tokens(store_url, capsys, monkeypatch):
    monkeypatch.delenv("HERKEN_TOKENS", raising=False)
    assert main(["serve", "--store", store_url, "--host", "0.0.0.0", "--port", "0"]) == 2
    assert "no tokens are configured" in capsys.readouterr().err


def test_a_token_file_may_hold_hashes(tmp_path, store_url):
    from herken.config import load_settings
    from profile_api.access import token_hash

    (tmp_path / "herken.toml").write_text(
        '[herken.tokens]\n'
        f'"sha256:{token_hash("web-secret")}" = "webshop"\n'
        f'tablet-1 = {{ sha256 = "{token_hash("tablet-secret")}", channel = "store" }}\n'
        '[herken.consent]\nprofiling = false\n')
    settings = load_settings(tmp_path / "herken.toml", environ={})
    access = access_of(settings.tokens, settings.tokens_table, settings.channels)
    assert "web-secret" not in (tmp_path / "herken.toml").read_text()
    assert access.caller([("authorization", "Bearer tablet-secret")], "SearchCustomers").token_id == "tablet-1"
    assert access.caller([("authorization", "Bearer web-secret")], "GetProfile").channel == "webshop"
    assert settings.consent == {"profiling": False}


def test_tls_serves_only_a_client_that_trusts_the_certificate(store_url, subject, tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    options = ServeOptions(access=_options().access, tls=(cert.read_bytes(), key.read_bytes()))
    servicer = ProfileServicer(ProfileStore(open_store(store_url)), access=options.access)
    server, port = start_server(servicer, credentials=options.credentials())
    try:
        creds = grpc.ssl_channel_credentials(root_certificates=cert.read_bytes())
        with grpc.secure_channel(f"localhost:{port}", creds) as ch:
            reply = pb_grpc.ProfileServiceStub(ch).GetProfile(
                by_id(subject), metadata=(("authorization", "Bearer tok-service"),), timeout=10)
            assert reply.profile.customer_id == subject
        with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:     # plain text to a TLS port: no answer
            with pytest.raises(grpc.RpcError) as err:
                pb_grpc.ProfileServiceStub(ch).GetProfile(
                    by_id(subject), metadata=(("authorization", "Bearer tok-service"),), timeout=5)
            assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        server.stop(0).wait()
        servicer.close()


def test_a_store_tablet_granted_explanations_sees_households_without_their_values(store_url, served):
    env = ",".join(f"{token}:{channel}" for channel, token in TOKENS.items())
    tablet_rpcs = sorted(DEFAULT_CHANNELS["store"].rpcs | {"ExplainMatch"})
    granted = Served(store_url, ServeOptions(access=access_of(env, channels={"store": {"rpcs": tablet_rpcs}})))
    try:
        rows = served.rows("""SELECT l.household_id, l.customer_id, min(l.source || ':' || l.record_id) FROM record_link l
                              GROUP BY l.household_id, l.customer_id ORDER BY l.household_id, l.customer_id""")
        homes: dict[str, list[str]] = {}
        for household_id, _, record in rows:
            homes.setdefault(household_id, []).append(record)
        a, b = next((records[0], records[-1]) for records in homes.values() if len(records) >= 2)
        request = pb.ExplainMatchRequest(
            a=pb.Identifier(kind=pb.IDENTIFIER_KIND_SOURCE_RECORD, source=a.split(":")[0], value=a.split(":", 1)[1]),
            b=pb.Identifier(kind=pb.IDENTIFIER_KIND_SOURCE_RECORD, source=b.split(":")[0], value=b.split(":", 1)[1]))
        whole = granted.call("ExplainMatch", request, "service").household
        seen = granted.call("ExplainMatch", request, "store").household
    finally:
        granted.stop()
    assert whole.same_household and whole.path and all(link.value for link in whole.path
                                                         if link.kind != "likely a member")
    assert seen.same_household and [link.kind for link in seen.path] == [link.kind for link in whole.path]
    assert not any(link.value for link in seen.path) and "withheld" in seen.decision
    assert not any(link.value and link.value in seen.decision for link in whole.path)


def test_a_household_is_explained_in_full_to_service_without_values_to_a_granted_tablet_and_not_to_checkout(
        store_url, served):
    env = ",".join(f"{token}:{channel}" for channel, token in TOKENS.items())
    granted = Served(store_url, ServeOptions(access=access_of(env, channels={
        "store": {"rpcs": sorted(DEFAULT_CHANNELS["store"].rpcs | {"ExplainHousehold"})},
        "webshop": {"rpcs": sorted(DEFAULT_CHANNELS["webshop"].rpcs | {"ExplainHousehold"})}})))
    try:
        rows = served.rows("SELECT household_id, count(DISTINCT customer_id) FROM record_link GROUP BY household_id "
                           "ORDER BY count(DISTINCT customer_id) DESC, household_id")
        household_id = rows[0][0]
        assert rows[0][1] >= 2
        request = pb.ExplainHouseholdRequest(household_id=household_id)
        whole = granted.call("ExplainHousehold", request, "service")
        seen = granted.call("ExplainHousehold", request, "store")
        checkout = granted.call("ExplainHousehold", request, "webshop")
    finally:
        granted.stop()
    assert whole.links and all(link.value for link in whole.links if link.kind != "likely a member")
    assert [(link.customer_id_b, link.kind) for link in seen.links] == [(l.customer_id_b, l.kind) for l in whole.links]
    assert not any(link.value for link in seen.links) and seen.decision == whole.decision
    assert not checkout.customer_ids and not checkout.links and "not shown to this view" in checkout.decision


# --- review findings (session 31) ---

def test_a_channel_writes_records_only_as_itself_through_resolve_record(served):
    source, record_id = served.rows("SELECT source, record_id FROM source_record WHERE source = 'service' "
                                    "ORDER BY record_id")[0]
    before = served.rows("SELECT first_name, email FROM source_record WHERE source = :s AND record_id = :r",
                         s=source, r=record_id)
    forged = pb.ResolveRecordRequest(source="service", persist=True, record=pb.SourceRecord(
        record_id=record_id, first_name="Mallory", last_name="Webshop", email="mallory@example.org"))
    with pytest.raises(grpc.RpcError) as err:
        served.call("ResolveRecord", forged, "webshop")
    assert err.value.code() == DENIED and err.value.details().startswith("source: this token writes webshop records")
    assert served.rows("SELECT first_name, email FROM source_record WHERE source = :s AND record_id = :r",
                       s=source, r=record_id) == before
    forged.persist = False           # asking without writing stays open to the channel
    served.call("ResolveRecord", forged, "webshop")


def test_update_preferences_answers_no_other_channels_statements_without_personalisation(served):
    customer_id = served.rows("SELECT customer_id FROM profile ORDER BY customer_id")[3][0]
    served.call("UpdatePreferences", pb.UpdatePreferencesRequest(
        customer_id=customer_id, preferences=[pb.PreferenceEntry(key="clothing_size", value="42")]), "app")
    served.call("UpdateConsent", pb.UpdateConsentRequest(customer_id=customer_id, consents=[
        pb.ConsentEntry(purpose=PERSONALISATION, granted=False)]), "service")
    reply = served.call("UpdatePreferences", pb.UpdatePreferencesRequest(
        customer_id=customer_id, preferences=[pb.PreferenceEntry(key="shoe_size", value="39")]), "store")
    assert [(p.key, p.value, p.source) for p in reply.preferences] == [("shoe_size", "39", "pos")]
    assert not served.call("GetProfile", by_id(customer_id), "service").profile.preferences


def test_a_household_shows_pets_and_shared_preferences_only_where_every_member_allows(served):
    rows = served.rows("SELECT household_id, customer_id FROM profile WHERE household_id IN (SELECT household_id "
                       "FROM profile GROUP BY household_id HAVING count(*) >= 2) ORDER BY household_id, customer_id")
    household, first = rows[0]
    members = [c for h, c in rows if h == household]
    served.call("UpdatePreferences", pb.UpdatePreferencesRequest(customer_id=first, preferences=[
        pb.PreferenceEntry(key="pet", value="parrot"), pb.PreferenceEntry(key="delivery_method", value="pickup")]),
        "app")
    shown = served.call("GetHousehold", pb.GetHouseholdRequest(household_id=household), "service").household
    assert "parrot" in shown.pets and shown.delivery_preference and shown.shared_preferences
    served.call("UpdateConsent", pb.UpdateConsentRequest(customer_id=members[-1], consents=[
        pb.ConsentEntry(purpose=PROFILING, granted=False), pb.ConsentEntry(purpose=PERSONALISATION, granted=False)]),
        "service")
    for channel in ("service", "store"):
        shown = served.call("GetHousehold", pb.GetHouseholdRequest(household_id=household), channel).household
        assert not shown.pets and not shown.delivery_preference and not shown.shared_preferences, channel
        assert len(shown.members) == len(members)


def test_a_channel_that_may_not_search_finds_no_one_by_name_and_address_through_resolve_record(served):
    row = served.rows("SELECT r.first_name, r.last_name, r.postcode, r.house_number, r.email, l.customer_id "
                      "FROM source_record r JOIN record_link l ON l.source = r.source AND l.record_id = r.record_id "
                      "WHERE r.first_name IS NOT NULL AND r.last_name IS NOT NULL AND r.postcode IS NOT NULL "
                      "AND r.house_number IS NOT NULL AND r.email IS NOT NULL AND r.birth_date IS NOT NULL "
                      "ORDER BY r.record_id")[0]
    first, last, postcode, number, email, customer_id = row
    by_name = pb.ResolveRecordRequest(source="webshop", record=pb.SourceRecord(
        record_id="W-ASK", first_name=first, last_name=last, postcode=postcode, house_number=number))
    assert served.call("ResolveRecord", by_name, "store").customer_id == customer_id    # the tablet searches anyway
    for channel in ("webshop", "app"):
        reply = served.call("ResolveRecord", by_name, channel)
        assert (reply.customer_id, list(reply.candidates)) == ("", []), channel
    by_name.record.email = email           # the customer's own e-mail: they are who they say
    assert served.call("ResolveRecord", by_name, "webshop").customer_id == customer_id
    by_name.record.email = "someone.new@example.org"     # written: the person it joins, and no one else by name
    by_name.persist = True
    reply = served.call("ResolveRecord", by_name, "webshop")
    assert {c.customer_id for c in reply.candidates} <= {reply.customer_id}


def test_a_record_the_webshop_writes_under_a_family_address_names_only_the_person_it_joined(served):
    shared = served.rows("SELECT r.email FROM source_record r JOIN record_link l ON l.source = r.source "
                         "AND l.record_id = r.record_id WHERE r.email IS NOT NULL GROUP BY r.email "
                         "HAVING count(DISTINCT l.customer_id) > 1 ORDER BY r.email")
    assert shared, "the small drop holds a family e-mail address"
    email = shared[0][0]
    first, last, holder = served.rows(
        "SELECT r.first_name, r.last_name, l.customer_id FROM source_record r JOIN record_link l ON l.source = r.source "
        "AND l.record_id = r.record_id WHERE r.email = :email AND r.first_name IS NOT NULL "
        "AND r.last_name IS NOT NULL ORDER BY r.record_id", email=email)[0]
    written = pb.ResolveRecordRequest(source="webshop", persist=True, record=pb.SourceRecord(
        record_id="W-FAMILY", first_name=first[:1], last_name=last, email=email))   # an initial: either holder
    reply = served.call("ResolveRecord", written, "webshop")
    assert reply.customer_id
    assert [c.customer_id for c in reply.candidates] in ([], [reply.customer_id])     # no other holder of the address
