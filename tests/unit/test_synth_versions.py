"""The generator's two noise versions: v1 is the generator as it was, v2 adds the noise real data has."""

from __future__ import annotations

import csv
import hashlib
import itertools
import re
import unicodedata
from collections import defaultdict
from pathlib import Path

import pytest
from rapidfuzz.distance import DamerauLevenshtein, Levenshtein

from herken.cli import main
from identity.nicknames import are_name_variants
from identity.ingest import CHANNELS
from synth.config import NameNoise, SynthConfig
from synth.names import FORMAL_FEMALE, FORMAL_MALE, ORIGIN_VARIANTS
from synth.writer import generate_drop

V1 = SynthConfig(noise="v1")
# sha256 of what the generator wrote for 200 households, seed 11 (the integration tests' drop), at
# main fa8e186, before issue 12 item 5.
BEFORE_ISSUE_12 = {
    "app.csv": "4fecd040ce15ff0d15731c7ba8a9cd20cdf9ac0ccdbfd79720b37679fd825ae3",
    "interactions.csv": "794c76219ca5f6ec7b4c6b6ea4c45336ab387d34eb68fdaa1cb99a6221db69da",
    "pos.csv": "85f237bc10f751aa685231db3caa7adc935a0d4a0de8cacb353e146e2d1ffd48",
    "preferences.csv": "6ae65e9cb1e08930273fee08f95c3593f051de8f76998ed8e679e49ef1043fab",
    "service.csv": "2b0e7986e110fbc4bf304df0dd94e5a31042c2f64610f958dfca242951e3a8ef",
    "truth.csv": "a52f624ce2ead29fbc064869123b0c62cbaefb5a053d3efc3d9020678b7cca6e",
    "webshop.csv": "5a8c5724d004b8944fe9f2ba026777007ce527e3af23c7f7c3c4d3d371e846d0",
}
CONTACT = ("birth_date", "email", "phone", "street", "house_number", "postcode", "loyalty_card")


def folded(name: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", name.lower()) if not unicodedata.combining(c))


GROUPS = [{folded(n), *map(folded, forms)} for table in (FORMAL_MALE, FORMAL_FEMALE, ORIGIN_VARIANTS)
          for n, forms in table.items()]


class Drop:
    """Identity records of a generated drop, per channel and per true person."""

    def __init__(self, path: Path) -> None:
        truth = {}
        with (path / "truth.csv").open(encoding="utf-8", newline="") as fh:
            for t in csv.DictReader(fh):
                truth[(t["source"], t["record_id"])] = t["person_id"]
        self.records: dict[str, list[dict[str, str]]] = {}
        self.by_person: dict[str, list[dict[str, str]]] = defaultdict(list)
        for channel in CHANNELS:
            with (path / f"{channel}.csv").open(encoding="utf-8", newline="") as fh:
                self.records[channel] = list(csv.DictReader(fh))
            for r in self.records[channel]:
                self.by_person[truth[(channel, r["record_id"])]].append(r)

    def first_name_pairs(self) -> list[tuple[str, str]]:
        """Pairs of different first names (folded, single words, not initials) of one person."""
        return self.name_pairs("first_name", "last_name", ONE_WORD)

    def name_pairs(self, column: str, other: str, pattern: re.Pattern) -> list[tuple[str, str]]:
        """Pairs of different values of one person's column (folded, 3+ characters, not in capitals),
        leaving out values that stand in the other name column of one of the person's records."""
        out = []
        for rows in self.by_person.values():
            others = {folded(r[other]) for r in rows}
            names = {folded(r[column]) for r in rows
                     if pattern.fullmatch(r[column]) and len(r[column]) >= 3 and not r[column].isupper()}
            out.extend(itertools.combinations(sorted(names - others), 2))
        return out


def sounds(name: str) -> str:
    """A folded name with the spellings that sound alike made equal (a rough key, for counting)."""
    for pattern, same in (("ph", "f"), ("th", "t"), ("dt", "t"), ("ck", "k"), ("c", "k"),
                          ("ij", "y"), ("ei", "y"), ("z", "s"), ("x", "ks")):
        name = name.replace(pattern, same)
    return name


ONE_WORD = re.compile(r"[^\W\d_]+")
WORDS = re.compile(r"[^\W\d_]+([ '-]+[^\W\d_]+)*")


@pytest.fixture(scope="module")
def drops(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Drop]:
    out = {}
    for noise in ("v1", "v2"):
        path = tmp_path_factory.mktemp(noise)
        generate_drop(path, 1000, seed=11, config=SynthConfig(noise=noise))
        out[noise] = Drop(path)
    return out


def test_v1_writes_what_the_generator_wrote_before_issue_12(tmp_path: Path) -> None:
    generate_drop(tmp_path, 200, seed=11, config=V1)
    digests = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(tmp_path.iterdir())}
    assert digests == BEFORE_ISSUE_12


