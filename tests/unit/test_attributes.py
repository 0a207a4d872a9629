"""Derived attributes: the formulas on a few hand-written interactions, as of a fixed instant."""

import datetime as dt
import json

import pandas as pd
import pytest

from identity.categories import taxonomy_frame
from identity.engine import make_engine
from profile_api.attributes import (
    ACTIVE_DAYS, AT_RISK_DAYS, NEW_DAYS, derive_attributes, household_attributes_sql, with_sku,
)

AS_OF = dt.datetime(2026, 1, 1)
COLUMNS = ["source", "record_id", "type", "occurred_at", "category", "size", "amount_eur", "discount_eur",
           "store_id", "delivery_method", "quantity"]


def day(n: int) -> str:
    """The instant n days before AS_OF, as the drop writes it."""
    return (AS_OF - dt.timedelta(days=n)).isoformat()


def buy(record, days_ago, category="household", amount=10.0, discount=0.0, size=None, store=None, delivery=None,
        kind="purchase", source=None, quantity=None):
    source = source or {"P": "pos", "W": "webshop", "A": "app"}[record[0]]
    return (source, record, kind, day(days_ago), category, size, amount, discount, store, delivery, quantity)


def ret(record, days_ago, category, amount=10.0, size=None, quantity=None):
    return buy(record, days_ago, category, amount, size=size, kind="return", quantity=quantity)


LINKS = pd.DataFrame([
    ("pos", "P1", "C1", "H1"), ("webshop", "W1", "C1", "H1"), ("app", "A1", "C1", "H1"),
    ("pos", "P2", "C2", "H1"), ("webshop", "W2", "C3", "H2"),
], columns=["source", "record_id", "customer_id", "household_id"])


def attributes(*rows, as_of=AS_OF):
    """Return {(customer_id, name): (value, evidence)} of these interactions."""
    frame = derive_attributes(pd.DataFrame(list(rows), columns=COLUMNS), LINKS, as_of=as_of)
    return {(r.customer_id, r.name): (r.value, r.evidence) for r in frame.itertuples()}


def test_counts_last_purchase_spend_returns_and_discounts_over_all_of_a_persons_records():
    got = attributes(
        buy("P1", 400, amount=50.0), buy("W1", 100, amount=30.0, discount=10.0), buy("A1", 10, amount=20.0),
        ret("W1", 90, "household", amount=30.0),
    )
    assert got["C1", "purchase_count"][0] == "2"        # the webshop purchase went back in full
    assert got["C1", "purchase_count"][1]["returned_in_full"] == "1"
    assert got["C1", "last_purchase"][0] == day(10)[:10]
    assert got["C1", "last_purchase"][1]["channel"] == "app"
    value, evidence = got["C1", "spend_12m"]
    assert value == "20.00" and evidence["paid_eur"] == "50.00" and evidence["refunded_eur"] == "30.00"
    assert got["C1", "return_rate"][0] == "0.33"
    value, evidence = got["C1", "discount_share"]
    assert value == "0.33" and evidence["discount_eur"] == "10.00" and evidence["discount_of_spend"] == "0.09"


def test_a_person_who_never_bought_has_a_purchase_count_of_zero_and_nothing_else():
    got = attributes(buy("P1", 10))
    assert got["C3", "purchase_count"] == ("0", {"purchases": "0", "returns": "0"})   # no unknown evidence
    assert [name for (customer, name) in got if customer == "C3"] == ["purchase_count"]


@pytest.mark.parametrize("first,last,stage", [
    (NEW_DAYS, NEW_DAYS, "new"), (NEW_DAYS + 1, 1, "active"), (900, ACTIVE_DAYS, "active"),
    (900, ACTIVE_DAYS + 1, "at_risk"), (900, AT_RISK_DAYS, "at_risk"), (900, AT_RISK_DAYS + 1, "lapsed"),
])
def test_lifecycle_stage_thresholds(first, last, stage):
    got = attributes(buy("P1", first), buy("P1", last))
    assert got["C1", "lifecycle_stage"][0] == stage


def test_as_of_is_the_latest_interaction_when_not_given():
    got = attributes(buy("P1", 300), buy("W2", 30), as_of=None)
    assert got["C1", "last_purchase"][1]["as_of"] == day(30)[:10]
    assert got["C1", "lifecycle_stage"][0] == "at_risk"     # 270 days before the last sale in the store


