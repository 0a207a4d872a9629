"""Precomputed profiles: each person's golden record, attributes and household summary, as served.

Built in batch from the published records, links and interactions, through the run's category
taxonomy (two SQL queries, on DuckDB or the run's Spark, and one pass of Python for display names), then written to the ``profile`` table in the same transaction
that publishes the run, so a reader sees either the old run with its profiles or the new one with
its own. The live part (what stated preferences make of a profile) is encoded here from the
preferences known when the run is published; ``profile_api.live`` keeps it current afterwards.

Each person's profile is built as JSON (DuckDB's), encoded, and stored once, as the server sends it
(``profile_api.messages``):

* ``encoded``: the herken.v1.Profile without its live part (preferences; the household's pets,
  delivery preference and shared preferences);
* ``encoded_live``: the live part: the person's preferences and the household's pets, delivery
  preference and shared preferences, from the preferences given (``stated``; none: as if nobody
  in the household had stated anything);
* ``household_inferred``: what the live part starts from, ``{"pets": [...], "delivery": ...,
  "pets_last": {pet: its last kept purchase}}`` (inferred from the household's purchases; stated preferences are added live).

The JSON built on the way (``BUILT_COLUMNS``): ``golden``, ``{field: [value, source, record_id,
updated_at, confidence], ...}`` for the fields that have a value (confidence: of the record the value
came from; null when the links carry none); ``attributes``, ``[[name, value, {evidence}], ...]`` in
the order of ``ATTRIBUTES``; ``members``, ``[[customer_id, display_name], ...]`` of the household.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import multiprocessing
import os
import time
from concurrent.futures import Future, ProcessPoolExecutor

import pandas as pd

from identity.bulk import die_with_parent
from identity.categories import taxonomy_frame
from identity.engine import Engine, make_engine
from profile_api.attributes import ATTRIBUTES, attributes_sql, household_attributes_sql, with_sku
from profile_api.golden import candidates, display_name, golden_sql
from profile_api.live import live_parts
from profile_api.messages import encode_precomputed
from profile_api.sql_dialect import DUCKDB, json_array, json_list_agg, json_object_agg, json_pets_and_delivery
from profile_api.views import mask_email

log = logging.getLogger(__name__)

# What a profile row is stored as (the columns of the profile table) ...
PROFILE_COLUMNS: tuple[str, ...] = ("customer_id", "household_id", "display_name", "household_inferred", "encoded",
                                    "encoded_live")
# ... and what it is built as, before it is encoded (``profile_rows``).
BUILT_COLUMNS: tuple[str, ...] = ("customer_id", "household_id", "display_name", "golden", "attributes", "members",
                                  "household_inferred")
INTERACTION_COLUMNS: tuple[str, ...] = (
    "source", "record_id", "type", "occurred_at", "sku", "category", "size", "amount_eur", "quantity", "discount_eur",
    "store_id", "delivery_method",
)

_PERSONS_SQL = """
WITH golden AS ({golden}),
attrs AS ({attributes}),
g AS (
    SELECT customer_id, {golden_object} AS golden,
           first(value) FILTER (WHERE field = 'first_name') AS first_name,
           first(value) FILTER (WHERE field = 'last_name') AS last_name,
           first(value) FILTER (WHERE field = 'email') AS email
    FROM golden GROUP BY customer_id
),
a AS (
    SELECT customer_id, {attributes_list} AS attributes
    FROM attrs GROUP BY customer_id
)
SELECT p.customer_id, p.household_id, coalesce(g.golden, '{{}}') AS golden,
       coalesce(a.attributes, '[]') AS attributes, g.first_name, g.last_name, g.email
