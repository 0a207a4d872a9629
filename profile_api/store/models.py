"""The store's tables. Records, not clusters, carry what customers told us: preferences and
interactions hang on (source, record_id), so a re-resolution never loses or misplaces them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, Index, LargeBinary, Text
from sqlmodel import Field, SQLModel

# 1: the resolution result. 2: precomputed profiles (table profile), the channel a preference was
# stated in (preference.channel), an index on a preference's record, source_record.std_phone_mobile
# and std_particles. 3: profiles also encoded as served (profile.encoded, profile.encoded_household, the
# live part of a household with nothing stated).
# 4: the live part of each profile kept current as preferences are stated (profile.encoded_live,
# instead of encoded_household). 5: the run's category taxonomy and the categories it does not place
# (run.categories_json, run.unplaced_categories_json).
# 6: the cannot-link rules as measured on the run's drop (run.rules_json).
# 7: the band of borderline pairs, how many pairs it held and how many were kept (run.review_json).
# 8: the identity lifecycle: when each person and household was first seen (person.first_seen_at,
# household.first_seen_at), each record's confidence (record_link.confidence), identity events
# (identity_event, identity_event_customer), IDs no longer current (id_alias), steward decisions
# (steward_decision) and the standardised records an incremental run starts from (linkage_snapshot).
# 9: privacy: consent statements per record (consent) and each person's consent as it stands
# (profile.consent), the audit log (audit_log), erasures (erasure) and the salted hashes that keep an
# erased person from coming back (tombstone, erasure_salt).
# 10: the served generation (served_generation; on PostgreSQL also served_change), raised by triggers on the
# tables the server's keyed reads answer from, so that a server keeping reads in memory knows when to forget
# them (profile_api.store.generation).
# 11: each profile stored once, as served (profile.encoded); the JSON copies (profile.golden, attributes,
# household) dropped, and what the live part needs beside it kept (profile.household_inferred).
# 12: no table changes; the profiles whose display name showed a missing name as "Nan" (builds on pandas 3
# before it) built again.
# 13: the persons written in real time since the published run (person_written), so that every server
# process finds them by name at once, whichever process wrote them (profile_api.search).
# Each version is an Alembic revision in store/migrations/versions ("0007" for 7), which `herken migrate` runs.
SCHEMA_VERSION = 13


class SchemaInfo(SQLModel, table=True):
    """The schema version this store was created or migrated to."""

    __tablename__ = "schema_info"
    id: int = Field(default=1, primary_key=True)
    version: int


class Run(SQLModel, table=True):
    """One published resolution run."""

    __tablename__ = "run"
    run_id: str = Field(primary_key=True)
    started_at: dt.datetime
    finished_at: dt.datetime
    drop_path: str
    records: int
    persons: int
    households: int
    quarantined: int
    trained: bool
    model_json: str
    counts_json: str
    timings_json: str
    # [[category, group, pet], ...]: the taxonomy the run's profiles were derived through (rebuilds use it too)
    categories_json: str | None = Field(default=None, sa_column=Column(Text))
    # [[category, interactions], ...]: the drop's categories that the taxonomy does not name
    unplaced_categories_json: str | None = Field(default=None, sa_column=Column(Text))
    # [{"rule", "description", ...}, ...]: each cannot-link rule as measured on the run's drop
    # (identity.strictness.rules_of_run); None for a run published before schema 6
    rules_json: str | None = Field(default=None, sa_column=Column(Text))
    # {"band": [low, high], "pairs": N, "kept": n}: the match probabilities of the borderline pairs,
    # how many pairs of the run fell in that band, and how many of them (a random sample) match_edge
    # keeps as kind "review"; None for a run published before schema 7
    review_json: str | None = Field(default=None, sa_column=Column(Text))


class SourceRecord(SQLModel, table=True):
    """An identity record as received, with the standardised values used to find it again."""

    __tablename__ = "source_record"
    source: str = Field(primary_key=True)
    record_id: str = Field(primary_key=True)
    first_name: str | None = None
    last_name: str | None = None
    birth_date: str | None = None
    email: str | None = None
    phone: str | None = None
    street: str | None = None
    house_number: str | None = None
    postcode: str | None = None
    city: str | None = None
    loyalty_card: str | None = None
    updated_at: str | None = None
    std_given: str | None = None
    std_surname: str | None = None
    std_particles: str | None = None   # surname particles ("van der"), for ranking name searches
    std_birth_date: str | None = Field(default=None, index=True)
    std_email: str | None = Field(default=None, index=True)
    std_phone: str | None = Field(default=None, index=True)
    std_phone_mobile: bool | None = None   # a mobile (personal) rather than a landline (household)
    std_postcode: str | None = Field(default=None, index=True)
    std_house_number: str | None = None
    std_loyalty_card: str | None = Field(default=None, index=True)


class RecordLink(SQLModel, table=True):
    """Which person and household a source record belongs to in the published run."""

    __tablename__ = "record_link"
    source: str = Field(primary_key=True)
    record_id: str = Field(primary_key=True)
    customer_id: str = Field(index=True)
    household_id: str = Field(index=True)
    run_id: str
    # how sure the run is that the record belongs to its person: the match probability of its best
    # link inside the person (1 for a person of one record); None for a run before schema 8
    confidence: float | None = None


class Person(SQLModel, table=True):
    """A resolved person (customer)."""

    __tablename__ = "person"
    customer_id: str = Field(primary_key=True)
    household_id: str = Field(index=True)
    record_count: int
    run_id: str
    # when the customer_id was first published; on a merge the ID first seen survives
    first_seen_at: dt.datetime | None = None


class Household(SQLModel, table=True):
    """A resolved household."""

    __tablename__ = "household"
    household_id: str = Field(primary_key=True)
    person_count: int
    run_id: str
    first_seen_at: dt.datetime | None = None


class Interaction(SQLModel, table=True):
    """A purchase, return, view or contact of one source record."""

    __tablename__ = "interaction"
    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(index=True)
    record_id: str = Field(index=True)
    type: str
    occurred_at: str
    sku: str | None = None
    category: str | None = None
    size: str | None = None
    quantity: float | None = None
    amount_eur: float | None = None
    discount_eur: float | None = None
    store_id: str | None = None
    delivery_method: str | None = None


class Preference(SQLModel, table=True):
    """A preference a customer stated in a channel, on a record of theirs.

    A preference from the drop hangs on the record it was stated with. One stored through the API
    hangs on a record of the person in the channel it was stated in, or on their newest record when
    they have none there; ``channel`` then says where it was stated.
    """

    __tablename__ = "preference"
    __table_args__ = (Index("ix_preference_record", "source", "record_id"),)
    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(index=True)
    record_id: str = Field(index=True)
    key: str
    value: str
    stated_at: str
    origin: str = "drop"   # "drop" (replaced by each run) or "api" (kept across runs)
    channel: str | None = None   # where it was stated, when not the record's own source (API)


class QuarantinedRow(SQLModel, table=True):
    """A row of the latest run's drop that was not accepted, and why."""

    __tablename__ = "quarantine"
    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(index=True)
    file: str
    line: int
    reason: str
    raw: str


