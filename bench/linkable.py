"""How high can accuracy go: the share of held-out records, and of true record pairs, that the evidence in a drop
lets any resolver link, whatever its model.

    python bench/linkable.py                                          # 30,000 households, seed 7 (v2 noise)
    python bench/linkable.py --noise v1 --work /tmp/linkable-v1       # the v1 generator, keeping the drop
    python bench/linkable.py --drop /tmp/herken-realtime/drop \\
        --store sqlite:////tmp/herken-realtime/whole-drop-drop-held-out-1000-500-7.db   # beside a realtime run
    python bench/linkable.py --drop DROP --no-held-out --precision 0.99             # pair ceiling only

Every record of the drop (``--drop``, or ``herken generate`` with ``--households``, ``--seed`` and
``--noise`` into ``--work``) is standardised as a run does it (``identity.ingest.read_drop``,
``identity.pipeline.standardise_drop``, then the drop's postcode and e-mail surname completions).

Held-out ceiling (the target: ResolveRecord puts >= 95% of known held-out records with their person).
The records bench/realtime.py holds out (``synth.holdout.hold_out`` with the same ``--known``,
``--unknown`` and ``--seed``) are classified, each known one, by the strongest evidence it shares with
a record its person keeps in the store (every record but the held-out ones and those of unknown
persons), in the order of ``CLASSES``: an e-mail address (also at a domain one or two typos away),
mobile number or loyalty card with names that fit; full name + birth date; full name + address; ...;
nothing identifying. A rival is another person with a store record whose evidence is of the same
class or stronger (found through shared e-mail, mobile, card, landline, address, postcode + number,
surname, birth date or first name + city); the classes bar a first-name or birth-date conflict where
they say so. A record is linkable when it has some evidence and no rival; the ceiling is linkable /
known (quarantined records count as not linkable). With ``--store`` (a store of the whole drop, the
held-out records in it: bench/realtime.py --keep DIR leaves DIR/whole-drop-*.db) it also counts, per
class, the records that store's run put with the customer_id holding most of their person's other
records (bench/realtime.batch_with_their_person).

Pair ceiling (the target: person F1 >= 0.97). Over the records of the drop that pass ingest, the records
of each true person are joined by edges, and a resolver linking only along edges finds at most the record
pairs within the connected pieces of each person: the ceiling is those pairs / all true pairs (the person
recall ``identity.evaluate.pair_scores`` gives the pieces), given with the person F1 it allows at precision
1.0 and, with ``--store`` (that store's person precision against truth.csv) or ``--precision``, at the
measured precision. Three definitions of an edge between two records of one person, each looser than the last:

- ``strong`` (``strong_edge``): an e-mail address (or its local part at a mistyped domain), mobile number,
  loyalty card or landline with no first-name or birth-date conflict; or full name + birth date; or full name
  + address with no birth-date conflict; or birth date + address. Rivals are not counted.
- ``linkable`` (``linkable_edge``, the headline): a strong edge, or evidence of any class but "nothing
  identifying" that one of the two records shares with no record of another person as strongly (its rival
  floor: the strongest class it shares with another person's record, found as held-out rivals are) -- the
  held-out ceiling's "some evidence and no rival", record by record.
- ``any_evidence``: a strong edge or evidence of any class but "nothing identifying", rivals or not (full
  name only, initial + surname + place...): an upper bound no careful resolver reaches.

Household ceiling (the target: household F1 >= 0.93 at 300k records). Starting from the true persons, and from
the ``linkable`` pieces of them, records are joined where two records of one true household share an address,
loyalty card, landline, e-mail or mobile (``bench.misses.household_evidence_ceiling``): precision 1.0, the
household recall shared identifiers allow a resolver that errs on no person, and one that links persons only as
far as their evidence allows.

Prints the figures as JSON (``--out FILE`` also writes them).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import pandas as pd  # noqa: E402
from rapidfuzz.distance import DamerauLevenshtein  # noqa: E402

from bench.runner import print_figures  # noqa: E402
from identity.rules import STRICT, NameAndBirth, birth_dates_compatible, surnames_compatible  # noqa: E402

Record = Mapping[str, object]   # one standardised record (identity.standardise.STANDARD_COLUMNS), None where missing
Evidence = frozenset[str]

# Evidence codes shared by two records:
#   E e-mail, E~ e-mail local part at a domain <= 2 typos away, M mobile, C loyalty card, L landline,
#   F first names fit (Fx: conflict), I an initial fits, S surnames fit (Sx: differ), B birth dates fit
#   (Bx: conflict), A address (address key or postcode + house number), P postcode only, Y city only.
IDENTIFIERS = frozenset({"E", "E~", "M", "C"})
CONFLICTS = frozenset({"Fx", "Bx"})
PLACES = frozenset({"A", "P", "Y", "L"})

CLASSES: tuple[tuple[str, Callable[[Evidence], bool]], ...] = (
    ("identifier (e-mail/mobile/card), names fit", lambda e: bool(e & IDENTIFIERS) and not e & CONFLICTS),
    ("full name + birth date", lambda e: {"F", "S", "B"} <= e),
    ("full name + address", lambda e: {"F", "S", "A"} <= e and "Bx" not in e),
    ("identifier, first name differs", lambda e: bool(e & IDENTIFIERS) and "Bx" not in e),
    ("birth date + address, first name missing/initial/differs", lambda e: {"B", "A"} <= e),
    ("first name + birth date (no surname agreement)", lambda e: {"F", "B"} <= e),
    ("full name + landline/postcode/city", lambda e: {"F", "S"} <= e and bool(e & {"L", "P", "Y"}) and "Bx" not in e),
    ("full name only", lambda e: {"F", "S"} <= e and "Bx" not in e),
    ("surname + address, no first name", lambda e: {"S", "A"} <= e and not e & {"Fx", "Bx", "F"}),
    ("initial + surname + place", lambda e: {"I", "S"} <= e and bool(e & PLACES) and "Bx" not in e),
    ("first name + place only", lambda e: "F" in e and bool(e & PLACES) and not e & {"Bx", "Sx"}),
    ("nothing identifying", lambda e: True),
)
NOTHING = len(CLASSES) - 1
QUARANTINED = "quarantined"

# the store's values a held-out record's rivals are looked up by
CANDIDATE_KEYS: tuple[tuple[str, ...], ...] = (
    ("email",), ("mobile",), ("loyalty_card",), ("landline",), ("address_key",), ("postcode", "house_number"),
    ("surname_core",), ("birth_date",), ("given_canonical", "city"),
)


def _rule_fields(r: Record) -> NameAndBirth:
    """Return the fields the name and birth-date rules read of a record."""
    return NameAndBirth(r["given_first"], r["given"], r["initials"], r["surname_core"], r["birth_date"], r["mobile"])


def _same_address(a: Record, b: Record) -> bool:
    """Return True when two records give one address: its key, or postcode and house number."""
    return bool(a["address_key"] and a["address_key"] == b["address_key"]
                or a["postcode"] and a["postcode"] == b["postcode"]
                and a["house_number"] and a["house_number"] == b["house_number"])


def evidence(a: Record, b: Record) -> Evidence:
    """Return the evidence codes two standardised records share (see the codes above)."""
    e: set[str] = set()
    for column, code in (("email", "E"), ("mobile", "M"), ("loyalty_card", "C"), ("landline", "L")):
        if a[column] and a[column] == b[column]:
            e.add(code)
    if ("E" not in e and a["email_local"] and a["email_local"] == b["email_local"] and a["email"] and b["email"]
            and DamerauLevenshtein.distance(str(a["email"]).split("@")[1], str(b["email"]).split("@")[1]) <= 2):
        e.add("E~")
    rule_a, rule_b = _rule_fields(a), _rule_fields(b)
    if a["given_first"] and b["given_first"]:
        e.add("F" if STRICT.names_compatible(rule_a, rule_b) else "Fx")
    elif (a["given_first"] or a["initials"]) and (b["given_first"] or b["initials"]):
        e.add("I" if STRICT.names_compatible(rule_a, rule_b) else "Fx")
    if a["surname_core"] and b["surname_core"]:
        e.add("S" if surnames_compatible(str(a["surname_core"]), str(b["surname_core"])) else "Sx")
    if a["birth_date"] and b["birth_date"]:
        e.add("B" if birth_dates_compatible(str(a["birth_date"]), str(b["birth_date"])) else "Bx")
    if _same_address(a, b):
        e.add("A")
    elif a["postcode"] and a["postcode"] == b["postcode"]:
        e.add("P")
    elif a["city"] and a["city"] == b["city"]:
        e.add("Y")
    return frozenset(e)


def class_of(e: Evidence) -> int:
    """Return the index in CLASSES of the strongest class this evidence makes."""
    return next(i for i, (_, fits) in enumerate(CLASSES) if fits(e))


def strong_edge(e: Evidence) -> bool:
    """Return True when two records of one person share evidence the pair ceiling links along (see the module)."""
    return (bool(e & (IDENTIFIERS | {"L"})) and not e & CONFLICTS or {"F", "S", "B"} <= e
            or {"F", "S", "A"} <= e and "Bx" not in e or {"B", "A"} <= e)


def any_edge(e: Evidence) -> bool:
    """Return True when two records share evidence of any class but "nothing identifying", or a strong edge."""
    return strong_edge(e) or class_of(e) < NOTHING


@dataclass(frozen=True)
class Verdict:
    """What a held-out record shares with its person: the class (index in CLASSES), its evidence, and the other
    persons with evidence as strong (rivals), in all and in the record's own household."""

    klass: int
    evidence: Evidence
    rivals: int
    rivals_same_household: int

    @property
    def linkable(self) -> bool:
        """Return True when the record has some evidence and no rival."""
        return self.klass < NOTHING and self.rivals == 0