FROM (SELECT DISTINCT customer_id, household_id FROM links_in) p
LEFT JOIN g ON g.customer_id = p.customer_id LEFT JOIN a ON a.customer_id = p.customer_id
ORDER BY p.customer_id"""

_HOUSEHOLDS_SQL = """
WITH inferred AS ({households})
SELECT p.household_id, {members}::VARCHAR AS members, {inferred} AS household_inferred
FROM persons_in p LEFT JOIN inferred i ON i.household_id = p.household_id
GROUP BY p.household_id"""


def persons_sql(as_of: dt.datetime | None = None, dialect: str = DUCKDB) -> str:
    """Return the query (DuckDB's dialect, its fragments for ``dialect``) of every person's golden record and
    attributes as JSON, with the names a display name is made of (over records_in, links_in, interactions_in,
    categories_in)."""
    order = "CASE name " + " ".join(f"WHEN '{name}' THEN {i}" for i, name in enumerate(ATTRIBUTES)) + " END"
    return _PERSONS_SQL.format(
        golden=golden_sql(dialect), attributes=attributes_sql(as_of, dialect),
        golden_object=json_object_agg("field", json_array(("value", "source", "record_id", "updated_at", "confidence"),
                                                          dialect), dialect, value_is_json=True),
        attributes_list=json_list_agg(("name", "value", "json:evidence"), (order,), dialect))


def households_sql(as_of: dt.datetime | None = None, dialect: str = DUCKDB) -> str:
    """Return the query (DuckDB's dialect, its fragments for ``dialect``) of every household's members and inferred
    part (over persons_in, links_in, interactions_in, categories_in)."""
    return _HOUSEHOLDS_SQL.format(
        households=household_attributes_sql(as_of, dialect),
        members=json_list_agg(("p.customer_id", "p.display_name"), ("p.display_name", "p.customer_id"), dialect),
        inferred=json_pets_and_delivery("any_value(i.pets)", "any_value(i.delivery)", dialect,
                                        pets_last="any_value(i.pets_last)"))


# DuckDB takes up to 80% of the machine's memory by default; the profile queries of a 100k-record run
# then add ~0.9 GB on top of the run's own data at publish, the run's peak. Bounded, DuckDB spills
# to disk instead: peak 2.2 -> 1.8 GB at 100k records, profiles built as fast (measured, 30k households).
PROFILE_MEMORY_LIMIT = "700MB"


def _engine() -> Engine:
    """Return a DuckDB engine that prints no progress bar (library code prints nothing)."""
    engine = make_engine("duckdb", memory_limit=PROFILE_MEMORY_LIMIT)
    engine.sql("SET enable_progress_bar = false")
    return engine


def profile_rows(records: pd.DataFrame, links: pd.DataFrame, interactions: pd.DataFrame,
                 categories: pd.DataFrame | None = None, as_of: dt.datetime | None = None,
                 engine: Engine | None = None) -> pd.DataFrame:
    """Return the precomputed profile of every person as JSON columns (BUILT_COLUMNS), not yet encoded.

    Args:
        records: source records (the store's source_record columns; see golden.REQUIRED_COLUMNS).
        links: source, record_id, customer_id, household_id of every record, and its confidence
            (``identity.confidence``) when known.
        interactions: the interactions of the records (INTERACTION_COLUMNS).
        categories: the run's category taxonomy (category, group, pet; ``identity.categories``);
            the built-in defaults when None.
        as_of: "now" for the attributes; the latest interaction when None.
        engine: the SQL engine to run on (a fresh DuckDB by default).

    Returns:
        BUILT_COLUMNS; golden, attributes, members and household_inferred as JSON text.
    """
    started = time.perf_counter()
    own = engine is None
    engine = engine or _engine()
    categories = taxonomy_frame() if categories is None else categories
    with_person = records.drop(columns=["customer_id", "household_id", "confidence"], errors="ignore").merge(
        links[[c for c in ("source", "record_id", "customer_id", "household_id", "confidence") if c in links.columns]],
        on=["source", "record_id"], how="inner")
    links = links[["source", "record_id", "customer_id", "household_id"]]
    persons = engine.sql(
        persons_sql(as_of, engine.dialect), records_in=candidates(with_person), links_in=links, interactions_in=with_sku(interactions)[list(INTERACTION_COLUMNS)],
        categories_in=categories,
    )
    # a person known by no name is shown by their e-mail address masked (a screen that may not show the address
    # shows the name), else by their customer_id
    fallback = [mask_email(email) if isinstance(email, str) and email else customer_id
                for email, customer_id in zip(persons["email"], persons["customer_id"])]
    names = {key: display_name(*key[:2], fallback=key[2]) for key in
             set(zip(persons["first_name"], persons["last_name"], fallback))}
    persons["display_name"] = [names[key] for key in zip(persons["first_name"], persons["last_name"], fallback)]
    households = engine.sql(
        households_sql(as_of, engine.dialect),
        persons_in=persons[["customer_id", "household_id", "display_name"]], links_in=links,
        interactions_in=with_sku(interactions)[list(INTERACTION_COLUMNS)], categories_in=categories,
    )
    profiles = persons.merge(households, on="household_id", how="left")[list(BUILT_COLUMNS)]
    if own:
        engine.close()
    log.info("built %d profiles in %.1f s", len(profiles), time.perf_counter() - started)
    return profiles


ENCODE_APART_ABOVE = 20_000   # profiles; from here a forked worker encodes them while this process goes on
_ROWS: list[tuple] = []       # the rows the forked worker encodes: set before the fork, shared, not pickled
_STATED: list[tuple] = []     # the preferences stated in their households (``profile_api.live.live_parts``)


def encoded_parts(rows: list[tuple], stated: list[tuple]) -> list[tuple[bytes, bytes]]:
    """Return (encoded, encoded_live) of each built profile row (BUILT_COLUMNS, as tuples)."""
    live = live_parts(((row[0], row[1], row[6]) for row in rows), stated)    # one household part per household
    return [(encode_precomputed(*row[:6]), live[row[0]]) for row in rows]


def stored_rows(built: pd.DataFrame, parts: list[tuple[bytes, bytes]]) -> pd.DataFrame:
    """Return built profile rows as the profile table stores them (PROFILE_COLUMNS), given their encoded parts."""
    return built[list(PROFILE_COLUMNS[:4])].assign(encoded=[fixed for fixed, _ in parts],
                                                   encoded_live=[live for _, live in parts])


def _encode_rows() -> list[tuple[bytes, bytes]]:
    """Return the encoded parts of the rows in ``_ROWS`` (runs in this process or in a fork of it)."""
    return encoded_parts(_ROWS, _STATED)


def _start_worker(parent: int) -> None:
    """Begin the forked encoder: it ends with the publishing process (whose database connection it inherited),
    and never examines what it inherited (gc.freeze: the parent's DuckDB and Arrow objects are not whole in a
    fork; a collection that reached one crashed the worker)."""
    die_with_parent(parent)
    gc.freeze()


class ProfileEncoding:
    """Encoding the profile rows as protobuf: here, or in a forked worker while this process writes rows.

    Encoding is pure Python (about 0.1 ms per person), so for a large run it goes to a second core
    while the publishing process bulk-inserts the other tables. The worker is forked, so it shares
    the rows without pickling them; it touches no database and no engine, which is what makes
    forking this process safe.
    """

    def __init__(self, profiles: pd.DataFrame, apart: bool | None = None, stated: list[tuple] | None = None) -> None:
        """Args:
            profiles: the built profile rows (``profile_rows``).
            apart: encode in a forked worker (default: for a large run on a machine of several cores).
            stated: the preferences stated in the profiles' households, as ``profile_api.live.live_parts``
                takes them; the live parts are encoded from them (None: as if nothing was stated).
        """
        global _ROWS, _STATED
        self._profiles = profiles
        self._pool: ProcessPoolExecutor | None = None
        self._future: Future | None = None
        self._parts: list[tuple[bytes, bytes]] | None = None
        if apart is None:
            apart = len(profiles) > ENCODE_APART_ABOVE and (os.cpu_count() or 1) > 1
        _ROWS = list(profiles[list(BUILT_COLUMNS)].itertuples(index=False, name=None))
        _STATED = stated or []
        try:
            if apart:
                self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"),
                                                 initializer=_start_worker, initargs=(os.getpid(),))
                self._future = self._pool.submit(_encode_rows)
            else:
                self._parts = _encode_rows()
        finally:
            _ROWS, _STATED = [], []   # the fork (if any) has its copy

    def result(self) -> pd.DataFrame:
        """Return the profiles as stored (PROFILE_COLUMNS), waiting for the worker if there is one."""
        if self._parts is None:
            assert self._future is not None
            try:
                self._parts = self._future.result()
            finally:
                self.close()
        return stored_rows(self._profiles, self._parts)

    def close(self) -> None:
        """Stop the worker, if any (also when publishing failed half-way)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
