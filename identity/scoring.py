"""Scoring explicit pairs of records with a trained model, as the run that trained it scored them.

A batch run scores pairs of a whole drop (``identity.link``). To explain one pair later, or to draw
its waterfall chart, the two records are scored again with the saved model, and must then look to
the model exactly as they did in the run:

- standardised again (``standardise_record``), with the completions the run made from the drop as a
  whole (a surname read from the e-mail, a postcode completed from street and number) taken from
  the values the run stored (``restandardise``);
- with the people counts of their shared e-mail, mobile and card as the drop had them
  (``identity.link.prepare`` over the records and every stored record sharing one of those values);
- with the term frequencies of the drop (``tf_<column>`` columns; Splink would otherwise count
  them in the two records alone).

Two scorers give the same rows: ``QuickScorer`` applies the model in Python (``identity.compiled_model``, about
a millisecond a pair) for explanations; ``PairScorer`` runs Splink itself, whose waterfall charts need its rows.
Building a Splink linker costs about 0.3 s and its SQL is generated on every call (about 0.4 s), so
``PairScorer`` builds one per model and is kept. No storage here: the caller reads the records, their
neighbours and the counts.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import pandas as pd
from splink import DuckDBAPI, Linker

from identity.addresses import address_key
from identity.compiled_model import ModelScorer, Test, compile_condition
from identity.link import SHARED_COLUMNS, prepare
from identity.model import blocking_rules_of
from identity.placeholder_values import IDENTIFIER_COLUMNS, NAME_COLUMNS
from identity.standardise import STANDARD_COLUMNS, standardise_record

# The raw columns of an identity record, as a drop (and the store's source_record) holds them.
RAW_COLUMNS: tuple[str, ...] = ("first_name", "last_name", "birth_date", "email", "phone", "street", "house_number",
                                "postcode", "city", "loyalty_card", "updated_at")
# The neighbours' columns: what ``prepare`` counts people with.
NEIGHBOUR_COLUMNS: tuple[str, ...] = ("unique_id", "given_first", *SHARED_COLUMNS)


def restandardise(raw: Mapping[str, Any], stored: Mapping[str, Any]) -> dict[str, Any]:
    """Return a record standardised as its run had it: ``standardise_record`` plus the drop's completions.

    Args:
        raw: source, record_id and the RAW_COLUMNS as received.
        stored: the standardised values the run stored for it (std_surname, std_particles, std_postcode,
            std_birth_date).
    """
    record = standardise_record({"source": raw["source"], "record_id": raw["record_id"],
                                 **{c: raw.get(c) for c in RAW_COLUMNS}})
    if (record["given_first"] and record["surname_core"] and "std_given" in stored and stored["std_given"] is None
            and stored.get("std_surname") is None):       # a till's name for a stranger (identity.placeholder_values)
        record.update(dict.fromkeys(NAME_COLUMNS))
    surname = stored.get("std_surname")
    if record["surname_core"] is None and surname:          # read from the e-mail (identity.email_names)
        words = surname.split()
        record.update(surname_core=surname, particles=stored.get("std_particles"),
                      surname_first=words[0], surname_last=words[-1])
    if record["birth_date"] and "std_birth_date" in stored and stored["std_birth_date"] is None:
        record["birth_date"] = None                         # read as a placeholder (identity.placeholders)
    for column, kept in (("email", "std_email"), ("loyalty_card", "std_loyalty_card"), ("mobile", "std_phone"),
                         ("landline", "std_phone")):
        if record[column] and kept in stored and stored[kept] is None:    # identity.placeholder_values
            record.update(dict.fromkeys(IDENTIFIER_COLUMNS[column]))
    postcode = stored.get("std_postcode")
    if record["postcode"] is None and postcode and record["house_number"]:   # identity.addresses
        record.update(postcode=postcode, address_key=address_key(postcode, record["house_number"],
                                                                 record["house_addition"], record["street"]))
    return record


def term_frequency_columns(model: Mapping[str, Any]) -> list[str]:
    """Return the columns whose term frequencies adjust a model's weights, in model order."""
    found: list[str] = []
    for comparison in model.get("comparisons", []):
        for level in comparison.get("comparison_levels", []):
            column = level.get("tf_adjustment_column")
            if column and column not in found:
                found.append(column)
    return found


