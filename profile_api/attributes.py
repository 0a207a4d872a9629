"""Derived attributes: computed in batch in SQL (DuckDB's, or Spark's) over all interactions of a person's records.

Every attribute carries the evidence it rests on (counts, dates, categories) as a flat mapping of
strings. Time is measured against **as of**: the latest interaction in the store, not the wall
clock, so resolving the same drop again gives the same attributes (a store fed daily is then as of
yesterday's last sale). Amounts are what was paid after discount; a return refunds its amount.

A return takes back the person's latest purchase of the same article (its sku; without one, of its category)
at or before it. A purchase returned in full (all its items) was not kept: it counts in what was paid and
refunded, in the items bought and returned and in the discount share, but not as a purchase (count, dates,
channel, store, delivery, lifecycle, repeat purchases): a customer who sent back every webshop order does
not prefer the webshop.

Attributes of a person (absent when there is nothing to base them on):

=====================  ====================================================================
purchase_count         purchases kept (not returned in full), over all time (0 for a person who never
                       bought; the evidence names the purchases returned in full)
last_purchase          date of the latest purchase kept
spend_12m              paid minus refunded over the 365 days up to as of, in euro (0 when a refund in
                       the window of a purchase before it would take it below)
favourite_categories   up to 3 categories with the most kept purchases (purchases - returns)
preferred_channel      the channel with the most purchases kept (ties: the latest)
preferred_store        the store with the most till purchases kept
preferred_delivery     the delivery method used most for webshop orders kept
return_rate            items returned / items bought (a row's quantity, 1 when none)
discount_share         share of purchases bought with a discount (price sensitivity); the
                       evidence adds the discount as a share of the undiscounted spend
lifecycle_stage        of the purchases kept: new: first purchase at most NEW_DAYS before as of; otherwise active:
                       last purchase at most ACTIVE_DAYS before; at_risk: at most AT_RISK_DAYS;
                       lapsed: longer ago
clothing_size          the size of most kept purchases in the person's own clothing category
                       (with several, such as women's and men's: the one they keep most of; the
                       other is usually bought for a partner); numeric sizes read through SIZE_CHART.
                       Purchases in the size of another member of the household who keeps at least
                       as many in it (in the same category) count as bought for them, but the size
                       the person keeps most of only when the member keeps more in it; when two
                       sizes tie there is no size (split evidence is as often a partner's). Sizes
                       are read in one notation ("maat 40", "EU 42", "42.0": 40 and 42)
shoe_size              likewise, from the person's own shoe category
pets                   the animals of the pet food they kept (dog, cat, bird, ...), comma-separated
next_purchase_date     for repeat categories (at least REPEAT_MIN_PURCHASES purchases on
                       different days and as many items kept, median interval
                       REPEAT_MIN_DAYS..REPEAT_MAX_DAYS, not missed for more than one
                       interval): last purchase + median interval;
                       the soonest category is the value, the others are in the evidence
=====================  ====================================================================

A household's pets are those of the kept pet-food purchases of all its members; its delivery
preference is the method its members' webshop orders kept used most.

Which categories are clothing, shoes or pet food (and for which animal) is the run's category
taxonomy (``identity.categories``): the table ``categories_in`` (category, group, pet), joined to
the interactions in the query. Without one, the built-in defaults apply.
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd

from identity.categories import taxonomy_frame
from identity.engine import Engine, make_engine
from profile_api.sql_dialect import (
    DUCKDB, as_json, first_of, json_object, json_object_agg, last_known, money_sql, most_of, second_largest, share_sql,
    timestamp_sql, without_nulls,
)

ATTRIBUTES: tuple[str, ...] = (
    "purchase_count", "last_purchase", "spend_12m", "favourite_categories", "preferred_channel",
    "preferred_store", "preferred_delivery", "return_rate", "discount_share", "lifecycle_stage",
    "clothing_size", "shoe_size", "pets", "next_purchase_date",
)

NEW_DAYS = 90
ACTIVE_DAYS = 180
AT_RISK_DAYS = 365
SPEND_WINDOW_DAYS = 365
FAVOURITES = 3
REPEAT_MIN_PURCHASES = 3
REPEAT_MIN_DAYS = 7
REPEAT_MAX_DAYS = 120

# The retailer's size chart: numeric (EU) clothing sizes as letter sizes.
SIZE_CHART: dict[str, str] = {"34": "XXS", "36": "XS", "38": "S", "40": "M", "42": "L", "44": "XL", "46": "XXL",
                              "48": "3XL"}


def _date(expr: str) -> str:
    return f"strftime({expr}, '%Y-%m-%d')"


def _days(since: str, until: str) -> str:
    """Return SQL of the days between two instants: the midnights passed (DuckDB's date_diff; on dates, so
    that Spark, which counts whole days of 24 hours between timestamps, counts the same)."""
    return f"date_diff('day', CAST({since} AS DATE), CAST({until} AS DATE))"


def _as_of_sql(as_of: dt.datetime | None) -> str:
    """Return the SQL of the as-of instant: given, or the latest interaction."""
    if as_of is None:
        return "(SELECT max(occurred) FROM trades)"
    return f"TIMESTAMP '{as_of.replace(tzinfo=None).isoformat(sep=' ')}'"


# A size as tills and web forms write it, in one notation: "maat 40", "Mt. 40", "EU42", "42.0" and "42,0" are 40
# and 42; "42,5" is 42.5. What is left is upper case ("m" is "M"). A size chart of another system ("UK 8") stays as
# written: its conversion depends on the maker and on men's or women's.
# The prefix goes only before a separator or a digit: "MT" alone is a size (tall M), "MT 40" is 40.
_PREFIX = "^(MAAT|MT|SIZE|EUR|EU)"
_SIZE_SQL = ("nullif(regexp_replace(replace(CASE WHEN regexp_matches(upper(trim({0})), '" + _PREFIX + "([.: ]|[0-9])') "
             "THEN regexp_replace(upper(trim({0})), '" + _PREFIX + "[.: ]*', '') ELSE upper(trim({0})) END, ',', '.'), "
             "'[.]0+$', ''), '')")


def _interactions_sql(as_of: dt.datetime | None, dialect: str = DUCKDB) -> str:
    """Return the CTEs every attribute query starts from: ix (typed interactions with their person and
    the group and pet of their category in categories_in) and kept (what each person kept)."""
    chart = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in SIZE_CHART.items())
    size = _SIZE_SQL.format("i.size")
    return f"""
