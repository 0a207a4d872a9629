"""Write a copy of a drop in which a till filled in a placeholder birth date, as real extracts hold them.

    python bench/placeholder_dates.py DROP OUT                          # 3% of the records, 01-01-1900, seed 5
    python bench/placeholder_dates.py DROP OUT --share 0.1 --date 11-11-1111

A till or web form that insists on a birth date gets one when the customer gives none. This writes the
placeholder into the birth-date field of the given share of the identity records (each record drawn on
its own). Resolve both drops and compare persons F1 and the share of same-household pairs merged
(``herken evaluate``): herken reads a date held by far more people than any real date as missing
(identity.placeholders), and the run's output names it on the birth-date line.

Nothing else changes: record ids, truth, interactions and preferences are as in DROP.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.runner import write_variant  # noqa: E402

SOURCES = ("pos", "webshop", "app", "service")


def with_placeholders(drop: Path, out: Path, share: float, date: str, seed: int) -> dict[str, int]:
    """Write the variant; return how many records of each channel file got the placeholder."""
    def edit(_: str, header: list[str]) -> Callable[[list[str]], None]:
        column = header.index("birth_date")

        def fill(row: list[str]) -> None:
            row[column] = date
        return fill

    return write_variant(drop, out, SOURCES, share, random.Random(seed), edit)


def main(argv: list[str] | None = None) -> int:
    """Write the variant drop and say what changed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("drop", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--share", type=float, default=0.03, help="the share of identity records (default 0.03)")
    parser.add_argument("--date", default="01-01-1900", help="the placeholder, as the till writes it")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args(argv)
    changed = with_placeholders(args.drop, args.out, args.share, args.date, args.seed)
    print(f"wrote {args.out}: {args.date} in " + ", ".join(f"{s} {n:,}" for s, n in changed.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
