"""Store-tablet search scoring: nicknames, typos, initials and particles in any notation."""

import pytest

from profile_api.search import name_similarity, parse_query_name


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


def test_a_single_word_is_a_surname():
    query = parse_query_name("Bakker")
    assert query.given is None and "bakker" in query.surnames
