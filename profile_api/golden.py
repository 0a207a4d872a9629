"""The golden record: each field of a person chosen from their source records by a survivorship rule.

The rule, field by field (every chosen value keeps the source record it came from):

* **Channel trust**, most trusted first: ``webshop`` (the customer types into validated forms),
  ``app`` (the customer's own account; sparse but the login e-mail is verified), ``pos`` (copied
  from the paper loyalty-card form by till staff: formal names, capitals, initials), ``service``
  (typed by an agent during a call: the most typos and swapped names).
* **first_name, last_name**: the best-written value first (a full name in mixed case beats one in
  capitals or lower case, which beats bare initials), then the most trusted channel, then the most
  recently updated record.
* **email**: the most trusted channel, then the most recent record (values as standardised).
* **phone**: a number in a range in use before one phonenumbers does not know (an unallocated range
  or a typo, kept so that the record is found by it: ``identity.standardise.parse_phone``), then a
  mobile number (personal) before a landline (shared by the household), then the most trusted
  channel, then the most recent record (E.164).
* **birth_date**: the date most of the person's records agree on (a birth date does not change, a
  typo does not repeat), then the most trusted channel, then the most recent record (ISO date).
* **address** (street, house_number, postcode, city) survives as one unit so that a street is never
  combined with another address's postcode: the most recently updated record with a house number
  and a postcode or street wins (people move; the newest address is the current one), then the one
  with the most address parts, then channel trust. A part that record lacks is taken from another
  record of the person at the same postcode and house number.

Ties are broken by source and record_id, so the same store always gives the same golden record.
Every chosen value carries the confidence of the record it came from (``identity.confidence``),
when the records carry one.
Names, street, house number and city are returned as written in the record; e-mail, phone, postcode
and birth date in their standard notation. The selection is one SQL query over all records.
"""

from __future__ import annotations

import re

import pandas as pd

from identity.engine import Engine, make_engine
from identity.standardise import SURNAME_PARTICLES
from identity.standardise import is_valid_phone, split_street_and_number
from profile_api.sql_dialect import DUCKDB, timestamp_sql

CHANNEL_TRUST: tuple[str, ...] = ("webshop", "app", "pos", "service")

GOLDEN_FIELDS: tuple[str, ...] = (
    "first_name", "last_name", "email", "phone", "street", "house_number", "postcode", "city", "birth_date",
)

# Name quality: higher is better written.
NAME_MISSING, NAME_INITIALS, NAME_ONE_CASE, NAME_MIXED_CASE = 0, 1, 2, 3

# field: (the candidate value, the terms that rank its candidates, best first: each term is an
# integer, lowest best, compared in order). ``recency`` ranks a person's records by updated_at,
# newest first (1), a record without one last.
SURVIVORSHIP: dict[str, tuple[str, tuple[str, ...]]] = {
    "first_name": ("first_name_value", ("-first_name_quality", "trust", "recency")),
    "last_name": ("last_name_value", ("-last_name_quality", "trust", "recency")),
    "email": ("std_email", ("trust", "recency")),
    "phone": ("std_phone", ("NOT phone_is_valid", "NOT phone_is_mobile", "trust", "recency")),
    "birth_date": ("std_birth_date", ("-birth_date_agreeing", "trust", "recency")),
}
ADDRESS_RANKING = ("recency", "-address_parts", "trust")
ADDRESS_PART_RANKING = ("NOT chosen", "trust", "recency")
ADDRESS_PARTS: dict[str, str] = {"street": "address_street", "house_number": "address_number",
                                 "postcode": "std_postcode", "city": "address_city"}

# Timestamps as the ingest accepts them (``profile_api.sql_dialect.timestamp_sql``), in DuckDB's dialect.
TIMESTAMP_SQL = timestamp_sql("{0}")
# ISO 8601 without a zone; the "T" apart, as Spark's datetime patterns would read it as a pattern letter
ISO_SQL = "strftime({0}, '%Y-%m-%d') || 'T' || strftime({0}, '%H:%M:%S')"
_CLEAN_SQL = "nullif(trim(regexp_replace({0}, '\\s+', ' ', 'g')), '')"

_LETTER_RUNS = re.compile(r"[^\W\d_]+")
_VOWELS = frozenset("aeiouyAEIOUY")

REQUIRED_COLUMNS: tuple[str, ...] = (
    "customer_id", "source", "record_id", "first_name", "last_name", "street", "house_number", "city",
    "updated_at", "std_email", "std_phone", "std_phone_mobile", "std_birth_date", "std_postcode",
    "std_house_number",
)


