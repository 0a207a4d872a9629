"""Standardisation of identity fields: pure functions, no I/O.

Every function accepts messy input (``None``, empty strings, any case, stray punctuation) and
returns a canonical value or ``None``. Every function is idempotent: applying it to its own output
returns the same output. ``parse_date`` is the one that raises: an unparseable non-empty date is a
data error the caller deals with (ingest sets a birth date aside and keeps its record).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import NamedTuple

import pandas as pd


from identity.addresses import address_key
from identity.dates import parse_date, parse_timestamp  # noqa: F401  re-exported: callers read them from here
from identity.nicknames import canonical_given_name

# Dutch (and Flemish/German) surname particles ("tussenvoegsels"), longest first so that
# "van der" wins over "van".
_PARTICLES: tuple[str, ...] = (
    "van de", "van den", "van der", "van het", "van 't", "van t", "van ter", "van de la",
    "in de", "in den", "in het", "in 't", "op de", "op den", "op het", "op 't", "uit de",
    "uit den", "uit het", "aan de", "aan den", "aan het", "bij de", "onder de", "over de",
    "de la", "de le", "de l", "von der", "von dem", "von",
    "van", "de", "den", "der", "het", "'t", "t", "ter", "ten", "te", "la", "le", "du", "da",
    "di", "del", "della", "dos", "das", "do", "zu", "el", "al",
)
_PARTICLE_SET = frozenset(_PARTICLES)
SURNAME_PARTICLES: frozenset[str] = _PARTICLE_SET  # public: the particles ("van der", "de") herken knows
# Abbreviations written by tills and agents: "v.d. Berg", "vd Berg", "v/d Berg", "v.den Heuvel".
_PARTICLE_ABBREVIATIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?<![a-z'])v\s*[./]?\s*d\s*\.?\s*e?n\.?(?![a-z])"), " van den "),
    (re.compile(r"(?<![a-z'])v\s*[./]?\s*d\s*\.?(?![a-z])"), " van der "),
    (re.compile(r"(?<![a-z'])v\.(?=\s|$)"), " van "),
)

# Salutations and titles agents type into name fields: "Mevr. Jansen", "Dhr. J. de Vries", the Dutch
# nobility's "Jhr." and "Jkvr.", an old "Mej.", and English ones a shop abroad or a public register carries
# ("Sir William Hooker": Splink's historical_50k has "sir" as its seventh most common first name).
_TITLES = re.compile(
    r"^(?:(?:de\s+)?heer|dhr|mevr|mevrouw|mw|mr|mrs|ms|dr|drs|ir|ing|prof|fam|familie|jhr|jkvr|mej"
    r"|sir|lord|lady|dame|miss|rev|revd)\.?(?:\s+|$)"
)

_NON_ALNUM = re.compile(r"[^a-z0-9' -]+")
_OTHER_PUNCTUATION = re.compile(r"[^a-z0-9'./\s-]+")
_SPACES = re.compile(r"\s+")

# Names, streets, cities and dates repeat across the records of a drop (a street is shared by its
# households, a surname by a family), so the pure parsers below remember their answers. The bound
# keeps a long-running server small.
_MEMO = 100_000


# Letters that Unicode does not decompose into a base letter and an accent, written as Dutch forms
# write them: "Yıldız" (Turkish dotless i) is "yildiz", not "y ld z"; "Søren" is "soren".
_UNDECOMPOSED = str.maketrans({"ı": "i", "ł": "l", "Ł": "l", "ø": "o", "Ø": "o", "æ": "ae", "Æ": "ae",
                               "œ": "oe", "Œ": "oe", "ß": "ss", "đ": "d", "Đ": "d", "ð": "d", "Ð": "d",
                               "þ": "th", "Þ": "th", "ħ": "h", "Ħ": "h"})


def fold(text: str | None) -> str | None:
    """Return text lower-cased, accents removed and whitespace collapsed; ``None`` if empty."""
    if text is None:
        return None
    decomposed = unicodedata.normalize("NFKD", str(text).translate(_UNDECOMPOSED))
    # a control character (a backspace pasted in, a form feed) separates words as a space does
    ascii_text = "".join(" " if unicodedata.category(ch) == "Cc" else ch
                         for ch in decomposed if not unicodedata.combining(ch))
    ascii_text = ascii_text.replace("’", "'").replace("`", "'").lower()
    ascii_text = _SPACES.sub(" ", ascii_text).strip()
    return ascii_text or None


def without_titles(folded: str) -> str:
    """Return a folded name without the salutations and titles it starts with ("dhr. j. de vries")."""
    while True:
        stripped = _TITLES.sub("", folded, count=1)
        if stripped == folded or not stripped.strip():
            return folded
        folded = stripped


# A salutation says a surname follows, perhaps after initials: "Dhr. Voorst, van", "Mevr. Jansen",
# "Dhr. J. de Vries". An agent who types that into the first-name field has typed a surname.
_SALUTATION = re.compile(r"^(?:(?:de\s+)?heer|dhr|mevr|mevrouw|mw|fam|familie)\b\.?")


def _salutation_name(first_name: str) -> tuple[str | None, str] | None:
    """Return (initials, surname) of a first-name field that is a salutation and a surname, else None."""
    folded = fold(first_name) or ""
    if not _SALUTATION.match(folded):
        return None
    rest = without_titles(folded)
    if rest == folded or not rest.strip(" .,"):
        return None
    if "," in rest:
        return None, rest            # "voorst, van": the surname notation with a comma
    words = rest.replace(".", ". ").split()
    lead = 0
    while lead < len(words) - 1 and len(words[lead].rstrip(".")) == 1:
        lead += 1                    # "j. de vries": initials, then the surname
    initials = " ".join(w.rstrip(".") for w in words[:lead]) or None   # "a b": read as initials
    return initials, " ".join(words[lead:])


@lru_cache(maxsize=_MEMO, typed=True)
def _name_tokens(text: str | None) -> str | None:
    """Return a folded name with punctuation other than apostrophes and hyphens dropped."""
    folded = fold(text)
    if folded is None:
        return None
    folded = without_titles(folded)
    # Punctuation the abbreviations do not use ("V:D") becomes a space first, so that a name reads
    # the same when its own output is parsed again ("v d" is "van der" either way).
    folded = _OTHER_PUNCTUATION.sub(" ", folded)
    for pattern, particle in _PARTICLE_ABBREVIATIONS:
        folded = pattern.sub(particle, folded)
    folded = folded.replace(".", ". ")
    cleaned = _NON_ALNUM.sub(" ", folded)
    cleaned = re.sub(r"\s*-\s*", "-", cleaned)
    cleaned = _SPACES.sub(" ", cleaned).strip(" -'")
    # a title that punctuation hid ("ir¡0") shows once the punctuation is a space: drop it as its own
    # output parsed again would
    return without_titles(cleaned) if cleaned else None


def _name_word(word: str) -> bool:
    """Return True when a word may be a name of its own: two letters or more (a hyphen or apostrophe between them),
    and no particle."""
    letters = word.replace("-", "").replace("'", "")
    return len(letters) >= 2 and letters.isalpha() and word not in _PARTICLE_SET


def _one_name_word(last_name: str) -> bool:
    """Return True when a last-name field holds one name ("Jan", "Jo-Ann") and nothing else, as its surname parses:
    the same answer for the field and for its parsed surname written back, so that a parsed name parses again
    to itself."""
    particles, core = _parse_surname(last_name)
    if particles is not None or not core or not all(_name_word(word) for word in core.split()):
        return False
    return len(core.split()) == 1 or len((_name_tokens(last_name) or "").split()) == 1


def _leading_particles(words: list[str]) -> int:
    """Return how many leading words are particles; the last word is never counted."""
    i = 0
    while i < len(words) - 1:
        for length in (3, 2, 1):
            if i + length <= len(words) - 1 and " ".join(words[i:i + length]) in _PARTICLE_SET:
                i += length
                break
        else:
            break
    return i


def _trailing_particles(words: list[str]) -> int:
    """Return how many trailing words are particles ("Berg van der"); the first word never is."""
    n = 0
    while n < len(words) - 1 and words[len(words) - 1 - n] in _PARTICLE_SET:
        n += 1
    return n


@dataclass(frozen=True)
class PersonName:
    """A parsed name: folded given names, initials, surname particles and surname core."""

    given: str | None            # folded given names, "jan peter"
    given_first: str | None      # the first given name, "jan"; None when only initials are known
    given_canonical: str | None  # nickname resolved, "hans" -> "johannes"
    initials: str | None         # "jp"
    particles: str | None        # "van der"
    surname_core: str | None     # "berg"; a double surname keeps both cores: "jansen vries"
    surname_first: str | None    # first core word of a double surname: "jansen"
    surname_last: str | None     # last core word of a double surname: "vries"


@lru_cache(maxsize=_MEMO, typed=True)
def _parse_surname(text: str | None) -> tuple[str | None, str | None]:
    """Return (particles, core words) of a surname written in any order and notation."""
    raw = fold(text)
    if raw is None:
        return None, None
    raw = without_titles(raw)
    if "," in raw:
        head, _, tail = raw.partition(",")
        tail_clean = _name_tokens(tail) or ""
        tail_words = tail_clean.split()
        # "Berg, van der" puts the particles after a comma; "Jansen, J." puts initials there.
        if tail_words and all(w in _PARTICLE_SET for w in tail_words):
            raw = f"{tail_clean} {head}"
        else:
            raw = head
    cleaned = _name_tokens(raw)
    if cleaned is None:
        return None, None
    words = cleaned.replace("-", " ").split()
    if all(w in _PARTICLE_SET for w in words):
        return None, " ".join(words)  # nothing but particles ("Van", "De"): the whole is the name
    trailing = _trailing_particles(words)
    if trailing:
        words = words[-trailing:] + words[:-trailing]
    lead = _leading_particles(words)
    core = [w for w in words[lead:] if w not in _PARTICLE_SET] or words[lead:]
    # the core as its own output, parsed again, reads it: no apostrophe or hyphen at either end ("0'")
    return " ".join(words[:lead]) or None, " ".join(core).strip(" -'") or None


_VOWELS = set("aeiouy")


_LONE_INITIAL = re.compile(r"\s*([a-z])\s*\.?\s*")


def _parse_given(text: str | None) -> tuple[str | None, str | None, list[str]]:
    """Return (given names, initials, trailing particle words) of a first-name field."""
    given, initials, trailing = _parse_given_memo(text)
    return given, initials, list(trailing)


@lru_cache(maxsize=_MEMO, typed=True)
def _parse_given_memo(text: str | None) -> tuple[str | None, str | None, tuple[str, ...]]:
    """Return :func:`_parse_given` with the trailing particles as a tuple, which can be shared."""
    lone = _LONE_INITIAL.fullmatch(fold(text) or "")
    if lone:
        return None, lone.group(1), ()   # "V." in the first-name field is an initial, not "van"
    cleaned = _name_tokens(text)
    if cleaned is None:
        return None, None, ()
    words = cleaned.replace("-", " ").replace("'", "").split()
    trailing: list[str] = []
    while len(words) > 1 and words[-1] in _PARTICLE_SET:
        trailing.insert(0, words.pop())
    if all(len(w) == 1 for w in words):
        return None, "".join(words), tuple(trailing)
    if len(words) == 1 and len(words[0]) <= 3 and not (_VOWELS & set(words[0])):
        return None, words[0], tuple(trailing)  # "JP", "JH": initials without dots
    return " ".join(words), "".join(w[0] for w in words), tuple(trailing)


@lru_cache(maxsize=200_000)
def parse_name(first_name: str | None, last_name: str | None) -> PersonName:
    """Return the parsed name of a record's first-name and last-name fields."""
    if first_name and not (last_name or "").strip():
        whole = _salutation_name(first_name)
        if whole is not None:
            first_name, last_name = whole   # "Dhr. Voorst, van" typed as the first name
    leading = (_name_tokens(first_name) or "").replace("-", " ").replace("'", "").split()   # as _parse_given reads it
    leading_particles = _leading_particles(leading)
    if (leading_particles > 0 and all(_name_word(word) for word in leading[leading_particles:])
            and last_name and _one_name_word(last_name)):
        # "van Oirschot" / "Jan" typed the wrong way round; not "'t 0a" / "'t": only names swap
        first_name, last_name = last_name, first_name
    given, initials, trailing = _parse_given(first_name)
    surname_text = " ".join(trailing + [last_name or ""]) if trailing else last_name
    particles, core = _parse_surname(surname_text)
    given_first = given.split()[0] if given else None
    core_words = core.split() if core else []
    return PersonName(
        given=given,
        given_first=given_first,
        given_canonical=canonical_given_name(given_first) if given_first else None,
        initials=initials,
        particles=particles,
        surname_core=core,
        surname_first=core_words[0] if core_words else None,
        surname_last=core_words[-1] if core_words else None,
    )


