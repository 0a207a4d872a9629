"""The u of a shared e-mail, mobile or card is counted in the drop, so it follows the drop's size."""

import pandas as pd
import pytest

from identity.model import shared_value_u, with_counted_u


def records(rows: list[tuple[str | None, str | None, int]]) -> pd.DataFrame:
    """Return records of (email, given_first, email_names) as identity.link.prepare leaves them."""
    return pd.DataFrame(rows, columns=["email", "given_first", "email_names"])


def test_a_family_address_counts_the_pairs_between_its_people():
    # Four records of two people on one address: 6 pairs, of which 3 fall between the two (spread
    # evenly); 5 records carry an e-mail, so 10 pairs in all.
    frame = records([("fam@x.nl", "jan", 2), ("fam@x.nl", "jan", 2), ("fam@x.nl", "anna", 2),
                     ("fam@x.nl", "anna", 2), ("own@x.nl", "kees", 1), (None, "piet", 0)])
    one, several = shared_value_u(frame, "email")
    assert several == pytest.approx(3 / 10)
    assert one == pytest.approx(0.5 / 10)   # nothing counted: half a pair


def test_a_record_without_a_name_is_someone_else_as_often_as_the_drop_shares_its_values():
    # Two values carry two named records each; one of them is used by two people: a share of 1/2.
    # The personal address also has a record without a name: one pair that is two people half the time.
    frame = records([("fam@x.nl", "jan", 2), ("fam@x.nl", "anna", 2),
                     ("own@x.nl", "kees", 1), ("own@x.nl", "kees", 1), ("own@x.nl", None, 1)])
    one, _ = shared_value_u(frame, "email")
    assert one == pytest.approx(2 * 0.5 / 10)   # two nameless pairs (with each kees record), times 1/2


def test_u_falls_as_the_drop_grows():
    # The same households ten times over: as many shared pairs per value, ten times the records.
    block = [("fam{}@x.nl", "jan", 2), ("fam{}@x.nl", "anna", 2), ("own{}@x.nl", "kees", 1), ("own{}@x.nl", None, 1)]
    small = records([(e.format(0), g, n) for e, g, n in block])
    large = records([(e.format(i), g, n) for i in range(10) for e, g, n in block])
    assert shared_value_u(large, "email")[1] < shared_value_u(small, "email")[1] / 10


def test_the_counted_u_replaces_the_sampled_one_on_the_two_shared_levels():
    model = {"comparisons": [{
        "output_column_name": "email",
        "comparison_levels": [{"is_null_level": True}, {"m_probability": 0.6, "u_probability": 2e-6},
                              {"m_probability": 0.03, "u_probability": "level not observed"},
                              {"m_probability": 0.37, "u_probability": 0.99}],
    }]}
    frame = records([("fam@x.nl", "jan", 2), ("fam@x.nl", "anna", 2), ("own@x.nl", "kees", 1)])
    levels = with_counted_u(model, frame)["comparisons"][0]["comparison_levels"]
    assert (levels[1]["u_probability"], levels[2]["u_probability"]) == shared_value_u(frame, "email")
    assert levels[3]["u_probability"] == 0.99