def test_herken_generate_takes_the_noise_version(tmp_path: Path) -> None:
    for args, config in (([], SynthConfig()), (["--noise", "v1"], V1), (["--noise", "v2"], SynthConfig(noise="v2"))):
        name = "-".join(args) or "default"
        assert main(["generate", str(tmp_path / f"cli{name}"), "--households", "40", "--seed", "3", *args]) == 0
        generate_drop(tmp_path / f"api{name}", 40, seed=3, config=config)
        for channel in CHANNELS:
            assert ((tmp_path / f"cli{name}" / f"{channel}.csv").read_bytes()
                    == (tmp_path / f"api{name}" / f"{channel}.csv").read_bytes()), (name, channel)
    assert SynthConfig().noise == "v2"
    assert (tmp_path / "clidefault" / "pos.csv").read_bytes() != (tmp_path / "cli--noise-v1" / "pos.csv").read_bytes()


def test_an_unknown_noise_version_is_refused() -> None:
    with pytest.raises(ValueError, match="v1, v2"):
        SynthConfig(noise="v3")


def test_v2_writes_records_with_only_a_name_and_a_city_in_pos_and_service(drops: dict[str, Drop]) -> None:
    def share(drop: Drop, channel: str) -> float:
        rows = drop.records[channel]
        sparse = [r for r in rows if (r["first_name"] or r["last_name"]) and r["city"]
                  and not any(r[c] for c in CONTACT)]
        return len(sparse) / len(rows)

    for channel in ("pos", "service"):
        assert 0.025 <= share(drops["v2"], channel) <= 0.07, channel
        assert share(drops["v1"], channel) < 0.005, channel
    assert share(drops["v2"], "webshop") == share(drops["v2"], "app") == 0.0   # accounts keep their login


def test_v2_replaces_some_first_names_outright(drops: dict[str, Drop]) -> None:
    """Febrl's kind: two records of one person with first names that have nothing to do with each other."""
    def unrelated(drop: Drop) -> int:
        return sum(1 for a, b in drop.first_name_pairs()
                   if DamerauLevenshtein.distance(a, b) >= 3 and a not in b and b not in a
                   and not any(a in g and b in g for g in GROUPS))

    assert unrelated(drops["v2"]) >= max(20, 2 * unrelated(drops["v1"]))


def test_v2_persons_go_by_forms_of_their_name_the_resolver_does_not_know(drops: dict[str, Drop]) -> None:
    forms = [(a, b) for a, b in drops["v2"].first_name_pairs() if any(a in g and b in g for g in GROUPS)]
    unknown = [(a, b) for a, b in forms if not are_name_variants(a, b)]
    assert len(forms) >= 50 and len(unknown) / len(forms) >= 0.25


def test_v2_has_more_transpositions_and_respellings(drops: dict[str, Drop]) -> None:
    def count(drop: Drop) -> tuple[int, int]:
        pairs = drop.first_name_pairs() + drop.name_pairs("last_name", "first_name", WORDS)
        swapped = sum(1 for a, b in pairs if DamerauLevenshtein.distance(a, b) == 1 and Levenshtein.distance(a, b) == 2)
        respelt = sum(1 for a, b in pairs if sounds(a) == sounds(b))
        return swapped, respelt

    (v1_swapped, v1_respelt), (v2_swapped, v2_respelt) = count(drops["v1"]), count(drops["v2"])
    assert v2_swapped > v1_swapped and v2_respelt >= max(3, 2 * v1_respelt)


def test_v2_leaves_the_first_name_out_more_often(drops: dict[str, Drop]) -> None:
    def share(drop: Drop) -> float:
        rows = [r for rows in drop.records.values() for r in rows]
        return sum(1 for r in rows if not r["first_name"] and r["last_name"]) / len(rows)

    assert share(drops["v2"]) >= share(drops["v1"]) + 0.01


def test_the_v2_rates_are_set_in_the_config(tmp_path: Path) -> None:
    def sparse(drop: Drop, channel: str) -> int:
        return sum(1 for r in drop.records[channel] if not any(r[c] for c in CONTACT))

    generate_drop(tmp_path / "all", 60, seed=2, config=SynthConfig(name_noise=NameNoise(sparse=1.0)))
    everything = Drop(tmp_path / "all")
    assert all(sparse(everything, c) == len(everything.records[c]) for c in ("pos", "service"))
    assert all(r["city"] for c in ("pos", "service") for r in everything.records[c])
    phonetic = NameNoise(phonetic=1.0, transposition=0.0, double_or_drop=0.0, first_name_replaced=0.0,
                         first_missing=0.0, sparse=0.0)
    generate_drop(tmp_path / "phonetic", 150, seed=2, config=SynthConfig(name_noise=phonetic))
    drop = Drop(tmp_path / "phonetic")
    pairs = drop.first_name_pairs() + drop.name_pairs("last_name", "first_name", WORDS)
    assert sum(1 for a, b in pairs if sounds(a) == sounds(b)) >= 15
