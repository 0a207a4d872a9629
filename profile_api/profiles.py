"""Profiles as every channel sees them: golden record, remembered preferences, attributes, household.

A profile is read in one round trip: the person's precomputed row (``profile``, built when a run is
published; see ``profile_api.precompute``, the survivorship rule in ``profile_api.golden`` and the
attribute formulas in ``profile_api.attributes``) and the preferences of the person's household
(``profile_api.preferences`` says which are current). The server reads a profile encoded
(``ProfileStore.encoded_profile``): one row holds the part fixed for the run and the live part as
the preferences stated so far make it, kept current by every write of a preference
(``profile_api.live``), so an update made in one channel shows in every channel at once: at once in
the server that took it, and in every other server once it has read the store's served generation
again (``profile_api.store.read.KeptReads``: at most ``CacheSettings.check_seconds`` later).
"""

from __future__ import annotations

import datetime as dt
import re
from contextlib import AbstractContextManager
from typing import Any

import sqlalchemy
from sqlalchemy import bindparam, insert, text

from identity.ingest import CHANNELS
from profile_api.consent import Statement
from profile_api.golden import CHANNEL_TRUST
from profile_api.identifiers import standard_identifier
from profile_api.live import refresh_live
from profile_api.preferences import (
    HOUSEHOLD_KEYS, HouseholdMember, HouseholdSummary, PreferenceValue, StatedPreference,
    iso_stamp, merge_preferences, preferences_by_member,
)
from profile_api.store.consent import record_consent
from profile_api.store.db import POOL_SIZE, statement_bound, waited_too_long
from profile_api.store.history import StoredEvent, read_events
from profile_api.store.models import Preference
from profile_api.search import CustomerSearch
from profile_api.store.read import (
    NO_CACHE, CacheSettings, KeptReads, KeyedRead, ThreadCursors, probe_engine, read_problem,
)
from profile_api.messages import profile_of_encoded
from profile_api.values import Attribute, Candidate, FieldValue, GoldenRecord, Profile

__all__ = [
    "FieldValue", "GoldenRecord", "PreferenceValue", "Attribute", "HouseholdMember", "HouseholdSummary",
    "Profile", "Candidate", "UnknownCustomer", "StoreBusy", "ProfileStore", "merge_preferences",
    "StatedPreference", "IDENTIFIER_KINDS", "HOUSEHOLD_KEYS",
]


class UnknownCustomer(LookupError):
    """No person with this customer_id in the published result."""


class StoreBusy(RuntimeError):
    """A write waited longer than it may for another writer (a run being published): try again shortly."""


WRITE_WAIT_SECONDS = 5.0   # how long a preference write waits for another writer before StoreBusy


IDENTIFIER_KINDS: tuple[str, ...] = ("loyalty_card", "email", "phone", "source_record")


_IDENTIFIER_COLUMNS = {"loyalty_card": "std_loyalty_card", "email": "std_email", "phone": "std_phone"}

# Read queries, with :name parameters; they run on the driver's cursor (see ProfileStore._cursor).
# A profile and its household's preferences come in one round trip: the profile's row (its first
# column is not NULL) and a row per preference of any member (the trailing columns).
_WITH_PREFERENCES = """
SELECT {columns}, NULL, NULL, NULL, NULL, NULL, NULL FROM profile WHERE customer_id = {person}
UNION ALL
SELECT {nulls}, l.customer_id, p.key, p.value, coalesce(p.channel, p.source), p.stated_at, p.id
FROM profile pr JOIN record_link l ON l.household_id = pr.household_id
JOIN preference p ON p.source = l.source AND p.record_id = l.record_id
WHERE pr.customer_id = {person}"""
_READS: dict[str, str] = {
    "profile": _WITH_PREFERENCES.format(columns="encoded, household_inferred", nulls="NULL, NULL", person=":id"),
    "household": _WITH_PREFERENCES.format(   # every member's row holds the household: read one
        columns="encoded, household_inferred", nulls="NULL, NULL",
        person="(SELECT min(customer_id) FROM profile WHERE household_id = :id)"),
    "source_record": "SELECT customer_id FROM record_link WHERE source = :source AND record_id = :value",
    **{kind: f"""SELECT DISTINCT l.customer_id FROM source_record r
                  JOIN record_link l ON l.source = r.source AND l.record_id = r.record_id
                  WHERE r.{column} = :value ORDER BY l.customer_id"""
       for kind, column in _IDENTIFIER_COLUMNS.items()},
}
_ALIAS = KeyedRead("herken_alias", "SELECT current_id, reason FROM id_alias WHERE old_id = :key")
_ENCODED = KeyedRead("herken_encoded_profile",
                     "SELECT encoded, encoded_live, consent FROM profile WHERE customer_id = :key")