def test_favourite_categories_count_kept_purchases():
    got = attributes(
        *[buy("P1", d, "cat_food") for d in (10, 40, 70)],
        buy("P1", 20, "shoes", size="42"), buy("P1", 30, "shoes", size="42"), ret("P1", 25, "shoes", size="42"),
        buy("P1", 50, "toys"), buy("P1", 60, "toys"),
    )
    value, evidence = got["C1", "favourite_categories"]
    assert value.split(",")[0] == "cat_food" and set(value.split(",")) == {"cat_food", "toys", "shoes"}
    assert evidence["shoes"] == "1 kept purchases"


def test_preferred_channel_store_and_delivery():
    got = attributes(
        buy("P1", 10, store="S1"), buy("P1", 20, store="S2"), buy("P1", 30, store="S2"),
        buy("W1", 40, delivery="home"), buy("W1", 50, delivery="pickup_point"), buy("W1", 60, delivery="home"),
        buy("A1", 70),
    )
    assert got["C1", "preferred_store"][0] == "S2"
    assert got["C1", "preferred_store"][1] == {"purchases_in_store": "2", "store_purchases": "3"}
    assert got["C1", "preferred_delivery"][0] == "home"
    assert got["C1", "preferred_channel"][0] == "pos"       # 3 each for pos and webshop: the latest wins
    assert got["C1", "preferred_channel"][1] == {"pos": "3", "webshop": "3", "app": "1"}


def test_sizes_come_from_kept_purchases_of_the_persons_own_clothing_category():
    got = attributes(
        buy("P1", 10, "womens_clothing", size="M"), buy("P1", 20, "womens_clothing", size="40"),
        buy("P1", 30, "womens_clothing", size="L"), ret("P1", 25, "womens_clothing", size="L"),
        buy("P1", 40, "womens_clothing", size="L"), ret("P1", 35, "womens_clothing", size="L"),
        buy("P1", 50, "mens_clothing", size="XL"),           # for her partner
        buy("P1", 60, "shoes", size="39"), buy("P1", 70, "shoes", size="40"), ret("P1", 65, "shoes", size="40"),
    )
    value, evidence = got["C1", "clothing_size"]
    assert value == "M"        # M and 40 are one size on the size chart; both L were returned
    assert evidence == {"category": "womens_clothing", "kept_purchases_in_size": "2", "kept_purchases": "2",
                        "returns": "2"}
    assert got["C1", "shoe_size"][0] == "39"


def test_pets_come_from_kept_pet_food_purchases():
    got = attributes(buy("P1", 10, "dog_food"), buy("P1", 20, "cat_food"), buy("P2", 30, "pet_accessories"))
    assert got["C1", "pets"][0] == "cat,dog"
    assert ("C2", "pets") not in got


def test_next_purchase_date_of_a_regular_repeat_category():
    got = attributes(*[buy("P1", d, "dog_food") for d in (100, 70, 40, 10)], buy("P1", 200, "toys"),
                     buy("P1", 50, "toys"), buy("P1", 5, "toys"))
    value, evidence = got["C1", "next_purchase_date"]
    assert value == (AS_OF + dt.timedelta(days=20)).date().isoformat()
    assert evidence["category"] == "dog_food" and evidence["interval_days"] == "30"


def test_no_next_purchase_date_for_a_habit_that_stopped_or_a_category_bought_rarely():
    stopped = attributes(*[buy("P1", d, "dog_food") for d in (400, 370, 340)])
    rare = attributes(*[buy("P1", d, "garden") for d in (700, 400, 100)])
    assert ("C1", "next_purchase_date") not in stopped and ("C1", "next_purchase_date") not in rare


