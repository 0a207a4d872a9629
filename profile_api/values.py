"""The values a profile is made of: plain classes.

No database and no messages: the message packers turn these into messages and a stored profile back
into these (``profile_api.messages``), the store reads them (``profile_api.profiles``), and both stand
above this module.
"""

from __future__ import annotations

from dataclasses import dataclass

from profile_api.preferences import HouseholdSummary, PreferenceValue

__all__ = ["FieldValue", "GoldenRecord", "Attribute", "Profile", "Candidate"]


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

