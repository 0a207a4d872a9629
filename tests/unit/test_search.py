"""Store-tablet search scoring: nicknames, typos, initials and particles in any notation."""

import threading
import time

import pytest

from profile_api.search import CustomerSearch, _NameIndex, name_similarity, parse_query_name


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
