"""Write a copy of a drop whose records hold identifiers the way real extracts do and our generator does not.

    python bench/inject_identifiers.py DROP OUT                 # a share of 0.1, seed 1
    python bench/inject_identifiers.py DROP OUT --share 0.2 --seed 2

The generator writes Dutch mobiles in ranges phonenumbers knows (061-065) and e-mail addresses in
ASCII. A retailer's extracts also hold mobiles that phonenumbers does not know to be in use (a
range allocated after the library's metadata, or a typo in the second digit: "06-75211662") and
e-mail addresses with accents ("chloé_lorreijn37@ziggo.nl"). This rewrites, with the given share:

- mobile numbers moved: a person's Dutch mobile number moves, in every record that holds it and in
  the notation each record writes it in, to the unallocated range 060, 067 or 069 (the same number
  for the same person, so linkage sees what it saw);
- mobile typos: one record's mobile gets such a second digit (that record alone);
- accented e-mail addresses: an address gets an accent on its first e, o, a, i or u ("chloe" ->
  "chloé"), in every record that holds it; some of those records write it in capitals.

Nothing else changes: record ids, truth, interactions and preferences are as in DROP.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

CHANNELS = ("pos", "webshop", "app", "service")
UNALLOCATED = "079"       # second digits of Dutch mobile ranges not in use: 060, 067, 069
ACCENTS = {"e": "é", "o": "ö", "a": "á", "i": "ï", "u": "ü"}
CAPITALS = 0.3            # of the records of an accented address, the share that writes it in capitals


@dataclass
class Injected:
    """What was rewritten."""

    mobiles_moved: int = 0
    mobile_records_moved: int = 0
    mobile_typos: int = 0
    emails_accented: int = 0
    email_records: int = 0
    email_records_in_capitals: int = 0


def _nl_mobile_second_digit(raw: str) -> int | None:
    """Return the position in raw of the second digit of a Dutch mobile's national number (06-1...: the 1), or None."""
    positions = [i for i, ch in enumerate(raw) if ch.isdigit()]
    digits = "".join(raw[i] for i in positions)
    if len(digits) < 9 or not re.fullmatch(r"(?:0|31|0031|310)6[1-5]\d{7}", digits):
        return None
    return positions[len(digits) - 8]


def _with_digit(raw: str, position: int, digit: str) -> str:
    return raw[:position] + digit + raw[position + 1:]


def _accented(email: str) -> str | None:
    """Return an address with an accent on the first accentable letter of its local part, or None."""
    local, at, domain = email.partition("@")
    for i, ch in enumerate(local):
        if ch in ACCENTS:
            return local[:i] + ACCENTS[ch] + local[i + 1:] + at + domain
    return None


def _national(raw: str) -> str:
    """Return the national number of a Dutch mobile in any notation (the last nine digits)."""
    return re.sub(r"\D", "", raw)[-9:]


def inject(drop: Path, out: Path, share: float = 0.1, seed: int = 1) -> Injected:
    """Write DROP with identifiers rewritten (see the module docstring) to OUT; return what was rewritten."""
    rng = random.Random(seed)
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(drop, out)
    tables = {c: pd.read_csv(out / f"{c}.csv", dtype=str, keep_default_na=False)
              for c in CHANNELS if (out / f"{c}.csv").is_file()}
    done = Injected()

    # Which numbers and addresses move is decided per distinct value, in a fixed order.
    mobiles = sorted({_national(p) for t in tables.values() for p in t["phone"] if _nl_mobile_second_digit(p)})
    moved = {n: rng.choice(UNALLOCATED) for n in mobiles if rng.random() < share}
    emails = sorted({e.strip().lower() for t in tables.values() for e in t["email"] if "@" in e})
    accented = {e: a for e in emails if rng.random() < share and (a := _accented(e)) is not None}
    done.mobiles_moved, done.emails_accented = len(moved), len(accented)

    for channel, table in tables.items():
        phones, addresses = table["phone"].tolist(), table["email"].tolist()
        for i, raw in enumerate(phones):
            position = _nl_mobile_second_digit(raw)
            if position is None:
                continue
            if _national(raw) in moved:
                phones[i] = _with_digit(raw, position, moved[_national(raw)])
                done.mobile_records_moved += 1
            elif rng.random() < share / 2:
                phones[i] = _with_digit(raw, position, rng.choice(UNALLOCATED))
                done.mobile_typos += 1
        for i, raw in enumerate(addresses):
            new = accented.get(raw.strip().lower())
            if new is None:
                continue
            capitals = rng.random() < CAPITALS
            addresses[i] = new.upper() if capitals else new
            done.email_records += 1
            done.email_records_in_capitals += capitals
        table["phone"], table["email"] = phones, addresses
        table.to_csv(out / f"{channel}.csv", index=False)
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("drop", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--share", type=float, default=0.1, help="share of numbers, records and addresses (0.1)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    done = inject(args.drop, args.out, args.share, args.seed)
    print(f"wrote {args.out}: {done}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
