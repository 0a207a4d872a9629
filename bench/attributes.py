"""Derived sizes and pets on a drop whose retailer names its own categories: coverage and accuracy.

    python bench/attributes.py                            # 3,000 households, seed 1, a fresh SQLite store
    python bench/attributes.py --households 3000 --seed 2 --keep /tmp/attrs
    python bench/attributes.py --drop DIR --store URL     # a renamed drop already resolved into URL

The drop is written by ``herken generate DIR --taxonomy renamed``: women's and men's clothing are
one category ``clothing``, pet food is ``pet_food/dog``, ``pet_food/cat``, ``pet_food/bird`` and
``pet_food/rabbit`` (birds and rabbits are pets there too), and the drop carries the matching
``categories.csv`` and ``attributes_truth.csv`` (every person's true clothing size, and the one
before when it changed, true shoe size, and the household's pets). ``herken resolve`` resolves it
into the store as a user would; the figures are read from the published profiles.

The truth comes from the drop's ground truth, never from the store. A true person's purchases are
those of their records (truth.csv); what they *kept* of a category and size is purchases minus
returns of that category and size (a return carries the purchase's category and size). Numeric
clothing sizes are read as letters through the retailer's size chart (36 XS, 38 S, 40 M, ...).

- clothing_size: a person should have one when they kept a ``clothing`` purchase in their own size
  (current or previous: the generator changes some persons' size during the window). The derived
  value is right when it is that size, current or previous. Purchases for a partner are in the same
  category and are what makes this hard.
- shoe_size: a person should have one when they kept a ``shoes`` purchase in their own shoe size;
  right when the value is that size.
- pets: a person should have pets when they kept pet food (any animal); right when the derived
  animals are exactly those whose food the person kept (the generator draws pet food only for the
  household's own pets, so these are always the household's; the figure on the household's whole
  set of pets is printed beside it).

Coverage is the share of the persons who should have the attribute whose profile has a value; a
person's profile is that of the customer holding most of their records. Accuracy is the share of all
derived values that are right, over every customer with a value, each judged against the true
person holding most of that customer's records. Targets: coverage >= 0.8 and accuracy >= 0.9 each.
The last column, "accuracy of the covered", is the milder figure: right values among the persons who
should have one (it leaves out values derived for persons who kept only what they bought for others).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from runner import herken as _herken  # bench/ is on the path when a bench script runs

COVERAGE_TARGET, ACCURACY_TARGET = 0.8, 0.9
ATTRIBUTES = ("clothing_size", "shoe_size", "pets")
SIZE_CHART = {"34": "XXS", "36": "XS", "38": "S", "40": "M", "42": "L", "44": "XL", "46": "XXL", "48": "3XL"}


@dataclass
class PersonTruth:
    """What a true person kept, and what they are."""

    clothing: set[str]          # their own letter sizes (current and, when it changed, previous)
    shoe: str
    household_pets: set[str]
    kept_clothing_own: int = 0
    kept_shoes_own: int = 0
    kept_pets: frozenset[str] = frozenset()


def _letter(size: str) -> str:
    size = size.strip().upper()
    return SIZE_CHART.get(size, size)


def read_truth(drop: Path) -> tuple[dict[str, PersonTruth], dict[tuple[str, str], str]]:
    """Return every true person's truth and the person of every record."""
    truth = pd.read_csv(drop / "truth.csv", dtype=str)
    person_of = dict(zip(zip(truth.source, truth.record_id), truth.person_id))
    table = pd.read_csv(drop / "attributes_truth.csv", dtype=str, keep_default_na=False)
    taxonomy = pd.read_csv(drop / "categories.csv", dtype=str, keep_default_na=False)
    group_of = dict(zip(taxonomy.category, taxonomy.group))
    pet_of = dict(zip(taxonomy.category, taxonomy.pet))
    persons = {
        row.person_id: PersonTruth({s for s in (row.clothing_size, row.clothing_size_before) if s}, row.shoe_size,
                                   set(filter(None, row.pets.split(","))))
        for row in table.itertuples(index=False)
    }
    ix = pd.read_csv(drop / "interactions.csv", dtype=str, keep_default_na=False)
    ix = ix[ix.type.isin(["purchase", "return"])]
    kept: Counter[tuple[str, str, str]] = Counter()
    for source, record_id, kind, category, size in zip(ix.source, ix.record_id, ix.type, ix.category, ix["size"]):
        person = person_of.get((source, record_id))
        group = group_of.get(category, "other")
        if person is None or group == "other":
            continue
        key = (person, category, _letter(size) if group == "clothing" else size.strip())
        kept[key] += 1 if kind == "purchase" else -1
    pets: dict[str, set[str]] = defaultdict(set)
    for (person, category, size), n in kept.items():
        if n <= 0 or person not in persons:
            continue
        t, group = persons[person], group_of[category]
        if group == "clothing" and size in t.clothing:
            t.kept_clothing_own += n
        elif group == "shoes" and size == t.shoe:
            t.kept_shoes_own += n
        elif group == "pet_food":
            pets[person].add(pet_of[category])
    for person, animals in pets.items():
        persons[person].kept_pets = frozenset(animals)
    return persons, person_of