def test_household_pets_and_delivery_come_from_all_members():
    rows = pd.DataFrame([buy("P2", 10, "dog_food"), buy("W1", 20, "cat_food", delivery="home"),
                         buy("W1", 30, delivery="home"), buy("W2", 30, "cat_food", delivery="pickup_point")],
                        columns=COLUMNS)
    got = make_engine("duckdb").sql(household_attributes_sql(AS_OF), interactions_in=with_sku(rows), links_in=LINKS,
                                    categories_in=taxonomy_frame())
    by_household = {r.household_id: (list(r.pets), r.delivery) for r in got.itertuples()}
    assert by_household == {"H1": (["cat", "dog"], "home"), "H2": (["cat"], "pickup_point")}
    last = {r.household_id: json.loads(r.pets_last) for r in got.itertuples()}
    assert last == {"H1": {"cat": day(20), "dog": day(10)}, "H2": {"cat": day(30)}}


def test_json_objects_are_written_with_their_keys_in_order_whatever_the_row_order():
    from profile_api.attributes import json_object_agg

    engine = make_engine("duckdb")
    sql = f"SELECT {json_object_agg('k', 'v')}::VARCHAR AS o FROM t"
    for rows in (["z", "a", 'q"uote'], ['q"uote', "z", "a"]):
        frame = engine.sql(sql, t=pd.DataFrame({"k": rows, "v": [f"value of {k}" for k in rows]}))
        assert frame["o"][0] == '{"a":"value of a","q\\"uote":"value of q\\"uote","z":"value of z"}'


# --- a taxonomy the retailer supplies ---

RENAMED = taxonomy_frame([
    ("clothing", "clothing", None), ("schoenen", "shoes", None), ("pet_food/dog", "pet_food", "dog"),
    ("pet_food/bird", "pet_food", "bird"), ("pet_food/rabbit", "pet_food", "rabbit"),
    ("pet_treats/rabbit", "pet_food", "rabbit"), ("kids_clothing", "other", None),
])


def renamed(*rows, as_of=AS_OF, categories=RENAMED):
    """Return {(customer_id, name): (value, evidence)} of these interactions through the renamed taxonomy."""
    frame = derive_attributes(pd.DataFrame(list(rows), columns=COLUMNS), LINKS, as_of=as_of, categories=categories)
    return {(r.customer_id, r.name): (r.value, r.evidence) for r in frame.itertuples()}


def test_sizes_and_pets_of_renamed_categories_come_through_the_taxonomy():
    got = renamed(
        buy("P1", 10, "clothing", size="S"), buy("P1", 20, "clothing", size="38"),     # 38 is S on the chart
        buy("P1", 30, "schoenen", size="39"), buy("P1", 40, "kids_clothing", size="116"),
        buy("P1", 50, "pet_food/bird"), buy("P1", 60, "pet_treats/rabbit"), buy("P1", 70, "pet_food/rabbit"),
        buy("W2", 10, "womens_clothing", size="M"), buy("W2", 20, "dog_food"),        # names this taxonomy lacks
    )
    assert got["C1", "clothing_size"] == ("S", {"category": "clothing", "kept_purchases_in_size": "2",
                                                "kept_purchases": "2", "returns": "0"})
    assert got["C1", "shoe_size"][0] == "39"
    value, evidence = got["C1", "pets"]
    assert value == "bird,rabbit"
    assert evidence == {"pet_food/bird_kept_purchases": "1", "pet_food/rabbit_kept_purchases": "1",
                        "pet_treats/rabbit_kept_purchases": "1"}
    assert not {("C3", "clothing_size"), ("C3", "pets")} & set(got)      # unplaced: counted as other


def test_the_same_interactions_through_the_default_taxonomy_give_no_renamed_sizes_or_pets():
    rows = [buy("P1", 10, "clothing", size="S"), buy("P1", 30, "schoenen", size="39"), buy("P1", 50, "pet_food/bird")]
    assert not {("C1", "clothing_size"), ("C1", "shoe_size"), ("C1", "pets")} & set(attributes(*rows))
    assert {("C1", "clothing_size"), ("C1", "shoe_size"), ("C1", "pets")} <= set(renamed(*rows))


def test_with_one_clothing_category_what_a_person_buys_in_a_partners_size_does_not_set_theirs():
    # C1 and C2 share household H1. C1 buys her own S and, as often, her partner's L; he keeps L himself.
    got = renamed(
        buy("P1", 10, "clothing", size="S"), buy("P1", 20, "clothing", size="L"),
        buy("P2", 30, "clothing", size="L"), buy("P2", 40, "clothing", size="L"),
        buy("W2", 10, "clothing", size="S"), buy("W2", 20, "clothing", size="L"),   # C3 lives alone: a tie
    )
    value, evidence = got["C1", "clothing_size"]
    assert value == "S" and evidence["kept_purchases_in_household_members_sizes"] == "1"
    assert got["C2", "clothing_size"][0] == "L"
    assert ("C3", "clothing_size") not in got      # S and L kept once each: no size rather than a guess


