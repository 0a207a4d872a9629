"""E-mail addresses as a drop and a look-up write them: the one e-mail standardiser, and why a text is not an address.

Pure: no file, database or network. ``identity.standardise`` re-exports these; callers read them from there.
"""

from __future__ import annotations

import re
import unicodedata

# An e-mail address as a customer writes it: a local part of letters (any script, accents too),
# digits and the signs RFC 5322 allows, and a domain of such labels ending in a top-level domain of
# letters. Lenient on purpose: it accepts every address the ASCII-only rule of earlier versions did.
_EMAIL = re.compile(r"^[\w\u0300-\u036f.!#$%&'*+/=?^`{|}~-]+@[\w\u0300-\u036f.-]+\.(?:[^\W\d_]{2,}|xn--[a-z0-9-]+)$")


def standardise_email(email: str | None) -> str | None:
    """Return an e-mail address trimmed, lower-cased and in Unicode NFC, or ``None`` when it is not one.

    The one e-mail standardiser: ingest keeps what it returns, and a look-up by an address
    (GetProfile, SearchCustomers) asks for what it returns, so any address a record holds is found
    by that address as written. Accents are kept (``chloé@`` and ``chloe@`` are two mailboxes); a
    domain written in punycode (``xn--bcher-kva.nl``) is read as the Unicode it encodes.
    """
    value = _email_text(email)
    return value if value is not None and _EMAIL.match(value) else None


def email_problem(email: str | None) -> str | None:
    """Return why a text is not an e-mail address ("it has no @"), or None when it is one."""
    value = _email_text(email)
    if not value:
        return "it is empty"
    if _EMAIL.match(value):
        return None
    local, at, domain = value.rpartition("@")
    if not at:
        return "it has no @"
    if "@" in local:
        return "it has more than one @"
    if not local:
        return "nothing stands before the @"
    if not _EMAIL.match("x@" + domain):
        return f"'{domain}' after the @ is not a domain such as example.nl"
    return "it has a character no e-mail address holds (a comma, bracket, colon, ...)"


def _email_text(email: str | None) -> str | None:
    """Return an e-mail address as written, trimmed, lower-cased, in NFC, its domain decoded from punycode."""
    if email is None:
        return None
    value = str(email).strip().strip("<>").strip().lower()
    value = value.replace(" ", "")
    if value.startswith("mailto:"):
        value = value[len("mailto:"):]
    if not value.isascii():
        value = unicodedata.normalize("NFC", value)
    if "xn--" in value:
        local, at, domain = value.rpartition("@")
        value = local + at + _unicode_domain(domain)
    return value


def _unicode_domain(domain: str) -> str:
    """Return a domain with its punycode labels (``xn--...``) decoded, lower-cased; as given if one is not punycode."""
    try:
        decoded = domain.encode("ascii").decode("idna")
    except UnicodeError:      # not ASCII, or a label that is no valid punycode
        return domain
    decoded = unicodedata.normalize("NFC", decoded.lower())
    return decoded if _EMAIL.match("x@" + decoded) else domain
