"""The u of a shared e-mail, mobile or card is counted in the drop, so it follows the drop's size."""

import pandas as pd
import pytest

from identity.model import EMAIL_DOMAIN_TYPO, email_domain_typo_u, shared_value_u, with_counted_u


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


def test_one_local_part_at_domains_a_typo_apart_is_counted_in_the_drop_not_left_to_splinks_default():
    # Sampling never sees such a pair, and the level kept Splink's untrained default u: a weight below
    # zero for "jan.smit@hotmail.com" against "jan.smit@hotmil.com". Counted: the pairs that reach the
    # level (2 x 1 here; gmail.com is not a typo of hotmail.com), over all pairs carrying an e-mail.
    frame = pd.DataFrame({
        "email": ["jan.smit@hotmail.com", "jan.smit@hotmail.com", "jan.smit@hotmil.com", "jan.smit@gmail.com",
                  "anna@ziggo.nl", None],
        "email_local": ["jan.smit", "jan.smit", "jan.smit", "jan.smit", "anna", None],
        "email_domain": ["hotmail.com", "hotmail.com", "hotmil.com", "gmail.com", "ziggo.nl", None],
        "given_first": ["jan", "jan", "jan", "jan", "anna", "piet"], "email_names": [1, 1, 1, 1, 1, 0]})
    assert email_domain_typo_u(frame) == pytest.approx(2 / 10)
    model = {"comparisons": [{
        "output_column_name": "email",
        "comparison_levels": [{"is_null_level": True}, {"m_probability": 0.7, "u_probability": 2e-7},
                              {"m_probability": 0.05, "u_probability": 8e-7},
                              {"label_for_charts": EMAIL_DOMAIN_TYPO, "m_probability": 0.02},
                              {"m_probability": 0.2, "u_probability": 0.99}],
    }]}
    typo = with_counted_u(model, frame)["comparisons"][0]["comparison_levels"][3]
    assert typo["u_probability"] == email_domain_typo_u(frame)
    # the same people ten times over, each copy with its own local parts: ten times the records,
    # the same pairs per person, so u falls as the drop grows
    copies = [frame.assign(email_local=frame["email_local"] + str(i),
                           email=frame["email_local"] + f"{i}@" + frame["email_domain"]) for i in range(10)]
    assert email_domain_typo_u(pd.concat(copies, ignore_index=True)) < email_domain_typo_u(frame) / 5


from identity.model import address_level_u  # noqa: E402


def _addresses(rows: list[tuple[str | None, str | None, str | None]]) -> pd.DataFrame:
    """Return records of (address_key, postcode, house_number)."""
    return pd.DataFrame(rows, columns=["address_key", "postcode", "house_number"])


def test_an_address_level_sampling_never_saw_is_counted_in_the_drop_not_left_to_splinks_default():
    # At a million records random sampling saw no two records at one address: the level kept Splink's untrained
    # default u and a pair with one surname, one initial and one address fell from 0.999 to 0.62. Counted: the
    # pairs that agree (3 at the first address, 1 at the second), over the pairs of records carrying an address.
    frame = _addresses([("a1", "1011AB", "1"), ("a1", "1011AB", "1"), ("a1", "1011AB", "1"),
                        ("a2", "1011AB", "2"), ("a2", "1011AB", "2"), ("a3", "2022CD", "3"), (None, None, None)])
    assert address_level_u(frame, ("address_key",)) == pytest.approx(4 / 15)
    assert address_level_u(frame, ("postcode",)) == pytest.approx((10 + 0) / 15)
    model = {"comparisons": [{
        "output_column_name": "address",
        "comparison_levels": [{"is_null_level": True},
                              {"label_for_charts": "same address", "m_probability": 0.89},
                              {"label_for_charts": "same postcode and number, other addition", "m_probability": 0.03,
                               "u_probability": "level not observed"},
                              {"label_for_charts": "same postcode", "m_probability": 0.005, "u_probability": 7e-5},
                              {"m_probability": 0.07, "u_probability": 0.97}],
    }]}
    levels = with_counted_u(model, frame)["comparisons"][0]["comparison_levels"]
    assert levels[1]["u_probability"] == address_level_u(frame, ("address_key",))
    assert levels[2]["u_probability"] == address_level_u(frame, ("postcode", "house_number"))
    assert levels[3]["u_probability"] == 7e-5       # a level sampling saw keeps its sampled u
    # the same households ten times over: u falls as the drop grows
    copies = pd.concat([frame.assign(address_key=frame["address_key"] + str(i)) for i in range(10)], ignore_index=True)
    assert address_level_u(copies, ("address_key",)) < address_level_u(frame, ("address_key",)) / 5