class MatchEdge(SQLModel, table=True):
    """A scored pair that explains the run: a merge, a refused merge, or a borderline pair to review."""

    __tablename__ = "match_edge"
    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(index=True)
    kind: str                  # merge | refused | review
    unique_id_l: str = Field(index=True)
    unique_id_r: str = Field(index=True)
    match_probability: float
    match_weight: float | None = None
    reason: str | None = None


class PrecomputedProfile(SQLModel, table=True):
    """A person's profile as served: built by ``profile_api.precompute`` in the publishing transaction.

    Stored once, as served: ``encoded`` is the part fixed for the run (a herken.v1.Profile; readers
    that want values decode it, ``profile_api.messages.profile_of_encoded``). Preferences live in
    their own table (on records); ``encoded_live`` is what they make of the profile now: rewritten
    for the whole household by every write of a preference (``profile_api.live``), in the writer's
    transaction, so that a read is one row. ``household_inferred`` is what the live part starts from
    (the household's pets and delivery as its purchases show them, before anything stated).
    """

    __tablename__ = "profile"
    customer_id: str = Field(primary_key=True)
    household_id: str = Field(index=True)
    display_name: str
    household_inferred: str = Field(sa_column=Column(Text, nullable=False))   # {"pets": [...], "delivery": ...}
    encoded: bytes = Field(sa_column=Column(LargeBinary, nullable=False))            # herken.v1.Profile but the live part
    encoded_live: bytes = Field(sa_column=Column(LargeBinary, nullable=False))  # the live part, as stated so far
    # {purpose: [granted, channel, stated_at]}: the person's latest consent statement per purpose
    # (``profile_api.consent``); None when they never said anything
    consent: str | None = Field(default=None, sa_column=Column(Text))


class IdentityEvent(SQLModel, table=True):
    """Something that happened to customer IDs: created, merged, split, household_changed, deleted.

    ``seq`` orders the events (and pages them); the IDs of one run plus its events, applied in
    ``seq`` order (remove the IDs before, add the IDs after), give the IDs of the next run.
    """

    __tablename__ = "identity_event"
    seq: int = Field(primary_key=True)
    event_id: str = Field(index=True, unique=True)
    run_id: str = Field(index=True)
    occurred_at: dt.datetime = Field(index=True)
    kind: str
    customer_ids_before: str | None = Field(default=None, sa_column=Column(Text))   # space-separated; None: none
    customer_ids_after: str | None = Field(default=None, sa_column=Column(Text))    # space-separated; None: none
    household_id: str | None = None
    reason: str = Field(sa_column=Column(Text, nullable=False))