def _missing(value: object) -> bool:
    """Return True for a missing value however a frame marks it (None, NaN, pd.NA): pandas 3 reads a
    missing string as NaN, which ``str`` would turn into the name "nan"."""
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def name_quality(text: str | None, given: bool) -> int:
    """Return how well a first name (given=True) or last name is written: NAME_MISSING .. NAME_MIXED_CASE."""
    words = [] if _missing(text) else _LETTER_RUNS.findall(str(text))
    if not words:
        return NAME_MISSING
    if all(len(w) == 1 for w in words):
        return NAME_INITIALS                      # "J.", "J.P.", "J P"
    if given and len(words) == 1 and len(words[0]) <= 3 and not _VOWELS & set(words[0]):
        return NAME_INITIALS                      # "JP", "JH": initials without dots
    letters = "".join(words)
    if letters.isupper() or letters.islower():
        return NAME_ONE_CASE
    return NAME_MIXED_CASE


def tidy_name(text: str | None, first_word: bool = True) -> str | None:
    """Return a name written in one case as a name is usually written: "VAN 'T WEL" -> "van 't Wel"."""
    if _missing(text) or not str(text).strip():
        return None
    text = " ".join(str(text).split())
    if not (text.isupper() or text.islower()):
        return text
    words = []
    for i, word in enumerate(text.lower().split(" ")):
        if word in SURNAME_PARTICLES and not (first_word and i == 0):
            words.append(word)
        else:   # every run of letters capitalised: "A.J.", "Jan-Peter"
            words.append(_LETTER_RUNS.sub(lambda m: m.group(0).capitalize(), word))
    return " ".join(words)


def display_name(first_name: str | None, last_name: str | None, fallback: str) -> str:
    """Return the name a screen shows for a person: tidied first and last name, else the fallback."""
    first = tidy_name(first_name)
    last = tidy_name(last_name, first_word=first is None)
    shown = " ".join(part for part in (first, last) if part)
    return shown or fallback


def _qualities(values: pd.Series, given: bool) -> pd.Series:
    """Return name_quality of each value, computed once per distinct value."""
    clean = values.astype(object).where(values.notna(), None)
    distinct = {v: name_quality(v, given) for v in clean.unique()}
    return clean.map(distinct).astype(int)


def candidates(records: pd.DataFrame) -> pd.DataFrame:
    """Return the records with the values only Python computes: name quality, street split from number."""
    missing = [c for c in REQUIRED_COLUMNS if c not in records.columns]
    if missing:
        raise ValueError(f"records lack column(s) {', '.join(missing)}")
    frame = records[list(REQUIRED_COLUMNS)].astype(object)
    frame = frame.where(frame.notna(), None).replace({"": None})
    confidence = records["confidence"] if "confidence" in records.columns else pd.Series(None, index=records.index)
    frame["confidence"] = pd.to_numeric(confidence, errors="coerce").astype("float64")
    frame["first_name_quality"] = _qualities(frame["first_name"], True)
    frame["last_name_quality"] = _qualities(frame["last_name"], False)
    if {"std_given", "std_surname"} <= set(records.columns):
        # a name the run read as a till's name for a stranger ("Klant Onbekend", identity.placeholder_values): written
        # in both fields, standardised to nothing in either; it names no one
        stranger = (frame["first_name"].notna() & frame["last_name"].notna()
                    & records["std_given"].isna().to_numpy() & records["std_surname"].isna().to_numpy())
        frame.loc[stranger, ["first_name_quality", "last_name_quality"]] = 0
    # An address typed into the street field ("Dorpsstraat 12a") is split as the ingest does.
    joined = frame["street"].notna() & frame["house_number"].isna()
    if joined.any():
        split = frame.loc[joined, "street"].map(split_street_and_number)
        frame.loc[joined, "street"] = split.map(lambda pair: pair[0])
        frame.loc[joined, "house_number"] = split.map(lambda pair: pair[1])
    frame["std_phone_mobile"] = frame["std_phone_mobile"].map(lambda v: bool(v) if v is not None else False)
    frame["std_phone_valid"] = _phone_validity(frame)
    return frame


def _phone_validity(frame: pd.DataFrame) -> list[bool]:
    """Return whether each record's phone is in a range in use (``is_valid_phone``), where that can change the choice.

    Only a person with two or more different numbers has a choice; only their numbers are checked
    (one phonenumbers call per distinct number). Every other record counts as valid. Derived here
    rather than stored, so that a store of an earlier schema needs no migration for it.
    """
    phones = frame.loc[frame["std_phone"].notna(), ["customer_id", "std_phone"]].drop_duplicates()
    several = phones.loc[phones["customer_id"].duplicated(keep=False), "std_phone"]
    checked = {phone: is_valid_phone(phone) for phone in several.unique()}
    return [checked.get(phone, True) for phone in frame["std_phone"].tolist()]


def _best(column: str, terms: tuple[str, ...], condition: str) -> str:
    """Return the DuckDB aggregate picking the best-ranked record (its row_no) where condition holds."""
    ranking = ", ".join(f"({term})::BIGINT" for term in terms)
    return f"arg_min(row_no, [{ranking}, row_no]) FILTER (WHERE {condition}) AS {column}"