def classify(record: Record, own: Sequence[Record], candidates: Iterable[Record], person: str,
             household: str | None = None, person_of: str = "person_id", household_of: str = "household_id") -> Verdict:
    """Return the verdict of a record against its person's other records (``own``) and the store records that
    share a candidate key with it; persons and households are read from the ``person_of``/``household_of`` fields."""
    best, best_e = NOTHING, frozenset()
    for r in own:
        e = evidence(record, r)
        k = class_of(e)
        if k < best or (k == best and not best_e):
            best, best_e = k, e
    rivals: set[str] = set()
    near: set[str] = set()
    if best < NOTHING:
        for r in candidates:
            other = str(r[person_of])
            if other == person or other in rivals:
                continue
            if class_of(evidence(record, r)) <= best:
                rivals.add(other)
                if household is not None and r[household_of] == household:
                    near.add(other)
    return Verdict(best, best_e, len(rivals), len(near))


class CandidateIndex:
    """The store's records by each of CANDIDATE_KEYS, to find a record's possible rivals."""

    def __init__(self, records: Iterable[Record]) -> None:
        """Index the records."""
        self._index: dict[tuple[str, ...], dict[tuple, list[Record]]] = {key: defaultdict(list)
                                                                            for key in CANDIDATE_KEYS}
        for r in records:
            for key in CANDIDATE_KEYS:
                value = tuple(r[c] for c in key)
                if all(v is not None for v in value):
                    self._index[key][value].append(r)

    def of(self, record: Record) -> list[Record]:
        """Return the store records sharing some candidate key with a record, each once."""
        seen: dict[int, Record] = {}
        for key in CANDIDATE_KEYS:
            value = tuple(record[c] for c in key)
            if all(v is not None for v in value):
                for r in self._index[key].get(value, ()):
                    seen[id(r)] = r
        return list(seen.values())


