"""A trained Splink model applied in Python: one pair of records scored in microseconds, no SQL.

Splink scores pairs by generating SQL (about 0.3 s for this model) and running it; for one record
at a time that is far too slow. Here the model's own SQL conditions (``sql_condition`` of every
comparison level, as the saved model holds them) are read once with sqlglot, the SQL parser Splink
itself uses, and turned into Python functions with SQL's three-valued logic (a comparison with NULL
is neither true nor false, and a level whose condition is not true is not taken). The levels' match
weights and term-frequency parameters are read from Splink's own settings objects, so defaults for
untrained levels, the m/u clamp and the exact-match level a term-frequency adjustment refers to are
Splink's. The scores equal Splink's (tests/unit/test_compiled_model.py compares them on real pairs).

Records are tuples laid out by a list of column names; a condition's ``given_first_l`` reads the
left record's ``given_first``. Term frequencies are given (``identity.scoring.term_frequencies``:
``count(value) / count(non-null values)`` per column, as Splink computes them over its input table).
This module is for the request path (ResolveRecord, and explanations through ``identity.scoring.QuickScorer``),
where building a linker (0.3 s) per model is fine but Splink's SQL per call is not.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlglot
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler
from sqlglot import exp
from splink.internals.settings_creator import SettingsCreator

Record = Sequence[Any]
Test = Callable[[Record, Record], Any]     # returns True, False or None (SQL NULL)
_SIDES = {"l": 0, "r": 1}


class UnsupportedCondition(ValueError):
    """A model's SQL condition uses something this evaluator does not know; the message names it."""


def _jaro_winkler(a: str, b: str) -> float:
    """Return DuckDB's jaro_winkler_similarity (rapidfuzz's, except that two empty strings score 0)."""
    return JaroWinkler.similarity(a, b) if a or b else 0.0


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "damerau_levenshtein": DamerauLevenshtein.distance,   # the unrestricted distance, as DuckDB's
    "jaro_winkler_similarity": _jaro_winkler,
    "jaro_winkler": _jaro_winkler,
}


def _compare(op: Callable[[Any, Any], bool], left: Test, right: Test) -> Test:
    def test(a: Record, b: Record) -> Any:
        x, y = left(a, b), right(a, b)
        return None if x is None or y is None else op(x, y)
    return test


def _and(left: Test, right: Test) -> Test:
    def test(a: Record, b: Record) -> Any:
        x = left(a, b)
        if x is False:
            return False
        y = right(a, b)
        if y is False:
            return False
        return None if x is None or y is None else True
    return test


def _or(left: Test, right: Test) -> Test:
    def test(a: Record, b: Record) -> Any:
        x = left(a, b)
        if x is True:
            return True
        y = right(a, b)
        if y is True:
            return True
        return None if x is None or y is None else False
    return test


def _function(function: Callable[..., Any], args: list[Test]) -> Test:
    def value(a: Record, b: Record) -> Any:
        values = [arg(a, b) for arg in args]
        return None if any(v is None for v in values) else function(*values)
    return value


def _substring(this: Test, start: Test, length: Test | None) -> Test:
    def value(a: Record, b: Record) -> Any:
        text, first = this(a, b), start(a, b)
        count = length(a, b) if length is not None else None
        if text is None or first is None or (length is not None and count is None):
            return None
        begin = max(int(first) - 1, 0)   # SQL counts from 1; DuckDB's substr for start >= 1
        return text[begin:] if count is None else text[begin:begin + int(count)]
    return value


def _regexp_extract(this: Test, pattern: Test, group: Test | None) -> Test:
    """Return DuckDB's regexp_extract: the group of the first match ('' without one; NULL in, NULL out)."""
    def value(a: Record, b: Record) -> Any:
        text, expression = this(a, b), pattern(a, b)
        index = group(a, b) if group is not None else 0
        if text is None or expression is None or index is None:
            return None
        found = re.search(expression, text)     # re keeps the patterns it compiled
        return "" if found is None else (found.group(int(index)) or "")
    return value


def _coalesce(args: list[Test]) -> Test:
    def value(a: Record, b: Record) -> Any:
        for arg in args:
            found = arg(a, b)
            if found is not None:
                return found
        return None
    return value


