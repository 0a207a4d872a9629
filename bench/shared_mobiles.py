"""Write a copy of a drop in which family members use one another's mobile numbers, as real extracts do.

    python bench/shared_mobiles.py DROP OUT                    # a share of 0.3 of the households, seed 1
    python bench/shared_mobiles.py DROP OUT --share 0.5 --seed 2

Our generator gives every person a mobile of their own and shares only landlines. In a retailer's
extracts a parent's mobile stands on a child's account and partners type in each other's number.
This picks the given share of households with two or more persons (by truth.csv) and writes one
member's mobile number into the phone field of every record of each other member (replacing theirs).
That is the case the first-name rule's personal-mobile waiver must not merge: two people, two first
names, one mobile. Resolve both drops and compare person F1 and the share of same-household pairs
merged (``herken evaluate``).

Nothing else changes: record ids, truth, interactions and preferences are as in DROP.
"""

from __future__ import annotations

import argparse
import csv
import random
import shutil
from collections import defaultdict
from pathlib import Path

SOURCES = ("pos", "webshop", "app", "service")


def _is_mobile(phone: str) -> bool:
    """Return True for a Dutch mobile number in the notations the generator writes (06..., +316..., 00316...)."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    return digits.startswith("06") or digits.startswith("316") or digits.startswith("00316")


def share_mobiles(drop: Path, out: Path, share: float, seed: int) -> dict[str, int]:
    """Write the variant; return how many households and records were changed."""
    out.mkdir(parents=True, exist_ok=True)
    person_of: dict[tuple[str, str], str] = {}
    members: dict[str, set[str]] = defaultdict(set)
    with (drop / "truth.csv").open(newline="") as f:
        for row in csv.DictReader(f):
            person_of[row["source"], row["record_id"]] = row["person_id"]
            members[row["household_id"]].add(row["person_id"])
    tables: dict[str, tuple[list[str], list[dict[str, str]]]] = {}
    mobile_of: dict[str, str] = {}
    for source in SOURCES:
        with (drop / f"{source}.csv").open(newline="") as f:
            reader = csv.DictReader(f)
            rows = list(reader)
            tables[source] = (list(reader.fieldnames or []), rows)
        for row in rows:
            person = person_of.get((source, row["record_id"]))
            if person and row.get("phone") and _is_mobile(row["phone"]):
                mobile_of.setdefault(person, row["phone"])
    rng = random.Random(seed)
    families = sorted(h for h, people in members.items() if len(people) > 1
                      and any(p in mobile_of for p in people))
    chosen = rng.sample(families, int(len(families) * share))
    lent: dict[str, str] = {}        # person -> the family member's mobile they now carry
    for household in chosen:
        people = sorted(members[household])
        owner = next(p for p in people if p in mobile_of)
        for person in people:
            if person != owner:
                lent[person] = mobile_of[owner]
    changed = 0
    for source, (fields, rows) in tables.items():
        for row in rows:
            person = person_of.get((source, row["record_id"]))
            if person in lent:
                row["phone"] = lent[person]
                changed += 1
        with (out / f"{source}.csv").open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows)
    for path in drop.iterdir():
        if path.is_file() and path.name not in {f"{s}.csv" for s in SOURCES}:
            shutil.copy2(path, out / path.name)
    return {"households": len(chosen), "records": changed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("drop", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--share", type=float, default=0.3, help="share of the households of two or more persons")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(share_mobiles(args.drop, args.out, args.share, args.seed))


if __name__ == "__main__":
    main()