from identity.emails import email_problem, standardise_email  # noqa: E402,F401  re-exported: read from here
from identity.phones import (  # noqa: E402,F401  re-exported: the standardisers are read from here
    Phone, is_mobile, is_valid_phone, parse_phone, phone_problem, standardise_phone,
)


_COUNTRY_POSTCODE = re.compile(r"^(?:B|BE|D|DE)\s*-?\s*(\d{4,5})$")
_NL_POSTCODE = re.compile(r"^(?:NL[- ]?)?([1-9][0-9]{3})\s*-?\s*([A-Z]{2})$")


@lru_cache(maxsize=_MEMO, typed=True)
def standardise_postcode(postcode: str | None) -> str | None:
    """Return a Dutch postcode as ``1234AB``; other postcodes upper-cased without spaces."""
    if postcode is None:
        return None
    text = _SPACES.sub(" ", str(postcode).strip().upper())
    if not text:
        return None
    match = _NL_POSTCODE.match(text)
    if match:
        return match.group(1) + match.group(2)
    abroad = _COUNTRY_POSTCODE.match(text)
    if abroad:      # "B-8000", "D 52062": the country's letter in front of a Belgian or German postcode
        return abroad.group(1)
    compact = re.sub(r"[^A-Z0-9-]", "", text)
    return compact or None


