"""The profile store on a real SQLite file and the real PostgreSQL, after `herken resolve` of a drop."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import inspect, text

from herken.cli import main
from identity.categories import DEFAULT_CATEGORIES
from identity.nicknames import group_names, name_groups
from profile_api._generated.herken.v1 import profile_service_pb2 as pb
from profile_api.live import refresh_live
from profile_api.messages import profile_pb
from profile_api.profiles import ProfileStore, UnknownCustomer
from profile_api.store import open_store, read_links
from profile_api.store.migrations import revision_of
from profile_api.store.read import CacheSettings
from profile_api.store.models import SCHEMA_VERSION
from tests.integration.test_migrate import triggers, undo_10


def resolve(drop: Path, url: str, runs: Path, *extra: str) -> None:
    """Resolve the drop into the store through the command line, as a user would."""
    old = os.environ.get("HERKEN_RUNS_DIR")
    os.environ["HERKEN_RUNS_DIR"] = str(runs)
    try:
        assert main(["resolve", str(drop), "--store", url, *extra]) == 0
    finally:
        if old is None:
            os.environ.pop("HERKEN_RUNS_DIR", None)
        else:
            os.environ["HERKEN_RUNS_DIR"] = old


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def published(request, small_drop, tmp_path_factory):
    """(url, engine, store, links) of the small drop resolved into a store of each kind."""
    tmp = tmp_path_factory.mktemp(f"store-{request.param}")
    url = f"sqlite:///{tmp / 'herken.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    resolve(small_drop, url, tmp / "runs")
    engine = open_store(url)
    yield url, engine, ProfileStore(engine), read_links(engine), tmp
    with engine.begin() as conn:   # the PostgreSQL database is shared with other test modules
        records = conn.execute(text("SELECT source, record_id FROM preference WHERE origin = 'api'")).all()
        conn.execute(text("DELETE FROM preference WHERE origin = 'api'"))
        refresh_live(conn, records=records)
    engine.dispose()


@pytest.fixture(scope="module")
def truth(small_drop) -> pd.DataFrame:
    return pd.read_csv(small_drop / "truth.csv", dtype=str)


def records_of(links: pd.DataFrame, customer_id: str) -> list[tuple[str, str]]:
    rows = links[links["customer_id"] == customer_id]
    return list(zip(rows["source"], rows["record_id"]))


def quiet_household(engine, links) -> tuple[str, str]:
    """Return (customer_id, household_id) of a person with records in two channels whose household stated nothing."""
    with engine.connect() as conn:
        stated = {row[0] for row in conn.execute(text(
            "SELECT DISTINCT l.household_id FROM preference p JOIN record_link l "
            "ON l.source = p.source AND l.record_id = p.record_id"))}
    sizes = links.groupby("household_id")["customer_id"].nunique()
    channels = links.groupby("customer_id")["source"].nunique()
    for customer_id, household_id in sorted(set(zip(links["customer_id"], links["household_id"]))):
        if household_id not in stated and sizes[household_id] >= 2 and channels[customer_id] >= 2:
            return customer_id, household_id
    raise AssertionError("the drop has no household without preferences")


def test_every_person_has_a_profile_whose_golden_values_come_from_their_own_records(published, small_drop):
    _, engine, store, links, _ = published
    raw = pd.concat([pd.read_csv(small_drop / f"{c}.csv", dtype=str).assign(source=c)
                     for c in ("pos", "webshop", "app", "service")]).set_index(["source", "record_id"])
    customers = sorted(links["customer_id"].unique())
    assert store.get_profile("C-NO-SUCH-PERSON") is None
    for customer_id in customers[::5]:
        profile = store.get_profile(customer_id)
        assert profile is not None and profile.display_name
        assert profile.household_id == links.loc[links["customer_id"] == customer_id, "household_id"].iloc[0]
        own = set(records_of(links, customer_id))
        for field in ("first_name", "last_name", "city"):
            value = getattr(profile.golden, field)
            if value is not None:
                assert (value.source, value.record_id) in own
                assert value.value == " ".join(str(raw.loc[(value.source, value.record_id), field]).split())
        for field in ("email", "phone", "birth_date", "postcode"):
            value = getattr(profile.golden, field)
            assert value is None or (value.source, value.record_id) in own
        assert {m.customer_id for m in profile.household.members} == \
            set(links.loc[links["household_id"] == profile.household_id, "customer_id"])
    names = [a.name for a in store.get_profile(customers[0]).attributes]
    assert names[0] == "purchase_count"


def test_preferences_stated_in_one_channel_are_seen_from_every_channel(published, small_drop):
    _, _, store, links, _ = published
    stated = pd.read_csv(small_drop / "preferences.csv", dtype=str).reset_index()
    stated = stated.merge(links, on=["source", "record_id"])
    latest = stated.sort_values(["stated_at", "index"]).groupby(["customer_id", "key"]).last().reset_index()
    assert len(latest["customer_id"].unique()) > 20
    for customer_id, expected in latest.groupby("customer_id"):
        want = sorted(zip(expected["key"], expected["value"], expected["source"], expected["stated_at"]))
        for source, record_id in records_of(links, customer_id):
            (found,) = store.resolve_identifier("source_record", record_id, source=source)
            got = [(p.key, p.value, p.source, p.stated_at) for p in store.get_profile(found).preferences]
            assert got == want, f"{source}:{record_id}"


def test_an_update_in_one_channel_shows_at_once_in_every_channel_and_household(published):
    _, engine, store, links, _ = published
    customer_id, household_id = quiet_household(engine, links)
    current = store.update_preferences(customer_id, "pos", [("clothing_size", "XL"), ("delivery_method", "store_pickup")],
                                       stated_at=dt.datetime(2026, 2, 1, 12, 0))
    assert [(p.key, p.value, p.source) for p in current] == [("clothing_size", "XL", "pos"),
                                                           ("delivery_method", "store_pickup", "pos")]
    older = store.update_preferences(customer_id, "app", [("clothing_size", "S")], stated_at=dt.datetime(2020, 1, 1))
    assert [p.value for p in older if p.key == "clothing_size"] == ["XL"]     # the latest statement wins
    for source, record_id in records_of(links, customer_id):
        profile = store.get_profile(store.resolve_identifier("source_record", record_id, source)[0])
        assert ("clothing_size", "XL", "pos", "2026-02-01T12:00:00") in \
            [(p.key, p.value, p.source, p.stated_at) for p in profile.preferences]
    other = next(c for c in links.loc[links["household_id"] == household_id, "customer_id"] if c != customer_id)
    mate = store.get_profile(other)
    assert not any(p.key == "clothing_size" for p in mate.preferences)       # a size is personal ...
    assert mate.household.delivery_preference == "store_pickup"                # ... a delivery is shared
    assert [p.key for p in store.get_household(household_id).shared_preferences] == ["delivery_method"]
    with pytest.raises(UnknownCustomer):
        store.update_preferences("C-NO-SUCH-PERSON", "app", [("shoe_size", "42")])
    with pytest.raises(ValueError, match="source"):
        store.update_preferences(customer_id, "fax", [("shoe_size", "42")])
    with pytest.raises(ValueError, match="empty"):
        store.update_preferences(customer_id, "app", [("shoe_size", " ")])


def test_preferences_from_the_api_survive_resolving_again(published, small_drop):
    url, engine, store, links, tmp = published
    customer_id = sorted(links["customer_id"].unique())[-1]
    store.update_preferences(customer_id, "webshop", [("newsletter_topic", "pets")])
    drop_preferences = len(pd.read_csv(small_drop / "preferences.csv"))
    model = next((tmp / "runs").glob("*/model.json"))
    resolve(small_drop, url, tmp / "runs", "--model", str(model))
    assert ("newsletter_topic", "pets", "webshop") in \
        [(p.key, p.value, p.source) for p in store.get_profile(customer_id).preferences]
    assert decoded(store, customer_id) == profile_pb(store.get_profile(customer_id))    # served as it is read
    with engine.connect() as conn:   # the live parts the publish wrote are those the store's preferences make
        live = "SELECT customer_id, encoded_live FROM profile ORDER BY customer_id"
        published_parts = [(c, bytes(b)) for c, b in conn.execute(text(live))]
        assert refresh_live(conn, set(links["household_id"])) == len(published_parts)
        assert [(c, bytes(b)) for c, b in conn.execute(text(live))] == published_parts
        conn.rollback()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM preference WHERE origin = 'drop'")).scalar() == drop_preferences
        assert conn.execute(text("SELECT count(*) FROM profile")).scalar() == links["customer_id"].nunique()


def test_a_family_card_resolves_to_every_person_using_it(published, truth):
    _, engine, store, links, _ = published
    with engine.connect() as conn:
        card = conn.execute(text(
            "SELECT r.std_loyalty_card FROM source_record r JOIN record_link l "
            "ON l.source = r.source AND l.record_id = r.record_id WHERE r.std_loyalty_card IS NOT NULL "
            "GROUP BY r.std_loyalty_card HAVING count(DISTINCT l.customer_id) > 1 ORDER BY 1")).scalars().first()
    assert card is not None
    spaced = " ".join(card[i:i + 4] for i in range(0, len(card), 4))
    customers = store.resolve_identifier("loyalty_card", spaced)
    assert len(customers) >= 2 and customers == store.resolve_identifier("loyalty_card", card)
    persons = truth.merge(links[links["customer_id"].isin(customers)], on=["source", "record_id"])
    assert persons["person_id"].nunique() >= 2


def test_profiles_by_identifier_in_one_read_are_the_persons_and_profiles_resolving_gives(published):
    _, engine, store, _, _ = published
    with engine.connect() as conn:
        values = [("email", v) for v in conn.execute(text(
            "SELECT DISTINCT std_email FROM source_record WHERE std_email IS NOT NULL ORDER BY 1 LIMIT 40")).scalars()]
        values += [("phone", v) for v in conn.execute(text(
            "SELECT DISTINCT std_phone FROM source_record WHERE std_phone IS NOT NULL ORDER BY 1 LIMIT 40")).scalars()]
        values += [("loyalty_card", v) for v in conn.execute(text(   # family cards among them: several persons
            "SELECT r.std_loyalty_card FROM source_record r JOIN record_link l ON l.source = r.source "
            "AND l.record_id = r.record_id WHERE r.std_loyalty_card IS NOT NULL GROUP BY r.std_loyalty_card "
            "ORDER BY count(DISTINCT l.customer_id) DESC, 1 LIMIT 10")).scalars()]
    assert any(len(store.resolve_identifier(kind, value)) > 1 for kind, value in values)
    for kind, value in values:
        expected = [(c, store.encoded_profile(c)) for c in store.resolve_identifier(kind, value.upper())]
        assert store.encoded_profiles_by_identifier(kind, value.upper()) == expected != [], (kind, value)
    assert store.encoded_profiles_by_identifier("email", "nobody@nowhere.example") == []
    with pytest.raises(ValueError, match="e-mail"):
        store.encoded_profiles_by_identifier("email", "not-an-address")
    with pytest.raises(ValueError, match="kind"):
        store.encoded_profiles_by_identifier("source_record", "W123")


def test_identifiers_in_any_notation_and_malformed_ones(published):
    _, engine, store, _, _ = published
    with engine.connect() as conn:
        email, phone = conn.execute(text(
            "SELECT std_email, std_phone FROM source_record WHERE std_email IS NOT NULL AND std_phone LIKE '+316%' "
            "ORDER BY source, record_id")).first()
    assert store.resolve_identifier("email", f"  {email.upper()} ") == store.resolve_identifier("email", email) != []
    national = "06-" + phone[4:]
    assert store.resolve_identifier("phone", national) == store.resolve_identifier("phone", phone) != []
    assert store.resolve_identifier("email", "nobody@nowhere.example") == []
    with pytest.raises(ValueError, match="phone: '12' is not a phone number"):
        store.resolve_identifier("phone", "12")
    with pytest.raises(ValueError, match="needs|a source is needed"):
        store.resolve_identifier("source_record", "W123")
    with pytest.raises(ValueError, match="e-mail"):
        store.resolve_identifier("email", "not-an-address")
    with pytest.raises(ValueError, match="kind"):
        store.resolve_identifier("passport", "X")


def _unique_names(engine) -> pd.DataFrame:
    """Return persons with their golden names whose surname core no other person carries."""
    with engine.connect() as conn:
        rows = pd.DataFrame(conn.execute(text(
            "SELECT l.customer_id, r.std_given, r.std_surname, r.std_particles, r.std_postcode, r.std_house_number "
            "FROM source_record r JOIN record_link l ON l.source = r.source AND l.record_id = r.record_id")).all(),
            columns=["customer_id", "given", "surname", "particles", "postcode", "number"])
    per_surname = rows.dropna(subset=["surname"]).groupby("surname")["customer_id"].nunique()
    unique = rows[rows["surname"].map(per_surname).eq(1) & rows["given"].notna()]
    return unique.sort_values(["customer_id", "surname"]).drop_duplicates("customer_id")


def test_search_by_a_name_with_a_typo_a_nickname_or_particles_finds_the_person_first(published):
    _, engine, store, _, _ = published
    people = _unique_names(engine)
    typo = people[people["surname"].str.len() >= 7].iloc[0]
    s = typo["surname"]
    typed = s[:3] + s[4] + s[3] + s[5:]     # two letters swapped
    hits = store.search(name=f"{typo['given']} {typed}")
    assert hits[0].customer_id == typo["customer_id"] and "name" in hits[0].matched_on

    def variant(given: str) -> str | None:
        others = sorted({v for g in name_groups(given) for v in group_names(g)} - {given})
        return others[0] if others else None

    nick = people[people["given"].map(variant).notna()].iloc[0]
    hits = store.search(name=f"{variant(nick['given'])} {nick['surname']}")
    assert hits[0].customer_id == nick["customer_id"]

    particled = people[people["particles"].isin(["van der", "van den", "van de"])]
    if not particled.empty:
        one = particled.iloc[0]
        short = {"van der": "vd", "van den": "v.d.", "van de": "v.d."}[one["particles"]]
        hits = store.search(name=f"{one['given']} {short} {one['surname']}")
        assert hits[0].customer_id == one["customer_id"]
    assert len(store.search(name=people.iloc[0]["surname"], limit=1)) == 1


def test_search_by_postcode_and_house_number(published, truth):
    _, engine, store, links, _ = published
    with engine.connect() as conn:
        rows = pd.DataFrame(conn.execute(text(
            "SELECT l.customer_id, r.std_postcode, r.std_house_number FROM source_record r JOIN record_link l "
            "ON l.source = r.source AND l.record_id = r.record_id WHERE r.std_postcode IS NOT NULL "
            "AND r.std_house_number IS NOT NULL")).all(), columns=["customer_id", "postcode", "number"])
    alone = rows.groupby(["postcode", "number"])["customer_id"].nunique()
    postcode, number = sorted(alone[alone == 1].index)[0]
    (customer_id,) = rows.loc[(rows["postcode"] == postcode) & (rows["number"] == number), "customer_id"].unique()
    hits = store.search(postcode=f"{postcode[:4]} {postcode[4:].lower()}", house_number=number)
    assert hits[0].customer_id == customer_id and hits[0].score == 1.0
    assert hits[0].matched_on == ["postcode", "house_number"]
    with pytest.raises(ValueError, match="at least one"):
        store.search()
    with pytest.raises(ValueError, match="birth_date"):
        store.search(name="jansen", birth_date="31-02-1990")


# --- profiles as the server reads them: encoded ---

def decoded(store: ProfileStore, customer_id: str) -> pb.Profile:
    """Return the profile the server would send, decoded as a client decodes it."""
    return pb.Profile.FromString(store.encoded_profile(customer_id))


def without_confidence(profile: pb.Profile) -> pb.Profile:
    """Return a served profile as a store from before schema 8 served it: no confidence on golden values."""
    profile = pb.Profile.FromString(profile.SerializeToString())
    for field in profile.golden.DESCRIPTOR.fields:
        if profile.golden.HasField(field.name):
            getattr(profile.golden, field.name).ClearField("confidence")
    return profile


def stated_households(engine) -> set[str]:
    with engine.connect() as conn:
        return {row[0] for row in conn.execute(text(
            "SELECT DISTINCT l.household_id FROM preference p JOIN record_link l "
            "ON l.source = p.source AND l.record_id = p.record_id"))}


def test_the_encoded_profile_is_the_profile_built_from_its_parts(published):
    _, engine, store, links, _ = published
    stated = stated_households(engine)
    persons = sorted(set(zip(links["customer_id"], links["household_id"])))
    assert {household in stated for _, household in persons} == {True, False}    # both paths are taken
    for customer_id, _ in persons:
        built = profile_pb(store.get_profile(customer_id))
        served = decoded(store, customer_id)
        assert served == built, customer_id
        assert served.SerializeToString(deterministic=True) == built.SerializeToString(deterministic=True)
    assert store.encoded_profile("C-NO-SUCH-PERSON") is None


def test_an_update_shows_at_once_in_the_encoded_profiles_of_the_person_and_the_household_and_in_another_server_within_its_check(
        published):
    url, engine, store, links, _ = published
    customer_id, household_id = quiet_household(engine, links)
    mate = next(c for c in links.loc[links["household_id"] == household_id, "customer_id"] if c != customer_id)
    before = decoded(store, customer_id)       # this thread's read connection is open from here on
    other_server = ProfileStore(open_store(url), cache=CacheSettings())     # as another server process would
    other_server.encoded_profile(mate)
    store.update_preferences(customer_id, "webshop", [("delivery_method", "parcel_locker"), ("pet", "Parrot")],
                             stated_at=dt.datetime(2031, 1, 2, 3, 4, 5))
    for reader in (store, other_server):
        if reader is other_server:    # it kept the mate's profile: it reads the store's generation again after
            time.sleep(CacheSettings().check_seconds)     # check_seconds, and then forgets what it kept
        profile = decoded(reader, customer_id)
        assert [(p.key, p.value, p.source) for p in profile.preferences
                if p.key in ("delivery_method", "pet")] == [("delivery_method", "parcel_locker", "webshop"),
                                                            ("pet", "Parrot", "webshop")]
        household = decoded(reader, mate).household
        assert household.delivery_preference == "parcel_locker"
        assert "parrot" in household.pets
        assert [p.key for p in household.shared_preferences] == ["delivery_method"]
        assert profile_pb(reader.get_profile(mate)) == decoded(reader, mate)
    other_server.close()
    other_server._engine.dispose()
    with engine.begin() as conn:   # the household is quiet again for the other tests (an edit by hand: refresh)
        conn.execute(text("DELETE FROM preference WHERE origin = 'api' AND stated_at = '2031-01-02T03:04:05'"))
        assert refresh_live(conn, [household_id]) == links.loc[links["household_id"] == household_id,
                                                               "customer_id"].nunique()
    assert decoded(store, customer_id) == before


def test_concurrent_updates_in_one_household_all_show_in_every_members_profile(published):
    url, engine, store, links, _ = published
    _, household_id = quiet_household(engine, links)
    members = sorted(links.loc[links["household_id"] == household_id, "customer_id"].unique())
    writers = [ProfileStore(open_store(url)) for _ in range(6)]     # as six server processes would
    barrier = threading.Barrier(len(writers))

    def state(i: int) -> None:
        barrier.wait()
        for round_ in range(3):
            writers[i].update_preferences(members[i % len(members)], "app",
                                          [(f"topic_{i}", f"v{round_}"), ("delivery_slot", f"slot_{i}_{round_}")],
                                          stated_at=dt.datetime(2032, 1, 1, 0, i, round_))

    threads = [threading.Thread(target=state, args=(i,)) for i in range(len(writers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for member in members:
        served = decoded(store, member)
        assert served == profile_pb(store.get_profile(member))
        assert served.household.shared_preferences[0].value == f"slot_{len(writers) - 1}_2"   # the latest stated
    stated = {p.key for m in members for p in decoded(store, m).preferences}
    assert {f"topic_{i}" for i in range(len(writers))} <= stated
    for writer in writers:
        writer.close()
        writer._engine.dispose()
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM preference WHERE origin = 'api' AND stated_at >= '2032-01-01'"))
        refresh_live(conn, [household_id])


def test_a_publish_whose_api_preferences_changed_meanwhile_encodes_the_live_parts_again(published):
    from profile_api.live import api_preferences, stated_preferences
    from profile_api.precompute import ProfileEncoding, profile_rows
    from profile_api.store.write import read_inputs
    from profile_api.store.write import write_profiles

    _, engine, store, links, _ = published
    customer_id, household_id = quiet_household(engine, links)
    before = decoded(store, customer_id)
    store.update_preferences(customer_id, "app", [("pet", "Ferret")], stated_at=dt.datetime(2033, 1, 1))
    with engine.connect() as conn:    # what a publish reads before its transaction
        stated, api = stated_preferences(conn), api_preferences(conn)
        profiles = ProfileEncoding(profile_rows(*read_inputs(conn)), apart=False, stated=stated).result()
    with engine.begin() as conn:      # meanwhile the statement is removed (by hand: erasure will do this)
        conn.execute(text("DELETE FROM preference WHERE origin = 'api' AND value = 'Ferret'"))
    with engine.begin() as conn:
        write_profiles(conn, profiles, live_from=api)
    assert "ferret" not in decoded(store, customer_id).household.pets
    assert decoded(store, customer_id) == before == profile_pb(store.get_profile(customer_id))


def test_a_read_connection_that_breaks_is_replaced(published):
    url, engine, _, links, _ = published
    if not url.startswith("postgresql"):
        pytest.skip("a PostgreSQL connection can be broken from outside; an SQLite file's cannot")
    reader = open_store(url + "?application_name=herken_broken_reader")
    store = ProfileStore(reader)
    customer_id = sorted(links["customer_id"].unique())[0]
    assert store.encoded_profile(customer_id)
    with engine.connect() as conn:    # the database server ends the kept connection (a restart, a timeout)
        assert conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                 "WHERE application_name = 'herken_broken_reader'")).scalar() >= 1
    # the read finds its connection broken, opens another and reads again: the caller sees an answer
    assert decoded(store, customer_id).customer_id == customer_id
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM pg_stat_activity "
                                 "WHERE application_name = 'herken_broken_reader'")).scalar() == 1
    assert store.get_profile(customer_id).customer_id == customer_id     # the other reads use the new one
    store.close()
    reader.dispose()


# --- a store of every earlier schema version, brought to this one by `herken migrate` ---

# What each older version wrote, from this version's tables: the statements that take a store back there.
# Written out by hand, apart from the migrations, so that the test does not take their word for it.
# Before version 8 nothing remembered IDs between runs, nor kept a record's confidence or a steward's decisions.


def _households_as_json(conn) -> None:
    """Fill profile.household as versions 2 to 10 kept it ({"members": [[id, name]], "pets", "delivery"})."""
    rows = conn.execute(text("SELECT customer_id, encoded, household_inferred FROM profile")).all()
    conn.execute(text("UPDATE profile SET household = :household WHERE customer_id = :c"), [
        {"c": customer_id, "household": json.dumps({
            "members": [[m.customer_id, m.display_name] for m in pb.Profile.FromString(bytes(encoded)).household.members],
            **json.loads(inferred)})} for customer_id, encoded, inferred in rows])


# Before version 11 each profile was kept twice: as JSON (golden, attributes, household) beside the encoded
# parts. Version 11 reads only the household's pets and delivery of the JSON (its golden record and
# attributes it has encoded): those are written as they were, the others left empty.
# Before version 13 nothing named the persons written in real time since the run.
_BEFORE_13 = ("DROP TABLE person_written",)
_BEFORE_11 = (*_BEFORE_13, "ALTER TABLE profile ADD COLUMN golden TEXT NOT NULL DEFAULT '{}'",
              "ALTER TABLE profile ADD COLUMN attributes TEXT NOT NULL DEFAULT '[]'",
              "ALTER TABLE profile ADD COLUMN household TEXT NOT NULL DEFAULT '{}'", _households_as_json,
              "ALTER TABLE profile DROP COLUMN household_inferred")
# Before version 9 nothing kept consent, an audit log or erasures.
_BEFORE_9 = (*_BEFORE_11, "ALTER TABLE profile DROP COLUMN consent", "DROP TABLE consent", "DROP TABLE audit_log",
             "DROP TABLE erasure", "DROP TABLE tombstone", "DROP TABLE erasure_salt")
_BEFORE_8 = (*_BEFORE_9, "ALTER TABLE person DROP COLUMN first_seen_at", "ALTER TABLE household DROP COLUMN first_seen_at",
             "ALTER TABLE record_link DROP COLUMN confidence", "DROP TABLE identity_event",
             "DROP TABLE identity_event_customer", "DROP TABLE id_alias", "DROP TABLE steward_decision",
             "DROP TABLE linkage_snapshot")
_RUN_BEFORE_7 = ("ALTER TABLE run DROP COLUMN review_json", *_BEFORE_8)   # nor its band of borderline pairs before 7
_RUN_BEFORE_6 = ("ALTER TABLE run DROP COLUMN rules_json", *_RUN_BEFORE_7)
# Before version 5 a run kept no category taxonomy: its profiles were derived through the built-in one.
_RUN_BEFORE_5 = (*_RUN_BEFORE_6, "ALTER TABLE run DROP COLUMN categories_json",
                 "ALTER TABLE run DROP COLUMN unplaced_categories_json")
_BACK_TO = {
    1: (*_RUN_BEFORE_5, "DROP TABLE profile", "DROP INDEX ix_preference_record",
        "ALTER TABLE preference DROP COLUMN channel", "ALTER TABLE source_record DROP COLUMN std_phone_mobile",
        "ALTER TABLE source_record DROP COLUMN std_particles"),
    2: (*_RUN_BEFORE_5, "ALTER TABLE profile DROP COLUMN encoded", "ALTER TABLE profile DROP COLUMN encoded_live"),
    3: ("ALTER TABLE profile RENAME COLUMN encoded_live TO encoded_household", *_RUN_BEFORE_5),
    4: _RUN_BEFORE_5,
    5: _RUN_BEFORE_6,
    6: _RUN_BEFORE_7,
    7: _BEFORE_8,
    8: _BEFORE_9,
    9: _BEFORE_11,      # and before 10 no served generation (undo_10, for every version before 10)
    10: _BEFORE_11,
    12: _BEFORE_13,
}
_KEPT = {   # what each table holds that a migration must not lose (the profiles are compared as served)
    "source_record": "source, record_id, first_name, last_name, std_email, std_phone, std_phone_mobile",
    # version 1 kept no particles: they are read again from the names (not from an e-mail address, as ingest may)
    "source_record WHERE last_name IS NOT NULL": "source, record_id, std_particles",
    "record_link": "source, record_id, customer_id, household_id",
    "preference": "source, record_id, key, value, stated_at, origin",
    "interaction": "source, record_id, type, occurred_at, category, size",
    "run": "run_id, records, persons, households, model_json",
}


def kept_rows(engine) -> dict[str, list[tuple]]:
    with engine.connect() as conn:
        return {rows: sorted(map(tuple, conn.execute(text(f"SELECT {columns} FROM {rows}"))), key=repr)
                for rows, columns in _KEPT.items()}


def schema_of(engine) -> dict[str, object]:
    """Return the store's schema as a user could notice it: tables, columns, indexes, triggers and its version."""
    with engine.connect() as conn:
        found = inspect(conn)
        tables = {t: (sorted((c["name"], str(c["type"]), c["nullable"]) for c in found.get_columns(t)),
                      sorted((i["name"], tuple(i["column_names"])) for i in found.get_indexes(t)))
                  for t in found.get_table_names()}
        return {"tables": tables, "triggers": triggers(conn),
                "version": conn.execute(text("SELECT version FROM schema_info")).scalar()}