class IdentityEventCustomer(SQLModel, table=True):
    """Which customer IDs an event names (before or after), to find a customer's events."""

    __tablename__ = "identity_event_customer"
    customer_id: str = Field(primary_key=True)
    seq: int = Field(primary_key=True)


class PersonWritten(SQLModel, table=True):
    """A person whose records ResolveRecord wrote (persist) since the published run: joined, made or edited.

    ``seq`` orders the writes; a server's name search reads those after the last it read and reads those
    persons' names again (``profile_api.search``). Real-time writes take one lock at a time
    (``store.realtime.persist_lock``), so a later ``seq`` never commits before an earlier one. A publish
    empties the table: the new run holds every record, and every search builds its index from it again.
    """

    __tablename__ = "person_written"
    seq: int = Field(primary_key=True)
    customer_id: str
    written_at: dt.datetime


class IdAlias(SQLModel, table=True):
    """A customer_id or household_id no longer current: where it leads now, or why it leads nowhere.

    Kept flat: when the ID it leads to is itself merged away later, the alias is moved on, so one
    read answers. ``current_id`` is None when every record behind the ID was deleted.
    """

    __tablename__ = "id_alias"
    old_id: str = Field(primary_key=True)
    kind: str                      # customer | household
    current_id: str | None = Field(default=None, index=True)
    run_id: str
    changed_at: dt.datetime
    reason: str = Field(sa_column=Column(Text, nullable=False))


class StewardDecision(SQLModel, table=True):
    """A data steward's must-link or cannot-link between two records; every run honours it."""

    __tablename__ = "steward_decision"
    decision_id: str = Field(primary_key=True)
    kind: str                      # must_link | cannot_link
    record_a: str                  # source:record_id
    record_b: str
    reason: str = Field(sa_column=Column(Text, nullable=False))
    decided_by: str
    decided_at: dt.datetime


class LinkageSnapshot(SQLModel, table=True):
    """The published run's records as the linkage saw them: standardised and completed, in Parquet.

    An incremental run (``herken resolve --incremental``) scores its delta against them instead of
    standardising every record again. One row, replaced by every publish.
    """

    __tablename__ = "linkage_snapshot"
    run_id: str = Field(primary_key=True)
    records: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class ConsentStatement(SQLModel, table=True):
    """A person's consent for one purpose, as a channel recorded it; kept on a record of the person, as
    preferences are, so that it survives re-resolution. The latest statement per purpose counts."""

    __tablename__ = "consent"
    __table_args__ = (Index("ix_consent_record", "source", "record_id"),)
    id: int | None = Field(default=None, primary_key=True)
    source: str
    record_id: str
    purpose: str                   # personalisation | marketing | profiling
    granted: bool
    stated_at: dt.datetime
    channel: str                   # the caller's channel (store, webshop, app, service, backoffice, local)
    token_id: str | None = None


class AuditEntry(SQLModel, table=True):
    """Who read or changed whom, when, through which RPC or command. Append-only: nothing deletes a row (an
    erasure keeps its entries: they hold customer IDs and outcomes, no personal data; it rewrites only the
    record ids that entries of an older herken named in ``detail``)."""

    __tablename__ = "audit_log"
    seq: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = Field(index=True)
    channel: str = Field(index=True)
    token_id: str | None = None
    action: str                    # the RPC (GetProfile, ...) or command (herken forget, ...)
    customer_id: str | None = Field(default=None, index=True)
    household_id: str | None = None
    outcome: str                   # OK or the status code's name
    detail: str | None = Field(default=None, sa_column=Column(Text))   # no personal data: kinds, counts


class Erasure(SQLModel, table=True):
    """One ForgetCustomer: which ID was erased, when, by whom, why, and how many records went."""

    __tablename__ = "erasure"
    erasure_id: str = Field(primary_key=True)
    customer_id: str = Field(index=True)
    erased_at: dt.datetime
    channel: str
    token_id: str | None = None
    reason: str = Field(sa_column=Column(Text, nullable=False))
    records_erased: int


class Tombstone(SQLModel, table=True):
    """A salted hash of an erased person's standardised identifier or name-and-birth-date key: a later
    drop's record carrying it is quarantined ("erased person") instead of bringing the person back."""

    __tablename__ = "tombstone"
    key_hash: str = Field(primary_key=True)     # hex sha256 of salt + kind + value
    kind: str                                   # email, phone, loyalty_card, name_birth_date, source_record
    erasure_id: str = Field(index=True)


class ErasureSalt(SQLModel, table=True):
    """The store's salt for tombstone hashes (made at the first erasure; one row)."""

    __tablename__ = "erasure_salt"
    id: int = Field(default=1, primary_key=True)
    salt: str
