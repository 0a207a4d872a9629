"""Write a copy of a drop in which tills and web forms filled in placeholder identifiers, as real extracts hold them.

    python bench/placeholder_values.py DROP OUT                     # 3% of till and webshop records, seed 1
    python bench/placeholder_values.py DROP OUT --share 0.1
    python bench/placeholder_values.py DROP OUT --blank             # the same records with the fields left empty
    python bench/placeholder_values.py DROP OUT --names [--blank]   # "Klant Onbekend" in 3% of the till records

A till that asks for a loyalty card gets the shop's own card ("2600000000017") for customers without one; a web
form that insists on an e-mail address gets "geen@email.nl". This writes the default card into the loyalty-card
field of the given share of the till (pos) records and the placeholder address into the e-mail field of that
share of the webshop records (each record drawn on its own, the same records in both modes); ``--blank`` empties
those fields instead: what the drop would say had the till written nothing. ``--names`` writes a till's name for a
stranger, "Klant" / "Onbekend", into the name fields of that share of the till records instead. Resolve DROP, OUT
and OUT --blank and compare persons F1 (``herken evaluate``): herken reads an identifier held by far more people than share one at home
as missing (identity.placeholder_values), and ``herken resolve`` names it.

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

DEFAULT_CARD = "2600000000017"
PLACEHOLDER_EMAIL = "geen@email.nl"
FILLED = {"pos": ("loyalty_card", DEFAULT_CARD), "webshop": ("email", PLACEHOLDER_EMAIL)}
STRANGER = ("Klant", "Onbekend")      # a till's name for a customer it does not know


def with_placeholders(drop: Path, out: Path, share: float, seed: int, blank: bool = False,
                      names: bool = False) -> dict[str, int]:
    """Write the variant; return how many records of each channel file got the placeholder (or an empty field).

    names: write a till's name for a stranger ("Klant" / "Onbekend") into the till records' name fields instead.
    """
    filled = {"pos": (("first_name", STRANGER[0]), ("last_name", STRANGER[1]))} if names \
        else {source: (what,) for source, what in FILLED.items()}

    def edit(source: str, header: list[str]) -> Callable[[list[str]], None]:
        columns = [(header.index(field), placeholder) for field, placeholder in filled[source]]

        def fill(row: list[str]) -> None:
            for column, placeholder in columns:
                row[column] = "" if blank else placeholder
        return fill

    return write_variant(drop, out, filled, share, random.Random(seed), edit)


def main(argv: list[str] | None = None) -> int:
    """Write the variant drop and say what changed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("drop", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--share", type=float, default=0.03, help="the share of till and webshop records (0.03)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--blank", action="store_true", help="empty the fields instead of filling in placeholders")
    parser.add_argument("--names", action="store_true",
                        help="write Klant / Onbekend into the till records' name fields instead of card and e-mail")
    args = parser.parse_args(argv)
    changed = with_placeholders(args.drop, args.out, args.share, args.seed, args.blank, args.names)
    filled = " ".join(STRANGER) if args.names else f"{DEFAULT_CARD} / {PLACEHOLDER_EMAIL}"
    what = "emptied" if args.blank else f"{filled} in"
    print(f"wrote {args.out}: {what} " + ", ".join(f"{s} {n:,}" for s, n in changed.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