def test_a_person_who_only_buys_in_a_household_members_size_gets_no_size_of_their_own():
    got = renamed(buy("P1", 10, "schoenen", size="44"), buy("P2", 20, "schoenen", size="44"),
                  buy("P2", 30, "schoenen", size="44"))
    assert got["C2", "shoe_size"][0] == "44"
    assert ("C1", "shoe_size") not in got


def test_with_several_clothing_categories_the_person_keeps_their_own_category():
    categories = taxonomy_frame([("dameskleding", "clothing", None), ("herenkleding", "clothing", None)])
    got = renamed(
        buy("P1", 10, "dameskleding", size="M"), buy("P1", 20, "dameskleding", size="M"),
        buy("P1", 30, "herenkleding", size="XL"), buy("P2", 40, "herenkleding", size="M"),
        categories=categories,
    )
    assert got["C1", "clothing_size"][0] == "M" and got["C1", "clothing_size"][1]["category"] == "dameskleding"
    # His M is men's M: another category than hers, so her M purchases are not taken for his.
    assert got["C2", "clothing_size"][0] == "M"


def test_household_pets_come_through_the_taxonomy():
    rows = pd.DataFrame([buy("P2", 10, "pet_food/bird"), buy("W1", 20, "pet_treats/rabbit"),
                         buy("W2", 30, "pet_food/dog"), ret("W2", 25, "pet_food/dog")], columns=COLUMNS)
    got = make_engine("duckdb").sql(household_attributes_sql(AS_OF), interactions_in=with_sku(rows), links_in=LINKS,
                                    categories_in=RENAMED)
    assert {r.household_id: list(r.pets) for r in got.itertuples() if r.pets is not None} == {"H1": ["bird", "rabbit"]}


def test_what_was_kept_counts_items_and_a_return_without_a_size_takes_back_the_size_bought_before_it():
    got = attributes(
        buy("P1", 30, "dog_food", quantity=3), ret("P1", 20, "dog_food", quantity=1),       # two bags kept
        buy("P1", 40, "shoes", size="44"), ret("P1", 35, "shoes"),                          # returned, no size named
        buy("P1", 50, "shoes", size="41", quantity=2), ret("P1", 45, "shoes", size="41"),   # one pair of two kept
    )
    assert got["C1", "pets"][0] == "dog"
    assert got["C1", "shoe_size"][0] == "41"
    value, evidence = got["C1", "return_rate"]
    assert value == "0.50" and evidence["items_returned"] == "3" and evidence["items_bought"] == "6"


def test_a_refund_written_below_zero_counts_as_money_returned():
    got = attributes(buy("P1", 30, "toys", amount=40.0), ret("P1", 20, "toys", amount=-10.0))
    assert got["C1", "spend_12m"][0] == "30.00"


def test_two_members_who_wear_the_same_size_each_keep_it():
    # C1 and C2 share household H1 and both wear M (a mother and a daughter); C1 once kept an S besides
    got = attributes(*[buy("P1", d, "womens_clothing", size="M") for d in (10, 20, 30)],
                     buy("P1", 40, "womens_clothing", size="S"),
                     *[buy("P2", d, "womens_clothing", size="M") for d in (15, 25, 35)])
    assert got["C1", "clothing_size"][0] == "M" and got["C2", "clothing_size"][0] == "M"
    assert "kept_purchases_in_household_members_sizes" not in got["C1", "clothing_size"][1]


def test_a_member_who_keeps_more_in_the_size_a_person_buys_most_takes_it():
    # C1 buys L for C2 more often than M for herself; C2 keeps more L still: C1's L are his
    got = renamed(*[buy("P1", d, "clothing", size="L") for d in (10, 20, 30)],
                  *[buy("P1", d, "clothing", size="M") for d in (40, 50)],
                  *[buy("P2", d, "clothing", size="L") for d in (15, 25, 35, 45)])
    assert got["C1", "clothing_size"][0] == "M" and got["C2", "clothing_size"][0] == "L"