_HOUSE_NUMBER = re.compile(r"^\s*(\d+)\s*[-/ ]?\s*(.*?)\s*$")


@lru_cache(maxsize=_MEMO, typed=True)
def standardise_house_number(house_number: str | None) -> tuple[str | None, str | None]:
    """Return (number, addition) of a house number: ``'12 a'`` -> ``('12', 'A')``."""
    if house_number is None:
        return None, None
    text = str(house_number).strip().upper()
    if not text:
        return None, None
    match = _HOUSE_NUMBER.match(text)
    if not match:
        return None, re.sub(r"[^A-Z0-9]", "", text) or None
    number = str(int(match.group(1)))
    addition = re.sub(r"[^A-Z0-9]", "", match.group(2)) or None
    if addition:        # one flat written two ways: "12 bus 3" (Belgian) and "12-3"; "22 1e", "22 2 hoog" and "22-1"
        floor = _FLOOR.match(addition)
        addition = floor.group(1) or floor.group(2) if floor else addition
    return number, addition


# A flat's addition as Belgians ("bus 3", "bte 3") and Dutch floors ("1e", "2de", "3 hoog", "2hg") write it: the
# number alone. Roman floors ("II") are left as written: a building may number its flats both ways.
_FLOOR = re.compile(r"^(?:BUS|BTE)(\d+[A-Z]?)$|^(\d+)(?:E|STE|DE|HG|HOOG)$")


