"""Recognition across channels: does GetProfile by an identifier from one channel return what the
person told another channel?

    python bench/recognition.py                          # 3,000 households, seed 1, a fresh SQLite store
    python bench/recognition.py --households 3000 --seed 2 --keep /tmp/recog
    python bench/recognition.py --drop DIR --store URL   # a drop (with truth.csv) already resolved into URL
    python bench/recognition.py --as-held                # also: GetProfile by every identifier as the records hold it
    python bench/recognition.py --as-held --inject 0.1   # the same on the drop with unknown-range mobiles and
                                                         # accented e-mail addresses written in (inject_identifiers.py)

The cases come from the drop's ground truth, never from the store: a person (truth.csv) who stated a
preference (preferences.csv; per key the latest statement counts) in channel A, and who carries an
identifier in a record of another channel B that no other true person uses (an e-mail address, a
phone number or a loyalty card, compared in standard notation). For every such (person, preference,
identifier) the script calls GetProfile with the identifier as channel B wrote it, through a real gRPC
client against ``herken serve``'s server on a loopback port, and counts:

- recognised: the reply is a profile whose preferences hold that key with that value (target ≥ 95%);
- foreign: the reply holds a preference the person never stated (its key, value, channel and time
  match none of the person's own statements) (target ≤ 1%);
- ambiguous / not found: the store answered with candidates, or did not know the identifier.

With ``--as-held``, GetProfile is also called by every distinct e-mail address, phone number and
loyalty card number exactly as the drop's records write it (one call per distinct text), and counts:
INVALID_ARGUMENT (target 0: whatever a record holds is an identifier), not found, a profile, an
Ambiguous reply; and of the values that one true person holds (truth.csv; the same identifier in
any notation), the share answered with that person: a profile whose records are mostly that
person's. With ``--inject SHARE`` the drop first gets identifiers as real extracts hold them
(``bench/inject_identifiers.py``): mobiles in ranges phonenumbers does not know, accented e-mail
addresses.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shlex
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pandas as pd

from profile_api._generated.herken.v1 import profile_service_pb2 as pb
from profile_api._generated.herken.v1 import profile_service_pb2_grpc as pb_grpc
from runner import herken as _herken  # bench/ is on the path when a bench script runs

RECOGNISED_TARGET, FOREIGN_TARGET = 0.95, 0.01
CHANNELS = ("pos", "webshop", "app", "service")
KINDS = {"email": pb.IDENTIFIER_KIND_EMAIL, "phone": pb.IDENTIFIER_KIND_PHONE,
         "loyalty_card": pb.IDENTIFIER_KIND_LOYALTY_CARD}


@dataclass(frozen=True)
class Case:
    """One call: a person's preference from one channel, asked for by an identifier from another."""

    person_id: str
    key: str
    value: str
    stated_in: str
    kind: str
    raw: str          # the identifier as the other channel wrote it
    asked_from: str


def _utc(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(str(text))
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)


def _persons_of(drop: Path) -> dict[tuple[str, str], str]:
    """Return the true person of every (source, record_id) of a drop's truth.csv."""
    truth = pd.read_csv(drop / "truth.csv", dtype=str)
    return {(s, r): p for s, r, p in zip(truth.source, truth.record_id, truth.person_id)}


def _identifiers(drop: Path, person_of: dict[tuple[str, str], str]) -> Iterator[tuple[str, str | None, str, str, str | None]]:
    """Yield (channel, true person, kind, value as written, standard value) of every identifier a record holds."""
    from identity.standardise import standardise_email, standardise_loyalty_card, standardise_phone

    standardise = {"email": standardise_email, "phone": standardise_phone, "loyalty_card": standardise_loyalty_card}
    for channel in CHANNELS:
        path = drop / f"{channel}.csv"
        if not path.is_file():
            continue
        records = pd.read_csv(path, dtype=str, keep_default_na=False)
        for row in records.itertuples(index=False):
            person = person_of.get((channel, row.record_id))
            for kind, clean in standardise.items():
                raw = getattr(row, kind)
                yield channel, person, kind, raw, (clean(raw) if raw else None)


