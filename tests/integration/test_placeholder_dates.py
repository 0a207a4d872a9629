"""A drop whose till fills in 01-01-1900 for customers who give no birth date: a full run reads that date as missing,
keeps it, and an incremental run reads it so too; namesakes who share nothing but it stay two people."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from sqlalchemy import text

from herken.publish_delta import published_state
from profile_api.resolve_record import RECORD_FIELDS, RecordRequest, RecordResolver

from profile_api.store import latest_run, open_store, read_links
from tests.integration.resolving import resolve_drop
from tests.integration.test_date_typos import _people, _row, _write

PLACEHOLDER = "01-01-1900"


def test_a_placeholder_birth_date_is_read_as_missing_in_full_and_incremental_runs(tmp_path: Path) -> None:
    people = _people()                                   # 60 people, each at their own postcode
    rows = {
        "pos": [_row(f"p{i}", p, PLACEHOLDER if i < 30 else p[2], i + 1) for i, p in enumerate(people)],
        "webshop": [_row(f"w{i}", p, p[2], i + 1) for i, p in enumerate(people)],
    }
    # two namesakes at other addresses, who share the full name of person 0 and nothing but the placeholder
    first, last, _, _, _ = people[0]
    rows["app"] = [_row("a1", (first, last, "", "1111AA", "Assen"), PLACEHOLDER, 3),
                   _row("a2", (first, last, "", "9999ZZ", "Vaals"), PLACEHOLDER, 7)]
    _write(tmp_path / "day1", rows)
    url = f"sqlite:///{tmp_path / 'store.db'}"
    resolve_drop(tmp_path / "day1", url, tmp_path / "runs")
    store = open_store(url)
    birth = next(r for r in json.loads(latest_run(store).rules_json) if r["rule"] == "birth_date")
    assert birth["placeholder_dates"] == {"1900-01-01": 29}   # 30 people, by their initials: two share theirs
    assert "read as placeholders (missing): 1900-01-01" in birth["description"]
    with store.connect() as conn:
        held = conn.execute(text("SELECT count(*) FROM source_record WHERE std_birth_date = '1900-01-01'")).scalar()
    assert held == 0
    links = read_links(store)
    person = dict(zip(links["source"] + ":" + links["record_id"], links["customer_id"]))
    assert person["app:a1"] != person["app:a2"]
    assert all(person[f"pos:p{i}"] == person[f"webshop:w{i}"] for i in range(len(people)))

    # a record joined in real time with the placeholder: read as missing there, and again when the next run
    # standardises it from its raw values (herken.publish_delta.published_state)
    resolver = RecordResolver(store, first_wait=60)
    first, last, _, postcode, city = people[50]
    fields = {"first_name": first, "last_name": last, "birth_date": PLACEHOLDER, "postcode": postcode, "city": city,
              "house_number": "51"}
    resolver.resolve(RecordRequest("app", "rt1", {f: fields.get(f) for f in RECORD_FIELDS}, True))
    again = published_state(store).records.set_index("unique_id")
    assert pd.isna(again.loc["app:rt1", "birth_date"])

    # a delta whose record carries the placeholder: read as missing there too, and the run keeps the dates
    _write(tmp_path / "day2", {"service": [_row("s1", people[40], PLACEHOLDER, 41)]})
    resolve_drop(tmp_path / "day2", url, tmp_path / "runs", "--incremental")
    with store.connect() as conn:
        std = conn.execute(text("SELECT std_birth_date FROM source_record WHERE record_id = 's1'")).scalar()
    assert std is None
    links = read_links(store)
    person = dict(zip(links["source"] + ":" + links["record_id"], links["customer_id"]))
    assert person["service:s1"] == person["pos:p40"]
    kept = next(r for r in json.loads(latest_run(store).rules_json) if r["rule"] == "birth_date")
    assert kept["placeholder_dates"] == birth["placeholder_dates"]
    store.dispose()
