"""Birth dates a drop holds far more often than birthdays fall: placeholders, read as missing.

A till or a web form that insists on a birth date gets one: 01-01-1900, 1-1-1901, 11-11-1111, or
every customer's birth year as 1 January of it when the extract knows only the year. Such a value
says nothing of who the customer is, yet two strangers who share it agree on the strongest evidence
the model weighs (an exact birth date: 14.6 bits at 100k records), and the rules take them for one
person's dates, or twins'. Measured: 3% of our 100k drop's records given 01-01-1900 took persons F1
from 0.9573 to 0.9433 and merged 0.58% of same-household pairs instead of 0.38%.

Learnt from the drop in front of us, not from a list: a date is a placeholder where it holds at least
``MIN_PEOPLE`` people and more than ``OUTLIER`` times what the busiest 1% of the drop's dates hold.
Real birthdays never come near: the busiest real date held at most 2x that on every drop measured (our
100k: 14 people against 7; Splink's fake_20000: 12 against 6; RLdata10000: 6 against 3; Febrl1-4:
at most 5 against 3), where 01-01-1900 on 3% of our 100k records held 1,477. (A Poisson test against
the date's birth year was tried first: people per date are overdispersed, one person's records and
a family's birthdays cluster, and it flagged real dates on our 100k and on fake_20000.) People are
told apart by the first letter of the first name and the first two of the surname: one person's
records, typos and all, mostly count once (fake_20000 writes one person's surname murphy, murhy and
mruphy), twins twice, and a drop of any size has room for the people of a placeholder (17,576 keys;
initials alone, 676, would cap what a date can hold below what the line asks of a drop of millions).
Its records' birth dates are then read as missing, for the model, the rules
and the profile alike. The run keeps the dates, so delta runs, real time and explanations read them
the same way.

A placeholder is an exception in a drop. Where 1 January is the busiest day of most of the drop's birth
years (``HOW_THE_DROP_WRITES`` of those with two dates or more; by chance one in 365), the drop
writes a birth year known without its day as 1 January of it: Splink's historical_50k (40% of its
dated records on 487 such dates, as Wikidata writes them). Those dates tell the year, and the model,
trained on them, weighs them as it finds them; reading its busiest ones as missing took its persons F1
from 0.8166 to 0.8041 (17 dates) and to 0.7848 (128). They are kept (a lone 1900-01-01 is the busiest
day of one year, not of most), as are placeholders that carry half the dated records themselves: then
they are how the drop writes birth dates, and the only ones it has.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import numpy as np
import pandas as pd

MIN_PEOPLE = 10   # fewer people on one date cannot be told from a birthday a few families share in a small drop
OUTLIER = 4.0      # times the 99th percentile of people per date: real dates reach 2 at most (measured above)
HOW_THE_DROP_WRITES = 0.5    # the share of years, or of dated records, from which such dates are the drop's way


def placeholder_dates(records: pd.DataFrame) -> dict[str, int]:
    """Return the birth dates (yyyy-mm-dd) of standardised records held by far more people than any real date, with
    the people holding each (distinct first letters of first name and first two of surname; a record without a
    surname counts alone); none where such dates are how the drop writes its birth dates."""
    dated = records.loc[records["birth_date"].notna(), ["birth_date", "given_first", "surname_core"]]
    if dated.empty:
        return {}
    initials = pd.DataFrame({"birth_date": dated["birth_date"], "given": dated["given_first"].str.slice(0, 1),
                             "surname": dated["surname_core"].str.slice(0, 2)})
    named = initials["surname"].notna()
    people = (initials[named].drop_duplicates().groupby("birth_date", sort=False).size()
              .add(initials[~named].groupby("birth_date", sort=False).size(), fill_value=0))
    line = max(MIN_PEOPLE, OUTLIER * float(np.quantile(people.to_numpy(dtype=float), 0.99, method="lower")))
    found = {str(date): int(held) for date, held in people.items() if held >= line}
    if _years_written_as_first_of_january(people):
        found = {date: held for date, held in found.items() if not date.endswith("-01-01")}
    if not found or dated["birth_date"].isin(list(found)).mean() >= HOW_THE_DROP_WRITES:
        return {}
    return dict(sorted(found.items(), key=lambda kv: (-kv[1], kv[0])))


def _years_written_as_first_of_january(people: pd.Series) -> bool:
    """Return True when 1 January is the busiest day of most birth years that hold two dates or more."""
    by_year = pd.DataFrame({"year": people.index.str.slice(0, 4), "first": people.index.str.endswith("-01-01"),
                            "people": people.to_numpy()})
    dates = by_year.groupby("year").size()
    busiest = by_year.sort_values("people", ascending=False).drop_duplicates("year").set_index("year")["first"]
    counted = busiest[dates[dates >= 2].index]     # a year of one date has no busiest day (a lone 1900-01-01)
    return bool(len(counted)) and counted.mean() >= HOW_THE_DROP_WRITES


def without_placeholders(records: pd.DataFrame, dates: Collection[str]) -> pd.DataFrame:
    """Return the records with the birth dates among ``dates`` read as missing (the frame itself when none is)."""
    if not dates:
        return records
    hit = records["birth_date"].isin(list(dates))
    if not hit.any():
        return records
    out = records.copy()
    out["birth_date"] = out["birth_date"].where(~hit, None)
    return out


def describe(dates: Mapping[str, int], shown: int = 5) -> str:
    """Return the clause the run's output and report carry on the birth-date rule's line."""
    listed = ", ".join(f"{date} ({held:,} people)" for date, held in list(dates.items())[:shown])
    more = f" and {len(dates) - shown} more" if len(dates) > shown else ""
    return (f"{len(dates)} birth date{'s' if len(dates) > 1 else ''} held by more people than birthdays fall, "
            f"read as placeholders (missing): {listed}{more}")