def build_cases(drop: Path) -> tuple[list[Case], dict[str, set[tuple[str, str, str, dt.datetime]]]]:
    """Return the cases of a drop, and every person's own statements (key, value, channel, time)."""
    person_of = _persons_of(drop)

    # Who uses each identifier value (standard notation), and where each person wrote which.
    owners: dict[tuple[str, str], set[str]] = defaultdict(set)
    written: list[tuple[str, str, str, str, str]] = []    # person, kind, std, raw, channel
    for channel, person, kind, raw, std in _identifiers(drop, person_of):
        if person is not None and std:
            owners[(kind, std)].add(person)
            written.append((person, kind, std, raw, channel))

    prefs = pd.read_csv(drop / "preferences.csv", dtype=str, keep_default_na=False)
    prefs["person_id"] = [person_of.get((s, r)) for s, r in zip(prefs.source, prefs.record_id)]
    prefs = prefs.dropna(subset=["person_id"])
    prefs["at"] = [_utc(v) for v in prefs.stated_at]
    own: dict[str, set[tuple[str, str, str, dt.datetime]]] = defaultdict(set)
    for row in prefs.itertuples(index=False):
        own[row.person_id].add((row.key, row.value, row.source, row.at))
    # Per person and key, the latest statement is the preference the person holds now.
    latest = prefs.sort_values(["person_id", "key", "at", "source", "record_id"]).groupby(["person_id", "key"]).tail(1)

    identifiers: dict[str, list[tuple[str, str, str, str]]] = defaultdict(list)
    seen: set[tuple[str, str, str, str]] = set()
    for person, kind, std, raw, channel in written:
        if owners[(kind, std)] == {person} and (person, kind, std, channel) not in seen:
            seen.add((person, kind, std, channel))
            identifiers[person].append((kind, std, raw, channel))
    cases = []
    for row in latest.itertuples(index=False):
        used: set[tuple[str, str]] = set()
        for kind, std, raw, channel in identifiers.get(row.person_id, []):
            if channel != row.source and (kind, std) not in used:    # one call per distinct identifier
                used.add((kind, std))
                cases.append(Case(row.person_id, row.key, row.value, row.source, kind, raw, channel))
    return cases, own


@dataclass
class Tally:
    """Outcomes of the calls, overall or for one identifier kind."""

    cases: int = 0
    recognised: int = 0
    foreign: int = 0
    ambiguous: int = 0
    not_found: int = 0
    errors: int = 0

    def line(self, name: str) -> str:
        """Return one row of the results table."""
        share = (lambda n: f"{n / self.cases:.2%}") if self.cases else (lambda n: "—")
        return (f"| {name} | {self.cases:,} | {self.recognised:,} ({share(self.recognised)}) | "
                f"{self.foreign:,} ({share(self.foreign)}) | {self.ambiguous:,} | {self.not_found:,} | {self.errors:,} |")


def run_cases(stub: pb_grpc.ProfileServiceStub, cases: list[Case],
              own: dict[str, set[tuple[str, str, str, dt.datetime]]]) -> tuple[Tally, dict[str, Tally], list[str]]:
    """Call GetProfile for every case; return the overall tally, the tally per kind, and a few misses."""
    total, by_kind, misses = Tally(), defaultdict(Tally), []
    for case in cases:
        tallies = (total, by_kind[case.kind])
        for t in tallies:
            t.cases += 1
        request = pb.GetProfileRequest(identifier=pb.Identifier(kind=KINDS[case.kind], value=case.raw))
        try:
            reply = stub.GetProfile(request, timeout=10)
        except grpc.RpcError as err:
            outcome = "not_found" if err.code() == grpc.StatusCode.NOT_FOUND else "errors"
            for t in tallies:
                setattr(t, outcome, getattr(t, outcome) + 1)
            if len(misses) < 10:
                misses.append(f"{case.kind} {case.raw!r} ({case.asked_from}): {err.code().name} {err.details()}")
            continue
        if reply.WhichOneof("result") != "profile":
            for t in tallies:
                t.ambiguous += 1
            continue
        prefs = reply.profile.preferences
        hit = any(p.key == case.key and p.value == case.value for p in prefs)
        foreign = any((p.key, p.value, p.source, p.stated_at.ToDatetime(tzinfo=dt.timezone.utc))
                      not in own[case.person_id] for p in prefs)
        for t in tallies:
            t.recognised += hit
            t.foreign += foreign
        if (not hit or foreign) and len(misses) < 10:
            what = "missing" if not hit else "foreign"
            what += " and foreign" if not hit and foreign else ""
            misses.append(f"[{what}] {case.kind} {case.raw!r} ({case.asked_from}) for {case.person_id}: expected "
                          f"{case.key}={case.value} ({case.stated_in}); got "
                          + (", ".join(f"{p.key}={p.value} ({p.source})" for p in prefs) or "no preferences"))
    return total, dict(by_kind), misses

@dataclass(frozen=True)
class Held:
    """One distinct identifier text as the records write it, and the true persons behind it."""

    kind: str
    raw: str
    persons: frozenset[str]   # every true person whose records hold this identifier, in any notation
    records: int              # the records that write it exactly so
    kept: bool                # ingest keeps it as an identifier (identity.standardise)