def read_profiles(url: str) -> tuple[dict[str, dict[str, str]], pd.DataFrame]:
    """Return the derived attributes of every customer in the store and the record links."""
    from sqlalchemy import text

    from profile_api._generated.herken.v1 import profile_service_pb2 as pb
    from profile_api.store import open_store, read_links

    engine = open_store(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT customer_id, encoded FROM profile")).all()
    derived = {customer: {a.name: a.value for a in pb.Profile.FromString(bytes(encoded)).attributes
                          if a.name in ATTRIBUTES} for customer, encoded in rows}
    links = read_links(engine)
    engine.dispose()
    return derived, links


def _right(name: str, value: str, t: PersonTruth) -> bool:
    if name == "clothing_size":
        return value in t.clothing
    if name == "shoe_size":
        return value == t.shoe
    return frozenset(value.split(",")) == t.kept_pets


def _should(name: str, t: PersonTruth) -> bool:
    return {"clothing_size": t.kept_clothing_own > 0, "shoe_size": t.kept_shoes_own > 0,
            "pets": bool(t.kept_pets)}[name]


def measure(drop: Path, url: str) -> dict[str, dict[str, float | int]]:
    """Return per attribute: persons who should have it, covered, coverage; values derived, right, accuracy."""
    persons, person_of = read_truth(drop)
    derived, links = read_profiles(url)
    links["person_id"] = [person_of.get(k) for k in zip(links.source, links.record_id)]
    # A person's profile: the customer with most of their records; a customer's person: the one with most of its records.
    counts = links.groupby(["person_id", "customer_id"]).size().reset_index(name="n")
    counts = counts.sort_values(["n", "customer_id", "person_id"], ascending=[False, True, True])
    customer_of = dict(counts.drop_duplicates("person_id")[["person_id", "customer_id"]].itertuples(index=False))
    owner_of = dict(counts.drop_duplicates("customer_id")[["customer_id", "person_id"]].itertuples(index=False))
    figures: dict[str, dict[str, float | int]] = {}
    for name in ATTRIBUTES:
        should = [p for p, t in persons.items() if _should(name, t)]
        got = [(p, derived.get(customer_of.get(p, ""), {}).get(name)) for p in should]
        covered = sum(1 for _, v in got if v is not None)
        covered_right = sum(1 for p, v in got if v is not None and _right(name, v, persons[p]))
        values = [(c, attrs[name]) for c, attrs in derived.items() if name in attrs]
        right = sum(1 for c, v in values if owner_of.get(c) in persons and _right(name, v, persons[owner_of[c]]))
        figures[name] = {"should_have": len(should), "covered": covered,
                         "coverage": covered / len(should) if should else 0.0,
                         "derived": len(values), "right": right,
                         "accuracy": right / len(values) if values else 0.0,
                         "accuracy_of_covered": covered_right / covered if covered else 0.0}
    pets = [(c, v) for c, attrs in derived.items() if (v := attrs.get("pets"))]
    figures["pets"]["household_pets_right"] = sum(
        1 for c, v in pets if owner_of.get(c) in persons and set(v.split(",")) == persons[owner_of[c]].household_pets)
    by_animal: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for p, t in persons.items():
        for animal in t.kept_pets:
            by_animal[animal][0] += 1
            value = derived.get(customer_of.get(p, ""), {}).get("pets", "")
            by_animal[animal][1] += animal in value.split(",")
    figures["pets_by_animal"] = {a: {"kept_food": n, "derived": d} for a, (n, d) in sorted(by_animal.items())}
    return figures




def main(argv: list[str] | None = None) -> int:
    """Generate and resolve a renamed drop (or take one), print coverage and accuracy per attribute."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=3_000, help="households to generate (default 3000)")
    parser.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    parser.add_argument("--drop", type=Path, help="an existing renamed drop (with its truth files) instead of generating one")
    parser.add_argument("--store", help="the store URL (default: a new SQLite file in the work directory); "
                                        "with --drop, a store that drop was already resolved into is used as is")
    parser.add_argument("--keep", type=Path, help="keep drop, store and logs in this directory")
    parser.add_argument("--out", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    command = "python bench/attributes.py " + " ".join(
        shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))

    drop, url = args.drop, args.store
    work = None
    if drop is None or url is None:   # something to generate or resolve: in the work directory
        work = args.keep or Path(tempfile.mkdtemp(prefix="herken-attributes-"))
        work.mkdir(parents=True, exist_ok=True)
    if drop is None:
        drop = work / "drop"
        _herken("generate", str(drop), "--households", str(args.households), "--seed", str(args.seed),
                "--taxonomy", "renamed", work=work)
    if url is None or args.drop is None:
        url = url or f"sqlite:///{work / 'herken.db'}"
        _herken("resolve", str(drop), "--store", url, work=work)

    figures = measure(drop, url)
    print(f"\n{command}\n")
    print("| attribute | should have | covered | coverage | derived | right | accuracy | target met | "
          "accuracy of the covered |")
    print("|---|---|---|---|---|---|---|---|---|")
    met = True
    for name in ATTRIBUTES:
        f = figures[name]
        ok = f["coverage"] >= COVERAGE_TARGET and f["accuracy"] >= ACCURACY_TARGET
        met &= ok
        print(f"| {name} | {f['should_have']:,} | {f['covered']:,} | {f['coverage']:.3f} | {f['derived']:,} | "
              f"{f['right']:,} | {f['accuracy']:.3f} | {'yes' if ok else 'NO'} | {f['accuracy_of_covered']:.3f} |")
    pets = figures["pets"]
    print(f"\npets equal to the household's whole set of pets: {pets['household_pets_right']:,} of "
          f"{pets['derived']:,} derived values")
    print("per animal, persons who kept its food / whose profile names it: " + ", ".join(
        f"{a} {v['kept_food']:,}/{v['derived']:,}" for a, v in figures["pets_by_animal"].items()))
    if work is not None:
        print(f"\nwork directory: {work}")
    if args.out:
        args.out.write_text(json.dumps({"command": command, "figures": figures}, indent=2))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