@pytest.mark.parametrize("version,alembic", [*((v, False) for v in sorted(_BACK_TO)), (5, True)],
                         ids=[*(f"{v}-before-alembic" for v in sorted(_BACK_TO)), "5-alembic"])
def test_a_store_of_an_earlier_version_is_refused_by_the_readers_until_migrated(published, small_drop, version,
                                                                                 alembic, capsys):
    url, engine, store, links, tmp = published
    customers = sorted(links["customer_id"].unique())
    households = stated_households(engine)
    sample = [c for c, h in sorted(set(zip(links["customer_id"], links["household_id"]))) if h in households][:10] \
        + customers[:10]
    before = {c: (decoded(store, c), store.get_profile(c)) for c in sample}
    rows, head_schema = kept_rows(engine), schema_of(engine)
    with engine.begin() as conn:   # take the store back to what that version wrote
        if version < 10:
            undo_10(conn)
        for statement in (*_BACK_TO[version], f"UPDATE schema_info SET version = {version}"):
            statement(conn) if callable(statement) else conn.execute(text(statement))
        # a herken from before Alembic kept only schema_info; one that used Alembic stamped its revision
        conn.execute(text(f"UPDATE alembic_version SET version_num = '{version:04d}'" if alembic
                          else "DROP TABLE alembic_version"))
    store.close()    # the older server is stopped before the new one opens the store
    old_schema = schema_of(engine)

    told = f"the store at {url} is at schema version {version}, this herken needs " \
        f"{SCHEMA_VERSION}: run `herken migrate --store {url}`"
    capsys.readouterr()
    for command in (["serve", "--port", "0"], ["links", "--out", str(tmp / "refused.csv")],
                    ["evaluate", str(small_drop / "truth.csv")], ["report", "--out", str(tmp / "refused.html")]):
        assert main([*command, "--store", url]) == 2, command
        assert told in capsys.readouterr().err, command
        assert schema_of(engine) == old_schema, command     # nothing changed: not a column, not the version
    assert not (tmp / "refused.csv").exists() and not (tmp / "refused.html").exists()

    assert main(["migrate", "--store", url]) == 0
    assert capsys.readouterr().out.strip() == \
        f"the store at {url} migrated: schema version {version} -> {SCHEMA_VERSION}"
    assert main(["migrate", "--store", url]) == 0       # again: nothing left to do
    assert capsys.readouterr().out.strip() == \
        f"the store at {url} is at schema version {SCHEMA_VERSION}: nothing to migrate"
    with engine.connect() as conn:
        # pinned: a new schema version adds its statements to _BACK_TO
        assert conn.execute(text("SELECT version FROM schema_info")).scalar() == SCHEMA_VERSION == 13
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == revision_of(SCHEMA_VERSION)
        assert conn.execute(text("SELECT count(*) FROM profile")).scalar() == links["customer_id"].nunique()
        categories, unplaced, rules = conn.execute(text(
            "SELECT categories_json, unplaced_categories_json, rules_json FROM run")).one()
    if version < 6:
        assert rules is None      # not measured in a way the store kept: the report says so
    assert json.loads(categories) == [list(c) for c in DEFAULT_CATEGORIES]   # what the run was derived through
    assert ["household", household_interactions(engine)] in json.loads(unplaced)
    assert kept_rows(engine) == rows            # std_phone_mobile and std_particles backfilled as ingest wrote them
    assert schema_of(engine) == head_schema     # the tables, columns and indexes of a store this herken made
    reopened = open_store(url)
    after = ProfileStore(reopened)
    for customer_id in sample:
        old_encoded, old = before[customer_id]
        new = after.get_profile(customer_id)
        # A store before schema 8 kept no record confidences: its profiles served none, nor do they once migrated.
        old_encoded = without_confidence(old_encoded) if version < 8 else old_encoded
        if version == 1:     # version 1 kept no channel with an API preference: compare what it did keep
            assert (new.display_name, profile_pb(new).golden, new.attributes, new.household.members) == \
                (old.display_name, old_encoded.golden, old.attributes, old.household.members)
        else:
            assert decoded(after, customer_id) == old_encoded == profile_pb(new)
    assert customer_id in [hit.customer_id for hit in after.search(name=old.display_name)]
    after.close()
    reopened.dispose()
    with contextlib.redirect_stdout(io.StringIO()):     # and the readers read it again
        assert main(["links", "--store", url, "--out", str(tmp / "links.csv")]) == 0
        assert main(["evaluate", str(small_drop / "truth.csv"), "--store", url]) == 0
        assert main(["report", "--store", url, "--out", str(tmp / "report.html")]) == 0
    exported = pd.read_csv(tmp / "links.csv", dtype=str)
    ids = ["source", "record_id", "customer_id", "household_id"]
    assert set(exported[ids].itertuples(index=False)) == set(links[ids].itertuples(index=False))
    if version < 8:     # a store from before schema 8 kept no confidences (one of 8 on does: as it kept them)
        assert exported["confidence"].isna().all()


