"""Store-tablet search scoring: nicknames, typos, initials and particles in any notation."""

import threading
import time

import pytest

from profile_api.search import CustomerSearch, _NameIndex, name_similarity, parse_query_name, query_readings


def score(query, given, surname, particles=None, initial=None):
    return name_similarity(parse_query_name(query), given, initial, surname, particles)


@pytest.mark.parametrize("query", ["hans vd berg", "Hans van der Berg", "berg, hans van der", "HANS V.D. BERG",
                                   "hans vanderberg"])
def test_particles_in_any_notation(query):
    assert score(query, "hans", "berg", "van der") >= 0.95


def test_the_exact_name_beats_a_nickname_a_typo_and_other_particles():
    exact = score("hans vd berg", "hans", "berg", "van der")
    assert exact == 1.0
    assert exact > score("hans vd berg", "johannes", "berg", "van der") >= 0.95     # nickname
    assert exact > score("hans vd berg", "hans", "berg", None) >= 0.9              # particles dropped
    assert 0.85 <= score("marieke jansen", "mareike", "jansen") < 1.0               # typo in the given name
    assert 0.85 <= score("jan jnasen", "jan", "jansen") < 1.0                       # typo in the surname


def test_initials_fit_but_less_than_a_name():
    assert 0.85 <= score("j. de vries", "jan", "vries", "de") < 1.0
    assert score("jan de vries", None, "vries", "de", initial="j") >= 0.85
    assert score("jan de vries", None, "vries", "de", initial="p") < 0.7


def test_other_names_do_not_fit():
    assert score("pieter bakker", "christina", "mathurin") == 0.0
    assert score("pieter bakker", "pieter", "visser") < 0.7
    assert score("pieter bakker", "anna", "bakker") < 0.7


@pytest.mark.parametrize("query", ["Berg, van der", "berg, v.d.", "van der Berg", "BERG, VAN DER"])
def test_particles_after_a_comma_are_the_surnames_not_a_given_name(query):
    parsed = parse_query_name(query)
    assert parsed.given is None and parsed.initial is None and parsed.particles == "van der"
    assert score(query, "anna", "berg", "van der") == 1.0           # a surname alone: any given name fits


def test_a_full_name_with_the_particles_after_a_comma():
    assert score("Maxim Vermeulen-West-Francie, van", "maxim", "vermeulen west francie", "van") == 1.0
    assert score("Jan Vries, de", "jan", "vries", "de") == 1.0
    assert score("Vries, Jan de", "jan", "vries", "de") == 1.0     # surname, given and its particles: as before


def test_a_single_word_is_a_surname():
    query = parse_query_name("Bakker")
    assert query.given is None and "bakker" in query.surnames


def test_the_index_of_persons_written_since_replaces_a_persons_names():
    index = _NameIndex([("C1", "gijsbertha", "Gijsbertha", "kroketmaker", None),
                        ("C2", "anna", "Anna", "kroketmaker", None)], tracked=True)
    query = parse_query_name("gijsbertha kroketmaker")
    assert index.best(query, 10)["C1"] == 1.0
    index.replace({"C1"}, [("C1", "gijsbertha", "Gijsbertha", "zonnebloemveld", None)])
    assert "C1" not in index.best(query, 10) and "C2" in index.best(query, 10)
    assert index.best(parse_query_name("gijsbertha zonnebloemveld"), 10) == {"C1": 1.0}
    index.replace({"C1", "C2"}, [])                      # erased or merged away: nothing of them stays
    assert index.by_surname == {} and index.surnames == [] and len(index) == 0


def test_noting_a_write_does_not_wait_for_the_run_index_being_built(monkeypatch):
    search = CustomerSearch(engine=None)  # type: ignore[arg-type]
    building = threading.Event()

    def slow_build(self, rows, tracked=False):  # type: ignore[no-untyped-def]
        building.set()
        time.sleep(1.0)
        self.by_surname, self.surnames, self._places = {}, [], {} if tracked else None

    class Conn:
        def execute(self, statement, params=None):  # type: ignore[no-untyped-def]
            class Result:
                def scalar(self):  # type: ignore[no-untyped-def]
                    return "run-1" if "run" in str(statement) else 0

                def all(self):  # type: ignore[no-untyped-def]
                    return []

                def __iter__(self):  # type: ignore[no-untyped-def]
                    return iter(())
            return Result()

    monkeypatch.setattr(_NameIndex, "__init__", slow_build)
    builder = threading.Thread(target=search._names, args=(Conn(),))
    builder.start()
    assert building.wait(5)
    started = time.perf_counter()
    search.note("C1")
    assert time.perf_counter() - started < 0.5
    builder.join()


