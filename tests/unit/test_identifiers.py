"""Identifiers in requests: a look-up reads a value exactly as ingest reads it in a record."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from identity.standardise import standardise_record
from profile_api.identifiers import standard_identifier

phone_like = st.one_of(st.from_regex(r"(\+|00)?[0-9 ()+\-./]{0,16}", fullmatch=True),
                       st.from_regex(r"\+[0-9]{1,16}", fullmatch=True), st.from_regex(r"0[0-9]{5,12}", fullmatch=True))
email_like = st.from_regex(r"[A-Za-zÀ-ÿа-я0-9._%+'!#-]{0,10}@[A-Za-zà-ÿ0-9.-]{0,10}(\.[A-Za-z]{0,4})?", fullmatch=True)
card_like = st.from_regex(r"[A-Za-z0-9 .\-/#]{0,16}", fullmatch=True)


def ingest(kind: str, value: str) -> str | None:
    """Return the value a record holding this value keeps (standardise_record), None when it keeps none."""
    out = standardise_record({"source": "pos", "record_id": "1", kind: value})
    return out["mobile"] or out["landline"] if kind == "phone" else out[kind]


def lookup(kind: str, value: str) -> str | None:
    """Return the value a look-up by this value asks the store for, None when it is refused."""
    try:
        return standard_identifier(kind, value)
    except ValueError:
        return None


@pytest.mark.parametrize("kind,strategy", [("phone", phone_like), ("phone", st.text(max_size=20)),
                                           ("email", email_like), ("email", st.text(max_size=20)),
                                           ("loyalty_card", card_like), ("loyalty_card", st.text(max_size=20))])
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_a_look_up_asks_for_exactly_what_ingest_keeps(kind, strategy, data):
    value = data.draw(strategy)
    standard = lookup(kind, value)
    assert standard == ingest(kind, value)
    if standard is not None:     # the store's own notation is found too
        assert lookup(kind, standard) == standard


@pytest.mark.parametrize("kind,value,standard", [
    ("phone", "06-75211662", "+31675211662"),            # a range phonenumbers does not know
    ("phone", "06 7123 4567", "+31671234567"),
    ("email", "chloé_lorreijn37@ziggo.nl", "chloé_lorreijn37@ziggo.nl"),
    ("email", "CHLOÉ_LORREIJN37@ZIGGO.NL", "chloé_lorreijn37@ziggo.nl"),
    ("loyalty_card", "nl-1234 5678/9", "NL12345678/9"),    # whatever a card holds, ingest keeps
])
def test_values_as_records_hold_them_are_identifiers(kind, value, standard):
    assert standard_identifier(kind, value) == standard == ingest(kind, value)


@pytest.mark.parametrize("kind,value,says", [
    ("phone", "not a phone", "it has letters; send the number as the customer gave it"),
    ("phone", "12", "it has 2 digits after the trunk or country code; phone numbers of +31 have 9 or 11"),
    ("email", "no-at-sign", "it has no @; send the address as the customer gave it"),
    ("loyalty_card", " - ", "it holds nothing but spaces, dots and dashes; send the number printed on the card"),
])
def test_a_value_that_is_no_identifier_is_refused_naming_the_kind_and_what_to_send(kind, value, says):
    with pytest.raises(ValueError) as err:
        standard_identifier(kind, value)
    assert str(err.value).startswith(f"{kind}: '{value}' is not ")
    assert says in str(err.value)
