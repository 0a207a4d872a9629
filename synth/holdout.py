"""A drop with records held out, to resolve them one at a time afterwards (real-time resolution).

From a drop with ``truth.csv`` this copies the drop without

- one record each of ``known`` persons that keep at least one other record (their person is in
  the store: the record should come back as that person), and
- every record of ``unknown`` other persons (their person is not in the store: no match),

and their interactions, preferences and truth rows, so the rest of the drop is read as it was.
The held-out records come back as they were written, each with its true person_id.
"""

from __future__ import annotations

import csv
import random
import shutil
from dataclasses import dataclass
from pathlib import Path

from identity.ingest import CHANNELS


@dataclass(frozen=True)
class HeldOut:
    """A record left out of the drop: its channel, its row as written, its true person, and whether that
    person keeps other records in the drop."""

    source: str
    row: dict[str, str]
    person_id: str
    known: bool


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding="utf-8") as f:
        lines = list(csv.reader(f))
    return lines[0], lines[1:]


def hold_out(drop: Path, out: Path, *, known: int, unknown: int, seed: int = 0) -> list[HeldOut]:
    """Write the drop to out without the held-out records (see the module); return them, known ones first.

    Raises:
        ValueError: the drop has too few persons of several records, or too few persons, for the counts asked.
    """
    with (drop / "truth.csv").open(newline="", encoding="utf-8") as f:
        truth = list(csv.DictReader(f))
    by_person: dict[str, list[tuple[str, str]]] = {}
    for t in truth:
        by_person.setdefault(t["person_id"], []).append((t["source"], t["record_id"]))
    rng = random.Random(seed)
    persons = sorted(by_person)
    rng.shuffle(persons)
    several = [p for p in persons if len(by_person[p]) >= 2][:known]
    chosen = set(several)
    gone = [p for p in persons if p not in chosen][:unknown]
    if len(several) < known or len(gone) < unknown:
        raise ValueError(f"{drop} has too few persons to hold out {known} known and {unknown} unknown")
    picked = [(rng.choice(sorted(by_person[p])), p, True) for p in several]
    picked += [(sorted(by_person[p])[0], p, False) for p in gone]
    removed = {key for key, _, _ in picked} | {key for p in gone for key in by_person[p]}

    shutil.copytree(drop, out)
    written: dict[tuple[str, str], dict[str, str]] = {}
    for source in CHANNELS:
        path = drop / f"{source}.csv"
        if not path.is_file():
            continue
        header, rows = _rows(path)
        for row in rows:
            written[(source, row[0])] = dict(zip(header, row))
        with (out / path.name).open("w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows([header] + [r for r in rows if (source, r[0]) not in removed])
    for name in ("interactions.csv", "preferences.csv", "truth.csv"):   # each starts with source, record_id
        if (drop / name).is_file():
            header, rows = _rows(drop / name)
            with (out / name).open("w", newline="", encoding="utf-8") as f:
                csv.writer(f).writerows([header] + [r for r in rows if (r[0], r[1]) not in removed])
    return [HeldOut(key[0], written[key], person, is_known) for key, person, is_known in picked]