def rival_floor(record: Record, candidates: Iterable[Record], person_of: str = "person_id") -> int:
    """Return the strongest class (lowest index) a record shares with a record of another person; NOTHING if none."""
    floor = NOTHING
    person = record[person_of]
    for r in candidates:
        if r[person_of] != person:
            floor = min(floor, class_of(evidence(record, r)))
            if floor == 0:
                break
    return floor


def linkable_edge(e: Evidence, floor_a: Callable[[], int], floor_b: Callable[[], int]) -> bool:
    """Return True when two records of one person are linkable: a strong edge, or evidence of some class that one
    of them shares with no other person as strongly (``floor_*`` give each record's rival floor, asked lazily)."""
    if strong_edge(e):
        return True
    k = class_of(e)
    return k < NOTHING and (k < floor_a() or k < floor_b())


def pieces(records: Sequence[Record], joins: Callable[[Record, Record], bool]) -> list[int]:
    """Return, per record of one person, the connected piece it falls in when records are joined where ``joins``
    holds (pieces numbered from 0)."""
    parent = list(range(len(records)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(records)):
        for j in range(i + 1, len(records)):
            if root(i) != root(j) and joins(records[i], records[j]):
                parent[root(i)] = root(j)
    roots: dict[int, int] = {}
    return [roots.setdefault(root(i), len(roots)) for i in range(len(records))]


def f1(precision: float, recall: float) -> float:
    """Return the F1 of a precision and a recall."""
    return round(2 * precision * recall / (precision + recall), 4) if precision + recall else 0.0


# ---- I/O: the drop, its standardisation, the store ----

def standardised_drop(drop_dir: Path) -> pd.DataFrame:
    """Return the drop's records as a run standardises them (completions included), with the truth's person and
    household; records ingest quarantines are not in it."""
    from identity.addresses import complete_postcodes
    from identity.email_names import fill_surnames_from_email
    from identity.ingest import read_drop
    from identity.pipeline import standardise_drop

    drop = read_drop(drop_dir)
    if len(drop.deletions):
        raise SystemExit(f"{drop_dir} deletes records (a delta drop); give a full drop without deletions.csv")
    frame = fill_surnames_from_email(complete_postcodes(standardise_drop(drop)))
    truth = pd.read_csv(drop_dir / "truth.csv", dtype=str)
    frame = frame.merge(truth, on=["source", "record_id"], how="left")
    return frame.astype(object).where(frame.notna(), None)


def held_out(drop_dir: Path, known: int, unknown: int, seed: int) -> list:
    """Return the records bench/realtime.py holds out of the drop (the reduced copy is written and thrown away)."""
    from synth.holdout import hold_out

    with tempfile.TemporaryDirectory(prefix="herken-linkable-") as tmp:
        return hold_out(drop_dir, Path(tmp) / "drop", known=known, unknown=unknown, seed=seed)


def held_out_ceiling(records: pd.DataFrame, held: list, placed: Mapping[str, bool] | None) -> dict:
    """Return the per-class counts and the ceiling of the known held-out records."""
    rows = {(s, r): row for s, r, row in zip(records["source"], records["record_id"], records.to_dict("records"))}
    gone = {(h.source, h.row["record_id"]) for h in held}
    gone_persons = {h.person_id for h in held if not h.known}
    store = [row for key, row in rows.items() if key not in gone and row["person_id"] not in gone_persons]
    by_person: dict[str, list[Record]] = defaultdict(list)
    for row in store:
        by_person[str(row["person_id"])].append(row)
    index = CandidateIndex(store)
    names = [name for name, _ in CLASSES] + [QUARANTINED]
    table = {name: Counter() for name in names}
    known = [h for h in held if h.known]
    for h in known:
        row = rows.get((h.source, h.row["record_id"]))
        if row is None:
            name, verdict = QUARANTINED, None
        else:
            verdict = classify(row, by_person[h.person_id], index.of(row), h.person_id, row["household_id"])
            name = CLASSES[verdict.klass][0]
        counts = table[name]
        counts["n"] += 1
        if verdict is not None:
            counts["linkable"] += verdict.linkable
            counts["with_rivals"] += verdict.rivals > 0
            counts["with_rivals_in_household"] += verdict.rivals_same_household > 0
        if placed is not None:
            counts["store_with_their_person"] += placed.get(h.row["record_id"], False)
            counts["store_linkable_with_their_person"] += bool(verdict and verdict.linkable
                                                               and placed.get(h.row["record_id"], False))
    linkable = sum(c["linkable"] for c in table.values())
    figures = {"known": len(known), "linkable": linkable, "ceiling": round(linkable / len(known), 4),
               "classes": {name: dict(table[name]) for name in names if table[name]["n"]}}
    if placed is not None:
        figures["store_with_their_person"] = round(sum(c["store_with_their_person"] for c in table.values())
                                                   / len(known), 4)
    return figures


def pair_ceiling(records: pd.DataFrame, precision: float | None) -> dict:
    """Return the pair ceiling of the drop's records (see the module) under each edge definition."""
    from bench.misses import household_evidence_ceiling
    from identity.evaluate import pair_scores

    rows = records.to_dict("records")
    by_person: dict[str, list[Record]] = defaultdict(list)
    for row in rows:
        by_person[str(row["person_id"])].append(row)
    index = CandidateIndex(rows)
    floors: dict[int, int] = {}

    def floor(r: Record) -> Callable[[], int]:
        def ask() -> int:
            if id(r) not in floors:
                floors[id(r)] = rival_floor(r, index.of(r))
            return floors[id(r)]
        return ask

    edges: dict[str, Callable[[Record, Record], bool]] = {
        "strong": lambda a, b: strong_edge(evidence(a, b)),
        "linkable": lambda a, b: linkable_edge(evidence(a, b), floor(a), floor(b)),
        "any_evidence": lambda a, b: any_edge(evidence(a, b)),
    }
    figures: dict[str, object] = {"records": len(records), "persons": len(by_person)}
    piece_of: dict[str, str] = {}
    for name, joins in edges.items():
        person, piece = [], []
        for p, own in by_person.items():
            for r, i in zip(own, pieces(own, joins)):
                person.append(p)
                piece.append(f"{p}#{i}")
                if name == "linkable":
                    piece_of[r["unique_id"]] = piece[-1]
        scores = pair_scores(pd.Series(piece), pd.Series(person))
        result = {"true_pairs": scores.true_pairs, "linkable_pairs": scores.correct_pairs,
                  "recall_ceiling": scores.recall, "pieces": len(set(piece)),
                  "f1_at_precision_1": f1(1.0, scores.recall)}
        if precision is not None:
            result["f1_at_measured_precision"] = f1(precision, scores.recall)
        figures[name] = result
    figures["rival_floors_computed"] = len(floors)
    # Households: each grouping joins its persons' records and two records of one true household that share an
    # address, card, landline, e-mail or mobile (bench.misses.household_evidence_ceiling), at precision 1.0
    if "household_id" in records.columns:
        homes = {u: h for u, h in zip(records["unique_id"], records["household_id"]) if h is not None}
        figures["households"] = {
            "on true persons": household_evidence_ceiling(records, {r["unique_id"]: str(r["person_id"]) for r in rows}, homes),
            "on the linkable pieces": household_evidence_ceiling(records, piece_of, homes),
        }
    if precision is not None:
        figures["measured_precision"] = precision
    return figures


def store_figures(url: str, drop_dir: Path, held: list) -> tuple[dict[str, bool], dict]:
    """Return, per known held-out record, whether the store's run put it with its person, and the store's person
    scores against truth.csv."""
    from sqlalchemy import text

    from identity.evaluate import evaluate
    from profile_api.store import open_store
    from realtime import batch_with_their_person

    engine = open_store(url)
    with engine.connect() as conn:
        links = pd.DataFrame(conn.execute(text("SELECT source, record_id, customer_id, household_id FROM record_link"))
                             .fetchall(), columns=["source", "record_id", "customer_id", "household_id"])
    engine.dispose()
    truth = pd.read_csv(drop_dir / "truth.csv", dtype=str)
    try:
        placed = batch_with_their_person(url, drop_dir, held)
    except KeyError as missing:
        raise SystemExit(f"{url} does not hold record {missing} of the drop: give a store of the whole drop "
                         "(bench/realtime.py --keep DIR leaves DIR/whole-drop-*.db)") from None
    return placed, asdict(evaluate(links, truth).person)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (see the module's docstring); print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drop", type=Path, help="measure this existing drop instead of generating one")
    parser.add_argument("--households", type=int, default=30_000, help="households to generate (default 30000)")
    parser.add_argument("--seed", type=int, default=7, help="generator and hold-out seed (default 7)")
    parser.add_argument("--noise", choices=("v1", "v2"), help="the generator's noise (default: its own, v2)")
    parser.add_argument("--work", type=Path, help="generate the drop here and reuse it next time (default: a temp dir)")
    parser.add_argument("--known", type=int, default=1000, help="records held out of persons that keep others")
    parser.add_argument("--unknown", type=int, default=500, help="persons held out with all their records")
    parser.add_argument("--store", help="URL of a store of the whole drop: its placement and person precision")
    parser.add_argument("--precision", type=float, help="a measured person precision to give the pair ceiling's F1 at")
    parser.add_argument("--no-held-out", action="store_true", help="the pair ceiling only")
    parser.add_argument("--no-pairs", action="store_true", help="the held-out ceiling only")
    parser.add_argument("--out", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="herken-linkable-") as tmp:
        drop = args.drop
        if drop is None:
            from runner import herken

            work = args.work or Path(tmp)
            work.mkdir(parents=True, exist_ok=True)
            drop = work / "drop"
            if not (drop / "truth.csv").is_file():
                noise = ("--noise", args.noise) if args.noise else ()
                herken("generate", str(drop), "--households", str(args.households), "--seed", str(args.seed),
                       *noise, work=work)
        records = standardised_drop(drop)
        figures: dict[str, object] = {"drop": str(drop), "records": len(records)}
        if args.drop is None:
            figures.update(households=args.households, seed=args.seed, noise=args.noise or "v2")
        held = [] if args.no_held_out else held_out(drop, args.known, args.unknown, args.seed)
        placed, precision = None, args.precision
        if args.store:
            placed, measured = store_figures(args.store, drop, held)
            figures["store_person"] = measured
            precision = measured["precision"] if precision is None else precision
        if not args.no_held_out:
            figures["held_out"] = {"known": args.known, "unknown": args.unknown, "seed": args.seed,
                                   **held_out_ceiling(records, held, placed)}
        if not args.no_pairs:
            figures["pairs"] = pair_ceiling(records, precision)
    print_figures(figures, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