def build_held(drop: Path) -> list[Held]:
    """Return every distinct e-mail, phone and card text of the drop's records, with its true persons."""
    owners: dict[tuple[str, str], set[str]] = defaultdict(set)
    written: dict[tuple[str, str], int] = defaultdict(int)
    standard: dict[tuple[str, str], str | None] = {}
    for _, person, kind, raw, std in _identifiers(drop, _persons_of(drop)):
        if not raw.strip():
            continue
        standard[(kind, raw)] = std
        written[(kind, raw)] += 1
        if person is not None:
            owners[(kind, std or raw)].add(person)
    return [Held(kind, raw, frozenset(owners[(kind, standard[(kind, raw)] or raw)]), count,
                 standard[(kind, raw)] is not None)
            for (kind, raw), count in sorted(written.items())]


@dataclass
class HeldTally:
    """Outcomes of the look-ups by identifiers as held, overall or for one kind."""

    lookups: int = 0
    records: int = 0
    invalid: int = 0
    invalid_not_kept: int = 0     # of the INVALID_ARGUMENT: values ingest keeps no identifier of either
    not_found: int = 0
    profile: int = 0
    ambiguous: int = 0
    errors: int = 0
    one_person: int = 0           # look-ups by a value that one true person holds
    right: int = 0                # of those, answered with that person's profile

    def line(self, name: str) -> str:
        """Return one row of the results table."""
        answered = self.profile + self.ambiguous
        share = (lambda n, d: f"{n / d:.2%}" if d else "—")
        return (f"| {name} | {self.lookups:,} | {self.records:,} | {self.invalid:,} | {self.not_found:,} | "
                f"{answered:,} ({share(answered, self.lookups)}) | {self.profile:,} | {self.ambiguous:,} | "
                f"{self.errors:,} | {self.right:,} of {self.one_person:,} ({share(self.right, self.one_person)}) |")


def majority_person(drop: Path, store: str) -> dict[str, str]:
    """Return, per customer_id in the store, the true person most of its records belong to."""
    from profile_api.store import open_store, read_links

    truth = pd.read_csv(drop / "truth.csv", dtype=str)
    links = read_links(open_store(store)).merge(truth, on=["source", "record_id"])
    counts = links.groupby(["customer_id", "person_id"]).size().reset_index(name="n")
    counts = counts.sort_values(["customer_id", "n", "person_id"], ascending=[True, False, True])
    return dict(counts.drop_duplicates("customer_id")[["customer_id", "person_id"]].itertuples(index=False))


def run_held(stub: pb_grpc.ProfileServiceStub, held: list[Held],
             person_of_customer: dict[str, str]) -> tuple[HeldTally, dict[str, HeldTally], list[str]]:
    """Call GetProfile by every identifier as held; return the overall tally, the tally per kind, and the refusals."""
    total, by_kind, refused = HeldTally(), defaultdict(HeldTally), []
    for value in held:
        tallies = (total, by_kind[value.kind])
        one = len(value.persons) == 1
        for t in tallies:
            t.lookups += 1
            t.records += value.records
            t.one_person += one
        request = pb.GetProfileRequest(identifier=pb.Identifier(kind=KINDS[value.kind], value=value.raw))
        try:
            reply = stub.GetProfile(request, timeout=10)
        except grpc.RpcError as err:
            code = err.code()
            outcome = {grpc.StatusCode.NOT_FOUND: "not_found", grpc.StatusCode.INVALID_ARGUMENT: "invalid"}.get(
                code, "errors")
            for t in tallies:
                setattr(t, outcome, getattr(t, outcome) + 1)
                t.invalid_not_kept += outcome == "invalid" and not value.kept
            if outcome != "not_found" and len(refused) < 10:
                refused.append(f"{value.kind} {value.raw!r}: {code.name} {err.details()}")
            continue
        if reply.WhichOneof("result") == "profile":
            right = one and person_of_customer.get(reply.profile.customer_id) in value.persons
            for t in tallies:
                t.profile += 1
                t.right += right
        else:
            for t in tallies:
                t.ambiguous += 1
    return total, dict(by_kind), refused


