"""A surname read from an e-mail address, for records that carry a first name but no surname.

App accounts often hold only a first name and an e-mail, and most people's e-mail addresses are
made of their name: ``jose.lelijveld@``, ``dekorte.annemarie@``, ``j.hermans@``, ``erikhermans@``,
``thulskes82@``. When the record's own first name (or its initial) is one part of the local part,
the rest is very likely the surname. Nothing is guessed when the address does not spell the first
name, so a family or shared address ("kevinentessa@", "familie.jansen@") yields nothing.

An e-mail writes the surname as one word ("dekorte", "vanberkel", "elamrani"), so which letters
are particles is read off the surnames the drop itself holds: a surname only counts when another
record carries it, since an unseen one could only ever disagree with the records it should join.
"""

from __future__ import annotations

import re
from collections import Counter

import pandas as pd

from identity.nicknames import canonical_given_name
from identity.standardise import SURNAME_PARTICLES

_SPLIT = re.compile(r"[._\-+]+")
_LETTERS = re.compile(r"^[a-z]+$")
MIN_SURNAME = 3
MIN_JOINED_SURNAME = 4
# Words that make an address a family or shared one, never one person's name.
_SHARED_WORDS = frozenset({"familie", "fam", "family", "gezin", "info", "contact", "mail", "post", "thuis", "huis"})


def _joined(text: str) -> str:
    """Return a name or particles as an e-mail writes them: one word ("van 't" -> "vant")."""
    return text.replace(" ", "").replace("'", "")


# One spelling per one-word form, chosen in sorted order so that it is the same in every process
# ("vant" -> "van 't", not "van t"); longest first for reading particles off the front of a word.
_PARTICLE_SPELLING: dict[str, str] = {}
for _particle in sorted(SURNAME_PARTICLES):
    _PARTICLE_SPELLING.setdefault(_joined(_particle), _particle)
_JOINED_PARTICLES = frozenset(_PARTICLE_SPELLING)
_LONGEST_FIRST: tuple[str, ...] = tuple(sorted(_JOINED_PARTICLES, key=lambda p: (-len(p), p)))


def _same_given(token: str, given_first: str) -> bool:
    """Return True when an e-mail word is the record's first name or a nickname of it."""
    if token == given_first:
        return True
    return len(token) > 2 and canonical_given_name(token) == canonical_given_name(given_first)


def _words(local: str) -> list[str]:
    """Return the letter words of an e-mail local part, digits dropped."""
    return [w for w in (re.sub(r"\d+", "", part) for part in _SPLIT.split(local)) if w]


def surname_word_from_email(local: str | None, given_first: str | None) -> str | None:
    """Return the surname an e-mail local part spells beside the first name, as one word, or None."""
    if not local or not given_first:
        return None
    words = _words(local.lower())
    if not words or any(not _LETTERS.match(w) for w in words) or _SHARED_WORDS & set(words):
        return None
    initial = given_first[0]
    if len(words) >= 2:
        rest = [w for w in words if not _same_given(w, given_first)]
        if len(rest) == len(words):
            if words[0] != initial or len(words) != 2:   # "j.hermans": the initial, first
                return None
            rest = words[1:]
        rest = [w for w in rest if w != initial]
        if not rest or any(w not in _JOINED_PARTICLES for w in rest[:-1]):
            return None                                  # "anouk.van.leeuwen" is fine, "a.b.c" is not
        word = "".join(rest)
        return word if len(rest[-1]) >= MIN_SURNAME else None
    word = words[0]
    if word.startswith(given_first) and len(word) - len(given_first) >= MIN_JOINED_SURNAME:
        return word[len(given_first):]                   # "erikhermans"
    if word[0] == initial and len(word) > MIN_JOINED_SURNAME and not _same_given(word, given_first):
        if any(word.startswith(given_first[:k]) for k in range(2, len(given_first) + 1)):
            return None                                  # "sandr": the name itself, misspelt
        return word[1:]                                  # "jheijmen"
    return None


def surname_vocabulary(particles: pd.Series, cores: pd.Series) -> dict[str, tuple[str | None, str]]:
    """Return the drop's surnames by their one-word spelling: "dekorte" -> ("de", "korte")."""
    seen: Counter[tuple[str | None, str]] = Counter()
    for p, core in zip(particles.tolist(), cores.tolist()):   # lists: iterating Arrow columns is slow
        if isinstance(core, str):
            seen[(p if isinstance(p, str) else None, core)] += 1
    vocabulary: dict[str, tuple[str | None, str]] = {}
    # Most common spelling first, so that a joined form maps to the usual way of writing it.
    for (p, core), _ in sorted(seen.items(), key=lambda item: (-item[1], item[0][1], item[0][0] or "")):
        joined_core = _joined(core)
        vocabulary.setdefault(joined_core, (None, core) if p is None else (p, core))
        if p:
            vocabulary.setdefault(_joined(p) + joined_core, (p, core))
    return vocabulary


def read_surname(word: str, vocabulary: dict[str, tuple[str | None, str]]) -> tuple[str | None, str] | None:
    """Return (particles, core) of a one-word surname the drop knows, or None."""
    if word in vocabulary:
        return vocabulary[word]
    for particle in _LONGEST_FIRST:
        rest = word[len(particle):]
        if word.startswith(particle) and rest in vocabulary and vocabulary[rest][0] is None:
            return particle_spelling(particle), vocabulary[rest][1]
    return None


def particle_spelling(joined: str) -> str:
    """Return the usual spelling of particles written as one word: "vander" -> "van der"."""
    return _PARTICLE_SPELLING.get(joined, joined)


def surname_from_email(local: str | None, given_first: str | None,
                       vocabulary: dict[str, tuple[str | None, str]]) -> dict[str, str | None] | None:
    """Return the surname fields (particles, surname_core, surname_first, surname_last) an e-mail spells, or None."""
    word = surname_word_from_email(local, given_first)
    found = read_surname(word, vocabulary) if word else None
    if found is None:
        return None
    particles, core = found
    words = core.split()
    return {"particles": particles, "surname_core": core, "surname_first": words[0], "surname_last": words[-1]}


def fill_surnames_from_email(records: pd.DataFrame, only: pd.Series | None = None) -> pd.DataFrame:
    """Return the records with a surname read from the e-mail where a record has a first name only.

    Only surnames the drop knows from other records are taken. Adds the column
    ``surname_from_email`` (True where the surname was read, not typed).
    only: a mask of the records to fill (an incremental run: its delta); every record's surname is known.
    """
    out = records.copy()
    out["surname_from_email"] = False
    missing = out["surname_core"].isna() & out["given_first"].notna() & out["email_local"].notna()
    if only is not None:
        missing &= only
    if not missing.any():
        return out
    vocabulary = surname_vocabulary(out["particles"], out["surname_core"])
    columns = {name: out[name].tolist() for name in ("particles", "surname_core", "surname_first", "surname_last")}
    flags = [False] * len(out)
    rows = out.loc[missing, ["email_local", "given_first"]]
    positions = out.index.get_indexer(rows.index)
    for position, local, given in zip(positions, rows["email_local"].tolist(), rows["given_first"].tolist()):
        found = surname_from_email(local, given, vocabulary)
        if found is None:
            continue
        for name, value in found.items():
            columns[name][position] = value
        flags[position] = True
    for name, values in columns.items():   # one assignment per column: cell writes copy Arrow columns
        out[name] = pd.Series(values, index=out.index, dtype=object)
    out["surname_from_email"] = flags
    return out