_COMPARISONS: dict[type, Callable[[Any, Any], bool]] = {
    exp.EQ: lambda x, y: x == y, exp.NEQ: lambda x, y: x != y, exp.GT: lambda x, y: x > y,
    exp.GTE: lambda x, y: x >= y, exp.LT: lambda x, y: x < y, exp.LTE: lambda x, y: x <= y,
}


def _column(name: str, table: str, columns: Mapping[str, int]) -> Test:
    """Return the reader of a column reference: ``x_l`` / ``l.x`` read the left record's x."""
    if table in _SIDES:
        side, column = _SIDES[table], name
    elif name[-2:].lower() in ("_l", "_r"):
        side, column = _SIDES[name[-1].lower()], name[:-2]
    else:
        raise UnsupportedCondition(f"column {name!r} names neither side (_l / _r)")
    if column not in columns:
        raise UnsupportedCondition(f"column {column!r} is not among the record's columns")
    i = columns[column]
    return (lambda a, b: a[i]) if side == 0 else (lambda a, b: b[i])


def _compile(node: exp.Expression, columns: Mapping[str, int]) -> Test:
    """Return a Python function of (left, right) computing a parsed SQL expression."""
    if isinstance(node, exp.Paren):
        return _compile(node.this, columns)
    if isinstance(node, exp.Column):
        return _column(node.name, node.table, columns)
    if isinstance(node, exp.Literal):
        value: Any = node.this if node.is_string else float(node.this) if "." in node.this else int(node.this)
        return lambda a, b: value
    if isinstance(node, exp.Null):
        return lambda a, b: None
    if isinstance(node, exp.Boolean):
        truth = node.this
        return lambda a, b: truth
    if isinstance(node, exp.And):
        return _and(_compile(node.this, columns), _compile(node.expression, columns))
    if isinstance(node, exp.Or):
        return _or(_compile(node.this, columns), _compile(node.expression, columns))
    if isinstance(node, exp.Not):
        inner = _compile(node.this, columns)
        return lambda a, b: None if (v := inner(a, b)) is None else not v
    if isinstance(node, exp.Is) and isinstance(node.expression, exp.Null):
        operand = _compile(node.this, columns)
        return lambda a, b: operand(a, b) is None
    if type(node) in _COMPARISONS:
        return _compare(_COMPARISONS[type(node)], _compile(node.this, columns), _compile(node.expression, columns))
    if isinstance(node, exp.Substring):
        length = node.args.get("length")
        return _substring(_compile(node.this, columns), _compile(node.args["start"], columns),
                          _compile(length, columns) if length is not None else None)
    if isinstance(node, exp.RegexpExtract):
        group = node.args.get("group")
        return _regexp_extract(_compile(node.this, columns), _compile(node.expression, columns),
                               _compile(group, columns) if group is not None else None)
    if isinstance(node, exp.Coalesce):
        return _coalesce([_compile(node.this, columns), *(_compile(e, columns) for e in node.expressions)])
    if isinstance(node, exp.JarowinklerSimilarity):
        return _function(_jaro_winkler, [_compile(node.this, columns), _compile(node.expression, columns)])
    if isinstance(node, exp.Anonymous) and str(node.this).lower() in _FUNCTIONS:
        return _function(_FUNCTIONS[str(node.this).lower()], [_compile(e, columns) for e in node.expressions])
    raise UnsupportedCondition(f"{node.sql(dialect='duckdb')!r} ({type(node).__name__}) is not supported")


def compile_condition(sql: str, columns: Mapping[str, int]) -> Test:
    """Return a function of (left, right) records that evaluates a Splink SQL condition (DuckDB dialect)."""
    if sql.strip().upper() == "ELSE":
        return lambda a, b: True
    return _compile(sqlglot.parse_one(sql, read="duckdb"), columns)


@dataclass(frozen=True)
class Level:
    """One comparison level, ready to apply: its test, gamma, match weight and term-frequency adjustment."""

    label: str
    gamma: int
    weight: float
    test: Test
    tf_column: int | None = None       # the record position of the column whose frequency adjusts the weight
    tf_name: str | None = None
    tf_weight: float = 1.0
    tf_minimum: float = 0.0
    log2_u_exact: float = 0.0          # log2 of the u of the exact-match level the adjustment refers to


@dataclass(frozen=True)
class Comparison:
    """One comparison of the model: its levels in the order Splink tries them."""

    name: str
    levels: tuple[Level, ...]


