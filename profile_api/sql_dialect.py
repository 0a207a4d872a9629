"""The few constructs of the profile queries that have no form sqlglot renders right for every engine.

The profile queries (``profile_api.golden``, ``profile_api.attributes``, ``profile_api.precompute``)
are written once, in DuckDB's dialect; the Spark engine renders them with sqlglot
(``identity.spark_engine.to_spark_sql``). Where DuckDB has a construct Spark lacks, or sqlglot renders
it into something that means another thing on Spark, the query asks here for a fragment of its
engine's dialect (``Engine.dialect``): DuckDB's is the text the queries always had, so DuckDB's
results do not change; Spark's is written so that sqlglot passes it through as it is.

* **timestamps in several formats**: DuckDB's ``try_strptime`` takes a list of formats; Spark
  tries ``try_to_timestamp`` once per format.
* **the first value in an order** (``first(x ORDER BY ...)``): Spark has no ordered aggregates but
  ``listagg``; ``min_by`` over a key that sorts the same way picks the same value.
* **the n-th element of a list that may be shorter**: Spark's ANSI mode fails where DuckDB gives NULL.
* **two decimals**: DuckDB's ``printf`` rounds a double's exact binary value; Java's formatter rounds
  its shortest decimal form half up (0.155 -> 0.16 against DuckDB's 0.15), and takes no decimals.
* **JSON**: DuckDB has a JSON type and builds arrays of mixed values; Spark writes JSON only from
  structs, maps and arrays of one type (``to_json``). Its fragments build the same JSON text, or
  JSON that reads the same (the keys of an object in another order, where they are read as a map).
"""

from __future__ import annotations

DUCKDB, SPARK = "duckdb", "spark"
DIALECTS: tuple[str, ...] = (DUCKDB, SPARK)

# Timestamps as the ingest accepts them: ISO 8601 (with or without time), dd-mm-yyyy, dd/mm/yyyy ...
TIMESTAMP_FORMATS: tuple[tuple[str, str], ...] = (   # (DuckDB's strptime, Spark's datetime pattern)
    ("%d-%m-%Y", "dd-MM-yyyy"), ("%d/%m/%Y", "dd/MM/yyyy"), ("%d.%m.%Y", "dd.MM.yyyy"),
    ("%Y/%m/%d", "yyyy/MM/dd"), ("%Y%m%d", "yyyyMMdd"),
)
_LATEST = 9223372036854775807     # a key beyond every -timestamp: no time sorts last


def _check(dialect: str) -> str:
    """Return the dialect, or raise ValueError when the profile queries have no fragments for it."""
    if dialect not in DIALECTS:
        raise ValueError(f"no profile SQL for the dialect '{dialect}'; known: {', '.join(DIALECTS)}")
    return dialect


def timestamp_sql(expr: str, dialect: str = DUCKDB) -> str:
    """Return SQL reading a text as a timestamp (no time zone) in any format the ingest accepts; NULL when none fits."""
    if _check(dialect) == DUCKDB:
        formats = ", ".join(f"'{f}'" for f, _ in TIMESTAMP_FORMATS)
        return f"coalesce(try_cast({expr} AS TIMESTAMP), try_strptime({expr}, [{formats}]))"
    tries = ", ".join(f"CAST(try_to_timestamp({expr}, '{p}') AS TIMESTAMP_NTZ)" for _, p in TIMESTAMP_FORMATS)
    return f"coalesce(try_cast({expr} AS TIMESTAMP), {tries})"


def most_of(value: str, count: str, latest: str, dialect: str = DUCKDB, where: str | None = None) -> str:
    """Return the aggregate of the value with the highest count, then the latest time, then the first value.

    The value and the count must not be NULL; a NULL time counts as the earliest.
    """
    condition = f" FILTER (WHERE {where})" if where else ""
    if _check(dialect) == DUCKDB:
        return f"first({value} ORDER BY {count} DESC, {latest} DESC, {value}){condition}"
    # DuckDB sorts NULLs last, also descending; -time of NULL is NULL, which the key puts beyond every time
    key = (f"named_struct('n', -({count}), 't', coalesce(-unix_micros(CAST({latest} AS TIMESTAMP)), {_LATEST}), "
           f"'v', {value})")
    return f"min_by({value}, {key}){condition}"