_STREET_ABBREVIATIONS = ((r"str\.?$", "straat"), (r"ln\.?$", "laan"), (r"wg\.?$", "weg"), (r"pl\.?$", "plein"))
# English ones, only as a word of their own at the end (" st" is no Dutch street's last word; " ln" is a laan)
_ENGLISH_STREETS = ((r"\sst\.?$", " street"), (r"\srd\.?$", " road"), (r"\save?\.?$", " avenue"),
                    (r"\sdr\.?$", " drive"), (r"\ssq\.?$", " square"))   # " pl" is a plein already
_STREET_WITH_FLAT = re.compile(r"^(.*?[^\d/-])\s*(\d+\s*[a-zA-Z]?)\s*[-,]?\s*(?:(?:bus|bte)\.?\s*(\d+[a-zA-Z]?)"
                               r"|(\d+)\s*(?:e|ste|de|hg|hoog))\s*$", re.IGNORECASE)
_STREET_WITH_NUMBER = re.compile(r"^(.*?[^\d/-])\s*(\d+\s*[-/ ]?\s*[a-zA-Z0-9]{0,4})\s*$")   # "Laan 1940-1945 3"
# A Dutch street whose name starts with a number keeps it ("3 Oktoberstraat", "18 Septemberpl.", "5 Mei Boulevard"):
# a month's name after the number, or a Dutch street word at the end once abbreviations are written out
_DUTCH_STREET = re.compile(r"^(?:januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november"
                           r"|december)\b|(?:straat|laan|weg|plein|gracht|kade|singel|dijk|dreef|hof|pad|steeg|markt"
                           r"|park|plantsoen)$", re.IGNORECASE)