@dataclass(frozen=True)
class PairScore:
    """A scored pair: total match weight, match probability, and per comparison the level reached and its
    match weight (term-frequency adjustment included); the prior's weight and these add up to the total."""

    match_weight: float
    match_probability: float
    gammas: tuple[int, ...]
    levels: tuple[Level, ...]
    weights: tuple[float, ...]


def match_probability(weight: float) -> float:
    """Return the match probability of a match weight, as Splink computes it."""
    if weight >= 0:
        return 1.0 / (1.0 + 2.0 ** -weight)
    odds = 2.0 ** weight
    return odds / (1.0 + odds)


class ModelScorer:
    """Scores pairs of records with a trained Splink model (the saved model's JSON), as Splink would."""

    def __init__(self, model: Mapping[str, Any], columns: Sequence[str],
                 frequencies: Mapping[str, Mapping[Any, float]] | None = None) -> None:
        """Args:
            model: the model as ``linker.misc.save_model_to_json`` writes it (run.model_json).
            columns: the names of the record tuples' positions.
            frequencies: the term frequencies of each column the model adjusts for
                (``identity.scoring.term_frequencies``);
                a level whose column has none here is not adjusted, as Splink does for a value it
                finds in no table.
        """
        positions = {name: i for i, name in enumerate(columns)}
        settings = SettingsCreator.from_path_or_dict(dict(model)).get_settings("duckdb")
        prior = settings._probability_two_random_records_match
        self.prior_weight = math.log2(prior / (1.0 - prior))
        self.frequencies = {name: dict(values) for name, values in (frequencies or {}).items()}
        comparisons = []
        for comparison in settings.comparisons:
            levels = []
            for level in comparison.comparison_levels:
                test = compile_condition(level.sql_condition, positions)
                tf: dict[str, Any] = {}
                if level._has_tf_adjustments and level._tf_adjustment_weight != 0 and not level._is_else_level:
                    name = level._tf_adjustment_input_column_name
                    tf = {"tf_column": positions[name], "tf_name": name, "tf_weight": float(level._tf_adjustment_weight),
                          "tf_minimum": float(level._tf_minimum_u_value),
                          "log2_u_exact": math.log2(level._u_probability_corresponding_to_exact_match(
                              comparison.comparison_levels))}
                levels.append(Level(level.label_for_charts, level.comparison_vector_value, float(level._match_weight),
                                    test, **tf))
            comparisons.append(Comparison(comparison.output_column_name, tuple(levels)))
        self.comparisons: tuple[Comparison, ...] = tuple(comparisons)
        self.names = tuple(c.name for c in self.comparisons)
        self.tf_columns = tuple(sorted({level.tf_name for c in self.comparisons for level in c.levels
                                        if level.tf_name is not None}))

    def levels(self, left: Record, right: Record) -> tuple[Level, ...]:
        """Return the level each comparison reaches for a pair (the first whose condition is true)."""
        reached = []
        for comparison in self.comparisons:
            for level in comparison.levels:
                if level.test(left, right) is True:
                    break
            else:   # no level and no ELSE: Splink's CASE gives NULL; treat as the last level
                level = comparison.levels[-1]
            reached.append(level)
        return tuple(reached)

    def _tf_adjustment(self, level: Level, left: Record, right: Record) -> float:
        """Return the term-frequency adjustment of the match weight at a level (0 without one)."""
        table = self.frequencies.get(level.tf_name or "")
        if table is None or level.tf_column is None:
            return 0.0
        tf_l, tf_r = table.get(left[level.tf_column]), table.get(right[level.tf_column])
        first = tf_l if tf_l is not None else tf_r
        second = tf_r if tf_r is not None else tf_l
        if first is None or second is None:
            return 0.0
        return level.tf_weight * (level.log2_u_exact - math.log2(max(first, second, level.tf_minimum)))

    def score(self, left: Record, right: Record) -> PairScore:
        """Return the match weight, probability and levels of a pair, as Splink's predict gives them."""
        levels = self.levels(left, right)
        weights = tuple(level.weight + (self._tf_adjustment(level, left, right) if level.tf_column is not None else 0.0)
                        for level in levels)
        weight = self.prior_weight
        for part in weights:
            weight += part
        return PairScore(weight, match_probability(weight), tuple(level.gamma for level in levels), levels, weights)