# The persons using an identifier with their encoded profiles, in one read: GetProfile by e-mail,
# phone or card costs one round trip, as it does by customer_id.
# On PostgreSQL `= ANY(ARRAY(...))` reads the profiles by their index in customer_id order, each once, where
# `IN (...)` hashes the ids and sorts the rows (measured: about a fifth less of the database's CPU per read).
_USING = """SELECT l.customer_id FROM source_record r JOIN record_link l ON l.source = r.source
    AND l.record_id = r.record_id WHERE r.{column} = :key"""
_ENCODED_BY_IDENTIFIER = {kind: KeyedRead(
    f"herken_encoded_by_{kind}",
    f"SELECT customer_id, encoded, encoded_live, consent FROM profile WHERE customer_id IN ("
    f"{_USING.format(column=column)}) ORDER BY customer_id",
    f"SELECT customer_id, encoded, encoded_live, consent FROM profile WHERE customer_id = ANY(ARRAY("
    f"{_USING.format(column=column)})) ORDER BY customer_id") for kind, column in _IDENTIFIER_COLUMNS.items()}
_CONSENT = text("SELECT consent FROM profile WHERE customer_id = :c")
_HOUSEHOLD_CONSENTS = text("SELECT household_id, consent FROM profile WHERE household_id IN :ids").bindparams(
    bindparam("ids", expanding=True))
_PERSON_PREFERENCES = text("""
SELECT l.customer_id, p.key, p.value, coalesce(p.channel, p.source), p.stated_at, p.id
FROM record_link l JOIN preference p ON p.source = l.source AND p.record_id = l.record_id
WHERE l.customer_id = :id""")
_PERSON_PREFERENCE_KEYS = text("""
SELECT DISTINCT p.key FROM record_link l JOIN preference p ON p.source = l.source AND p.record_id = l.record_id
WHERE l.customer_id = :id""")
MAX_PREFERENCE_KEYS = 100   # keys one person may hold: their profile is served in one message
_PERSON_RECORDS = text("""
SELECT l.source, l.record_id, r.updated_at FROM record_link l
LEFT JOIN source_record r ON r.source = l.source AND r.record_id = l.record_id
WHERE l.customer_id = :id""")


def _read_engine(engine: sqlalchemy.engine.Engine, statement_seconds: float | None = None) -> sqlalchemy.engine.Engine:
    """Return the engine reads run on.

    For a database server, one whose connections autocommit: a read then costs one round trip,
    not three (BEGIN, the query, and the ROLLBACK when the connection goes back to the pool); with
    statement_seconds, each of its statements is cancelled after that long (``profile_api.bounds``).
    """
    if engine.dialect.name == "sqlite":
        return engine
    bound = {"connect_args": statement_bound(statement_seconds)} if statement_seconds else {}
    return sqlalchemy.create_engine(engine.url, isolation_level="AUTOCOMMIT", pool_size=POOL_SIZE,
                                    max_overflow=POOL_SIZE, **bound)


def _driver_sql(sql: str, engine: sqlalchemy.engine.Engine) -> str:
    """Return SQL written with :name parameters in the driver's own style (sqlite3: :name, psycopg: %(name)s)."""
    if engine.dialect.name == "sqlite":
        return sql
    return re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", sql)