def term_frequencies(counts: Iterable[tuple[str | None, int]],
                     standardise: Callable[[str | None], str | None] | None = None) -> dict[str, float]:
    """Return each value's share of the records that have a value (Splink's term frequency).

    Args:
        counts: (value, records) pairs; a value may come more than once (raw spellings of one value).
        standardise: turns a counted value into the compared one (None: counted as they are).
    """
    totals: dict[str, int] = {}
    for value, n in counts:
        value = standardise(value) if standardise is not None else value
        if value:
            totals[value] = totals.get(value, 0) + int(n)
    whole = sum(totals.values())
    return {value: n / whole for value, n in totals.items()} if whole else {}


def scoring_frame(records: Sequence[Mapping[str, Any]], neighbours: pd.DataFrame,
                  frequencies: Mapping[str, Mapping[str, float]]) -> pd.DataFrame:
    """Return the records ready to score, in the order given: people counts and ``tf_`` columns added.

    Args:
        records: standardised records (``restandardise``).
        neighbours: every record sharing an e-mail, mobile or loyalty card with one of them
            (NEIGHBOUR_COLUMNS); the records themselves may be among them.
        frequencies: the drop's term frequencies by column (``term_frequencies``).
    """
    frame = pd.DataFrame(list(records), columns=list(STANDARD_COLUMNS)).astype(object)
    others = neighbours[~neighbours["unique_id"].isin(frame["unique_id"])].drop_duplicates("unique_id")
    everyone = pd.concat([frame, others.reindex(columns=frame.columns)], ignore_index=True) if len(others) else frame
    # prepare() counts the first names behind each shared value; it does not touch its engine.
    prepared = prepare(None, everyone)  # type: ignore[arg-type]
    prepared = prepared.set_index("unique_id").loc[frame["unique_id"]].reset_index()
    for column, table in frequencies.items():
        prepared[f"tf_{column}"] = prepared[column].map(table).astype("float64")
    return prepared