def best_score(query, given, surname, particles=None, initial=None):
    """The name score the search gives a record: the best over the readings of what was typed."""
    return max(name_similarity(reading, given, initial, surname, particles) for reading in query_readings(query))


# Review findings (session 33): names as shop staff type them, which found no one or the wrong person first.
@pytest.mark.parametrize("query, given, surname, particles", [
    ("Berg van den", "anja", "berg", "van den"),              # particles after the surname, without a comma
    ("Linden vd", "anouk", "linden", "van der"),
    ("v d Linden", "anouk", "linden", "van der"),
    ("Dhr. Jansen", "adam", "jansen", None),                  # a salutation is no initial
])
def test_names_typed_as_heard_fit_the_record_fully(query, given, surname, particles):
    assert best_score(query, given, surname, particles) == 1.0


@pytest.mark.parametrize("query, given, surname, particles", [
    ("Jan Willem Smeets", "jan", "smeets", None),             # two given names with a space (the record: Jan-Willem)
    ("Maria Susanna Lamore", "maria", "lamore", None),
    ("Gert Jan de Haan", "gert", "haan", "de"),
])
def test_two_given_names_typed_with_a_space_fit_the_record_nearly_fully(query, given, surname, particles):
    assert best_score(query, given, surname, particles) == pytest.approx(0.97)


def test_one_half_of_a_double_surname_finds_the_person_before_namesakes_of_that_half_with_another_given_name():
    for typed in ("Renée Rijks", "Renée Verhoeven", "Renee Rijks-Verhoeven"):
        her = best_score(typed, "renee", "rijks verhoeven")
        assert her >= 0.9
        assert her > best_score(typed, "nel", "rijks") and her > best_score(typed, "nel", "verhoeven")
    assert best_score("Chantal Mulder", "chantal", "palman mulder") > best_score("Chantal Mulder", "henny", "mulder")
    assert best_score("Chantal Palman", "chantal", "mulder") < 0.7          # a half typed is not a half stored


def test_ij_written_y_or_ei_is_the_same_surname_a_little_less():
    assert 0.9 <= best_score("Marco Huys", "marco", "huijs") < 1.0
    assert 0.9 <= best_score("Nicole Lyn", "nicole", "lijn") < 1.0
    assert 0.85 <= best_score("Nicole Lein", "nicole", "lijn") < 1.0
    assert best_score("Marco Huys", "marco", "huys") == 1.0


def test_the_surname_first_without_a_comma_fits_a_little_less_than_the_given_name_first():
    assert best_score("Nowak Ilse", "ilse", "nowak") == pytest.approx(0.95)
    assert best_score("Ilse Nowak", "ilse", "nowak") == 1.0
    readings = query_readings("Berg, van den")                  # a comma says how to read it: one reading
    assert len(readings) == 1


def test_a_birth_date_typed_as_eight_digits_is_read_day_first_where_it_is_no_date_year_first():
    from profile_api.search import _search_date

    assert _search_date("20071981") == "1981-07-20"
    assert _search_date("19810720") == "1981-07-20"
    with pytest.raises(ValueError, match="ddmmyyyy"):
        _search_date("20-07-81")
    with pytest.raises(ValueError, match="calendar"):
        _search_date("31-02-1990")