def test_sizes_written_in_other_notations_are_one_size_and_a_return_takes_back_its_purchase():
    got = attributes(*[buy("P1", d, "womens_clothing", size=s) for d, s in ((10, "maat 40"), (20, "Mt. 40"),
                                                                            (30, "M"), (40, "S"), (50, "s"))],
                     buy("P1", 11, "shoes", size="42"), buy("P1", 12, "shoes", size="EU 42"),
                     buy("P1", 13, "shoes", size="42.0"), buy("P1", 14, "shoes", size="41"),
                     buy("P1", 15, "shoes", size="41"),
                     buy("W2", 10, "shoes", size="42"), buy("W2", 20, "shoes", size="42"),
                     ret("W2", 5, "shoes", size="EU 42"), ret("W2", 6, "shoes", size="42,0"),
                     buy("W2", 30, "shoes", size="38"), buy("W2", 40, "shoes", size="42,5"),
                     buy("W2", 41, "shoes", size="42,5"))
    assert got["C1", "clothing_size"][0] == "M"              # maat 40, Mt. 40 and M: 40 is M on the size chart
    assert got["C1", "shoe_size"][0] == "42"
    value, evidence = got["C3", "shoe_size"]
    assert value == "42.5" and evidence["returns"] == "2"     # both 42s went back, written otherwise
    # "MT" alone is a size (tall M), not the prefix of one (review finding, session 34: it was read as no size)
    tall = attributes(*[buy("P1", d, "mens_clothing", size="MT") for d in (10, 20, 30)],
                      buy("P1", 40, "mens_clothing", size="S"), buy("P1", 50, "mens_clothing", size="EU40"))
    assert tall["C1", "clothing_size"][0] == "MT"


def test_a_category_bought_again_and_again_and_returned_each_time_has_no_next_purchase_date():
    rows = [row for d in (100, 70, 40, 10) for row in (buy("P1", d, "dog_food"), ret("P1", d, "dog_food"))]
    got = attributes(*rows, *[buy("P2", d, "dog_food") for d in (100, 70, 40, 10)], ret("P2", 9, "dog_food"))
    assert ("C1", "next_purchase_date") not in got
    assert got["C2", "next_purchase_date"][1]["category"] == "dog_food"   # one of four returned: still a habit


def test_a_refund_in_the_window_of_a_purchase_before_it_takes_spend_to_zero_not_below():
    got = attributes(buy("P1", 380, "electronics", amount=250.0), ret("P1", 360, "electronics", amount=250.0),
                     buy("P1", 10, "household", amount=10.0))
    value, evidence = got["C1", "spend_12m"]
    assert value == "0.00" and evidence["paid_eur"] == "10.00" and evidence["refunded_eur"] == "250.00"


def test_a_dutch_taxonomys_pets_are_named_as_a_customer_states_them():
    """Review finding (session 34): with a taxonomy naming its pet food's animals in Dutch, a person's pets attribute
    said "hond,kat" while the household's pets (statements and purchases) said dog and cat."""
    from identity.categories import normalise_taxonomy

    categories = normalise_taxonomy(pd.DataFrame({"category": ["hondenvoer", "kattenbrokken", "tuin"],
                                                  "group": ["pet_food", "pet_food", "other"],
                                                  "pet": ["Hond", "katten", ""]}))
    frame = derive_attributes(pd.DataFrame([buy("P1", 10, "hondenvoer"), buy("P1", 20, "kattenbrokken")],
                                           columns=COLUMNS), LINKS, as_of=AS_OF, categories=categories)
    assert frame.loc[(frame["customer_id"] == "C1") & (frame["name"] == "pets"), "value"].item() == "cat,dog"


def with_skus(*rows_and_skus):
    """Return derive_attributes' answer for (row, sku) pairs, as attributes() does."""
    frame = pd.DataFrame([row for row, _ in rows_and_skus], columns=COLUMNS).assign(
        sku=[sku for _, sku in rows_and_skus])
    got = derive_attributes(frame, LINKS, as_of=AS_OF)
    return {(r.customer_id, r.name): (r.value, r.evidence) for r in got.itertuples()}


