"""Identifiers as the records hold them, end to end: a drop whose records carry a mobile number in a
range phonenumbers does not know and an e-mail address with an accent, resolved by `herken resolve`,
served by the real server, asked for by those values exactly as the records write them."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import grpc
import pandas as pd
import pytest

from profile_api._generated.herken.v1 import profile_service_pb2 as pb
from tests.integration.resolving import resolve_drop
from tests.integration.test_service import Served, by_identifier, running, status_of

PHONE, EMAIL = "06-75211662", "chloé_lorreijn37@ziggo.nl"     # as issue 12 found them refused


@pytest.fixture(scope="module")
def held_drop(small_drop, tmp_path_factory) -> tuple[Path, dict[str, tuple[str, str]]]:
    """The small drop with one webshop record's mobile and one app record's e-mail rewritten; and those records."""
    drop = tmp_path_factory.mktemp("held") / "drop"
    shutil.copytree(small_drop, drop)
    chosen = {}
    for channel, column, value in (("webshop", "phone", PHONE), ("app", "email", EMAIL)):
        records = pd.read_csv(drop / f"{channel}.csv", dtype=str, keep_default_na=False)
        if column == "phone":
            row = records.index[records["phone"].str.replace(r"\D", "", regex=True).str.contains(r"^(?:06|316)")][0]
        else:
            row = records.index[records["email"] != ""][0]
        records.loc[row, column] = value
        records.to_csv(drop / f"{channel}.csv", index=False)
        chosen[column] = (channel, records.loc[row, "record_id"])
    return drop, chosen


@pytest.fixture(scope="module", params=["sqlite", pytest.param("pg", marks=pytest.mark.postgres)])
def held(request, held_drop, tmp_path_factory) -> Iterator[tuple[Served, dict[str, str]]]:
    """The server over the rewritten drop resolved into each store; and the customer of each rewritten record."""
    drop, chosen = held_drop
    work = tmp_path_factory.mktemp(f"held-{request.param}")
    url = f"sqlite:///{work / 'herken.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    resolve_drop(drop, url, work / "runs")
    with running(url) as served:
        customers = {column: served.rows("SELECT customer_id FROM record_link WHERE source = :s AND record_id = :r",
                                         s=source, r=record_id)[0][0]
                     for column, (source, record_id) in chosen.items()}
        yield served, customers


@pytest.mark.parametrize("kind,value,column", [
    (pb.IDENTIFIER_KIND_PHONE, PHONE, "phone"),
    (pb.IDENTIFIER_KIND_PHONE, "+31 6 7521 1662", "phone"),
    (pb.IDENTIFIER_KIND_EMAIL, EMAIL, "email"),
    (pb.IDENTIFIER_KIND_EMAIL, "  CHLOÉ_Lorreijn37@Ziggo.NL ", "email"),
    (pb.IDENTIFIER_KIND_EMAIL, "chloe\u0301_lorreijn37@ziggo.nl", "email"),   # the é decomposed
])
def test_get_profile_finds_the_person_by_the_value_as_the_record_holds_it(held, kind, value, column):
    served, customers = held
    reply = served.stub.GetProfile(by_identifier(kind, value), timeout=10)
    assert reply.WhichOneof("result") == "profile"
    assert reply.profile.customer_id == customers[column]


def test_search_finds_the_person_by_the_phone_and_by_the_e_mail_as_written(held):
    served, customers = held
    phone = served.stub.SearchCustomers(pb.SearchCustomersRequest(phone=PHONE), timeout=10)
    assert phone.candidates[0].customer_id == customers["phone"] and "phone" in phone.candidates[0].matched_on
    email = served.stub.SearchCustomers(pb.SearchCustomersRequest(email=EMAIL.upper()), timeout=10)
    assert email.candidates[0].customer_id == customers["email"] and "email" in email.candidates[0].matched_on


def test_the_store_keeps_the_values_in_the_notation_a_look_up_asks_for(held):
    served, _ = held
    assert [(p, bool(m)) for p, m in served.rows(
        "SELECT std_phone, std_phone_mobile FROM source_record WHERE phone = :p", p=PHONE)] == [("+31675211662", True)]
    assert served.rows("SELECT std_email FROM source_record WHERE email = :e", e=EMAIL) == [(EMAIL,)]


def test_what_is_no_phone_number_or_e_mail_address_is_still_invalid_argument_saying_what_to_send(held):
    served, _ = held
    for request, says in (
        (by_identifier(pb.IDENTIFIER_KIND_PHONE, "06-CALL-ME"), "send the number as the customer gave it"),
        (by_identifier(pb.IDENTIFIER_KIND_PHONE, "0612"), "digits"),
        (by_identifier(pb.IDENTIFIER_KIND_EMAIL, "chloé at ziggo"), "send the address as the customer gave it"),
    ):
        code, details = status_of(served.stub.GetProfile, request)
        assert code == grpc.StatusCode.INVALID_ARGUMENT and details.startswith("identifier.value: ")
        assert says in details
    code, details = status_of(served.stub.SearchCustomers, pb.SearchCustomersRequest(phone="06-CALL-ME"))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and details.startswith("phone: ") and "letters" in details