# The number first, as the English, Americans and French write it ("12 Baker Street", "221B Baker St",
# "16, rue de la Paix"), read only where no number ends the field (Dutch order wins: "2 Mei-straat 5"); not a
# Dutch ordinal that starts a street's name ("1e Jacob van Campenstraat") nor an English one ("21st Street").
_NUMBER_WITH_STREET = re.compile(r"^(\d+\s*(?![eE]\b|[sS][tT][eE]?\b|[dD][eE]\b|[nN][dD]\b|[rR][dD]\b|[tT][hH]\b)"
                                 r"[a-zA-Z]{0,2}(?:\s*[-/]\s*\d+[a-zA-Z]?)?)\s*,?\s+(\D.*)$")


@lru_cache(maxsize=_MEMO, typed=True)
def split_street_and_number(street: str | None) -> tuple[str | None, str | None]:
    """Split ``'Dorpsstraat 12a'`` written in one field into (street, house number)."""
    if street is None:
        return None, None
    text = str(street).strip()
    match = _STREET_WITH_FLAT.match(text)     # "Kerkstraat 12 bus 3", "Stationsstraat 20 2 hoog": 12-3, 20-2
    if match and match.group(1).strip():
        return match.group(1).strip(" ,"), f"{match.group(2).strip()}-{match.group(3) or match.group(4)}"
    match = _STREET_WITH_NUMBER.match(text)
    if match and match.group(1).strip():
        return match.group(1).strip(" ,"), match.group(2).strip()
    match = _NUMBER_WITH_STREET.match(text)
    if match and match.group(2).strip(" ,") and not _DUTCH_STREET.search(standardise_street(match.group(2)) or ""):
        return match.group(2).strip(" ,"), match.group(1).strip()
    return text or None, None


@lru_cache(maxsize=_MEMO, typed=True)
def standardise_street(street: str | None) -> str | None:
    """Return a folded street name with common abbreviations written out."""
    folded = fold(street)
    if folded is None:
        return None
    folded = re.sub(r"[^a-z0-9' -]+", " ", folded.replace(".", ". "))
    folded = _SPACES.sub(" ", folded).strip()
    for pattern, full in _STREET_ABBREVIATIONS:
        folded = re.sub(r"(\w)" + pattern, r"\1" + full, folded)
        folded = re.sub(r"\s" + pattern, " " + full, folded)
    if not folded.endswith(("straat", "laan", "weg", "plein")):
        for pattern, full in _ENGLISH_STREETS:
            folded = re.sub(pattern, full, folded)
    folded = folded.replace(" straat", "straat") if folded.endswith(" straat") else folded
    return folded or None


# Places that go by two names in the extracts of a Dutch retailer: the official name of a municipality
# beside the one everybody uses ('s-Gravenhage and Den Haag, 's-Hertogenbosch and Den Bosch), the
# Frisian name beside the Dutch one, and the Dutch, French or German name of a city across the border
# (Luik and Liège, Keulen and Köln). Keyed by the folded name without spaces, hyphens and apostrophes, so
# "'s-Gravenhage", "s Gravenhage", "Gravenhage, 's" and "'S-GRAVENHAGE" are one key; each maps to the name
# written for all of them. A country after the name is left as written: Putte (NL) and Putte (BE) are two places.
CITY_NAMES: dict[str, str] = {
    **dict.fromkeys(("sgravenhage", "gravenhage", "gravenhages", "denhaag", "thehague"), "den haag"),
    **dict.fromkeys(("shertogenbosch", "hertogenbosch", "hertogenboschs", "denbosch"), "den bosch"),
    **dict.fromkeys(("ljouwert", "leeuwarden"), "leeuwarden"),
    **dict.fromkeys(("snits", "sneek"), "sneek"),
    **dict.fromkeys(("harns", "harlingen"), "harlingen"),
    **dict.fromkeys(("frjentsjer", "franeker"), "franeker"),
    **dict.fromkeys(("boalsert", "bolsward"), "bolsward"),
    **dict.fromkeys(("dejouwer", "joure"), "joure"),
    **dict.fromkeys(("brussel", "bruxelles", "brussels"), "brussel"),
    **dict.fromkeys(("antwerpen", "anvers"), "antwerpen"),
    **dict.fromkeys(("gent", "gand"), "gent"),
    **dict.fromkeys(("leuven", "louvain"), "leuven"),
    **dict.fromkeys(("mechelen", "malines"), "mechelen"),
    **dict.fromkeys(("brugge", "bruges"), "brugge"),
    **dict.fromkeys(("kortrijk", "courtrai"), "kortrijk"),
    **dict.fromkeys(("ieper", "ypres"), "ieper"),
    **dict.fromkeys(("luik", "liege"), "liege"),
    **dict.fromkeys(("namen", "namur"), "namur"),
    **dict.fromkeys(("doornik", "tournai"), "tournai"),
    **dict.fromkeys(("keulen", "koln", "koeln", "cologne"), "koln"),
    **dict.fromkeys(("aken", "aachen"), "aachen"),
    **dict.fromkeys(("munchen", "muenchen", "munich"), "munchen"),
}


