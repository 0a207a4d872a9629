"""Identifiers in requests, read by the very standardisers that read them in the records.

A GetProfile or SearchCustomers request names a person by an e-mail address, a phone number or a
loyalty card number in whatever notation the caller has. The store keeps each record's values as
``identity.standardise`` made them at ingest; a request's value goes through the same function, so
what ingest kept, a look-up finds. A value that function does not keep is no identifier at all:
the error says why and what to send instead.
"""

from __future__ import annotations

from identity.standardise import email_problem, phone_problem, standardise_email, standardise_loyalty_card, \
    standardise_phone

# What to send, per kind, for a value that is not of its kind.
SEND_INSTEAD: dict[str, str] = {
    "email": "send the address as the customer gave it, e.g. jan.jansen@example.nl (any case; accents are fine)",
    "phone": "send the number as the customer gave it, in any notation: 06-12345678, 020 123 4567, +32 470 12 34 56",
    "loyalty_card": "send the number printed on the card (spaces, dots and dashes are ignored)",
}
_WHAT = {"email": "an e-mail address", "phone": "a phone number", "loyalty_card": "a card number"}


def standard_identifier(kind: str, value: str) -> str:
    """Return an e-mail address, phone number or loyalty card number in the notation the store keeps.

    Args:
        kind: ``email``, ``phone`` or ``loyalty_card``.
        value: the identifier in any notation.

    Raises:
        ValueError: "<kind>: '<value>' is not <what>: <why>; <what to send instead>".
    """
    if kind == "email":
        standard, why = standardise_email(value), None
        if standard is None:
            why = email_problem(value)
    elif kind == "phone":
        standard, why = standardise_phone(value), None
        if standard is None:
            why = phone_problem(value)
    elif kind == "loyalty_card":
        standard = standardise_loyalty_card(value)
        why = "it holds nothing but spaces, dots and dashes"
    else:
        raise ValueError(f"kind: '{kind}' is not one of email, phone, loyalty_card")
    if standard is None:
        raise ValueError(f"{kind}: '{value}' is not {_WHAT[kind]}: {why}; {SEND_INSTEAD[kind]}")
    return standard
