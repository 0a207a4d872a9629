"""Store-tablet search: find a person by any combination of name, address, phone, e-mail, birth date.

Candidates come from indexed look-ups of the standardised columns (postcode, phone, e-mail, birth
date) and, for a name, from an in-memory index of surnames (rebuilt when a new run is published),
searched with Jaro-Winkler so that typos still find the name. Persons written in real time since the
run (ResolveRecord with persist, by any process) are found by name at once: the identity events since
the index was built name the persons made, merged, split or erased, ``person_written`` every person whose
records were written in real time (a record that joins a known person, or an account edited), and this
process's own writes are noted (``CustomerSearch.note``); their names go into a small second index, made
again as more come, beside the run's. Every candidate is then scored per
criterion on their best-matching record, and the criteria are combined as a weighted mean
(WEIGHTS) of the criteria asked for: 1.0 means every criterion matched exactly.

How a name is read: "surname, given" with a comma; otherwise the first word is the given name and
the rest the surname ("hans vd berg"), unless there is only one word or the first one is a surname
particle (then all of it is the surname); a salutation in front ("Dhr.", "Mevr.") is left out. Staff type
what they hear, so the other readings count too (``query_readings``): two given names ("Jan Willem
Smeets"), particles after the surname ("Berg van den"), the surname first ("Nowak Ilse"). Given names
match through nicknames (Hans, Johannes), typos and initials; surnames through typos, particles in any
notation (vd, v.d., van der, or glued on: Vanderberg), one half of a double surname ("Mulder" for
"Palman-Mulder") and "ij" written "y" or "ei" ("Huys" for "Huijs").
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler
from sqlalchemy import bindparam, text
from sqlalchemy.engine import Engine

from identity.lifecycle import DELETED
from identity.nicknames import are_name_variants
from identity.rules import birth_dates_compatible, given_names_compatible
from identity.standardise import SURNAME_PARTICLES
from identity.standardise import (
    fold, parse_date, parse_name, standardise_house_number, standardise_postcode, without_titles,
)
from profile_api.identifiers import standard_identifier

WEIGHTS: dict[str, float] = {"name": 3.0, "postcode": 1.0, "house_number": 1.0, "phone": 3.0, "email": 3.0,
                             "birth_date": 2.0}
NAME_MATCH = 0.85          # a name scoring at least this counts as matched
NAME_MIN = 0.7             # a name-only candidate must score at least this
SURNAME_CUTOFF = 0.8       # surnames at least this similar (Jaro-Winkler) are looked at
NAME_CANDIDATES = 300      # the best-named persons scored further
MAX_LIMIT = 100
# Jaro-Winkler says 0.7 of two unrelated names; from there up to 1 is the range that tells.
SIMILAR_FROM = 0.75
# One letter typed wrong, left out, added or swapped in a name of four letters or more fits at least this well (Jaro-
# Winkler weighs the first letters most: "Krins" for "Prins" scored as two names): what NAME_MIN asks of a name alone,
# so that a surname typed alone with one letter wrong ("Jasen") still finds the Jansens.
ONE_TYPO = 0.925
VARIANT = 0.95             # a nickname (Hans for Johannes) fits a little less than the name itself
UNGLUED = 0.95             # a surname read without a glued-on particle ("Terlouw" as "Louw")
OTHER_PARTICLES = 0.95     # the same surname with other or no particles ("van den Berg", "Berg")
HALF = 0.9                 # one half of a double surname ("Mulder" for "Palman-Mulder"), or the whole for a half
SOUNDS_ALIKE = 0.95        # "ij" written "y" or "ei" ("Huys", "Huijs"; "Lijn", "Lyn", "Lein")
SURNAME_FIRST = 0.95       # a reading of the name typed surname first without a comma ("Nowak Ilse")
ALL_SURNAME = 0.9          # a reading of every word typed as the surname ("Peters-de Vries", "op den Akker"): any
                           # given name fits it, so it stays below a given name or initial that fits
TWO_GIVEN = 0.97           # a reading of the second word as a given name ("Jan Willem Smeets"): a little less than
                           # the second word as the surname's ("Anna Palman Mulder" is Palman-Mulder before Mulder)
_GLUED_PARTICLES = sorted({p.replace(" ", "").replace("'", "") for p in SURNAME_PARTICLES}, key=len, reverse=True)


@dataclass(frozen=True)
class NameQuery:
    """A typed name, parsed: given name (or only an initial), particles and surname forms to compare."""

    given: str | None
    initial: str | None
    particles: str | None
    surnames: dict[str, float]
    weight: float = 1.0        # how much this reading of the typed name is trusted (query_readings)


def _similar(a: str, b: str) -> float:
    """Return 1 for equal strings, falling to 0 at Jaro-Winkler SIMILAR_FROM: typos score high, other names 0."""
    if a == b:
        return 1.0
    similarity = JaroWinkler.similarity(a, b)
    if similarity < ONE_TYPO and min(len(a), len(b)) >= 4 and abs(len(a) - len(b)) <= 1 \
            and DamerauLevenshtein.distance(a, b, score_cutoff=1) <= 1:
        similarity = ONE_TYPO
    return max(0.0, (similarity - SIMILAR_FROM) / (1.0 - SIMILAR_FROM))


@lru_cache(maxsize=200_000)
def surname_forms(core: str | None, particles: str | None, halves: bool = True) -> dict[str, float]:
    """Return the ways a surname may be stored, each with how fully it stands for the name.

    Its core ("berg"), particles and core glued ("vanderberg"); for a surname typed glued on, the core
    without the particle (at UNGLUED); with halves, each half of a double surname ("palman mulder": "palman",
    "mulder", at HALF: a record's, so that either half typed finds it); and each of these as it sounds, "ij"
    and "ei" written "y" (at SOUNDS_ALIKE).
    """
    if not core:
        return {}
    forms = {core: 1.0, core.replace(" ", ""): 1.0}
    if particles:
        forms[(particles + core).replace(" ", "").replace("'", "")] = 1.0
    for glued in list(forms):
        for particle in _GLUED_PARTICLES:
            if glued.startswith(particle) and len(glued) - len(particle) >= 3:
                forms.setdefault(glued[len(particle):], UNGLUED)
                break
    parts = core.replace("-", " ").split() if halves else []
    if len(parts) > 1:
        for half in parts:
            if len(half) >= 3 and half not in SURNAME_PARTICLES:
                forms.setdefault(half, HALF)
    for form, weight in list(forms.items()):
        sound = _sounds(form)
        if sound != form:
            forms.setdefault(sound, weight * SOUNDS_ALIKE)
    return forms


def _sounds(name: str) -> str:
    """Return a surname as it sounds, for the ways Dutch writes one sound: "ij", "ei" and "y" all as "y"."""
    return name.replace("ij", "y").replace("ei", "y")


# each word of a particle of several ("op den", "in 't"), but no lone letter of one ("de l"): "L Jansen" is an initial
_PARTICLE_WORDS = frozenset(SURNAME_PARTICLES) | {word for particle in SURNAME_PARTICLES for word in particle.split()
                                                  if len(word) > 1}


def _is_particle(word: str) -> bool:
    """Return True for a surname particle as typed, or a word of one: "van", "der", "v.d.", "vd", "v/d", "op" (op den),
    "in" (in 't)."""
    return word in _PARTICLE_WORDS or word.startswith("v.") or word in ("vd", "v/d")


def parse_query_name(name: str) -> NameQuery:
    """Return the given name, initial, particles and surname forms of a name typed into the search box.

    "Jansen, Jan" is surname, given; "Berg, van der" and "Jan Berg, van der" carry the particles after a comma, as
    registers and card files write them, and no given name after it. A salutation in front ("Dhr.", "Mevr.") is
    left out. Without a comma the first word is the given name (``query_readings`` gives the other readings)."""
    folded = without_titles(fold(name) or "")
    head, comma, tail = folded.partition(",")
    moved = tail.split() if comma and tail.split() and all(_is_particle(w) for w in tail.split()) else []
    if comma and not moved:
        surname, given = head, tail
    else:
        words = (head if moved else folded).split()
        if len(words) <= 1 or _is_particle(words[0]):
            given, surname = "", " ".join(words)
        else:
            given, surname = words[0], " ".join(words[1:])
        surname = " ".join([*moved, surname])
    return _reading(given, surname)


def _reading(given: str, surname: str, weight: float = 1.0) -> NameQuery:
    """Return one reading of a typed name: this given name and surname."""
    parsed = parse_name(given.strip() or None, surname.strip() or None)
    initial = parsed.given_first[0] if parsed.given_first else (parsed.initials[0] if parsed.initials else None)
    return NameQuery(parsed.given_first, initial, parsed.particles,
                     surname_forms(parsed.surname_core, parsed.particles, halves=False), weight)


def query_readings(name: str) -> list[NameQuery]:
    """Return the readings of a name typed into the search box, ``parse_query_name``'s first: staff type what they
    hear, so without a comma also two given names ("Jan Willem Smeets"), particles after the surname ("Berg van
    den", "Linden vd") and the surname first ("Nowak Ilse", trusted a little less: SURNAME_FIRST)."""
    readings = [parse_query_name(name)]
    folded = without_titles(fold(name) or "")
    words = folded.split()
    if "," in folded or len(words) < 2:
        return readings

    def add(given: list[str], surname: list[str], weight: float = 1.0) -> None:
        reading = _reading(" ".join(given), " ".join(surname), weight)
        if reading.surnames and all(reading.surnames != r.surnames or reading.given != r.given for r in readings):
            readings.append(reading)

    if len(words) >= 3 and not any(_is_particle(w) or len(w.strip(".")) == 1 for w in words[:2]):
        add(words[:2], words[2:], TWO_GIVEN)           # two given names with a space: "jan willem smeets"
    initials = next((i for i, w in enumerate(words) if len(w.strip(".")) != 1), len(words))
    if 2 <= initials < len(words):
        add(["".join(f"{w.strip('.')}." for w in words[:initials])], words[initials:])   # "c j van den berg"
    if len(words) >= 4 and not any(_is_particle(w) or len(w.strip(".")) == 1 for w in words[:3]):
        add(words[:-1], words[-1:], TWO_GIVEN)         # three given names or more: "theresia susanna petronella henst"
    if _is_particle(words[-1]) or words[0] in ("v", "v/d"):
        add([], words)                                 # particles after the surname: "berg van den", "v d linden"
    if not _is_particle(words[-1]) and any(not _is_particle(w) for w in words[:-1]):
        add(words[-1:], words[:-1], SURNAME_FIRST)     # the surname first: "nowak ilse", "de boer janna"
    if not any(len(w.strip(".")) == 1 and w.strip(".").isalpha() for w in words):     # no initial in it
        add([], words, ALL_SURNAME)                    # all of it the surname: "peters-de vries", "op den akker"
    return readings


def given_similarity(query: NameQuery, given: str | None, initial: str | None) -> float:
    """Return how well a record's given name (or initial) fits the query's, 0..1."""
    if query.given and given:
        if query.given == given:
            return 1.0
        if are_name_variants(query.given, given):
            return VARIANT
        if given_names_compatible(query.given, query.given, given, given):
            return 0.9 * max(_similar(query.given, given), 0.8)   # a typo or a short form
        return 0.8 * _similar(query.given, given)
    letter = query.initial
    other = given[0] if given else initial
    if letter and other:
        return 0.7 if letter == other else 0.0
    return 0.5   # one side has no given name: it neither confirms nor rules out


def surname_similarity(query: NameQuery, surname: str | None, particles: str | None = None) -> float:
    """Return how well a record's surname (core and particles) fits the query's surname, 0..1."""
    if not query.surnames or not surname:
        return 0.0
    forms = surname_forms(surname, particles)
    best = max(_similar(q, s) * qw * sw for q, qw in query.surnames.items() for s, sw in forms.items())
    return best if query.particles == particles else best * OTHER_PARTICLES


def name_similarity(query: NameQuery, given: str | None, initial: str | None, surname: str | None,
                    particles: str | None = None) -> float:
    """Return how well a record's name fits the query, 0..1: surname 0.6, given name 0.4 (surname alone if asked alone)."""
    return _combined(query, surname_similarity(query, surname, particles), given, initial)


def _combined(query: NameQuery, surname_score: float, given: str | None, initial: str | None) -> float:
    """Return the name score of a surname score and a record's given name (times the reading's weight)."""
    return _name_score(query, surname_score,
                       given_similarity(query, given, initial) if query.given or query.initial else None)


def _name_score(query: NameQuery, surname_score: float, given_score: float | None) -> float:
    """Return the name score of a surname score and a given name's (None: the query asks no given name), times the
    reading's weight: surname 0.6, given name 0.4."""
    if given_score is None:
        return surname_score * query.weight
    return (0.6 * surname_score + 0.4 * given_score) * query.weight


def _initial(given: str | None, first_name: str | None) -> str | None:
    """Return the initial of a record whose given name is unknown (only initials were written)."""
    return None if given else ((fold(first_name) or "")[:1] or None)


class _NameIndex:
    """The persons of every name, by surname form, for fuzzy look-up: the run's (built once per published run) or
    the persons written since (``tracked``: a person's names can be replaced as they are written again)."""

    def __init__(self, rows: list[tuple], tracked: bool = False) -> None:
        # surname form -> (surname, particles) -> (given, initial) -> customer_ids
        self.by_surname: dict[str, dict[tuple, dict[tuple, set[str]]]] = {}
        # customer_id -> where it stands (tracked only)
        self._places: dict[str, set[tuple[str, tuple, tuple]]] | None = {} if tracked else None
        self._add(rows)
        self.surnames = list(self.by_surname)

    def _add(self, rows: list[tuple]) -> None:
        for customer_id, given, first_name, surname, particles in rows:
            if not surname:
                continue
            name = (given, _initial(given, first_name))
            for form in surname_forms(surname, particles):
                names = self.by_surname.setdefault(form, {}).setdefault((surname, particles), {})
                names.setdefault(name, set()).add(customer_id)
                if self._places is not None:
                    self._places.setdefault(customer_id, set()).add((form, (surname, particles), name))

    def replace(self, customer_ids: set[str], rows: list[tuple]) -> None:
        """Put these persons' names as they are now (``rows``; a person without rows is taken out); tracked only."""
        assert self._places is not None, "only the index of the persons written since is changed"
        for customer_id in customer_ids:
            for form, key, name in self._places.pop(customer_id, ()):
                held = self.by_surname[form][key][name]
                held.discard(customer_id)
                if not held:
                    del self.by_surname[form][key][name]
                    if not self.by_surname[form][key]:
                        del self.by_surname[form][key]
                        if not self.by_surname[form]:
                            del self.by_surname[form]
        self._add(rows)
        self.surnames = list(self.by_surname)

    def __len__(self) -> int:
        """Return the number of persons tracked (0 for the run's index)."""
        return len(self._places or {})

    def best(self, query: NameQuery, limit: int) -> dict[str, float]:
        """Return the best name score of each of the (at most limit) best-named persons."""
        return self.best_of([query], limit)

    def best_of(self, readings: list[NameQuery], limit: int, floor: float = NAME_MIN) -> dict[str, float]:
        """Return the best name score, over the readings of a typed name, of each of the (at most limit) best-named
        persons. A surname form several readings have is looked up once; a surname with which no given name could
        reach floor is passed over (the default: what a name-only candidate needs)."""
        matched: dict[str, list[str]] = {}
        scores: dict[str, float] = {}
        for query in readings:
            seen: set[tuple] = set()
            fully = 1.0 if query.given or query.initial else None     # a given name that fits fully, if one is asked
            for form in query.surnames:
                if form not in matched:
                    matched[form] = [m for m, _, _ in process.extract(form, self.surnames, scorer=JaroWinkler.similarity,
                                                                      score_cutoff=SURNAME_CUTOFF, limit=None)]
                for match in matched[form]:
                    for (surname, particles), names in self.by_surname[match].items():
                        if (surname, particles) in seen:
                            continue
                        seen.add((surname, particles))
                        surname_score = surname_similarity(query, surname, particles)
                        if _name_score(query, surname_score, fully) < floor:
                            continue     # not even a given name that fits fully would make it a name match
                        for (given, initial), customers in names.items():
                            score = _combined(query, surname_score, given, initial)
                            for customer_id in customers:
                                if score > scores.get(customer_id, 0.0):
                                    scores[customer_id] = score
        top = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:limit]
        return dict(top)


_RUN = text("SELECT max(run_id) FROM run")
_NAMES_SQL = """SELECT l.customer_id, r.std_given, r.first_name, r.std_surname, r.std_particles FROM source_record r
                JOIN record_link l ON l.source = r.source AND l.record_id = r.record_id"""
_NAMES = text(_NAMES_SQL)
_NAMES_OF = text(_NAMES_SQL + " WHERE l.customer_id IN :ids").bindparams(bindparam("ids", expanding=True))
_LATEST_EVENT = text("SELECT max(seq) FROM identity_event")
_IDS_PER_READ = 500          # persons per read of their names (SQLite bounds the parameters of a statement)
_WRITTEN_SINCE = text("SELECT kind, customer_ids_before, customer_ids_after FROM identity_event WHERE seq > :seq")
_LATEST_WRITE = text("SELECT max(seq) FROM person_written")
_PERSONS_WRITTEN_SINCE = text("SELECT DISTINCT customer_id FROM person_written WHERE seq > :seq")
_EXACT = {
    "postcode": "r.std_postcode = :postcode", "phone": "r.std_phone = :phone",
    "email": "r.std_email = :email", "birth_date": "r.std_birth_date = :birth_date",
}
_RECORDS = text("""
SELECT l.customer_id, p.household_id, p.display_name, r.std_given, r.first_name, r.std_surname, r.std_particles,
       r.std_postcode,
       r.std_house_number, r.std_phone, r.std_email, r.std_birth_date
FROM record_link l JOIN source_record r ON r.source = l.source AND r.record_id = l.record_id
JOIN profile p ON p.customer_id = l.customer_id
WHERE l.customer_id IN :ids""").bindparams(bindparam("ids", expanding=True))
EXACT_CANDIDATES = 500


class CustomerSearch:
    """Searches a published store; keeps the name index of the latest run in memory, and one of the persons
    written since (real time), so that a customer made at the till is found by name at the service desk.

    Three locks, none held while the store is read: one builder of the run's index at a time (a search after a
    publish waits for it), the state (indexes, watermark; searching the small index holds it, as its changes
    do), and the persons noted by this process's writes (``note`` never waits for a build)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._build_lock = threading.Lock()
        self._lock = threading.Lock()
        self._noted_lock = threading.Lock()
        self._index: _NameIndex | None = None
        self._run: str | None = None
        self._seq = 0                           # the last identity event whose persons are in self._recent
        self._write_seq = 0                     # the last person_written row whose person is in self._recent
        self._recent = _NameIndex([], tracked=True)
        self._noted: set[str] = set()           # persons this process wrote, not yet read again

    def _names(self, conn) -> _NameIndex:  # type: ignore[no-untyped-def]
        """Return the name index of the published run (built after a new publish), having brought the one of the
        persons written since up to date with the identity events and this process's writes."""
        while True:
            run = conn.execute(_RUN).scalar()
            seq = conn.execute(_LATEST_EVENT).scalar() or 0     # before the names: a later event is read again
            write_seq = conn.execute(_LATEST_WRITE).scalar() or 0
            if self._index is None or run != self._run:
                with self._build_lock:
                    if self._index is None or run != self._run:          # not built by another search meanwhile
                        index = _NameIndex(conn.execute(_NAMES).all())
                        with self._lock:
                            self._index, self._run, self._seq, self._write_seq = index, run, seq, write_seq
                            self._recent = _NameIndex([], tracked=True)
            with self._noted_lock:
                written, self._noted = self._noted, set()
            with self._lock:
                index, last, last_write = self._index, self._seq, self._write_seq
            if write_seq > last_write:      # persons whose records a server wrote in real time, this one or another
                written.update(row[0] for row in conn.execute(_PERSONS_WRITTEN_SINCE, {"seq": last_write}))
            if seq > last:
                erased = False
                for kind, before, after in conn.execute(_WRITTEN_SINCE, {"seq": last}):
                    # a person merged away, split or erased is read again (without rows: taken out)
                    written.update((before or "").split())
                    written.update((after or "").split())
                    erased |= kind == DELETED and not after
                if erased:          # an erasure by another process: nothing of the person may stay in memory
                    self.drop_index()
                    continue
            if written:
                ids = sorted(written)
                rows = [tuple(row) for start in range(0, len(ids), _IDS_PER_READ)
                        for row in conn.execute(_NAMES_OF, {"ids": ids[start:start + _IDS_PER_READ]})]
                with self._lock:
                    if self._index is index:        # not rebuilt meanwhile (the new one read them already)
                        self._recent.replace(written, rows)
            with self._lock:
                if self._index is index:
                    self._seq = max(self._seq, seq)
                    self._write_seq = max(self._write_seq, write_seq)
            return index

    def note(self, customer_id: str) -> None:
        """Note a person this process has just written in real time: the next search reads their names again."""
        with self._noted_lock:
            self._noted.add(customer_id)

    def drop_index(self) -> None:
        """Forget the name indexes (after an erasure: they held the erased person's names); the next search builds
        them."""
        with self._lock:
            self._index, self._run, self._seq, self._write_seq = None, None, 0, 0
            self._recent = _NameIndex([], tracked=True)
        with self._noted_lock:
            self._noted.clear()

    def warm_up(self) -> None:
        """Build the name index now rather than on the first search."""
        with self._engine.connect() as conn:
            self._names(conn)

    def _best_named(self, conn, readings: list[NameQuery],  # type: ignore[no-untyped-def]
                    floor: float = NAME_MIN) -> dict[str, float]:
        """Return the best name score, over the readings of the typed name, of each of the best-named persons, of
        the run and written since (``_NameIndex.best_of``'s floor)."""
        scores = self._names(conn).best_of(readings, NAME_CANDIDATES, floor)
        with self._lock:
            recent = self._recent.best_of(readings, NAME_CANDIDATES, floor) if len(self._recent) else {}
        if recent:
            for customer_id, score in recent.items():
                if score > scores.get(customer_id, 0.0):
                    scores[customer_id] = score
            scores = dict(sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:NAME_CANDIDATES])
        return scores

    def search(self, *, name: str | None, postcode: str | None, house_number: str | None, phone: str | None,
               email: str | None, birth_date: str | None, limit: int) -> list[tuple[str, str, str, float, list[str]]]:
        """Return (customer_id, household_id, display_name, score, matched_on) of the best candidates."""
        asked = _standard_criteria(name=name, postcode=postcode, house_number=house_number, phone=phone,
                                   email=email, birth_date=birth_date)
        if limit < 1:
            raise ValueError("limit: must be at least 1")
        limit = min(limit, MAX_LIMIT)
        readings = query_readings(asked["name"]) if "name" in asked else []
        readings = [query for query in readings if query.surnames]
        if "name" in asked and not readings:
            raise ValueError(f"name: '{name}' has no surname to search for")
        with self._engine.connect() as conn:
            # a house number without a postcode is looked up nowhere: the name's candidates are all it has
            floor = 0.0 if "house_number" in asked and "postcode" not in asked else NAME_MIN
            name_scores = self._best_named(conn, readings, floor) if readings else {}
            exact = [clause for key, clause in _EXACT.items() if key in asked]
            ids = set(name_scores)
            if exact:
                found = conn.execute(text(
                    "SELECT DISTINCT l.customer_id FROM source_record r JOIN record_link l "
                    "ON l.source = r.source AND l.record_id = r.record_id WHERE " + " OR ".join(exact)
                    + f" LIMIT {EXACT_CANDIDATES}"), {k: v for k, v in asked.items() if k in _EXACT})
                ids.update(row[0] for row in found)
            if not ids:
                return []
            rows = conn.execute(_RECORDS, {"ids": sorted(ids)}).all()
        return _rank(asked, readings, rows, limit)