def test_the_index_finds_a_person_by_any_reading_of_the_typed_name_and_by_half_a_double_surname():
    index = _NameIndex([("C1", "jan", "Jan-Willem", "smeets", None), ("C2", "willem", "Willem", "smeets", None),
                        ("C3", "chantal", "Chantal", "palman mulder", None), ("C4", "henny", "Henny", "mulder", None),
                        ("C5", "marco", "Marco", "huijs", None)], tracked=False)
    search = CustomerSearch(engine=None)  # type: ignore[arg-type]
    search._names = lambda conn: index  # type: ignore[method-assign]
    found = search._best_named(None, query_readings("Jan Willem Smeets"))
    assert found["C1"] >= 0.95 and found["C1"] > found.get("C2", 0.0)
    found = search._best_named(None, query_readings("Chantal Mulder"))
    assert max(found, key=found.get) == "C3"
    assert "C5" in search._best_named(None, query_readings("Marco Huys"))


def test_a_second_word_read_as_the_surnames_comes_before_it_read_as_a_second_given_name():
    """Review of session 33's diff: "Anna Palman Mulder" put Anna Mulder first, tied with Anna Palman-Mulder."""
    assert best_score("Anna Palman Mulder", "anna", "palman mulder") == 1.0
    assert best_score("Anna Palman Mulder", "anna", "palman mulder") > best_score("Anna Palman Mulder", "anna", "mulder")
    assert best_score("Jan Willem Smeets", "jan", "smeets") >= 0.95


def test_with_a_house_number_and_no_postcode_names_too_unlike_for_a_name_match_still_come_forward():
    """Review of session 33's diff: the skipping of surnames below a name match dropped the candidates a house number
    (looked up nowhere else) matched."""
    index = _NameIndex([("C1", "jan", "Jan", "bakkum", None), ("C2", "jan", "Jan", "bakkers", None)])
    readings = query_readings("Jan Bakkers")
    assert "C1" not in index.best_of(readings, 10)
    assert "C1" in index.best_of(readings, 10, floor=0.0)


def test_one_letter_wrong_at_the_start_of_a_surname_is_a_typo_not_another_name():
    """Review finding (session 33): "Krins" for "Prins" missed about one search in four (Jaro-Winkler weighs the first
    letters most)."""
    assert best_score("Jan Krins", "jan", "prins") >= 0.75
    assert best_score("Jan Prins", "jan", "prins") > best_score("Jan Prins", "jan", "krins")
    assert best_score("Jan Kok", "jan", "bok") < 0.7                      # three letters: too short to tell


def test_a_surname_with_its_particles_typed_before_the_given_name_fits():
    """Found by bench/typed_names.py (session 33): "de Boer Janna" and "van der Veen Johanna" found no one."""
    assert best_score("de Boer Janna", "janna", "boer", "de") == pytest.approx(0.95)
    assert best_score("van der Veen Johanna", "johanna", "veen", "van der") == pytest.approx(0.95)
    assert best_score("van der Veen", "johanna", "veen", "van der") == 1.0      # a surname alone, as before


def best(query, first, last):
    """The score of the query's best reading against a record written (first, last), as the search takes it."""
    from identity.standardise import parse_name
    stored = parse_name(first, last)
    initial = stored.given_first[0] if stored.given_first else (stored.initials[0] if stored.initials else None)
    return max(name_similarity(reading, stored.given_first, initial, stored.surname_core, stored.particles)
               * reading.weight for reading in query_readings(query))


def test_names_staff_type_that_found_no_one_find_the_person():
    from profile_api.search import NAME_MIN
    assert best("Jasen", "Jan", "Jansen") >= NAME_MIN                        # a surname alone, one letter wrong
    assert best("Peters-de Vries", "Anna", "Peters-de Vries") >= NAME_MIN    # a double surname with a particle, alone
    assert best("Tuithof - van Goerle", "Anna", "Tuithof - van Goerle") >= NAME_MIN
    assert best("op den Akker", "Esther", "op den Akker") >= NAME_MIN        # a particle of two words
    assert best("Akker, op den", "Esther", "op den Akker") == 1.0
    assert best("Veld, in 't", "Dirk", "in 't Veld") == 1.0
    assert best("C J van den Berg", "C.J.", "van den Berg") >= 0.85          # initials with spaces
    assert best("Theresia Susanna Petronella Henst", "Theresia Susanna Petronella", "Henst") >= 0.9
    assert best("L Jansen", "L.", "Jansen") >= 0.85                          # a lone letter stays an initial
