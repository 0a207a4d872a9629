"""The values a profile is made of: plain classes, and a profile read back from its precomputed row.

No database and no messages: the store reads rows into these (``profile_api.profiles``), the
message packers read them (``profile_api.messages``), and both stand above this module.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from profile_api.golden import GOLDEN_FIELDS
from profile_api.preferences import HouseholdSummary, PreferenceValue, household_summary

__all__ = ["FieldValue", "GoldenRecord", "Attribute", "Profile", "Candidate", "golden_of", "profile_of_row"]


@dataclass(frozen=True)
class FieldValue:
    """One golden-record value, the source record it came from and how sure the run is of that record (0..1)."""

    value: str
    source: str
    record_id: str
    updated_at: str | None
    confidence: float | None = None    # None: a profile precomputed before records carried one


@dataclass(frozen=True)
class GoldenRecord:
    """A person's best-known name, contact details, address and birth date (None: no record has it)."""

    first_name: FieldValue | None
    last_name: FieldValue | None
    email: FieldValue | None
    phone: FieldValue | None
    street: FieldValue | None
    house_number: FieldValue | None
    postcode: FieldValue | None
    city: FieldValue | None
    birth_date: FieldValue | None


@dataclass(frozen=True)
class Attribute:
    """A derived attribute and the evidence it rests on."""

    name: str
    value: str
    evidence: dict[str, str]


@dataclass(frozen=True)
class Profile:
    """Everything a channel knows of a person."""

    customer_id: str
    household_id: str
    display_name: str
    golden: GoldenRecord
    preferences: list[PreferenceValue]
    attributes: list[Attribute]
    household: HouseholdSummary


@dataclass(frozen=True)
class Candidate:
    """A search hit: a person, how well they match (0..1) and on which criteria."""

    customer_id: str
    household_id: str
    display_name: str
    score: float
    matched_on: list[str]


def golden_of(doc: dict) -> GoldenRecord:
    """Return the golden record of its precomputed JSON ({field: [value, source, record_id, updated_at, confidence]})."""
    return GoldenRecord(**{f: FieldValue(*doc[f]) if f in doc else None for f in GOLDEN_FIELDS})


def profile_of_row(customer_id: str, household_id: str, display_name: str, golden: str, attributes: str, household: str,
             members: dict[str, list[PreferenceValue]]) -> Profile:
    """Return a profile from its precomputed row (JSON columns) and its household's current preferences by member."""
    return Profile(
        customer_id=customer_id,
        household_id=household_id,
        display_name=display_name,
        golden=golden_of(json.loads(golden)),
        preferences=members.get(customer_id, []),
        attributes=[Attribute(n, v, e) for n, v, e in json.loads(attributes)],
        household=household_summary(household_id, json.loads(household), members),
    )