def _standard_criteria(**criteria: str | None) -> dict[str, str]:
    """Return the criteria given, in standard notation; raise ValueError naming one that is not usable."""
    asked = {key: value.strip() for key, value in criteria.items() if value is not None and value.strip()}
    if not asked:
        raise ValueError("give at least one of name, postcode, house_number, phone, email, birth_date")
    if "postcode" in asked:
        asked["postcode"] = standardise_postcode(asked["postcode"]) or ""
    if "house_number" in asked:
        number, _ = standardise_house_number(asked["house_number"])
        if number is None:
            raise ValueError(f"house_number: '{criteria['house_number']}' has no number")
        asked["house_number"] = number
    for kind in ("phone", "email"):
        if kind in asked:
            asked[kind] = standard_identifier(kind, asked[kind])
    if "birth_date" in asked:
        asked["birth_date"] = _search_date(asked["birth_date"])
    return asked


def _search_date(value: str) -> str:
    """Return a birth date typed into the search box in ISO notation: any notation the ingest reads, and eight digits
    as a Dutch till types them (ddmmyyyy) where they are no date as yyyymmdd; raise ValueError saying what fits."""
    try:
        return parse_date(value).isoformat()  # type: ignore[union-attr]
    except ValueError as err:
        if len(value) == 8 and value.isdigit():
            try:
                return parse_date(f"{value[:2]}-{value[2:4]}-{value[4:]}").isoformat()  # type: ignore[union-attr]
            except ValueError:
                pass
        if "calendar" in str(err):
            raise ValueError(f"birth_date: {err}") from None
        raise ValueError(f"birth_date: '{value}' is not a date (type it as dd-mm-yyyy, dd/mm/yyyy, yyyy-mm-dd, ddmmyyyy or "
                         f"yyyymmdd)") from None