class ProfileStore:
    """Reads profiles and records preferences in a published store; safe to share between threads."""

    def __init__(self, engine: sqlalchemy.engine.Engine, write_wait_seconds: float = WRITE_WAIT_SECONDS,
                 statement_seconds: float | None = None, cache: CacheSettings = NO_CACHE) -> None:
        """Args:
            engine: the store (``profile_api.store.open_store``), migrated and published.
            write_wait_seconds: how long a write of preferences waits for another writer (a publish
                holds the store for its whole transaction) before it gives up with StoreBusy.
            statement_seconds: on PostgreSQL, the longest a read statement may run (a server's deadline);
                None: no bound.
            cache: how the answers of the keyed reads (a profile by customer_id or by identifier, an old
                ID) are kept in memory (``profile_api.store.read.KeptReads``); by default not at all, so
                that every read sees every write at once (a server keeps them: ``ServeOptions.cache``).
        """
        self._engine = engine
        self._write_wait_ms = max(1, int(write_wait_seconds * 1000))
        self._reader = _read_engine(engine, statement_seconds)
        self._cursors = ThreadCursors(self._reader)
        self._kept = KeptReads(self._cursors, cache)
        self._reads = {name: _driver_sql(sql, engine) for name, sql in _READS.items()}
        self._search = CustomerSearch(engine)
        self._probe = probe_engine(engine)

    @property
    def engine(self) -> sqlalchemy.engine.Engine:
        """Return the store's engine (for what works beside profiles: explanations, real-time resolution)."""
        return self._engine

    @property
    def local_file(self) -> bool:
        """Whether the store is a file in this process (SQLite): a read is then a few tens of µs of CPU, no wait."""
        return self._engine.dialect.name == "sqlite"

    def _cursor(self) -> AbstractContextManager[Any]:
        """Return (as a context) this thread's read cursor: the hot reads skip SQLAlchemy's per-statement work."""
        return self._cursors.cursor()

    def close(self) -> None:
        """Close the connections the reading threads keep open (a later read opens one again)."""
        self._cursors.close()

    def unreadable(self) -> str | None:
        """Return why the store cannot be read now (a file gone, a database down), or None when it can.

        Checked on a new connection each time, so it costs a connection (about a millisecond on
        PostgreSQL): for a health check every few seconds, not for every request.
        """
        return read_problem(self._probe)

    def _read_with_preferences(self, read: str, key: str, width: int) -> tuple[tuple | None, list[tuple]]:
        """Return the head row (its first ``width`` columns; None when unknown) of a read with preferences,
        and the household's preference rows that came with it (see ``_WITH_PREFERENCES``)."""
        with self._cursor() as cursor:
            cursor.execute(self._reads[read], {"id": key})
            rows = cursor.fetchall()
        head = next((row[:width] for row in rows if row[0] is not None), None)
        return head, [row[width:] for row in rows if row[0] is None]

    def get_profile(self, customer_id: str) -> Profile | None:
        """Return the person's profile, or None when no person has this customer_id."""
        head, preferences = self._read_with_preferences("profile", customer_id, 2)
        if head is None:
            return None
        return profile_of_encoded(bytes(head[0]), _text(head[1]), preferences_by_member(preferences))

    def encoded_profile(self, customer_id: str) -> bytes | None:
        """Return the person's profile as an encoded herken.v1.Profile, or None when no person has this customer_id.

        It decodes to what ``messages.profile_pb(self.get_profile(customer_id))`` holds: one row, read by
        its key, both parts encoded already (the live part by the last write of a preference).
        """
        served = self.served_profile(customer_id)
        return None if served is None else served[0]

    def served_profile(self, customer_id: str) -> tuple[bytes, str | None] | None:
        """Return the person's encoded profile (as ``encoded_profile``) and their consent as it stands
        (``profile.consent``: None when they never stated any), or None when no person has this customer_id."""
        row = self._kept.read_row(_ENCODED, customer_id)
        return None if row is None else (bytes(row[0]) + bytes(row[1]), _text(row[2]))

    def alias(self, old_id: str) -> tuple[str | None, str] | None:
        """Return (the current ID or None when its records were deleted, why) of an ID no longer current;
        None for an ID that never was retired."""
        row = self._kept.read_row(_ALIAS, old_id)
        if row is None:
            return None
        current, reason = (value.decode() if isinstance(value, bytes) else value for value in row)
        return current, reason

    def identity_events(self, *, since: dt.datetime | None = None, customer_id: str | None = None,
                        after_seq: int = 0, limit: int | None = None) -> list[StoredEvent]:
        """Return identity events in recording order (``profile_api.store.history.read_events``)."""
        with self._engine.connect() as conn:
            return read_events(conn, since=since, customer_id=customer_id, after_seq=after_seq, limit=limit)

    def encoded_profiles_by_identifier(self, kind: str, value: str) -> list[tuple[str, bytes]]:
        """Return (customer_id, encoded profile) of every person using an e-mail address, phone number or
        loyalty card, in customer_id order ([] when unknown); ``resolve_identifier`` says which values are read.

        Raises:
            ValueError: as ``resolve_identifier`` does (a kind other than email, phone, loyalty_card).
        """
        return [(customer_id, encoded) for customer_id, encoded, _ in self.served_profiles_by_identifier(kind, value)]

    def served_profiles_by_identifier(self, kind: str, value: str) -> list[tuple[str, bytes, str | None]]:
        """Return (customer_id, encoded profile, consent) of every person using an identifier
        (as ``encoded_profiles_by_identifier``, with each person's consent as ``served_profile`` has it)."""
        if kind not in _ENCODED_BY_IDENTIFIER:
            raise ValueError(f"kind '{kind}' is not one of {', '.join(_ENCODED_BY_IDENTIFIER)}")
        raw = (value or "").strip()
        if not raw:
            raise ValueError(f"{kind}: the value is empty")
        rows = self._kept.read_rows(_ENCODED_BY_IDENTIFIER[kind], standard_identifier(kind, raw))
        return [(_text(customer_id), bytes(fixed) + bytes(live), _text(consent))
                for customer_id, fixed, live, consent in rows]

    def get_household(self, household_id: str) -> HouseholdSummary | None:
        """Return the household's summary, or None when no household has this id."""
        head, preferences = self._read_with_preferences("household", household_id, 2)
        if head is None:
            return None
        return profile_of_encoded(bytes(head[0]), _text(head[1]), preferences_by_member(preferences)).household

    def consent_of(self, customer_id: str) -> str | None:
        """Return the person's consent as it stands (``profile.consent``; None: never stated, or no such person)."""
        with self._reader.connect() as conn:
            return _text(conn.execute(_CONSENT, {"c": customer_id}).scalar())

    def household_consents(self, household_ids: list[str]) -> dict[str, list[str | None]]:
        """Return each household's members' consent as it stands (``profile.consent``; None: never stated)."""
        if not household_ids:
            return {}
        found: dict[str, list[str | None]] = {h: [] for h in household_ids}
        with self._reader.connect() as conn:
            for household_id, consent in conn.execute(_HOUSEHOLD_CONSENTS, {"ids": sorted(set(household_ids))}):
                found.setdefault(_text(household_id), []).append(_text(consent))
        return found

    def resolve_identifier(self, kind: str, value: str, source: str | None = None) -> list[str]:
        """Return the customer_ids that use an identifier (several for a family card; [] when unknown).

        Args:
            kind: one of IDENTIFIER_KINDS.
            value: the identifier in any notation (a phone as 06-12345678 or +31 6 1234 5678, an
                e-mail in any case, a card with spaces or dashes), read as ingest reads a record's
                (``profile_api.identifiers``); for source_record the record_id.
            source: the channel of the record; required for source_record, ignored otherwise.

        Raises:
            ValueError: naming the problem: an unknown kind, a value that is not of its kind, a
                source_record without a known source.
        """
        if kind not in IDENTIFIER_KINDS:
            raise ValueError(f"kind '{kind}' is not one of {', '.join(IDENTIFIER_KINDS)}")
        raw = (value or "").strip()
        if not raw:
            raise ValueError(f"{kind}: the value is empty")
        if kind == "source_record":
            if not source:
                raise ValueError(f"source_record: a source is needed (one of {', '.join(CHANNELS)})")
            if source not in CHANNELS:
                raise ValueError(f"source: '{source}' is not one of {', '.join(CHANNELS)}")
            params = {"source": source, "value": raw}
        else:
            params = {"value": standard_identifier(kind, raw)}
        with self._cursor() as cursor:
            cursor.execute(self._reads[kind], params)
            return [row[0] for row in cursor.fetchall()]

    def drop_caches(self) -> None:
        """Forget what is kept in memory of the store's records (after an erasure): the kept reads, and the
        search's index (the next search reads it again)."""
        self._kept.forget()
        self._search.drop_index()

    def forget_kept_reads(self) -> None:
        """Forget the answers of the keyed reads kept in memory (the store was written through this process)."""
        self._kept.forget()

    def note_written(self, customer_id: str) -> None:
        """Note a person this process has just written in real time (ResolveRecord with persist): the next search
        finds them by the names of their records as they are now. Another process's new persons are found through
        the identity events."""
        self._search.note(customer_id)

    @property
    def kept_reads(self) -> tuple[int, int]:
        """Return (answers of keyed reads kept in memory, about how many bytes they take)."""
        return self._kept.kept

    def warm_up(self) -> None:
        """Build the search's in-memory name index now; otherwise the first search does (~1.5 s at 100k records)."""
        self._search.warm_up()

    def search(self, *, name: str | None = None, postcode: str | None = None, house_number: str | None = None,
               phone: str | None = None, email: str | None = None, birth_date: str | None = None,
               limit: int = 10) -> list[Candidate]:
        """Return the persons that best match any combination of criteria, best first, at most limit.

        The name is fuzzy (nicknames, typos, initials, surname particles in any notation: "hans vd
        berg"); the other criteria are compared in standard notation. See ``profile_api.search``.

        Raises:
            ValueError: no criterion given, or a criterion that is not of its kind.
        """
        hits = self._search.search(name=name, postcode=postcode, house_number=house_number, phone=phone,
                                   email=email, birth_date=birth_date, limit=limit)
        return [Candidate(*hit) for hit in hits]

    def update_preferences(self, customer_id: str, source: str, preferences: list[tuple[str, str]],
                           stated_at: dt.datetime | None = None) -> list[PreferenceValue]:
        """Remember preferences a person stated in a channel; return their full current preferences.

        They are stored (origin "api") on a record of the person: their newest record in that
        channel, or their newest record when they have none there; so they survive re-resolution.

        Args:
            customer_id: the person.
            source: the channel they were stated in (one of pos, webshop, app, service).
            preferences: (key, value) pairs.
            stated_at: when; now (UTC) when None. Stored as a naive ISO timestamp, as in a drop.

        Raises:
            UnknownCustomer: no person has this customer_id.
            ValueError: an unknown channel, or an empty key or value.
            StoreBusy: another writer (a publish) held the store longer than write_wait_seconds;
                nothing was stored.
        """
        if source not in CHANNELS:
            raise ValueError(f"source: '{source}' is not one of {', '.join(CHANNELS)}")
        pairs = []
        for key, value in preferences:
            key, value = (key or "").strip(), (value or "").strip()
            if not key:
                raise ValueError("preferences: a key is empty")
            if not value:
                raise ValueError(f"preferences: the value of '{key}' is empty")
            pairs.append((key, value))
        when = stated_at or dt.datetime.now(dt.timezone.utc)
        if when.tzinfo is not None:
            when = when.astimezone(dt.timezone.utc).replace(tzinfo=None)
        stamp = when.isoformat(timespec="seconds")
        try:
            return self._store_preferences(customer_id, source, pairs, stamp)
        except sqlalchemy.exc.OperationalError as err:
            if not waited_too_long(err):
                raise
            raise StoreBusy("the store is busy (a run is being published?); nothing was stored: try again in a few "
                            "seconds") from None

    def update_consent(self, customer_id: str, entries: list[tuple[str, bool]], *, channel: str,
                       token_id: str | None = None, source: str | None = None) -> dict[str, Statement]:
        """Record a person's consent per purpose; return their consent as it now stands.

        Stored on a record of the person (their newest in ``source``, the data channel of the caller,
        else their newest), as preferences are, so that it survives re-resolution.

        Args:
            entries: (purpose, granted) pairs, purposes of ``profile_api.consent.PURPOSE_ENUM``.
            channel, token_id: who recorded it (the caller's channel and token id).

        Raises:
            UnknownCustomer: no person has this customer_id.
            StoreBusy: another writer held the store longer than write_wait_seconds; nothing was stored.
        """
        stated_at = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        try:
            with self._engine.begin() as conn:
                self._wait_for_writers(conn)
                records = conn.execute(_PERSON_RECORDS, {"id": customer_id}).all()
                if not records:
                    raise UnknownCustomer(f"no customer '{customer_id}' in the store")
                state = record_consent(conn, customer_id, _record_for(records, source or ""), entries,
                                       channel=channel, token_id=token_id, stated_at=stated_at)
            self._kept.forget()         # read-your-writes: this process serves the new consent at once
            return state
        except sqlalchemy.exc.OperationalError as err:
            if not waited_too_long(err):
                raise
            raise StoreBusy("the store is busy (a run is being published?); nothing was stored: try again in a few "
                            "seconds") from None

    def _wait_for_writers(self, conn: sqlalchemy.engine.Connection) -> None:
        """Let conn's statements wait for another writer at most write_wait_seconds."""
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"SET LOCAL lock_timeout = {self._write_wait_ms}"))
        else:
            conn.execute(text(f"PRAGMA busy_timeout = {self._write_wait_ms}"))

    def _store_preferences(self, customer_id: str, source: str, pairs: list[tuple[str, str]],
                           stamp: str) -> list[PreferenceValue]:
        """Store the checked preferences and refresh the household's live part, in one transaction."""
        with self._engine.begin() as conn:
            self._wait_for_writers(conn)
            records = conn.execute(_PERSON_RECORDS, {"id": customer_id}).all()
            if not records:
                raise UnknownCustomer(f"no customer '{customer_id}' in the store")
            record = _record_for(records, source)
            # one statement of this person at a time, so that the bound below holds: PostgreSQL a lock per person;
            # SQLite's driver begins a transaction only at the first write, so one is made first (the write lock)
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:c))"), {"c": customer_id})
            else:
                conn.execute(text("DELETE FROM preference WHERE 1 = 0"))
            held = {row[0] for row in conn.execute(_PERSON_PREFERENCE_KEYS, {"id": customer_id})}
            keys = held | {key for key, _ in pairs}
            if len(keys) > MAX_PREFERENCE_KEYS and len(keys) > len(held):
                raise ValueError(f"preferences: the person holds {len(held)} keys; {len(keys - held)} new would pass "
                                 f"the {MAX_PREFERENCE_KEYS} one person may hold (state new values of keys held)")
            if pairs:
                conn.execute(insert(Preference.__table__), [
                    {"source": record[0], "record_id": record[1], "key": key, "value": value, "stated_at": stamp,
                     "origin": "api", "channel": source} for key, value in pairs
                ])
                refresh_live(conn, records=[record])
            rows = conn.execute(_PERSON_PREFERENCES, {"id": customer_id}).all()
        self._kept.forget()     # read-your-writes: this process serves the new live parts at once
        return preferences_by_member(rows).get(customer_id, [])


def _text(value: object) -> str | None:
    """Return a text column as str (some drivers answer bytes for a keyed read)."""
    return value.decode() if isinstance(value, bytes) else value    # type: ignore[return-value]


def _record_for(records: list, source: str) -> tuple[str, str]:
    """Return (source, record_id) of the record a preference stated in a channel is stored on."""
    trust = {channel: rank for rank, channel in enumerate(CHANNEL_TRUST)}

    def newest_first(row) -> tuple:  # type: ignore[no-untyped-def]
        stamp = iso_stamp(row[2]) if row[2] else ""
        return (row[0] == source, stamp, -trust.get(row[0], len(trust)), row[1])

    best = max(records, key=newest_first)
    return best[0], best[1]