@lru_cache(maxsize=_MEMO, typed=True)
def standardise_city(city: str | None) -> str | None:
    """Return a folded city name, one name for a place that goes by two (CITY_NAMES: Den Haag for 's-Gravenhage)."""
    folded = fold(city)
    if folded is None:
        return None
    cleaned = _SPACES.sub(" ", re.sub(r"[^a-z0-9' -]+", " ", folded)).strip() or None
    return CITY_NAMES.get(re.sub(r"[' -]", "", cleaned), cleaned) if cleaned else None


def current_cities(records: pd.DataFrame) -> pd.DataFrame:
    """Return standardised records with their city (and the key of an address without a postcode, which holds
    it) as this herken's standardise_city writes it: a snapshot an older herken kept wrote some places by
    their other name ("'s-gravenhage"), which records standardised now would never meet."""
    if "city" not in records.columns or not records["city"].notna().any():
        return records
    known = records["city"].dropna().unique().tolist()
    renamed = {c: name for c in known if isinstance(c, str) and (name := standardise_city(c)) != c}
    if not renamed:
        return records
    out = records.copy()
    moved = out["city"].isin(list(renamed))
    out.loc[moved, "city"] = out.loc[moved, "city"].map(renamed)
    keyed = moved & out["postcode"].isna() & out["address_key"].notna() & out["street"].notna() \
        & out["house_number"].notna()
    if keyed.any():
        rows = out.loc[keyed]
        out.loc[keyed, "address_key"] = (rows["street"].astype(str) + "|" + rows["house_number"].astype(str) + "|"
                                         + rows["house_addition"].fillna("").astype(str) + "|" + rows["city"].astype(str))
    return out


def current_standardised(records: pd.DataFrame) -> pd.DataFrame:
    """Return standardised records an older herken kept (a linkage snapshot) as this herken standardises them: their
    cities (``current_cities``) and the columns it has added since, derived from those the records hold."""
    records = current_cities(records)
    if "email_year" not in records.columns and "email_local" in records.columns:
        records = records.assign(email_year=[email_year(v) if isinstance(v, str) else None
                                             for v in records["email_local"].tolist()])
    return records


# A long number a spreadsheet saved in scientific notation ("2.64386E+12"): its digits are gone.
SPREADSHEET_NUMBER = re.compile(r"^\s*\d[.,]\d+\s*E\s*\+?\d+\s*$", re.IGNORECASE)


def standardise_loyalty_card(card: str | None) -> str | None:
    """Return a loyalty card number with spaces and dashes removed, upper-cased; None for one a spreadsheet wrote in
    scientific notation (its digits are lost: thousands of cards would read as one)."""
    if card is None or SPREADSHEET_NUMBER.match(str(card)):
        return None
    value = re.sub(r"[\s.-]", "", str(card)).upper()
    return value or None


STANDARD_COLUMNS: tuple[str, ...] = (
    "unique_id", "source", "record_id", "updated_at", "given", "given_first", "given_canonical",
    "initials", "initial", "particles", "surname_core", "surname_first", "surname_last", "birth_date", "email",
    "email_local", "email_domain", "email_domain_head", "email_year", "mobile", "landline", "phone_valid", "postcode", "house_number", "house_addition", "street",
    "city", "loyalty_card", "address_key",
)


