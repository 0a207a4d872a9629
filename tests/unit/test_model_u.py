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
