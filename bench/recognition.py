"""Recognition across channels: does GetProfile by an identifier from one channel return what the
person told another channel?

    python bench/recognition.py                          # 3,000 households, seed 1, a fresh SQLite store
    python bench/recognition.py --households 3000 --seed 2 --keep /tmp/recog
    python bench/recognition.py --drop DIR --store URL   # a drop (with truth.csv) already resolved into URL

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
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import grpc
import pandas as pd

from profile_api._generated.herken.v1 import profile_service_pb2 as pb
from profile_api._generated.herken.v1 import profile_service_pb2_grpc as pb_grpc

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


def build_cases(drop: Path) -> tuple[list[Case], dict[str, set[tuple[str, str, str, dt.datetime]]]]:
    """Return the cases of a drop, and every person's own statements (key, value, channel, time)."""
    from identity.standardise import standardise_email, standardise_loyalty_card, standardise_phone

    standardise = {"email": standardise_email, "phone": standardise_phone, "loyalty_card": standardise_loyalty_card}
    truth = pd.read_csv(drop / "truth.csv", dtype=str)
    person_of = {(s, r): p for s, r, p in zip(truth.source, truth.record_id, truth.person_id)}

    # Who uses each identifier value (standard notation), and where each person wrote which.
    owners: dict[tuple[str, str], set[str]] = defaultdict(set)
    written: list[tuple[str, str, str, str, str]] = []    # person, kind, std, raw, channel
    for channel in CHANNELS:
        path = drop / f"{channel}.csv"
        if not path.is_file():
            continue
        records = pd.read_csv(path, dtype=str, keep_default_na=False)
        for row in records.itertuples(index=False):
            person = person_of.get((channel, row.record_id))
            if person is None:
                continue
            for kind, clean in standardise.items():
                raw = getattr(row, kind)
                std = clean(raw) if raw else None
                if std:
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


def _herken(*args: str, work: Path) -> None:
    """Run a herken command as a user would; stop when it fails."""
    env = {**os.environ, "HERKEN_RUNS_DIR": str(work / "runs")}
    print("$ herken " + " ".join(args), file=sys.stderr, flush=True)
    with open(work / "setup.log", "ab") as log:
        status = subprocess.run([sys.executable, "-m", "herken.cli", *args], env=env, stdout=log,
                                stderr=subprocess.STDOUT).returncode
    if status != 0:
        raise SystemExit(f"`herken {' '.join(args)}` failed (exit {status}); see {work / 'setup.log'}")


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
        store = args.store or f"sqlite:///{work / 'herken.db'}"
        if not (args.drop and args.store and latest_run(open_store(store)) is not None):
            _herken("resolve", str(drop), "--store", store, work=work)
        cases, own = build_cases(drop)
        server, port = serve(store, "127.0.0.1", 0)
        try:
            with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
                clock = time.perf_counter()
                total, by_kind, misses = run_cases(pb_grpc.ProfileServiceStub(channel), cases, own)
                seconds = time.perf_counter() - clock
        finally:
            server.stop(1).wait()

    persons = len({c.person_id for c in cases})
    print(f"\ndrop: {drop if args.drop else f'{args.households:,} households, seed {args.seed}'}; store: "
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
    print(f"\ncommand: {command}")
    if args.out:
        args.out.write_text(json.dumps({"command": command, "persons": persons, "all": total.__dict__,
                                        "by_kind": {k: v.__dict__ for k, v in by_kind.items()}}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
