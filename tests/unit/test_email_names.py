"""Surnames read from e-mail addresses: only beside the record's own first name, only known surnames."""

import pandas as pd
import pytest

from identity.email_names import fill_surnames_from_email, read_surname, surname_vocabulary, surname_word_from_email


@pytest.mark.parametrize("local, given, word", [
    ("jose.lelijveld", "jose", "lelijveld"),
    ("dekorte.annemarie", "annemarie", "dekorte"),
    ("j.hermans", "jip", "hermans"),
    ("erikhermans", "erik", "hermans"),
    ("thulskes82", "trudy", "hulskes"),
    ("anouk.van.leeuwen", "anouk", "vanleeuwen"),
    ("hans.meyer", "johannes", "meyer"),          # a nickname of the first name counts
])
def test_surname_beside_the_first_name(local, given, word):
    assert surname_word_from_email(local, given) == word


@pytest.mark.parametrize("local, given", [
    ("kevinentessa", "tessa"),        # a shared address names two people
    ("familie.jansen", "anna"),       # a family address
    ("kevin.draaisma", "tessa"),      # someone else's address
    ("annemarie390", "annemarie"),    # the first name only
    ("sandr", "sandra"),              # the first name, misspelt
    ("info", "jan"),
    (None, "jan"),
    ("jan.jansen", None),
])
def test_nothing_is_guessed_without_the_first_name(local, given):
    assert surname_word_from_email(local, given) is None


def test_particles_are_read_off_the_drops_own_surnames():
    vocabulary = surname_vocabulary(pd.Series(["de", None, "van", None]), pd.Series(["korte", "demir", "arkel", "ait taleb"]))
    assert read_surname("dekorte", vocabulary) == ("de", "korte")
    assert read_surname("demir", vocabulary) == (None, "demir")
    assert read_surname("vanarkel", vocabulary) == ("van", "arkel")
    assert read_surname("aittaleb", vocabulary) == (None, "ait taleb")
    assert read_surname("vanderdemir", vocabulary) == ("van der", "demir")
    assert read_surname("onbekend", vocabulary) is None


def test_fill_only_where_the_surname_is_missing_and_known_elsewhere():
    records = pd.DataFrame({
        "given_first": ["jose", "jose", "piet", "anna"],
        "initials": ["j", "j", "p", "a"],
        "email_local": ["jose.lelijveld", "j.lelijveld", "piet.onbekend", "anna.lelijveld"],
        "particles": [None, None, None, None],
        "surname_core": [None, "lelijveld", None, "smit"],
        "surname_first": [None, "lelijveld", None, "smit"],
        "surname_last": [None, "lelijveld", None, "smit"],
    })
    filled = fill_surnames_from_email(records)
    assert filled["surname_core"].fillna("-").tolist() == ["lelijveld", "lelijveld", "-", "smit"]
    assert filled["surname_from_email"].tolist() == [True, False, False, False]
    assert records["surname_core"].isna().sum() == 2   # the input is not changed