def print_held(total: HeldTally, by_kind: dict[str, HeldTally], refused: list[str], seconds: float) -> None:
    """Print the figures of the look-ups by identifiers as held."""
    print(f"\nGetProfile by every identifier as the records hold it: {total.lookups:,} calls (one per distinct "
          f"text; {total.records:,} record values) in {seconds:.1f} s")
    print()
    print("| identifier | look-ups | record values | INVALID_ARGUMENT | not found | answered | profile | ambiguous | "
          "other errors | right person (values one true person holds) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    print(total.line("all"))
    for kind in sorted(by_kind):
        print(by_kind[kind].line(kind))
    print()
    print(f"INVALID_ARGUMENT {total.invalid:,} (target 0: {'met' if total.invalid == 0 else 'MISSED'}"
          f"{f'; {total.invalid_not_kept:,} of them values ingest keeps no identifier of either' if total.invalid else ''})")
    if refused:
        print("\nfirst refusals and errors:")
        for line in refused:
            print(f"  {line}")




def main(argv: list[str] | None = None) -> int:
    """Prepare the drop and store, run every case through a real client, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=3_000, help="households to generate (default 3000)")
    parser.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    parser.add_argument("--noise", choices=("v1", "v2"),
                        help="generator noise version, as `herken generate --noise` (default v2)")
    parser.add_argument("--drop", type=Path, help="an existing drop with truth.csv instead of generating one")
    parser.add_argument("--store", help="the store URL (default: a new SQLite file in the work directory); "
                                        "with --drop, a store that drop was already resolved into is used as is")
    parser.add_argument("--keep", type=Path, help="keep drop, store and logs in this directory")
    parser.add_argument("--out", type=Path, help="also write the figures as JSON here")
    parser.add_argument("--as-held", action="store_true",
                        help="also call GetProfile by every e-mail, phone and card text as the records hold it")
    parser.add_argument("--inject", type=float, metavar="SHARE",
                        help="first write into the drop unknown-range mobiles and accented e-mail addresses with this "
                             "share (bench/inject_identifiers.py); the drop is copied, never changed in place")
    args = parser.parse_args(argv)
    command = "python bench/recognition.py " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))

    from profile_api.server import serve
    from profile_api.store import latest_run, open_store

    with tempfile.TemporaryDirectory(prefix="herken-recognition-") as tmp:
        work = (args.keep or Path(tmp)).resolve()
        work.mkdir(parents=True, exist_ok=True)
        drop = args.drop.resolve() if args.drop else work / "drop"
        if not args.drop and not (drop / "truth.csv").is_file():
            noise = ("--noise", args.noise) if args.noise else ()
            _herken("generate", str(drop), "--households", str(args.households), "--seed", str(args.seed), *noise,
                    work=work)
        injected = None
        if args.inject is not None:
            from inject_identifiers import inject

            injected = inject(drop, work / "drop-held", args.inject, args.seed)
            drop = work / "drop-held"
            print(f"injected into {drop}: {injected}", file=sys.stderr, flush=True)
        store = args.store or f"sqlite:///{work / 'herken.db'}"
        if not (args.drop and args.store and not injected and latest_run(open_store(store)) is not None):
            _herken("resolve", str(drop), "--store", store, work=work)
        cases, own = build_cases(drop)
        held = build_held(drop) if args.as_held else []
        server, port = serve(store, "127.0.0.1", 0)
        try:
            with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
                stub = pb_grpc.ProfileServiceStub(channel)
                clock = time.perf_counter()
                total, by_kind, misses = run_cases(stub, cases, own)
                seconds = time.perf_counter() - clock
                if held:
                    clock = time.perf_counter()
                    held_total, held_by_kind, refused = run_held(stub, held, majority_person(drop, store))
                    held_seconds = time.perf_counter() - clock
        finally:
            server.stop(1).wait()

    persons = len({c.person_id for c in cases})
    described = str(args.drop) if args.drop else f"{args.households:,} households, seed {args.seed}"
    if injected:
        described += f", with identifiers injected (share {args.inject}: {injected})"
    print(f"\ndrop: {described}; store: "
          f"{'given' if args.store else 'SQLite'}; {len(cases):,} GetProfile calls for {persons:,} persons "
          f"in {seconds:.1f} s")
    print()
    print("| identifier | cases | recognised: the preference returned | foreign preference returned | "
          "ambiguous | not found | errors |")
    print("|---|---|---|---|---|---|---|")
    print(total.line("all"))
    for kind in sorted(by_kind):
        print(by_kind[kind].line(kind))
    recognised = total.recognised / total.cases if total.cases else 0.0
    foreign = total.foreign / total.cases if total.cases else 0.0
    print()
    print(f"recognised {recognised:.2%} (target ≥ {RECOGNISED_TARGET:.0%}: "
          f"{'met' if recognised >= RECOGNISED_TARGET else 'MISSED'}); foreign {foreign:.2%} "
          f"(target ≤ {FOREIGN_TARGET:.0%}: {'met' if foreign <= FOREIGN_TARGET else 'MISSED'})")
    if misses:
        print("\nfirst cases that missed the preference or got a foreign one:")
        for line in misses:
            print(f"  {line}")
    figures = {"command": command, "persons": persons, "all": total.__dict__,
               "by_kind": {k: v.__dict__ for k, v in by_kind.items()}}
    if injected:
        figures["injected"] = injected.__dict__
    if held:
        print_held(held_total, held_by_kind, refused, held_seconds)
        figures["as_held"] = {"all": held_total.__dict__, "by_kind": {k: v.__dict__ for k, v in held_by_kind.items()}}
    print(f"\ncommand: {command}")
    if args.out:
        args.out.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
