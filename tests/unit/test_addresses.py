"""Postcodes completed from the drop for addresses written as street and number only."""

import pandas as pd

from identity.addresses import complete_postcodes


def frame(rows):
    columns = ["street", "house_number", "house_addition", "postcode", "city", "address_key"]
    return pd.DataFrame([dict(zip(columns, r)) for r in rows], columns=columns)


def test_one_known_postcode_completes_the_address():
    records = frame([
        ("jacquotstraat", "97", None, "1321BK", "almere", "1321BK|97|"),
        ("jacquotstraat", "97", "a", None, None, None),
    ])
    done = complete_postcodes(records)
    assert done.loc[1, "postcode"] == "1321BK"
    assert done.loc[1, "address_key"] == "1321BK|97|a"
    assert done["postcode_from_street"].tolist() == [False, True]


def test_two_cities_with_the_street_leave_it_open_unless_the_city_decides():
    records = frame([
        ("kerkstraat", "1", None, "1011AA", "amsterdam", "1011AA|1|"),
        ("kerkstraat", "1", None, "3511AA", "utrecht", "3511AA|1|"),
        ("kerkstraat", "1", None, None, None, None),
        ("kerkstraat", "1", None, None, "utrecht", "kerkstraat|1||utrecht"),
    ])
    done = complete_postcodes(records)
    assert pd.isna(done.loc[2, "postcode"]) and pd.isna(done.loc[2, "address_key"])
    assert done.loc[3, "address_key"] == "3511AA|1|"