def _name_fields(first_name: str | None, last_name: str | None) -> tuple[str | None, ...]:
    """Return the name columns of STANDARD_COLUMNS (given ... surname_last) of a first and last name."""
    name = parse_name(first_name or None, last_name or None)
    return (name.given, name.given_first, name.given_canonical, name.initials,
            (name.given_first or name.initials or "")[:1] or None,
            name.particles, name.surname_core, name.surname_first, name.surname_last)


# A year in an e-mail address ("tara.devries93@", "jan1985@") is most often its owner's birth year (85% of the
# e-mail years of our generator's records that also hold a birth date; a habit of real customers' addresses): the
# local part's one run of digits, when that is two digits or a year of 19xx / 20xx (identity.model weighs it).
_EMAIL_YEAR = re.compile(r"[^0-9]*([0-9]{2}|19[0-9]{2}|20[0-9]{2})[^0-9]*")


def email_year(local: str | None) -> str | None:
    """Return the year an e-mail address's local part holds (two digits or four), or None when it holds none."""
    found = _EMAIL_YEAR.fullmatch(local) if local else None
    return found.group(1) if found else None


def _email_fields(email: str | None) -> tuple[str | None, ...]:
    """Return (email, email_local, email_domain, email_domain_head, email_year) of an e-mail field."""
    value = standardise_email(email)
    if not value:
        return None, None, None, None, None
    local, domain = value.split("@")[0], value.split("@")[1]
    return value, local, domain, domain[:1], email_year(local)   # the head blocks typos of one domain


# A phone written in digits with spaces or dashes between them, perhaps after a +: phonenumbers reads
# the digits alone (it keeps no separator, and none of these can start an extension), so every way
# of spacing one number reads as the same number.
_SPACED_DIGITS = re.compile(r"\+?[0-9](?:[ -]*[0-9]){2,}")
_NL_NATIONAL = re.compile(r"0[1-9][0-9]{8}")   # 0 and the 9 digits of a Dutch number: +31 and those digits


def _phone_spelling(phone: str | None) -> str | None:
    """Return the one spelling of a Dutch-region phone text that :func:`parse_phone` reads as it reads the text.

    "06 1234 5678", "06-12345678" and "+31612345678" are one number; parsing each spelling once
    instead of each way of writing it saves most of the phone parsing of a drop. Texts in any
    other notation are returned as they are.
    """
    if phone is None:
        return None
    text = str(phone).strip().replace("(0)", "")
    if text.startswith("00"):
        text = "+" + text[2:]
    if len(text) > 250 or not _SPACED_DIGITS.fullmatch(text):   # phonenumbers refuses texts over 250 characters
        return phone
    digits = text.replace(" ", "").replace("-", "")
    if digits.startswith("00"):   # "0 031 ...": leave the international prefix to phonenumbers
        return phone
    return "+31" + digits[1:] if _NL_NATIONAL.fullmatch(digits) else digits


def _phone_fields(phone: str | None) -> tuple[str | bool | None, ...]:
    """Return (mobile, landline, phone_valid) of a phone field."""
    found = parse_phone(_phone_spelling(phone or None))
    if found is None:
        return None, None, None
    # phone_valid False: kept though phonenumbers does not know the range
    return (found.e164, None, found.valid) if found.mobile else (None, found.e164, found.valid)


def _address_fields(street: str | None, house_number: str | None, postcode: str | None,
                    city: str | None) -> tuple[str | None, ...]:
    """Return (postcode, house_number, house_addition, street, city, address_key) of the address fields."""
    street_raw, number_raw = street or None, house_number or None
    if street_raw and not number_raw:
        street_raw, number_raw = split_street_and_number(street_raw)
    number, addition = standardise_house_number(number_raw)
    code = standardise_postcode(postcode)
    street_name = standardise_street(street_raw)
    place = standardise_city(city)
    if code and number:
        key = address_key(code, number, addition, street_name)
    elif street_name and number and place:
        key = f"{street_name}|{number}|{addition or ''}|{place}"
    else:
        key = None
    return code, number, addition, street_name, place, key