trades AS MATERIALIZED (
    SELECT l.customer_id, l.household_id, i.source, i.type, {timestamp_sql('i.occurred_at', dialect)} AS occurred,
           coalesce(i.sku, i.category) AS article,
           i.category, coalesce(c.grp, 'other') AS grp, c.pet,
           CASE WHEN c.grp = 'clothing'
                THEN CASE {size} {chart} ELSE {size} END
                ELSE {size} END AS size,
           abs(coalesce(try_cast(i.amount_eur AS DECIMAL(18, 2)), 0)) AS amount,   -- a return's written -12.50 too
           CAST(greatest(round(coalesce(abs(try_cast(i.quantity AS DOUBLE)), 1)), 1) AS BIGINT) AS units,   -- items
           coalesce(try_cast(i.discount_eur AS DECIMAL(18, 2)), 0) AS discount,
           nullif(trim(i.store_id), '') AS store_id, nullif(trim(i.delivery_method), '') AS delivery_method
    FROM (SELECT source, record_id, type, occurred_at, nullif(trim(sku), '') AS sku, nullif(trim(category), '') AS category,
                 size, amount_eur, quantity, discount_eur, store_id, delivery_method
          FROM interactions_in WHERE type IN ('purchase', 'return')) i
    JOIN links_in l ON i.source = l.source AND i.record_id = l.record_id
    LEFT JOIN (SELECT category::VARCHAR AS category, "group"::VARCHAR AS grp, pet::VARCHAR AS pet FROM categories_in) c
           ON c.category = i.category
),
taken_back AS (
    -- A return takes back the person's latest purchase of the same article (its sku; without one, its
    -- category) at or before it: the items each purchase had taken back.
    SELECT customer_id, article, bought_at, sum(units) AS units FROM (
        SELECT customer_id, type, units, article,
               {last_known("CASE WHEN type = 'purchase' THEN occurred END", "customer_id, article", "occurred, type",
                           dialect)} AS bought_at
        FROM trades WHERE article IS NOT NULL
    ) r WHERE type = 'return' AND bought_at IS NOT NULL GROUP BY customer_id, article, bought_at
),
ix AS MATERIALIZED (
    -- kept_buy: a purchase not returned in full. Counts, dates, channels and habits are of these; what was
    -- paid, items bought and discounts are of every purchase (a refund takes its amount back).
    SELECT x.*, x.type = 'purchase' AND coalesce(t.units, 0) < x.units AS kept_buy
    FROM trades x LEFT JOIN taken_back t
      ON x.type = 'purchase' AND t.customer_id = x.customer_id AND t.article = x.article AND t.bought_at = x.occurred
),
as_of AS (SELECT {_as_of_sql(as_of)} AS t),
sized AS (
    -- A return that names no size takes back the size of the person's last purchase of its article (sku) before
    -- it, else of its category (purchases at one instant in the order of their sizes: the same answer every run).
    SELECT customer_id, household_id, type, occurred, category, grp, pet, amount, units,
           coalesce(size, CASE WHEN type = 'return' THEN coalesce(
               {last_known("CASE WHEN type = 'purchase' THEN size END", "customer_id, article",
                           "occurred, type, size", dialect)},
               {last_known("CASE WHEN type = 'purchase' THEN size END", "customer_id, category",
                           "occurred, type, size", dialect)}) END) AS size
    FROM ix
),
kept AS MATERIALIZED (
    -- Items bought minus items returned of the same category and size: what the person kept.
    SELECT customer_id, household_id, category, any_value(grp) AS grp, any_value(pet) AS pet, size,
           coalesce(sum(units) FILTER (WHERE type = 'purchase'), 0) AS purchases,
           coalesce(sum(units) FILTER (WHERE type = 'return'), 0) AS returns,
           greatest(coalesce(sum(units) FILTER (WHERE type = 'purchase'), 0)
                    - coalesce(sum(units) FILTER (WHERE type = 'return'), 0), 0) AS kept,
           sum(amount) FILTER (WHERE type = 'purchase') AS paid,
           max(occurred) FILTER (WHERE type = 'purchase') AS last_at
    FROM sized GROUP BY customer_id, household_id, category, size
)"""


def latest_interaction_sql() -> str:
    """Return the DuckDB query of the instant a run's attributes are as of when none is given: its latest
    purchase or return of a linked record (column t; over interactions_in, links_in, categories_in)."""
    return f"WITH {_interactions_sql(None)} SELECT max(occurred) AS t FROM trades"


def attributes_sql(as_of: dt.datetime | None = None, dialect: str = DUCKDB) -> str:
    """Return the query (DuckDB's dialect, its fragments for ``dialect``) over interactions_in, links_in and
    categories_in: one row per person and attribute."""
    def ev(*pairs: str) -> str:
        return json_object(tuple(zip(pairs[::2], pairs[1::2])), dialect)

    def _money(expr: str) -> str:
        return money_sql(expr, dialect)

    def _share(part: str, whole: str) -> str:
        return share_sql(part, whole, dialect)

    def agg(key: str, value: str) -> str:
        return json_object_agg(key, value, dialect)

    return f"""
WITH {_interactions_sql(as_of, dialect)},
persons AS (SELECT DISTINCT customer_id FROM links_in),
totals AS MATERIALIZED (
    SELECT p.customer_id, any_value(as_of.t) AS t,
        count(*) FILTER (WHERE kept_buy) AS purchases,
        count(*) FILTER (WHERE type = 'purchase') AS bought,
        count(*) FILTER (WHERE type = 'return') AS returns,
        coalesce(sum(units) FILTER (WHERE type = 'purchase'), 0) AS units_bought,
        coalesce(sum(units) FILTER (WHERE type = 'return'), 0) AS units_returned,
        min(occurred) FILTER (WHERE kept_buy) AS first_at,
        max(occurred) FILTER (WHERE kept_buy) AS last_at,
        arg_max(category, occurred) FILTER (WHERE kept_buy) AS last_category,
        arg_max(source, occurred) FILTER (WHERE kept_buy) AS last_source,
        count(*) FILTER (WHERE kept_buy AND occurred > t - INTERVAL {SPEND_WINDOW_DAYS} DAY) AS purchases_12m,
        coalesce(sum(amount) FILTER (WHERE type = 'purchase' AND occurred > t - INTERVAL {SPEND_WINDOW_DAYS} DAY), 0) AS paid_12m,
        coalesce(sum(amount) FILTER (WHERE type = 'return' AND occurred > t - INTERVAL {SPEND_WINDOW_DAYS} DAY), 0) AS refunded_12m,
        count(*) FILTER (WHERE type = 'purchase' AND discount > 0) AS discounted,
        coalesce(sum(discount) FILTER (WHERE type = 'purchase'), 0) AS discount_eur,
        coalesce(sum(amount + discount) FILTER (WHERE type = 'purchase'), 0) AS gross_eur
    FROM persons p LEFT JOIN ix ON ix.customer_id = p.customer_id, as_of
    GROUP BY p.customer_id
),
bought AS (SELECT * FROM totals WHERE bought > 0),
category_kept AS (
    SELECT customer_id, category, any_value(grp) AS grp, any_value(pet) AS pet,
           sum(kept) AS kept, sum(paid) AS paid, max(last_at) AS last_at
    FROM kept WHERE category IS NOT NULL GROUP BY customer_id, category HAVING sum(kept) > 0
),
favourites AS (
    SELECT * FROM (
        SELECT *, row_number() OVER (PARTITION BY customer_id ORDER BY kept DESC, paid DESC, category) AS rank
        FROM category_kept
    ) WHERE rank <= {FAVOURITES}
),
by_value AS (
    -- Purchase counts per channel, store and delivery method.
    SELECT customer_id, 'preferred_channel' AS name, source AS value, count(*) AS n, max(occurred) AS last_at
    FROM ix WHERE kept_buy GROUP BY customer_id, source
    UNION ALL
    SELECT customer_id, 'preferred_store', store_id, count(*), max(occurred)
    FROM ix WHERE kept_buy AND store_id IS NOT NULL GROUP BY customer_id, store_id
    UNION ALL
    SELECT customer_id, 'preferred_delivery', delivery_method, count(*), max(occurred)
    FROM ix WHERE kept_buy AND delivery_method IS NOT NULL GROUP BY customer_id, delivery_method
),
preferred AS (
    SELECT customer_id, name, {most_of('value', 'n', 'last_at', dialect)} AS value, max(n) AS n, sum(n) AS total,
           {agg('value', 'n::VARCHAR')} AS counts
    FROM by_value GROUP BY customer_id, name
),
own_category AS (
    -- Per group with sizes, the category the person keeps most of: their own. With several clothing
    -- categories (women's and men's) the other one is mostly bought for a partner.
    SELECT customer_id, grp, {most_of('category', 'kept', 'last_at', dialect)} AS category
    FROM category_kept WHERE grp IN ('clothing', 'shoes') GROUP BY customer_id, grp
),
own_kept AS (
    SELECT k.* FROM kept k
    JOIN own_category o ON o.customer_id = k.customer_id AND o.grp = k.grp AND o.category = k.category
),
member_size AS (
    -- Each person's size before looking at the household: the size they keep most of.
    SELECT customer_id, household_id, grp, category, {most_of('size', 'kept', 'last_at', dialect)} AS size,
           max(kept) AS kept
    FROM own_kept WHERE kept > 0 AND size IS NOT NULL GROUP BY customer_id, household_id, grp, category
),
for_member AS (
    -- Kept purchases in the size of another member of the household (same category), who keeps at
    -- least as many in it: most likely bought for them. With a single clothing category this is what
    -- tells a mother's own size from the one she buys for her husband. The size a person keeps most of
    -- is taken for a member's only when that member keeps more in it: a mother and a daughter who keep
    -- as many in M each keep M for themselves (when the daughter keeps more, the mother's M is read as
    -- bought for her: the evidence cannot tell the two apart).
    SELECT DISTINCT k.customer_id, k.grp, k.size FROM own_kept k
    JOIN member_size m ON m.household_id = k.household_id AND m.grp = k.grp AND m.category = k.category
                      AND m.size = k.size AND m.customer_id <> k.customer_id AND m.kept >= k.kept
    LEFT JOIN member_size mine ON mine.customer_id = k.customer_id AND mine.grp = k.grp
                              AND mine.category = k.category
    WHERE k.kept > 0 AND (mine.size IS NULL OR mine.size <> k.size OR m.kept > k.kept)
),
sizes AS (
    SELECT customer_id, CASE grp WHEN 'shoes' THEN 'shoe_size' ELSE 'clothing_size' END AS name,
           any_value(category) AS category,
           {most_of('size', 'kept', 'last_at', dialect, where='own')} AS value,
           max(kept) FILTER (WHERE own) AS in_size,
           coalesce({second_largest('kept', dialect, where='own')}, 0) AS runner_up,
           sum(kept) FILTER (WHERE for_member) AS for_members,
           sum(kept) AS kept, sum(returns) AS returns
    FROM (SELECT k.*, f.size IS NOT NULL AS for_member, k.kept > 0 AND k.size IS NOT NULL AND f.size IS NULL AS own
          FROM own_kept k LEFT JOIN for_member f ON f.customer_id = k.customer_id AND f.grp = k.grp AND f.size = k.size)
    GROUP BY customer_id, grp
),
pets AS (
    SELECT customer_id, array_to_string(list_sort(list(DISTINCT pet)), ',') AS value,
           {agg("category || '_kept_purchases'", 'kept::VARCHAR')} AS evidence
    FROM category_kept WHERE grp = 'pet_food' GROUP BY customer_id
),
purchase_days AS (
    SELECT DISTINCT customer_id, category, CAST(occurred AS DATE) AS day FROM ix
    WHERE kept_buy AND category IS NOT NULL
),
intervals AS (
    SELECT customer_id, category, day,
           date_diff('day', lag(day) OVER (PARTITION BY customer_id, category ORDER BY day), day) AS gap
    FROM purchase_days
),
repeat AS (
    -- A habit is what the person keeps: a category bought again and again and returned each time is none.
    SELECT i.customer_id, i.category, count(*) AS purchases, max(day) AS last_day,
           round(median(gap))::INT AS interval_days
    FROM intervals i JOIN category_kept c ON c.customer_id = i.customer_id AND c.category = i.category
    WHERE c.kept >= {REPEAT_MIN_PURCHASES}
    GROUP BY i.customer_id, i.category
    HAVING count(*) >= {REPEAT_MIN_PURCHASES} AND median(gap) BETWEEN {REPEAT_MIN_DAYS} AND {REPEAT_MAX_DAYS}
),
due AS (
    SELECT r.*, r.last_day + r.interval_days AS next_day FROM repeat r, as_of
    WHERE date_diff('day', r.last_day, CAST(as_of.t AS DATE)) <= 2 * r.interval_days
),
next_purchase AS (
    SELECT customer_id, {first_of('category', 'next_day', dialect)} AS category,
           min(next_day) AS next_day,
           string_agg(category || ' ' || strftime(next_day, '%Y-%m-%d'), ', ' ORDER BY next_day, category) AS all_due
    FROM due GROUP BY customer_id
),
rows AS (
    SELECT customer_id, 'purchase_count' AS name, purchases::VARCHAR AS value,
           {ev("'purchases'", 'purchases::VARCHAR', "'returns'", 'returns::VARCHAR',
               "'returned_in_full'", "CASE WHEN bought > purchases THEN (bought - purchases)::VARCHAR END",
               "'first_purchase'", _date('first_at'), "'last_purchase'", _date('last_at'))} AS evidence
    FROM totals
    UNION ALL
    SELECT customer_id, 'last_purchase', {_date('last_at')},
           {ev("'category'", 'last_category', "'channel'", 'last_source',
               "'days_before_as_of'", f"{_days('last_at', 't')}::VARCHAR", "'as_of'", _date('t'))}
    FROM bought WHERE purchases > 0
    UNION ALL
    SELECT customer_id, 'spend_12m', {_money('greatest(paid_12m - refunded_12m, 0)')},
           {ev("'purchases'", 'purchases_12m::VARCHAR', "'paid_eur'", _money('paid_12m'),
               "'refunded_eur'", _money('refunded_12m'),
               "'from'", _date(f't - INTERVAL {SPEND_WINDOW_DAYS} DAY'), "'as_of'", _date('t'))}
    FROM bought
    UNION ALL
    SELECT customer_id, 'favourite_categories', string_agg(category, ',' ORDER BY rank),
           {agg('category', "kept::VARCHAR || ' kept purchases'")}
    FROM favourites GROUP BY customer_id
    UNION ALL
    SELECT customer_id, name, value,
           CASE WHEN name = 'preferred_store'
                THEN {ev("'purchases_in_store'", 'n::VARCHAR', "'store_purchases'", 'total::VARCHAR')}
                ELSE {as_json('counts', dialect)} END
    FROM preferred
    UNION ALL
    SELECT customer_id, 'return_rate', {_share('least(units_returned, units_bought)', 'units_bought')},
           {ev("'items_returned'", 'units_returned::VARCHAR', "'items_bought'", 'units_bought::VARCHAR',
               "'returns'", 'returns::VARCHAR', "'purchases'", 'bought::VARCHAR')}
    FROM bought
    UNION ALL
    SELECT customer_id, 'discount_share', {_share('discounted', 'bought')},
           {ev("'discounted_purchases'", 'discounted::VARCHAR', "'purchases'", 'bought::VARCHAR',
               "'discount_eur'", _money('discount_eur'), "'undiscounted_eur'", _money('gross_eur'),
               "'discount_of_spend'", _share('discount_eur', 'gross_eur'))}
    FROM bought
    UNION ALL
    SELECT customer_id, 'lifecycle_stage',
           CASE WHEN {_days('first_at', 't')} <= {NEW_DAYS} THEN 'new'
                WHEN {_days('last_at', 't')} <= {ACTIVE_DAYS} THEN 'active'
                WHEN {_days('last_at', 't')} <= {AT_RISK_DAYS} THEN 'at_risk'
                ELSE 'lapsed' END,
           {ev("'first_purchase'", _date('first_at'), "'last_purchase'", _date('last_at'),
               "'days_since_last_purchase'", f"{_days('last_at', 't')}::VARCHAR", "'as_of'", _date('t'))}
    FROM bought WHERE purchases > 0
    UNION ALL
    SELECT customer_id, name, value,
           {ev("'category'", 'category', "'kept_purchases_in_size'", 'in_size::VARCHAR',
               "'kept_purchases'", 'kept::VARCHAR', "'returns'", 'returns::VARCHAR',
               "'kept_purchases_in_household_members_sizes'", 'for_members::VARCHAR')}
    FROM sizes WHERE value IS NOT NULL AND in_size > runner_up   -- a tie is no size: often the person's and a partner's
    UNION ALL
    SELECT customer_id, 'pets', value, evidence FROM pets
    UNION ALL
    SELECT n.customer_id, 'next_purchase_date', {_date('n.next_day')},
           {ev("'category'", 'n.category', "'interval_days'", 'r.interval_days::VARCHAR',
               "'last_purchase'", _date('r.last_day'), "'purchases'", 'r.purchases::VARCHAR',
               "'all_repeat_categories'", 'n.all_due')}
    FROM next_purchase n JOIN repeat r ON r.customer_id = n.customer_id AND r.category = n.category
)
-- Evidence leaves out what is unknown (a merge patch drops members that are null).
SELECT customer_id, name, value, {without_nulls('evidence', dialect)} AS evidence FROM rows WHERE value IS NOT NULL"""


def household_attributes_sql(as_of: dt.datetime | None = None, dialect: str = DUCKDB) -> str:
    """Return the query (DuckDB's dialect, its fragments for ``dialect``) over interactions_in, links_in and
    categories_in: pets and delivery per household."""
    return f"""
WITH {_interactions_sql(as_of, dialect)},
pet_last AS (
    SELECT household_id, pet, replace(strftime(max(last_at), '%Y-%m-%d %H:%M:%S'), ' ', 'T') AS last_at
    FROM kept WHERE grp = 'pet_food' AND kept > 0 GROUP BY household_id, pet
),
pets AS (
    -- Each pet with its last kept purchase: a stated "none" hides the pets bought before it.
    SELECT household_id, list_sort(list(pet)) AS pets, {json_object_agg('pet', 'last_at', dialect)} AS pets_last
    FROM pet_last GROUP BY household_id
),
delivery AS (
    SELECT household_id, {most_of('delivery_method', 'n', 'last_at', dialect)} AS delivery FROM (
        SELECT household_id, delivery_method, count(*) AS n, max(occurred) AS last_at FROM ix
        WHERE kept_buy AND delivery_method IS NOT NULL GROUP BY household_id, delivery_method
    ) GROUP BY household_id
)
SELECT coalesce(p.household_id, d.household_id) AS household_id, p.pets, p.pets_last, d.delivery
FROM pets p FULL JOIN delivery d ON p.household_id = d.household_id"""


def with_sku(interactions: pd.DataFrame) -> pd.DataFrame:
    """Return the interactions with an sku column (empty where an extract has none: returns then take back a
    purchase of their category)."""
    if "sku" in interactions.columns:
        return interactions
    return interactions.assign(sku=pd.Series([None] * len(interactions), index=interactions.index, dtype=object))


def derive_attributes(interactions: pd.DataFrame, links: pd.DataFrame, as_of: dt.datetime | None = None,
                      engine: Engine | None = None, categories: pd.DataFrame | None = None) -> pd.DataFrame:
    """Return the derived attributes of every person, one row per person and attribute.

    Args:
        interactions: interactions.csv columns (source, record_id, type, occurred_at, sku (optional), category,
            size, amount_eur, discount_eur, store_id, delivery_method), values as text or numbers.
        links: source, record_id, customer_id, household_id of every record.
        as_of: the instant "now" is; the latest interaction when None.
        engine: the SQL engine to run on (a fresh DuckDB by default).
        categories: the category taxonomy (category, group, pet; ``identity.categories``); the
            built-in defaults when None.

    Returns:
        columns customer_id, name (one of ATTRIBUTES), value, evidence (a dict of strings).
    """
    engine = engine or make_engine("duckdb")
    frame = engine.sql(attributes_sql(as_of, engine.dialect), interactions_in=with_sku(interactions), links_in=links,
                       categories_in=taxonomy_frame() if categories is None else categories)
    frame["evidence"] = frame["evidence"].map(json.loads)
    order = {name: i for i, name in enumerate(ATTRIBUTES)}
    frame = frame.assign(_order=frame["name"].map(order)).sort_values(["customer_id", "_order"])
    return frame.drop(columns="_order").reset_index(drop=True)