def first_of(value: str, by: str, dialect: str = DUCKDB) -> str:
    """Return the aggregate of the value with the least ``by`` (then the first value); neither may be NULL."""
    if _check(dialect) == DUCKDB:
        return f"first({value} ORDER BY {by}, {value})"
    return f"min_by({value}, named_struct('b', {by}, 'v', {value}))"


def last_known(value: str, partition: str, order: str, dialect: str = DUCKDB) -> str:
    """Return the window function of the last non-NULL value so far (this row included) in the order given."""
    frame = f"OVER (PARTITION BY {partition} ORDER BY {order} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"
    if _check(dialect) == DUCKDB:
        return f"last_value({value} IGNORE NULLS) {frame}"
    return f"last({value}, true) {frame}"


def second_largest(values: str, dialect: str = DUCKDB, where: str | None = None) -> str:
    """Return the aggregate of the second largest of the values (where the condition holds); NULL when fewer."""
    condition = f" FILTER (WHERE {where})" if where else ""
    if _check(dialect) == DUCKDB:
        return f"list_sort(list({values}){condition}, 'DESC')[2]"
    return f"try_element_at(sort_array(collect_list({values}){condition}, false), 2)"


def money_sql(expr: str, dialect: str = DUCKDB) -> str:
    """Return SQL writing an amount of euro (a decimal of two places) with two decimals."""
    if _check(dialect) == DUCKDB:
        return f"printf('%.2f', {expr})"
    return f"format_string('%.2f', CAST({expr} AS DOUBLE))"


def share_sql(part: str, whole: str, dialect: str = DUCKDB) -> str:
    """Return SQL writing part / whole with two decimals, rounded as C's printf rounds the double; NULL for a whole of 0.

    Java's formatter rounds a double's shortest decimal form half up; C (DuckDB) rounds its exact
    binary value, to even on a tie. They differ only where the quotient is a tie (…5 in the third
    decimal): exact in binary (a multiple of 1/8, such as 0.125) C rounds to even; otherwise the
    double lies a little above or below the tie and C rounds to that side. The Spark fragment finds
    that side exactly: ``x * 200`` split into two doubles that hold it without rounding (Dekker's
    product), compared with the odd number of half-hundredths the tie is.
    """
    ratio = f"({part}) / nullif({whole}, 0)"
    if _check(dialect) == DUCKDB:
        return f"printf('%.2f', {ratio})"
    # DuckDB divides decimals as doubles (3.30 / 132.00 is just below 0.025); Spark would divide them exactly
    x = f"(CAST({part} AS DOUBLE) / nullif(CAST({whole} AS DOUBLE), 0))"
    tie = f"(2 * floor({x} * 100) + 1)"                     # the nearest tie below-or-at x*200, in half-hundredths
    high = f"(CAST(134217729 AS DOUBLE) * {x} - (CAST(134217729 AS DOUBLE) * {x} - {x}))"  # the top 26 bits of x: high * 200 is exact
    side = f"((({high}) * 200 - {tie}) + ({x} - {high}) * 200)"
    return (f"CASE WHEN {x} * 200 <> {tie} THEN format_string('%.2f', {x}) "   # no tie: Java and C agree
            f"WHEN {x} * 8 = floor({x} * 8) THEN format_string('%.2f', bround({x}, 2)) "  # exact tie: to even
            f"WHEN {side} < 0 THEN format_string('%.2f', floor({x} * 100) / 100) "
            f"ELSE format_string('%.2f', (floor({x} * 100) + 1) / 100) END")


def json_text(expr: str, dialect: str = DUCKDB) -> str:
    """Return SQL writing a text or number as a JSON value (a string quoted and escaped; NULL as null)."""
    if _check(dialect) == DUCKDB:
        return f"to_json({expr})::VARCHAR"
    return f"substring(to_json(array({expr})), 2, length(to_json(array({expr}))) - 2)"


