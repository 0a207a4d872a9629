"""The v2 generator's name noise: each change is the one it claims, and the same seed gives the same name."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rapidfuzz.distance import DamerauLevenshtein, Levenshtein

from synth.config import NameNoise
from synth.noise import double_or_drop, respell, transpose, transpose_and_edit
from synth.render import _name_noise

NAMES = ("Rachel", "Tabitha", "Anneke", "Tim", "Cornelis", "Meijer", "van der Heijden", "Gert-Jan",
         "Stephan", "Dijkstra", "José", "Thijs", "Bo")
FUNCTIONS = (transpose, transpose_and_edit, double_or_drop, respell)
names = st.text(alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyzéë"), min_size=1, max_size=12).map(str.capitalize)


@pytest.mark.parametrize("change", FUNCTIONS, ids=lambda f: f.__name__)
def test_the_same_seed_gives_the_same_names(change) -> None:
    first = [change(name, random.Random(5)) for name in NAMES]
    again = [change(name, random.Random(5)) for name in NAMES]
    assert first == again
    assert len({tuple(change(name, random.Random(seed)) for name in NAMES) for seed in range(8)}) > 1


@given(names, st.integers(0, 2**32))
def test_a_transposition_swaps_two_adjacent_letters_after_the_first(name: str, seed: int) -> None:
    out = transpose(name, random.Random(seed))
    if out == name:
        # Only when there is nothing to swap: no two adjacent different letters after the first.
        assert all(a == b for a, b in zip(name[1:], name[2:]))
        return
    diff = [i for i, (a, b) in enumerate(zip(name, out)) if a != b]
    assert len(out) == len(name) and len(diff) == 2 and diff[1] == diff[0] + 1 and diff[0] >= 1
    assert (out[diff[0]], out[diff[1]]) == (name[diff[1]], name[diff[0]])


def test_a_transposition_keeps_capitals_in_place() -> None:
    for seed in range(50):
        out = transpose("Gert-Jan", random.Random(seed))
        assert out[0] == "G" and out[5] == "J" and out != "Gert-Jan"
    assert transpose("RACHEL", random.Random(1)).isupper()


def test_a_transposition_with_one_more_edit_is_two_edits_away_mostly() -> None:
    """The Febrl kind ("tabhta" for "tabitha"): beyond what a one-edit typo rule accepts."""
    distances = [DamerauLevenshtein.distance("Tabitha", transpose_and_edit("Tabitha", random.Random(s)))
                 for s in range(200)]
    assert set(distances) <= {1, 2}
    assert distances.count(2) / len(distances) > 0.8


@given(names, st.integers(0, 2**32))
def test_a_transposition_with_an_edit_keeps_the_first_letter(name: str, seed: int) -> None:
    out = transpose_and_edit(name, random.Random(seed))
    assert out[:1] == name[:1] and DamerauLevenshtein.distance(name, out) <= 2


@given(names, st.integers(0, 2**32))
def test_a_letter_is_doubled_or_dropped(name: str, seed: int) -> None:
    out = double_or_drop(name, random.Random(seed))
    if len(name) == 1:
        assert out == name
        return
    assert Levenshtein.distance(name, out) == 1 and out[0] == name[0]
    if len(name) < 4:
        assert len(out) == len(name) + 1
    if len(out) > len(name):
        i = next((i for i, (a, b) in enumerate(zip(name, out)) if a != b), len(name))
        assert out[i] == out[i - 1].lower() or out[i].lower() == out[i - 1].lower()


def test_a_dropped_letter_is_mostly_one_of_a_doubled_pair() -> None:
    dropped = [out for s in range(300) if len(out := double_or_drop("Anneke", random.Random(s))) == 5]
    assert dropped and dropped.count("Aneke") / len(dropped) > 0.6


@pytest.mark.parametrize("name, respellings", [
    ("Stephan", {"Stefan"}),
    ("Brandt", {"Brant"}),
    ("Cornelis", {"Kornelis"}),
    ("Meijer", {"Meyer"}),
    ("MEIJER", {"MEYER"}),
    ("Dijkstra", {"Dykstra", "Deikstra"}),
    ("Klein", {"Klijn"}),
    ("Thijs", {"Tijs", "Thys", "Theis"}),
    ("Lichtenberg", {"Ligtenberg"}),
    ("Huizinga", {"Huyzinga", "Huisinga"}),
    ("Anne", {"Anne"}),   # nothing that sounds the same written otherwise
])
def test_a_respelling_sounds_the_same(name: str, respellings: set[str]) -> None:
    assert {respell(name, random.Random(s)) for s in range(60)} == respellings


def test_v2_name_noise_changes_the_first_or_the_last_name_at_its_rates() -> None:
    only_transpositions = NameNoise(transposition=1.0, transposition_edit=0.0, double_or_drop=0.0, phonetic=0.0)
    seen = {_name_noise("Cornelis", "Dijkstra", only_transpositions, random.Random(s)) for s in range(40)}
    assert all((first == "Cornelis") != (last == "Dijkstra") for first, last in seen)
    assert any(first != "Cornelis" for first, _ in seen) and any(last != "Dijkstra" for _, last in seen)
    assert _name_noise("Cornelis", "Dijkstra", NameNoise(transposition=0.0, double_or_drop=0.0, phonetic=0.0),
                       random.Random(1)) == ("Cornelis", "Dijkstra")
    assert (_name_noise("Cornelis", "Dijkstra", NameNoise(), random.Random(3))
            == _name_noise("Cornelis", "Dijkstra", NameNoise(), random.Random(3)))
