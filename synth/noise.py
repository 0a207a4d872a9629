"""Name noise of the synthetic generator's ``--noise v2``: pure functions of a name and a random.Random.

Each function returns the name changed the way a typist or a listener changes it, or the name
itself when it offers no place for that change (too short, no matching spelling). They draw only
from the ``rng`` they are given, so a seed gives the same result every time. Like
``synth/names.py`` this module knows nothing of the resolver's rules or nickname list.
"""

from __future__ import annotations

import random
import re

__all__ = ["PHONETIC_RESPELLINGS", "transpose", "transpose_and_edit", "double_or_drop", "respell"]

# Spellings a Dutch ear does not tell apart: (pattern, replacement), matched case-insensitively.
PHONETIC_RESPELLINGS: tuple[tuple[str, str], ...] = (
    (r"(?<=e)ij", "y"),                       # Meijer -> Meyer
    (r"(?<=e)y", "ij"),                       # Meyer -> Meijer
    (r"(?<!e)ij", "y"),                       # Dijkstra -> Dykstra, Thijs -> Thys
    (r"(?<!e)ij", "ei"),                      # Klijn -> Klein
    (r"ei(?!j)", "ij"),                       # Klein -> Klijn, Reinier -> Rijnier
    (r"(?<=[^aeiouy\W])y(?=[^aeiouy\W])", "i"),   # Sylvia -> Silvia
    (r"\by(?=[^aeiou\W])", "i"),              # Yvonne -> Ivonne
    (r"c(?=[aoulrt]|\b)", "k"),               # Cornelis -> Kornelis, Marc -> Mark, Victor -> Viktor
    (r"\bk(?=[aou])", "c"),                   # Karin -> Carin, Koen -> Coen
    (r"(?<=i)k\b", "c"),                      # Erik -> Eric, Frederik -> Frederic
    (r"ck", "k"),                             # Dick -> Dik, Rick -> Rik
    (r"(?<=[aeiou])k\b", "ck"),               # Rik -> Rick
    (r"ph", "f"),                             # Stephan -> Stefan, Philip -> Filip
    (r"(?<=[aeiou])f(?=[aeiou])", "ph"),      # Stefan -> Stephan, Josefine -> Josephine
    (r"th", "t"),                             # Thijs -> Tijs, Thomas -> Tomas, Martha -> Marta
    (r"\bt(?=[aeiou])", "th"),                # Tom -> Thom, Teun -> Theun
    (r"dt\b", "t"),                           # Brandt -> Brant, Arendt -> Arent
    (r"(?<=[nr])d\b", "dt"),                  # Arend -> Arendt, Bernhard -> Bernhardt
    (r"cht", "gt"),                           # Lichtenberg -> Ligtenberg
    (r"(?<=[aeiou])gt", "cht"),               # Ligthart -> Lichthart
    (r"ks\b", "x"),                           # Aleks -> Alex (not Dijkstra)
    (r"(?<=[aeiou])x", "ks"),                 # Alex -> Aleks, Max -> Maks
    (r"ou", "au"),                            # Bouwman -> Bauwman
    (r"au", "ou"),                            # Claus -> Clous
    (r"ui", "uy"),                            # Huizinga -> Huyzinga
    (r"uy", "ui"),                            # Tuyl -> Tuil
    (r"qu", "kw"),                            # Quirijn -> Kwirijn
    (r"\bz", "s"),                            # Zwart -> Swart
    (r"(?<=[aeiou])s(?=[aeiou])", "z"),       # Susanne -> Suzanne, Elisa -> Eliza
    (r"(?<=[aeiou])z(?=[aeiou])", "s"),       # Suzanne -> Susanne
    (r"ae", "aa"),                            # Maes -> Maas
)
_RESPELLINGS = tuple((re.compile(p, re.IGNORECASE), r) for p, r in PHONETIC_RESPELLINGS)
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _like(found: str, replacement: str) -> str:
    """Return replacement in the case of the text it replaces ("C" -> "K", "IJ" -> "Y")."""
    if len(found) > 1 and found.isupper():
        return replacement.upper()
    if found[:1].isupper():
        return replacement[:1].upper() + replacement[1:]
    return replacement


def _pick_index(rng: random.Random, options: list[int]) -> int:
    return options[int(rng.random() * len(options))]


def transpose(text: str, rng: random.Random) -> str:
    """Return text with two adjacent, different letters swapped, never the first ("Rachel" -> "Rahcel").

    A capital stays where it is ("Gert-Jan" never becomes "Gert-aJn").
    """
    upper = text.isupper()
    spots = [i for i in range(1, len(text) - 1)
             if text[i].isalpha() and text[i + 1].isalpha() and text[i].lower() != text[i + 1].lower()
             and (upper or not (text[i].isupper() or text[i + 1].isupper()))]
    if not spots:
        return text
    i = _pick_index(rng, spots)
    return text[:i] + text[i + 1] + text[i] + text[i + 2:]


def transpose_and_edit(text: str, rng: random.Random) -> str:
    """Return text transposed and then changed by one more edit: a letter substituted, added or dropped.

    "Tabitha" -> "Tabhita" -> "Tabhta": what Febrl's duplicates and hurried agents produce, and two
    edits apart, so a rule that accepts one edit does not accept it.
    """
    swapped = transpose(text, rng)
    if swapped == text or len(text) < 4:
        return swapped
    spots = [i for i in range(1, len(swapped)) if swapped[i].isalpha()]
    i = _pick_index(rng, spots)
    letter = _LETTERS[int(rng.random() * 26)]
    op = rng.random()
    if op < 0.4:
        if letter == swapped[i].lower():
            letter = _LETTERS[(_LETTERS.index(letter) + 1) % 26]
        return swapped[:i] + letter + swapped[i + 1:]
    if op < 0.7:
        return swapped[:i] + letter + swapped[i:]
    return swapped[:i] + swapped[i + 1:]


def double_or_drop(text: str, rng: random.Random) -> str:
    """Return text with one letter doubled ("Tim" -> "Timm") or dropped ("Anneke" -> "Aneke").

    A dropped letter is, when the name has one, one of a doubled pair; otherwise any letter but the
    first. Names shorter than four letters only get a doubled letter.
    """
    letters = [i for i in range(1, len(text)) if text[i].isalpha()]
    if not letters:
        return text
    if len(text) >= 4 and rng.random() < 0.5:
        doubled = [i for i in letters if text[i].lower() == text[i - 1].lower()]
        i = _pick_index(rng, doubled if doubled and rng.random() < 0.7 else letters)
        return text[:i] + text[i + 1:]
    i = _pick_index(rng, letters)
    return text[:i] + text[i].lower() + text[i:]


def respell(text: str, rng: random.Random) -> str:
    """Return text with one part respelt as it sounds (ij/y, ei/ij, c/k, ph/f, th/t, dt/t ...), or text."""
    spots = [(m.start(), m.end(), replacement)
             for pattern, replacement in _RESPELLINGS for m in pattern.finditer(text)]
    if not spots:
        return text
    start, end, replacement = spots[int(rng.random() * len(spots))]
    return text[:start] + _like(text[start:end], replacement) + text[end:]