def golden_sql(dialect: str = DUCKDB) -> str:
    """Return the query (DuckDB's dialect, its fragments for ``dialect``) over table ``records_in`` (see
    candidates): one row per chosen field.

    Every window is per person, so that an engine of many machines spreads it: a record's row_no
    numbers it among its person's records (a choice and its ties are within one person).
    """
    clean = {c: _CLEAN_SQL.format(c) for c in ("first_name", "last_name", "street", "house_number", "city")}
    trust = " ".join(f"WHEN '{channel}' THEN {rank}" for rank, channel in enumerate(CHANNEL_TRUST))
    picks = ",\n        ".join(_best(field, ranking, f"{value} IS NOT NULL")
                                for field, (value, ranking) in SURVIVORSHIP.items())
    parts = ",\n        ".join(_best(field, ADDRESS_PART_RANKING, f"{column} IS NOT NULL")
                                for field, column in ADDRESS_PARTS.items())
    values = " ".join(f"WHEN '{field}' THEN {value}" for field, (value, _) in SURVIVORSHIP.items())
    values += " " + " ".join(f"WHEN '{field}' THEN {column}" for field, column in ADDRESS_PARTS.items())
    has_address = "address_number IS NOT NULL AND (std_postcode IS NOT NULL OR address_street IS NOT NULL)"
    return f"""
WITH typed AS (
    SELECT customer_id, source, record_id, std_email, std_phone, std_phone_mobile AS phone_is_mobile,
           std_phone_valid AS phone_is_valid,
           std_birth_date, std_postcode, std_house_number, first_name_quality, last_name_quality, confidence,
           CASE WHEN first_name_quality > 0 THEN {clean['first_name']} END AS first_name_value,
           CASE WHEN last_name_quality > 0 THEN {clean['last_name']} END AS last_name_value,
           {clean['street']} AS address_street, {clean['house_number']} AS address_number,
           {clean['city']} AS address_city,
           {timestamp_sql('updated_at', dialect)} AS updated,
           CASE source {trust} ELSE {len(CHANNEL_TRUST)} END AS trust
    FROM records_in
),
candidates AS (
    SELECT *, {ISO_SQL.format('updated')} AS updated_at,
           row_number() OVER (PARTITION BY customer_id ORDER BY source, record_id) AS row_no,
           dense_rank() OVER (PARTITION BY customer_id ORDER BY updated DESC NULLS LAST) AS recency,
           count(*) OVER (PARTITION BY customer_id, std_birth_date) AS birth_date_agreeing,
           (address_street IS NOT NULL)::INT + (address_number IS NOT NULL)::INT
             + (std_postcode IS NOT NULL)::INT + (address_city IS NOT NULL)::INT AS address_parts
    FROM typed
),
fields AS (
    SELECT customer_id,
        {picks},
        {_best("address", ADDRESS_RANKING, has_address)}
    FROM candidates GROUP BY customer_id
),
at_address AS (
    -- The chosen address record, and the person's other records at the same postcode and number.
    SELECT c.*, c.row_no = f.address AS chosen
    FROM candidates c JOIN fields f ON c.customer_id = f.customer_id
    JOIN candidates a ON a.customer_id = f.customer_id AND a.row_no = f.address
    WHERE c.row_no = a.row_no OR (c.std_postcode = a.std_postcode AND c.std_house_number = a.std_house_number)
),
address_parts AS (
    SELECT customer_id,
        {parts}
    FROM at_address GROUP BY customer_id
),
chosen AS (
    SELECT * FROM (SELECT f.customer_id, {", ".join(f"f.{field}" for field in SURVIVORSHIP)},
                          {", ".join(f"a.{field}" for field in ADDRESS_PARTS)}
                   FROM fields f LEFT JOIN address_parts a ON f.customer_id = a.customer_id)
    UNPIVOT (row_no FOR field IN ({", ".join(GOLDEN_FIELDS)}))
)
SELECT chosen.customer_id, chosen.field, CASE chosen.field {values} END AS value,
       c.source, c.record_id, c.updated_at, c.confidence
FROM chosen JOIN candidates c ON c.customer_id = chosen.customer_id AND c.row_no = chosen.row_no"""


def golden_records(records: pd.DataFrame, engine: Engine | None = None) -> pd.DataFrame:
    """Return the golden record of every person.

    Args:
        records: source records with their customer_id (REQUIRED_COLUMNS: the store's
            source_record columns joined with record_link.customer_id).
        engine: the SQL engine to run on (a fresh DuckDB by default).

    Returns:
        one row per chosen field: customer_id, field (one of GOLDEN_FIELDS), value, and the source,
        record_id, updated_at (ISO 8601) and confidence (None when the records carry none) of the
        record it came from. A field that no record of the person fills has no row.
    """
    engine = engine or make_engine("duckdb")
    query = f"SELECT * FROM ({golden_sql(engine.dialect)}) ORDER BY customer_id, field"
    return engine.sql(query, records_in=candidates(records))