def household_interactions(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM interaction WHERE category = 'household'")).scalar()


def test_profiles_encoded_by_a_forked_worker_equal_those_encoded_in_process(published):
    from profile_api.precompute import ProfileEncoding, profile_rows
    from profile_api.store.write import read_inputs

    _, engine, _, _, _ = published
    with engine.connect() as conn:
        rows = profile_rows(*read_inputs(conn))
    here = ProfileEncoding(rows, apart=False).result()
    apart = ProfileEncoding(rows, apart=True)   # what publishing a large run does, here on the small drop
    assert apart.result().equals(here)
    assert len(here) == len(rows) and here["encoded"].map(len).min() > 0


def test_profiles_built_in_household_batches_by_a_worker_equal_one_build_of_all(published, tmp_path):
    from profile_api.precompute import ProfileEncoding, profile_rows
    from profile_api.profile_build import ProfileBuild
    from profile_api.live import stated_preferences
    from profile_api.store.write import read_inputs

    _, engine, _, _, _ = published
    with engine.connect() as conn:
        records, links, interactions, categories = read_inputs(conn)
        stated = stated_preferences(conn)
    whole = ProfileEncoding(profile_rows(records, links, interactions, categories), apart=False, stated=stated).result()
    for apart in (False, True):     # True: a process of its own, as publishing a large run builds them
        build = ProfileBuild(records, links, interactions, categories, tmp_path / f"build-{apart}", stated=stated,
                             apart=apart, batch_persons=30)  # a dozen batches on the small drop
        try:
            batched = pd.concat(list(build.frames(rows=50)), ignore_index=True)
        finally:
            build.close()
        assert not (tmp_path / f"build-{apart}").exists()
        ordered = batched.sort_values("customer_id").reset_index(drop=True)[whole.columns]
        expected = whole.sort_values("customer_id").reset_index(drop=True)
        assert ordered[["customer_id", "household_id", "display_name"]].equals(
            expected[["customer_id", "household_id", "display_name"]])
        assert ordered["household_inferred"].map(json.loads).tolist() == \
            expected["household_inferred"].map(json.loads).tolist()
        for column in ("encoded", "encoded_live"):              # as a client decodes them (maps in any order)
            assert ordered[column].map(pb.Profile.FromString).tolist() == \
                expected[column].map(pb.Profile.FromString).tolist()


def test_a_publish_that_lets_go_of_the_resolution_writes_what_a_plain_one_writes(small_drop, tmp_path):
    """``herken resolve`` publishes with release (the resolution's frames freed before the profile build, source
    records and interactions inserted from the build's files): every table holds what a plain publish writes."""
    from herken.publish import publish_resolution
    from identity.pipeline import ResolveOptions, resolve as resolve_drop

    tables = ("source_record", "record_link", "person", "household", "interaction", "preference", "match_edge",
              "profile")
    stored = {}
    for release in (False, True):
        resolution = resolve_drop(small_drop, ResolveOptions(run_dir=tmp_path / f"run-{release}"))
        records, persons = len(resolution.records), resolution.persons
        engine = open_store(f"sqlite:///{tmp_path / f'{release}.db'}")
        publish_resolution(engine, resolution, "run-1", dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
                           str(small_drop), release=release)
        assert (resolution.record_count, resolution.persons) == (records, persons)   # the counts stay
        assert resolution.records.empty == release and resolution.drop.interactions.empty == release
        with engine.connect() as conn:
            stored[release] = {table: pd.read_sql(text(f"SELECT * FROM {table}"), conn).drop(
                columns=["first_seen_at"], errors="ignore") for table in tables}
        engine.dispose()
    for table in tables:
        assert len(stored[True][table]) > 0, table
        pd.testing.assert_frame_equal(stored[True][table], stored[False][table], obj=table)


def test_a_profile_build_that_fails_in_its_worker_says_why(published, tmp_path):
    from profile_api.profile_build import ProfileBuild, ProfileBuildError
    from profile_api.store.write import read_inputs

    _, engine, _, _, _ = published
    with engine.connect() as conn:
        records, links, interactions, categories = read_inputs(conn)
    build = ProfileBuild(records, links, interactions, categories, tmp_path / "build", apart=True,
                         memory_limit="1KB")     # too little for any query: the worker fails
    try:
        with pytest.raises(ProfileBuildError, match="memory"):
            list(build.frames())
    finally:
        build.close()


def test_the_latest_purchase_after_an_increment_is_read_before_it_as_it_will_be_after(published):
    from identity.engine import make_engine
    from profile_api.store.realtime import latest_purchase, latest_purchase_after

    _, engine, _, _, _ = published
    duck = make_engine("duckdb")
    with engine.connect() as conn:
        latest = conn.execute(text("SELECT source, record_id, occurred_at FROM interaction "
                                   "WHERE type = 'purchase' ORDER BY occurred_at DESC LIMIT 1")).one()
    later = pd.DataFrame({"source": [latest[0]] * 2, "record_id": [latest[1]] * 2, "type": ["purchase", "view"],
                          "occurred_at": ["2099-01-02T03:04:05", "2100-01-01T00:00:00"]})
    for deleted, added in (({(latest[0], latest[1])}, later.iloc[:0]), (set(), later), ({(latest[0], latest[1])}, later)):
        with engine.connect() as conn:
            predicted = latest_purchase_after(conn, duck, deleted, added)
        with engine.connect() as conn, conn.begin() as transaction:     # written, looked at, rolled back
            for source, record_id in deleted:
                conn.execute(text("DELETE FROM interaction WHERE source = :s AND record_id = :r"),
                             {"s": source, "r": record_id})
            for row in added.itertuples():
                conn.execute(text("INSERT INTO interaction (source, record_id, type, occurred_at) "
                                  "VALUES (:s, :r, :t, :o)"), {"s": row.source, "r": row.record_id, "t": row.type,
                                                                "o": row.occurred_at})
            assert predicted == latest_purchase(conn, duck)
            transaction.rollback()
    assert predicted == dt.datetime(2099, 1, 2, 3, 4, 5)
    duck.close()


def test_the_latest_purchase_is_the_latest_time_parsed_whatever_the_form_it_was_written_in(published):
    """The store finds the latest of the times written 2025-12-31T23:55:45 itself; a later time written
    otherwise, an ISO-looking text that is no time, and a deleted latest purchase change nothing of that."""
    from identity.engine import make_engine
    from profile_api.store.realtime import _latest, latest_purchase, latest_purchase_after

    _, engine, _, _, _ = published
    duck = make_engine("duckdb")
    with engine.connect() as conn:
        source, record_id = conn.execute(text("SELECT source, record_id FROM interaction LIMIT 1")).one()
    rows = [("2098-12-31T23:00:00", "deleted"), ("2099-13-45T00:00:00", "kept"), ("2099-02-30T00:00:00", "kept"),
            ("2098-06-01T00:00:00", "kept"), ("01-02-2098", "kept"), ("2098-07-01 10:00:00", "kept")]
    cases = [(rows, dt.datetime(2098, 7, 1, 10)), (rows[:4], dt.datetime(2098, 6, 1)),
             (rows[:3] + rows[4:5], dt.datetime(2098, 2, 1))]
    for written, expected in cases:
        with engine.connect() as conn, conn.begin() as transaction:     # written, looked at, rolled back
            for at, whose in written:
                conn.execute(text("INSERT INTO interaction (source, record_id, type, occurred_at) "
                                  "VALUES (:s, :r, 'purchase', :o)"),
                             {"s": "gone" if whose == "deleted" else source, "r": record_id, "o": at})
            every = [at for (at,) in conn.execute(text("SELECT occurred_at FROM interaction WHERE source <> 'gone' "
                                                       "AND type IN ('purchase', 'return')"))]
            assert latest_purchase_after(conn, duck, {("gone", record_id)}, pd.DataFrame(
                {"type": [], "occurred_at": []})) == _latest(every, duck) == expected
            assert latest_purchase(conn, duck) == _latest([*every, "2098-12-31T23:00:00"], duck)
            transaction.rollback()
    duck.close()
