"""What became of a drop's rows that were not accepted as read: the quarantine and set-aside files of a run, the
commonest reasons for a message, and a hint when birth dates were written month first. Plain functions over
``identity.ingest.QuarantinedRow``; ingest itself decides what is quarantined.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from identity.ingest import QuarantinedRow

_DAY_FIRST = re.compile(r"birth_date '((\d{1,2})[/-](\d{1,2})[/-](\d{4}))' is not a calendar date\b")
MONTH_FIRST_HINT = 10   # rows that read as dates only month first before the run says so


def quarantine_reasons(rows: Sequence[QuarantinedRow], most: int = 3) -> str:
    """Return the most common reasons rows were quarantined, with their counts ("has 13 columns, the header has 12
    (5,404 rows)"); the values a reason quotes are left out, so that one reason counts once."""
    counted = Counter(re.sub(r"'[^']*'", "'...'", row.reason) for row in rows)
    return "; ".join(f"{reason} ({count:,} row{'s' if count != 1 else ''})" for reason, count in counted.most_common(most))


def date_order_hint(rows: Iterable[QuarantinedRow]) -> str | None:
    """Return a hint when birth dates set aside are calendar dates read month first (an American extract's
    03/31/1990), which the contract reads day first; None when fewer than MONTH_FIRST_HINT are."""
    month_first = []
    for row in rows:
        found = _DAY_FIRST.match(row.reason)
        if found:
            written, month, day, year = found.group(1), *map(int, found.groups()[1:])
            try:
                dt.date(year, month, day)
            except ValueError:
                continue
            month_first.append(written)
    if len(month_first) < MONTH_FIRST_HINT:
        return None
    return (f"{len(month_first):,} birth dates set aside as no calendar date are one read month first "
            f"({month_first[0]}): the drop contract reads dd/mm/yyyy, so the others were read day first; "
            "if the extract writes the month first, write its dates as yyyy-mm-dd")


def write_set_aside(rows: list[QuarantinedRow], path: Path) -> None:
    """Write the rows accepted with a value set aside to a CSV file like the quarantine's (file, line, reason, raw
    row), when there are any; a drop without them leaves no file."""
    if rows:
        write_quarantine(rows, path)


def write_quarantine(rows: list[QuarantinedRow], path: Path) -> None:
    """Write quarantined rows to a CSV file with file, line, reason and the raw row."""
    with Path(path).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "line", "reason", "raw"])
        for row in rows:
            writer.writerow([row.file, row.line, row.reason, row.raw])