def _rank(asked: dict[str, str], readings: list[NameQuery], rows: list,
          limit: int) -> list[tuple[str, str, str, float, list[str]]]:
    """Return the candidates scored on their best record per criterion, best first."""
    people: dict[str, dict] = {}
    for (customer_id, household_id, shown, given, first_name, surname, particles, postcode, number, phone, email,
         birth) in rows:
        person = people.setdefault(customer_id, {"household_id": household_id, "display_name": shown,
                                                 "scores": dict.fromkeys(asked, 0.0)})
        scores = person["scores"]
        if readings:
            # from the records as they are now: the indexes only found the candidates (a name an index holds may
            # have been edited since)
            scores["name"] = max(scores["name"], *(name_similarity(query, given, _initial(given, first_name), surname,
                                                                   particles) for query in readings))
        if "postcode" in asked and postcode == asked["postcode"]:
            scores["postcode"] = 1.0
            if "house_number" in asked and number == asked["house_number"]:
                scores["house_number"] = 1.0
        elif "house_number" in asked and "postcode" not in asked and number == asked["house_number"]:
            scores["house_number"] = 1.0
        for key, value in (("phone", phone), ("email", email)):
            if key in asked and value == asked[key]:
                scores[key] = 1.0
        if "birth_date" in asked and birth:
            if birth == asked["birth_date"]:
                scores["birth_date"] = 1.0
            elif birth_dates_compatible(birth, asked["birth_date"]):
                scores["birth_date"] = max(scores["birth_date"], 0.5)
    total = sum(WEIGHTS[key] for key in asked)
    ranked = []
    for customer_id, person in people.items():
        scores = person["scores"]
        matched = [key for key in WEIGHTS if key in scores
                   and scores[key] >= (NAME_MATCH if key == "name" else 1.0)]
        if not matched and scores.get("name", 0.0) < NAME_MIN:
            continue
        score = round(sum(WEIGHTS[key] * s for key, s in scores.items()) / total, 3)
        ranked.append((customer_id, person["household_id"], person["display_name"], score, matched))
    ranked.sort(key=lambda hit: (-hit[3], hit[2], hit[0]))
    return ranked[:limit]
