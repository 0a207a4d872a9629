"""Names as shop staff type them: how often the store tablet's name search finds the person a record belongs to when
its name is typed the ways people say and hear it, beside the name typed as the record writes it.

    python bench/typed_names.py --store sqlite:///STORE.db                 # 300 records per way of typing
    python bench/typed_names.py --store sqlite:///STORE.db --per-way 500 --out typed.json

The store is one ``herken resolve`` published (``herken generate D --households 30000 --seed 7`` for the README's
100k figures); it is only read. Records are drawn at random (``--seed``) among those each way of typing applies to,
their name is typed that way, and ``ProfileStore.search(name=..., limit=100)`` is asked, as SearchCustomers does (100: its most):

- ``as written``: "Jan-Willem de Vries" as the record has it (the baseline);
- ``double given name, a space``: "Jan Willem de Vries" for "Jan-Willem";
- ``particles after the surname``: "Vries de" (the surname alone, particles last, no comma);
- ``surname first``: "de Vries Jan" (no comma);
- ``one half of a double surname``: "Chantal Mulder" for "Chantal Palman-Mulder" (either half, at random);
- ``ij written y``: "Marco Huys" for "Marco Huijs";
- ``a salutation``: "Dhr. J. de Vries" (the initial of the given name);
- ``the surname's first letter mistyped``: "Jan Krins" for "Jan Prins".

Per way: the share of searches whose answer holds the record's person first (a tie at the top counts as first
when the person is among the tied), among the first 3, among the first 10, and the p50 of the search times.
Prints JSON.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text  # noqa: E402

from bench.runner import print_figures  # noqa: E402
from profile_api.profiles import ProfileStore  # noqa: E402
from profile_api.store import open_store  # noqa: E402

PARTICLES = ("van der", "van den", "van de", "van het", "van 't", "in 't", "van", "de", "den", "der", "het", "ter",
             "te", "ten", "op de")


def _split_particles(last: str) -> tuple[str, str] | None:
    """Return (particles, the rest) of a surname written with its particles first, else None."""
    low = last.lower()
    for particle in PARTICLES:
        if low.startswith(particle + " ") and len(last) > len(particle) + 2:
            return last[:len(particle)], last[len(particle) + 1:]
    return None


def ways(first: str, last: str, rng: random.Random) -> dict[str, str]:
    """Return the ways of typing this name that apply to it, by name of the way."""
    typed = {"as written": f"{first} {last}"}
    if "-" in first.strip("-"):
        typed["double given name, a space"] = f"{first.replace('-', ' ')} {last}"
    split = _split_particles(last)
    if split:
        typed["particles after the surname"] = f"{split[1]} {split[0]}"
    if " " not in first:
        typed["surname first"] = f"{last} {first}"
    core = split[1] if split else last
    halves = [h for h in core.split("-") if len(h) >= 3]
    if len(halves) == 2 and "-" in core:
        typed["one half of a double surname"] = f"{first} {rng.choice(halves)}"
    if "ij" in last.lower():
        typed["ij written y"] = f"{first} {last.replace('ij', 'y').replace('IJ', 'Y').replace('Ij', 'Y')}"
    typed["a salutation"] = f"Dhr. {first[0].upper()}. {last}"
    if len(core) >= 4 and core[0].isalpha():
        other = rng.choice([c for c in "bdfghklmnprstvwz" if c != core[0].lower()])
        typed["the surname's first letter mistyped"] = f"{first} {(split[0] + ' ') if split else ''}{other.upper()}{core[1:]}"
    return typed


def _rank(hits: list, customer_id: str) -> int | None:
    """Return where the person stands in the answer, a tie at the top counting as first; None: not in it."""
    for i, hit in enumerate(hits):
        if hit.customer_id == customer_id:
            return 0 if hit.score == hits[0].score else i
    return None


def measure(url: str, per_way: int, seed: int) -> dict:
    """Return the figures of one store (see the module's docstring)."""
    engine = open_store(url)
    store = ProfileStore(engine)
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT r.first_name, r.last_name, l.customer_id FROM source_record r JOIN record_link l "
            "ON l.source = r.source AND l.record_id = r.record_id "
            "WHERE r.first_name IS NOT NULL AND r.last_name IS NOT NULL ORDER BY r.source, r.record_id")).all()
    rng = random.Random(seed)
    rng.shuffle(rows)
    store.warm_up()
    chosen: dict[str, list[tuple[str, str]]] = {}
    for first, last, customer_id in rows:
        first, last = first.strip(), last.strip()
        if not first or not last or "," in last or "." in first:
            continue
        for way, query in ways(first, last, rng).items():
            if len(chosen.setdefault(way, [])) < per_way:
                chosen[way].append((query, customer_id))
        if all(len(chosen.get(w, [])) >= per_way for w in chosen) and len(chosen) >= 8:
            break
    figures: dict[str, dict] = {}
    for way, queries in chosen.items():
        ranks, times = [], []
        for query, customer_id in queries:
            started = time.perf_counter()
            try:
                hits = store.search(name=query, limit=100)
            except ValueError:
                hits = []
            times.append(1000 * (time.perf_counter() - started))
            ranks.append(_rank(hits, customer_id))
        n = len(queries)
        figures[way] = {"searches": n, "first": round(sum(r == 0 for r in ranks) / n, 3),
                        "top_3": round(sum(r is not None and r < 3 for r in ranks) / n, 3),
                        "top_10": round(sum(r is not None for r in ranks) / n, 3),
                        "p50_ms": round(sorted(times)[n // 2], 2)}
    engine.dispose()
    return figures


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True, help="a published store (only read)")
    parser.add_argument("--per-way", type=int, default=300, help="records searched per way of typing (default 300)")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--out", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    print_figures(measure(args.store, args.per_way, args.seed), args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