def _birth_fields(birth_date: str | None) -> tuple[str | None]:
    """Return (birth_date,) as yyyy-mm-dd; raise ValueError when the field is not a date."""
    birth = parse_date(birth_date or None)
    return (birth.isoformat() if birth else None,)


def _updated_fields(updated_at: str | None) -> tuple[str | None]:
    """Return (updated_at,) in ISO format; raise ValueError when the field is not a timestamp."""
    updated = parse_timestamp(updated_at or None)
    return (updated.isoformat() if updated else None,)


def _card_fields(card: str | None) -> tuple[str | None]:
    """Return (loyalty_card,) of a loyalty card field."""
    return (standardise_loyalty_card(card or None),)


class FieldGroup(NamedTuple):
    """Raw columns that are standardised together into some of STANDARD_COLUMNS."""

    inputs: tuple[str, ...]     # raw identity columns, passed as they are (a missing one as None)
    outputs: tuple[str, ...]    # the STANDARD_COLUMNS it writes
    standardise: Callable[..., tuple]   # the inputs -> the outputs, a pure function
    repeats: bool = True        # values repeat across a drop's records, so remembering answers pays


# Every standardised column but unique_id, source and record_id, in the order the fields were always
# read (a birth date that is no date raises before an updated_at that is none).
FIELD_GROUPS: tuple[FieldGroup, ...] = (
    FieldGroup(("first_name", "last_name"),
               ("given", "given_first", "given_canonical", "initials", "initial", "particles", "surname_core",
                "surname_first", "surname_last"), _name_fields),
    FieldGroup(("email",), ("email", "email_local", "email_domain", "email_domain_head", "email_year"), _email_fields),
    FieldGroup(("phone",), ("mobile", "landline", "phone_valid"), _phone_fields),
    FieldGroup(("street", "house_number", "postcode", "city"),
               ("postcode", "house_number", "house_addition", "street", "city", "address_key"), _address_fields),
    FieldGroup(("birth_date",), ("birth_date",), _birth_fields),
    FieldGroup(("updated_at",), ("updated_at",), _updated_fields, repeats=False),  # nearly one per record
    FieldGroup(("loyalty_card",), ("loyalty_card",), _card_fields),
)


def standardise_record(row: dict[str, str | None]) -> dict[str, str | None]:
    """Return the standardised linkage fields of one raw identity row (see STANDARD_COLUMNS)."""
    source, record_id = str(row["source"]), str(row["record_id"])
    out: dict[str, str | None] = {"unique_id": f"{source}:{record_id}", "source": source, "record_id": record_id}
    for group in FIELD_GROUPS:
        out.update(zip(group.outputs, group.standardise(*(row.get(name) for name in group.inputs))))
    return {name: out[name] for name in STANDARD_COLUMNS}


Memo = dict[tuple[str, ...], dict]


def standardise_columns(columns: Mapping[str, Sequence[str | None]], memo: Memo | None = None) -> dict[str, list]:
    """Return the standardised linkage fields of raw identity rows given column by column (STANDARD_COLUMNS).

    The same values :func:`standardise_record` gives row by row, but each distinct value of a field
    group (a first and last name, an address, a phone number) is standardised once: a street is
    shared by its households, a surname by a family. ``memo`` keeps the answers for a later call
    over more rows of the same drop; without it they are kept for this call only.
    """
    memo = {} if memo is None else memo
    sources = [str(source) for source in columns["source"]]
    record_ids = [str(record_id) for record_id in columns["record_id"]]
    out: dict[str, list] = {"unique_id": [f"{s}:{r}" for s, r in zip(sources, record_ids)],
                            "source": sources, "record_id": record_ids}
    count = len(sources)
    for group in FIELD_GROUPS:
        inputs = [columns[name] if name in columns else [None] * count for name in group.inputs]
        standardise = group.standardise
        if not group.repeats:
            results = [standardise(*key) for key in zip(*inputs)]
        else:
            known = memo.setdefault(group.outputs, {})
            results = []
            for key in zip(*inputs):
                found = known.get(key)
                if found is None:
                    found = known[key] = standardise(*key)
                results.append(found)
        by_column = list(zip(*results)) if results else [() for _ in group.outputs]
        out.update((name, list(values)) for name, values in zip(group.outputs, by_column))
    return {name: out[name] for name in STANDARD_COLUMNS}