def json_array(items: tuple[str, ...], dialect: str = DUCKDB) -> str:
    """Return SQL writing the values (texts or numbers) as one JSON array."""
    if _check(dialect) == DUCKDB:
        return f"json_array({', '.join(items)})"
    return f"concat('[', concat_ws(',', {', '.join(json_text(i, dialect) for i in items)}), ']')"


def json_object(pairs: tuple[tuple[str, str], ...], dialect: str = DUCKDB) -> str:
    """Return SQL writing key/value pairs (values text) as a JSON object; on Spark a NULL value leaves its key out."""
    if _check(dialect) == DUCKDB:
        return f"json_object({', '.join(f'{k}, {v}' for k, v in pairs)})"
    return f"to_json(named_struct({', '.join(f'{k}, {v}' for k, v in pairs)}))"


def as_json(expr: str, dialect: str = DUCKDB) -> str:
    """Return SQL of JSON text as the dialect's JSON (DuckDB's JSON type; Spark keeps JSON as text)."""
    return f"{expr}::JSON" if _check(dialect) == DUCKDB else expr


def without_nulls(expr: str, dialect: str = DUCKDB) -> str:
    """Return SQL of a JSON object without its members whose value is null (Spark's objects have none)."""
    return f"json_merge_patch('{{}}', {expr})" if _check(dialect) == DUCKDB else expr


def json_object_agg(key: str, value: str, dialect: str = DUCKDB, value_is_json: bool = False) -> str:
    """Return SQL aggregating key/value pairs into one JSON object, keys in order.

    DuckDB's json_group_object takes no ORDER BY, so two runs over the same data could write the
    same object with its keys in another order; this writes the same text every time. The value is
    text (or a number), or JSON already with value_is_json.
    """
    if _check(dialect) == DUCKDB:
        return (f"(('{{' || string_agg(to_json({key})::VARCHAR || ':' || to_json({value})::VARCHAR, ',' "
                f"ORDER BY {key}) || '}}')::JSON)")
    member = f"concat({json_text(key, dialect)}, ':', {value if value_is_json else json_text(value, dialect)})"
    return f"concat('{{', array_join(array_sort(collect_list({member})), ','), '}}')"


def json_list_agg(items: tuple[str, ...], order: tuple[str, ...], dialect: str = DUCKDB) -> str:
    """Return SQL aggregating rows into a JSON array of JSON arrays, in the order of ``order``'s terms (ascending).

    Each item is text or a number, or JSON already when it is written ``json:EXPR`` (DuckDB's JSON type).
    """
    if _check(dialect) == DUCKDB:
        return f"to_json(list(json_array({', '.join(i.removeprefix('json:') for i in items)}) ORDER BY {', '.join(order)}))"
    parts = ", ".join(i.removeprefix("json:") if i.startswith("json:") else json_text(i, dialect) for i in items)
    keys = ", ".join(f"'k{n}', {term}" for n, term in enumerate(order))
    return (f"concat('[', array_join(transform(array_sort(collect_list(named_struct({keys}, "
            f"'item', concat('[', concat_ws(',', {parts}), ']')))), s -> s.item), ','), ']')")


def json_pets_and_delivery(pets: str, delivery: str, dialect: str = DUCKDB, pets_last: str = "NULL") -> str:
    """Return SQL writing a household's inferred part as stored: ``{"pets":[...],"delivery":...,"pets_last":{...}}``
    (pets_last: each pet's last kept purchase, ISO text, as a JSON object; ``{}`` when none), null kept."""
    if _check(dialect) == DUCKDB:
        return (f"json_object('pets', coalesce({pets}, []), 'delivery', {delivery}, "
                f"'pets_last', coalesce(({pets_last})::JSON, '{{}}'::JSON))::VARCHAR")
    return (f"""concat('{{"pets":', to_json(coalesce({pets}, array())), ',"delivery":', {json_text(delivery, dialect)}, """
            f"""',"pets_last":', coalesce({pets_last}, '{{}}'), '}}')""")
