"""Phone numbers as herken keeps them: parsed with phonenumbers, E.164, mobile or fixed, and why a text is no number.

Pure functions, no I/O; ``identity.standardise`` re-exports them beside the other standardisers.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import phonenumbers


class Phone(NamedTuple):
    """A phone number as herken keeps it."""

    e164: str       # "+31612345678"
    mobile: bool    # personal (a mobile number) rather than a landline a household shares
    valid: bool     # in a range phonenumbers knows to be in use; False: the right length, but not (yet) known


# Where a number's leading digits say "mobile" though phonenumbers does not know its range (unallocated,
# allocated after the library's metadata, or a typo): national significant number prefixes per country
# code. Such a number is personal, not a household's. Countries not listed: such numbers count as landlines.
MOBILE_PREFIXES: dict[int, tuple[str, ...]] = {
    31: ("6",),                                   # NL: 06
    32: ("4",),                                   # BE: 04
    33: ("6", "7"),                               # FR: 06, 07
    44: ("7",),                                   # GB: 07
    48: ("45", "50", "51", "53", "57", "60", "66", "69", "72", "73", "78", "79", "88"),   # PL
    49: ("15", "16", "17"),                       # DE: 015x, 016x, 017x
}
_RUNS = ("01234567890123456789", "98765432109876543210")
_FIXED, _MOBILE = phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE
_E164 = phonenumbers.PhoneNumberFormat.E164
_MOBILE_TYPES = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


@lru_cache(maxsize=500_000)
def _read_phone(phone: str | None, region: str) -> tuple[Phone | None, str | None]:
    """Return (the phone, None) of a text that is a phone number, else (None, why it is not)."""
    if phone is None:
        return None, "it is empty"
    text = str(phone).strip()
    if not text:
        return None, "it is empty"
    text = text.replace("(0)", "")
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as err:
        return None, _parse_problem(text, err)
    # number_type is UNKNOWN exactly when is_valid_number is False (both run the same metadata
    # match for the number's region), so one call answers both and halves the cost.
    kind = phonenumbers.number_type(number)
    if kind != phonenumbers.PhoneNumberType.UNKNOWN:
        return Phone(phonenumbers.format_number(number, _E164), kind in _MOBILE_TYPES, True), None
    # Not in a range phonenumbers knows: kept when it is written in digits and has the length of a
    # subscriber's number in its country, so that a record's number is found by that number.
    if any(ch.isalpha() for ch in text):
        return None, "it has letters"
    mobile_length = phonenumbers.is_possible_number_for_type(number, _MOBILE)
    if not (mobile_length or phonenumbers.is_possible_number_for_type(number, _FIXED)):
        return None, _length_problem(number)
    national = phonenumbers.national_significant_number(number)
    if national.startswith("0"):   # a trunk 0 left in: no number in use has one here (and E.164 would lose it)
        return None, "it has a 0 after the country code"
    rest = national[1:]
    if len(set(rest)) <= 1 or any(national in run or rest in run for run in _RUNS):
        return None, "it is a placeholder, not a number in use"
    prefixes = MOBILE_PREFIXES.get(number.country_code, ())
    mobile = mobile_length and bool(prefixes) and national.startswith(prefixes)
    return Phone(phonenumbers.format_number(number, _E164), mobile, False), None


def _length_problem(number: phonenumbers.PhoneNumber) -> str:
    """Return how the length of a number fits no fixed or mobile number of its country."""
    digits = len(phonenumbers.national_significant_number(number))
    region = phonenumbers.region_code_for_country_code(number.country_code)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(number.country_code, region)
    descs = (metadata.fixed_line, metadata.mobile) if metadata else ()   # non-geographic codes (+800) have neither
    lengths = sorted({length for desc in descs if desc is not None for length in desc.possible_length})
    listed = ", ".join(map(str, lengths[:-1])) + " or " * (len(lengths) > 1) + str(lengths[-1]) if lengths else ""
    usual = f"; phone numbers of +{number.country_code} have {listed}" if lengths else ""
    return f"it has {digits} digits after the trunk or country code{usual}"


def _parse_problem(text: str, err: phonenumbers.NumberParseException) -> str:
    """Return why phonenumbers could not read a text as a phone number, in words."""
    if any(ch.isalpha() for ch in text):
        return "it has letters"
    if not any(ch.isdigit() for ch in text):
        return "it has no digits"
    if err.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE:
        return "it starts with no known country code"
    if err.error_type == phonenumbers.NumberParseException.TOO_LONG:
        return "it has too many digits"
    return "it has too few digits"


def parse_phone(phone: str | None, region: str = "NL") -> Phone | None:
    """Return the phone number in a text in any notation, or ``None`` when the text holds none.

    The one phone standardiser: ingest keeps what it returns, and a look-up by a phone number asks
    for what it returns. A number phonenumbers does not know to be in use (an unallocated range, a
    typo) is kept all the same when it has the length of a real number (``valid`` is False); its
    leading digits (MOBILE_PREFIXES) say whether it is a mobile. Placeholders (``0600000000``),
    numbers with letters and numbers of the wrong length are not phone numbers.
    """
    return _read_phone(phone, region)[0]


def phone_problem(phone: str | None, region: str = "NL") -> str | None:
    """Return why a text is not a phone number herken keeps ("it has letters"), or None when it is one."""
    return _read_phone(phone, region)[1]


def standardise_phone(phone: str | None, region: str = "NL") -> str | None:
    """Return the phone number in E.164 (``+31612345678``), or ``None`` when the text holds none (see parse_phone)."""
    found = _read_phone(phone, region)[0]
    return found.e164 if found else None


def is_mobile(e164: str | None) -> bool:
    """Return True when an E.164 number is a mobile number (personal rather than a landline)."""
    found = parse_phone(e164) if e164 else None
    return found.mobile if found else False


def is_valid_phone(e164: str | None) -> bool:
    """Return False for a number kept though phonenumbers does not know it to be in use; True otherwise."""
    found = parse_phone(e164) if e164 else None
    return found.valid if found else True