def _plain(value: Any) -> Any:
    """Return a frame's cell as a plain value: missing as None, numpy numbers as Python ones."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    return value.item() if hasattr(value, "item") else value


def _swapped(row: dict[str, Any]) -> dict[str, Any]:
    """Return a scored row with its left and right sides exchanged."""
    out = {}
    for key, value in row.items():
        if key.endswith("_l"):
            out[key[:-2] + "_r"] = value
        elif key.endswith("_r"):
            out[key[:-2] + "_l"] = value
        else:
            out[key] = value
    return out


class QuickScorer:
    """A trained model applied in Python (``identity.compiled_model``): the rows ``PairScorer.score`` gives for the
    columns an explanation reads (gamma_*, mw_*, mw_tf_adj_*, the values as *_l / *_r, match_weight,
    match_probability, found_by_blocking_rules), in about a millisecond a pair instead of Splink's half second.
    No waterfall chart: that is Splink's (``PairScorer``)."""

    def __init__(self, model: Mapping[str, Any], frequencies: Mapping[str, Mapping[str, float]]) -> None:
        """model: a Splink model JSON as a run saved it; frequencies: the drop's term frequencies by column."""
        self.model = model
        self._frequencies = frequencies
        self._layouts: dict[tuple[str, ...], tuple[ModelScorer, list[Test]]] = {}
        self._lock = threading.Lock()

    def _layout(self, columns: tuple[str, ...]) -> tuple[ModelScorer, list[Test]]:
        """Return the model compiled for records laid out by these columns, and its blocking rules."""
        with self._lock:
            if columns not in self._layouts:
                positions = {name: i for i, name in enumerate(columns)}
                self._layouts[columns] = (ModelScorer(self.model, columns, self._frequencies),
                                          [compile_condition(rule, positions) for rule in blocking_rules_of(self.model)])
            return self._layouts[columns]

    def score(self, frame: pd.DataFrame, pairs: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
        """Return each pair of records (unique_ids in frame, see ``scoring_frame``) scored, in the order given."""
        columns = tuple(str(c) for c in frame.columns)
        scorer, rules = self._layout(columns)
        wanted = {uid for pair in pairs for uid in pair}
        rows = {uid: tuple(_plain(v) for v in row)
                for uid, row in zip(frame["unique_id"], frame.itertuples(index=False, name=None)) if uid in wanted}
        out = []
        for a, b in pairs:
            left, right = rows[a], rows[b]
            scored = scorer.score(left, right)
            row: dict[str, Any] = {f"{c}_l": v for c, v in zip(columns, left)}
            row.update({f"{c}_r": v for c, v in zip(columns, right)})
            row.update(unique_id_l=a, unique_id_r=b, match_weight=scored.match_weight,
                       match_probability=scored.match_probability,
                       found_by_blocking_rules=any(rule(left, right) is True for rule in rules))
            for name, level, weight in zip(scorer.names, scored.levels, scored.weights):
                row[f"gamma_{name}"] = level.gamma
                row[f"mw_{name}"] = level.weight
                if level.tf_column is not None:
                    row[f"mw_tf_adj_{name}"] = weight - level.weight
            out.append(row)
        return out


class PairScorer:
    """A trained model held warm: scores given pairs of records and draws their waterfall charts.

    One DuckDB connection underneath, so calls from several threads take turns.
    """

    def __init__(self, model: Mapping[str, Any]) -> None:
        """model: a Splink model JSON as a run saved it (``run.model_json``)."""
        settings = json.loads(json.dumps(model))
        # Every column of the scored pair is kept: the explanation and the waterfall chart read them.
        settings["retain_matching_columns"] = True
        settings["retain_intermediate_calculation_columns"] = True
        self.model = settings
        self._lock = threading.Lock()
        self._api: DuckDBAPI | None = None
        self._built: Linker | None = None   # built on first use (about 0.3 s): an explanation scored in Python needs none

    @property
    def _linker(self) -> Linker:
        """Return Splink's linker over the model, built on first use; callers hold the lock."""
        if self._built is None:
            self._api = DuckDBAPI()
            columns = [*STANDARD_COLUMNS, *(f"{c}_names" for c in SHARED_COLUMNS)]
            empty = pd.DataFrame({c: pd.Series([], dtype="int64" if c.endswith("_names") else object) for c in columns})
            self._built = Linker(self._api.register(empty), self.model)
        return self._built

    def score(self, frame: pd.DataFrame, pairs: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
        """Return each pair of records (unique_ids in frame, see ``scoring_frame``) scored, in the order given.

        Each row holds what Splink's predict gives with every intermediate column (gamma_*, mw_*,
        mw_tf_adj_*, the compared values as *_l and *_r), and found_by_blocking_rules: whether the
        run's blocking rules would have compared the pair at all.
        """
        if not pairs:
            return []
        by_id = frame.set_index("unique_id", drop=False)
        lefts = list(dict.fromkeys(a for a, _ in pairs))
        rights = list(dict.fromkeys(b for _, b in pairs))
        with self._lock:
            linker = self._linker
            left = self._api.register(by_id.loc[lefts].reset_index(drop=True))
            right = self._api.register(by_id.loc[rights].reset_index(drop=True))
            scored = linker.inference.score_pairs(left, right, include_found_by_blocking_rules=True)
            result = scored.as_pandas_dataframe()
            # A kept scorer must not gather tables: the pair's inputs (ours) go with its result.
            scored.drop_table_from_database_and_remove_from_cache()
            for table in (left, right):
                table.drop_table_from_database_and_remove_from_cache(force_non_splink_table=True)
        rows = {(r["unique_id_l"], r["unique_id_r"]): {k: _plain(v) for k, v in r.items()}
                for r in result.to_dict("records")}
        out = []
        for a, b in pairs:
            row = rows.get((a, b))
            out.append(row if row is not None else _swapped(rows[(b, a)]))
        return out

    def waterfall_chart(self, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """Return Splink's waterfall chart (a Vega-Lite spec) of scored pairs (``score``), one pair per step."""
        with self._lock:
            return self._linker.visualisations.waterfall_chart([dict(r) for r in rows]).chart_dict
