"""People counts per shared value: an incremental run counts again only the values its delta touches."""

import pandas as pd
from hypothesis import given, settings, strategies as st

from identity.incremental import _values_to_recount
from identity.link import NAME_COUNT_COLUMNS, SHARED_COLUMNS, prepare

NAMES = st.sampled_from([None, "jan", "jan", "anna", "toos", "antonia", "kees"])


def _record(uid: int, draw_values: tuple) -> dict:
    first, email, mobile, card = draw_values
    return {"unique_id": f"pos:{uid:04d}", "given_first": first, "email": email, "mobile": mobile,
            "loyalty_card": card}


VALUES = st.tuples(NAMES, st.sampled_from([None, "a@x.nl", "b@x.nl", "c@x.nl"]),
                   st.sampled_from([None, "0611", "0622"]), st.sampled_from([None, "k1", "k2", "k3"]))


@settings(max_examples=60, deadline=None)
@given(before=st.lists(VALUES, min_size=1, max_size=25), changes=st.lists(st.tuples(st.integers(0, 40), VALUES)),
       deleted=st.sets(st.integers(0, 40)), uncounted=st.sets(st.integers(0, 40)))
def test_recounting_the_values_a_delta_touches_gives_the_counts_of_everything(before, changes, deleted, uncounted):
    published = prepare(None, pd.DataFrame([_record(i, v) for i, v in enumerate(before)]))  # type: ignore[arg-type]
    fresh = pd.DataFrame([_record(i, v) for i, v in dict(changes).items() if i not in deleted],
                         columns=["unique_id", "given_first", *SHARED_COLUMNS])
    gone_ids = set(fresh["unique_id"]) | {f"pos:{i:04d}" for i in deleted}
    kept = published[~published["unique_id"].isin(gone_ids)].copy()
    # records joined in real time since the snapshot carry no counts either
    kept.loc[kept["unique_id"].isin({f"pos:{i:04d}" for i in uncounted}), list(NAME_COUNT_COLUMNS)] = None
    everything = pd.concat([kept, fresh], ignore_index=True)
    recounted = prepare(None, everything,  # type: ignore[arg-type]
                        recount=_values_to_recount(everything, published[published["unique_id"].isin(gone_ids)]))
    counted = prepare(None, everything.drop(columns=list(NAME_COUNT_COLUMNS)))  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(recounted[counted.columns], counted)


def test_a_value_left_alone_keeps_the_count_it_carries():
    # "b@x.nl" is not touched: its stored count stands (even one a full count would not give)
    everything = pd.DataFrame([
        {"unique_id": "pos:1", "given_first": "jan", "email": "a@x.nl", "mobile": None, "loyalty_card": None,
         "email_names": None, "mobile_names": None, "loyalty_card_names": None},
        {"unique_id": "pos:2", "given_first": "anna", "email": "b@x.nl", "mobile": None, "loyalty_card": None,
         "email_names": 5, "mobile_names": 0, "loyalty_card_names": 0},
    ])
    found = prepare(None, everything, recount={"email": {"a@x.nl"}, "mobile": set(), "loyalty_card": set()})  # type: ignore[arg-type]
    assert found["email_names"].tolist() == [1, 5]
