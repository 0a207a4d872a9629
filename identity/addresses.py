"""Postcodes completed from the drop itself, for addresses written as street and number only.

Agents and old till forms often write "Jacquotstraat 97" without the postcode. A Dutch postcode
with a house number names one address, and the drop usually holds the same street and number
with its postcode on another record; when exactly one postcode fits (the city agreeing where both
records carry one), the address gets that postcode, so that it can meet the postcode spellings of
the same address. Pure functions over the standardised records.
"""

from __future__ import annotations

import re

import pandas as pd


_DUTCH_POSTCODE = re.compile(r"[1-9][0-9]{3}[A-Z]{2}")


def address_key(postcode: str, number: str, addition: str | None, street: str | None = None) -> str:
    """Return the address key of a postcode address (as standardise_record writes it).

    A Dutch postcode and a number name one address. Other countries' postcodes name a town or a part
    of one (Belgium's 8000 is all of Bruges, a German one many streets), so their key holds the
    street too where the record has one: "8000|statiestraat|159|", not the "8000|159|" of every
    street's number 159 in Bruges.
    """
    if street and not _DUTCH_POSTCODE.fullmatch(postcode):
        return f"{postcode}|{street}|{number}|{addition or ''}"
    return f"{postcode}|{number}|{addition or ''}"


Places = dict[tuple[str, str], set[tuple[str, str | None]]]


def street_places(streets: list, numbers: list, postcodes: list, cities: list) -> Places:
    """Return the (postcode, city) of every street and number written with a postcode (missing values as None or NaN)."""
    places: Places = {}
    for street, number, postcode, city in zip(streets, numbers, postcodes, cities):
        if isinstance(street, str) and isinstance(number, str) and isinstance(postcode, str):
            places.setdefault((street, number), set()).add((postcode, city if isinstance(city, str) else None))
    return places


def postcode_of_street(places: Places, street: str, number: str, city: str | None) -> str | None:
    """Return the one postcode known for a street and number (the city agreeing where both carry one), or None."""
    found = places.get((street, number), set())
    if isinstance(city, str):
        found = {(p, c) for p, c in found if c is None or c == city}
    postcodes = {p for p, _ in found}
    return postcodes.pop() if len(postcodes) == 1 else None


def complete_postcodes(records: pd.DataFrame, only: pd.Series | None = None) -> pd.DataFrame:
    """Return the records with postcodes filled in where street and number name one known address.

    Adds the column ``postcode_from_street`` (True where the postcode was completed, not typed).
    only: a mask of the records to complete (an incremental run: its delta); every record is known.
    """
    out = records.copy()
    out["postcode_from_street"] = False
    wanting = out["postcode"].isna() & out["street"].notna() & out["house_number"].notna()
    if only is not None:
        wanting &= only
    # only the addresses someone wants are looked up: a delta of 3k records wants a few hundred of 100k
    wanted = pd.MultiIndex.from_frame(out.loc[wanting, ["street", "house_number"]])
    # the four columns alone: taking every column of 100k records for a few hundred wanted costs more
    known = out.loc[out["postcode"].notna() & out["street"].notna() & out["house_number"].notna(),
                    ["street", "house_number", "postcode", "city"]]
    known = known[pd.MultiIndex.from_frame(known[["street", "house_number"]]).isin(wanted)]
    if known.empty or not wanting.any():
        return out
    by_street = street_places(known["street"].tolist(), known["house_number"].tolist(), known["postcode"].tolist(),
                              known["city"].tolist())
    postcodes_out = out["postcode"].tolist()
    keys_out = out["address_key"].tolist()
    flags = [False] * len(out)
    rows = out.loc[wanting, ["street", "house_number", "house_addition", "city"]]
    positions = out.index.get_indexer(rows.index)
    # Lists, not the columns themselves: iterating an Arrow column makes one Python object at a time.
    for position, street, number, addition, city in zip(
        positions, rows["street"].tolist(), rows["house_number"].tolist(), rows["house_addition"].tolist(),
        rows["city"].tolist()
    ):
        postcode = postcode_of_street(by_street, street, number, city if isinstance(city, str) else None)
        if postcode is None:
            continue
        postcodes_out[position] = postcode
        keys_out[position] = address_key(postcode, number, addition if isinstance(addition, str) else None, street)
        flags[position] = True
    out["postcode"] = pd.Series(postcodes_out, index=out.index, dtype=object)
    out["address_key"] = pd.Series(keys_out, index=out.index, dtype=object)
    out["postcode_from_street"] = flags
    return out
