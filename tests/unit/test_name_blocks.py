"""Name-only blocking rules are capped in the batch's predict; the saved model keeps the plain rules."""

import pandas as pd
import pytest
from splink import Linker

from identity.engine import make_engine
from identity.model import NAME_BLOCKS, capped_rules, plain_rules, settings, with_block_sizes


def test_block_sizes_count_the_records_sharing_each_name_block():
    frame = pd.DataFrame({
        "given_canonical": ["jan", "jan", "jan", None],
        "surname_core": ["vries", "vries", "bakker", "vries"],
        "initial": ["j", "j", "j", None],
        "city": ["delft", "breda", "delft", "delft"],
    })
    sized = with_block_sizes(frame)
    assert sized["block_size_given_surname"].tolist() == [2, 2, 1, 0]     # a missing key is in no block
    assert sized["block_size_surname_initial"].tolist() == [2, 2, 1, 0]
    assert sized["block_size_surname_city"].tolist() == [2, 1, 1, 2]
    assert list(frame.columns) == ["given_canonical", "surname_core", "initial", "city"]   # the input is left as it was


@pytest.mark.parametrize("dialect", ["duckdb", "spark"])
def test_capping_touches_only_the_name_rules_and_is_undone_for_saving(dialect):
    model = settings().create_settings_dict(dialect)
    capped = capped_rules(model, dialect, cap=7)
    before = [r["blocking_rule"] for r in model["blocking_rules_to_generate_predictions"]]
    after = [r["blocking_rule"] for r in capped["blocking_rules_to_generate_predictions"]]
    changed = [(b, a) for b, a in zip(before, after) if b != a]
    assert len(changed) == len(NAME_BLOCKS)
    assert all(a.startswith(b) and a.endswith("<= 7") for b, a in changed)
    assert plain_rules(capped, cap=7) == model


def test_a_name_block_above_the_cap_makes_no_pairs_of_its_own():
    # Four records share surname and initial and nothing else; two others share another, rarer name.
    rows = [(f"r{i}", name, "jansen", "j") for i, name in enumerate(["jan", "joop", "joris", "jeroen"])] + \
           [("s1", "piet", "zwart", "p"), ("s2", "pieter", "zwart", "p")]
    frame = pd.DataFrame(rows, columns=["unique_id", "given_first", "surname_core", "initial"])
    columns = ["given_canonical", "initials", "surname_first", "surname_last", "birth_date", "email", "email_names",
               "email_local", "email_domain", "email_domain_head", "email_year", "mobile", "mobile_names", "landline",
               "loyalty_card", "loyalty_card_names", "city", "street", "postcode", "house_number", "address_key",
               "source", "record_id"]
    frame = frame.assign(**{c: None for c in columns}).assign(given_canonical=frame["given_first"],
                                                            email_names=0, mobile_names=0, loyalty_card_names=0)
    frame = frame.astype({c: "string" for c in frame.columns if c not in ("email_names", "mobile_names",
                                                                          "loyalty_card_names")})
    engine = make_engine("duckdb")
    try:
        api = engine.splink_api()
        model = settings().create_settings_dict("duckdb")

        def pairs(cap: int) -> set[tuple[str, str]]:
            linker = Linker(api.register(engine.table(with_block_sizes(frame))), capped_rules(model, "duckdb", cap=cap))
            found = linker.inference.predict().as_pandas_dataframe()
            return set(zip(found["unique_id_l"], found["unique_id_r"]))

        assert len([a for a, _ in pairs(cap=4) if a.startswith("r")]) == 6   # every two of the four
        capped = pairs(cap=3)
        assert not any(a.startswith("r") for a, _ in capped)
        assert ("s1", "s2") in capped
    finally:
        engine.close()
