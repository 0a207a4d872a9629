"""How many persons one shared value may join: measured on the drop, per kind of value."""

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from identity.engine import make_engine
from identity.household_caps import EXPECTED_LARGER, FIXED, FIXED_CAP, HOUSEHOLD_CEILING, HouseholdCaps, cap_for
from identity.households import household_edges, measured_caps, measured_household_edges, within_caps
from identity.rules import RuleBook
from identity.strictness import book_of_run, rules_of_run

from tests.unit.test_households import record


def test_the_cap_is_the_largest_size_a_geometric_tail_still_expects_once():
    # 1,000 shared values, a tenth of them held by three or more: 1000 * 0.1 ** 7 = 1e-4 < EXPECTED_LARGER <= 1e-3
    assert cap_for(1000, 0.1) == 8
    assert 1000 * 0.1 ** (cap_for(1000, 0.1) - 2) >= EXPECTED_LARGER > 1000 * 0.1 ** (cap_for(1000, 0.1) - 1)


def test_a_larger_drop_and_larger_households_allow_larger_values():
    assert cap_for(100_000, 0.1) > cap_for(1_000, 0.1)
    assert cap_for(1_000, 0.3) > cap_for(1_000, 0.1)


@given(st.integers(min_value=0, max_value=10**9), st.floats(min_value=0.0, max_value=1.0))
def test_every_cap_lies_between_two_persons_and_the_ceiling(shared, ratio):
    assert 2 <= cap_for(shared, ratio) <= HOUSEHOLD_CEILING


def test_a_small_drop_that_shows_no_value_held_by_three_still_allows_some():
    caps = HouseholdCaps.measure({"address": (3, 0)})
    assert caps.of("address") >= 3


def test_kinds_are_capped_by_how_many_values_of_them_the_drop_shares():
    caps = HouseholdCaps.measure({"address": (40_000, 6_000), "mobile": (100, 0)})
    assert caps.of("address") > caps.of("mobile") >= 3
    assert caps.of("landline") == caps.default == caps.of("address")      # a kind never shared: as the most shared


def test_caps_survive_the_run_as_kept_in_its_rules():
    book = RuleBook()
    book.household_caps = HouseholdCaps.measure({"address": (40_000, 6_000), "email": (2_000, 90)})
    kept = rules_of_run(book)
    again = book_of_run({}, kept).household_caps
    assert again == book.household_caps
    assert any(entry.get("description", "").startswith("households: of 42,000 values") for entry in kept)
    assert book_of_run({}, rules_of_run(RuleBook())).household_caps is None     # a run before caps: FIXED applies


def _home(prefix, n, postcode, number, surname, card=None):
    return [record(f"{prefix}{i}", f"{prefix}{i}", surname, postcode=postcode, number=number, card=card)
            for i in range(n)]


def _drop(institution_size):
    """Many two-person households, some of three, and one address held by ``institution_size`` persons."""
    rows = []
    for h in range(300):
        rows += _home(f"h{h}_", 3 if h % 5 == 0 else 2, f"{1000 + h}AA", "1", f"fam{h}")
    rows += _home("care", institution_size, "9999ZZ", "1", "other")
    return pd.DataFrame(rows, columns=list(rows[0]))


def test_an_address_held_by_more_persons_than_the_drops_households_show_joins_nobody():
    records = _drop(12)
    edges, caps = measured_household_edges(make_engine("duckdb"), records)
    assert caps.of("address") < 12
    assert not (edges["value"] == "9999ZZ|1|").any()
    assert (edges["value"] == "1000AA|1|").sum() == 3          # a family of three still joins


def test_a_run_measures_its_caps_and_a_run_of_its_records_keeps_them():
    records = _drop(7)
    edges, caps = measured_household_edges(make_engine("duckdb"), records)
    assert (edges["value"] == "9999ZZ|1|").sum() == (7 if caps.of("address") >= 7 else 0)
    few = records[records["person"].str.startswith(("care", "h0_"))]
    # the records of a few persons (an incremental run, an explanation) are grouped under the run's caps
    assert household_edges(make_engine("duckdb"), few, caps).equals(edges[edges["person"].isin(few["person"])]
                                                                     .reset_index(drop=True))
    tight = HouseholdCaps({"address": 6}, {"address": 1}, {"address": 0}, FIXED_CAP)
    assert not (household_edges(make_engine("duckdb"), few, tight)["value"] == "9999ZZ|1|").any()
    assert (household_edges(make_engine("duckdb"), few, FIXED)["value"] == "9999ZZ|1|").sum() == 7


@pytest.mark.parametrize("kind", ["address", "loyalty_card", "email", "mobile", "landline", "building and surname"])
def test_a_run_without_caps_uses_the_fixed_cap_for_every_kind(kind):
    assert FIXED.of(kind) == FIXED_CAP


def test_a_drop_that_shares_no_value_keeps_the_fixed_cap():
    assert HouseholdCaps.measure({}).of("address") == FIXED_CAP


def test_no_shared_value_gives_no_edge_whatever_the_types_of_the_empty_frame():
    # an engine's empty result may type every column as a string (Spark under pandas 3)
    empty = pd.DataFrame({c: pd.Series([], dtype="str") for c in ("kind", "value", "person", "holders", "shared",
                                                                    "larger")})
    assert within_caps(empty, FIXED).empty
    assert measured_caps(empty) == HouseholdCaps.measure({})


def test_a_kind_whose_every_value_is_held_by_more_than_the_ceiling_is_still_measured():
    rows = _drop(3).to_dict("records")
    rows += [record(f"card{i}", f"card{i}", f"s{i}", card="2600000000017") for i in range(HOUSEHOLD_CEILING + 10)]
    edges, caps = measured_household_edges(make_engine("duckdb"), pd.DataFrame(rows))
    assert caps.shared["loyalty_card"] == 1 and caps.larger["loyalty_card"] == 1
    assert caps.of("loyalty_card") < caps.of("address")
    assert not (edges["kind"] == "loyalty_card").any()


def test_a_familys_building_values_do_not_raise_the_ratio_of_larger_values():
    only_own = HouseholdCaps.measure({"address": (1000, 100)}, ratio_from={"address"})
    counted = HouseholdCaps.measure({"address": (1000, 100), "building and surname": (900, 900)},
                                    ratio_from={"address"})
    assert counted.of("address") == only_own.of("address")