def test_a_purchase_returned_in_full_counts_for_no_channel_delivery_date_or_stage():
    got = with_skus(
        (buy("P1", 500, store="S1"), "A1"),
        (buy("W1", 40, delivery="home"), "B1"), (ret("W1", 30, "household"), "B1"),
        (buy("W1", 20, delivery="home"), "B2"), (ret("W1", 10, "household"), "B2"),
    )
    assert got["C1", "purchase_count"][0] == "1"
    assert got["C1", "purchase_count"][1]["returned_in_full"] == "2"
    assert got["C1", "preferred_channel"] == ("pos", {"pos": "1"})     # not the webshop, whose orders all went back
    assert ("C1", "preferred_delivery") not in got
    assert got["C1", "last_purchase"][0] == day(500)[:10]
    assert got["C1", "lifecycle_stage"][0] == "lapsed"                  # nothing kept for 500 days
    assert got["C1", "return_rate"][0] == "0.67"                        # items: every purchase counts here
    assert got["C1", "spend_12m"][0] == "0.00"


def test_a_return_takes_back_the_latest_purchase_of_its_article_before_it():
    monthly = [(buy("P1", d, "dog_food"), "DOG1") for d in (150, 120, 90, 60, 30)]
    got = with_skus(*monthly, (ret("P1", 29, "dog_food"), "DOG1"), (buy("P1", 5, "toys"), "T1"),
                    (ret("P1", 4, "toys", quantity=1), "OTHER"))       # a return of an article not bought before
    assert got["C1", "purchase_count"][0] == "5"                        # 6 bought, the last dog food went back
    assert got["C1", "next_purchase_date"][1]["last_purchase"] == day(60)[:10]
    assert got["C1", "last_purchase"][0] == day(5)[:10]


def test_a_partial_return_leaves_the_purchase_kept_and_a_person_who_kept_nothing_has_no_stage():
    got = with_skus((buy("P1", 10, quantity=3), "A1"), (ret("P1", 9, "household", quantity=2), "A1"),
                    (buy("W2", 10, delivery="home"), "B1"), (ret("W2", 9, "household"), "B1"))
    assert got["C1", "purchase_count"][0] == "1" and "returned_in_full" not in got["C1", "purchase_count"][1]
    assert got["C3", "purchase_count"][0] == "0" and got["C3", "purchase_count"][1]["returned_in_full"] == "1"
    assert got["C3", "return_rate"][0] == "1.00"
    assert ("C3", "lifecycle_stage") not in got and ("C3", "last_purchase") not in got


def test_a_household_delivery_preference_comes_from_orders_kept():
    rows = pd.DataFrame([buy("W1", 40, delivery="home"), ret("W1", 30, "household"),
                         buy("W1", 25, delivery="home"), ret("W1", 22, "household"),
                         buy("W1", 50, delivery="pickup_point")], columns=COLUMNS).assign(sku=["B1", "B1", "B3", "B3", "B2"])
    got = make_engine("duckdb").sql(household_attributes_sql(AS_OF), interactions_in=rows, links_in=LINKS,
                                    categories_in=taxonomy_frame())
    assert {r.household_id: r.delivery for r in got.itertuples()} == {"H1": "pickup_point"}


@pytest.mark.parametrize("order", [(0, 1, 2, 3, 4), (1, 0, 2, 4, 3), (2, 4, 3, 1, 0)])
def test_a_return_without_a_size_takes_back_the_size_of_its_article_whatever_the_order_of_the_rows(order):
    rows = [(buy("W1", 50, "womens_clothing", size="S"), "DRESS-S"),    # one order, two sizes of one dress
            (buy("W1", 50, "womens_clothing", size="M"), "DRESS-M"),
            (ret("W1", 45, "womens_clothing"), "DRESS-M"),              # the M goes back; the row names no size
            (buy("W1", 30, "womens_clothing", size="S"), "TOP-S"),
            (buy("W1", 20, "womens_clothing", size="M"), "SKIRT-M")]
    got = with_skus(*[rows[i] for i in order])
    assert got["C1", "clothing_size"][0] == "S"                         # kept: S twice, M once
