"""Score candidate pairs of standardised records with a Splink model (trained or re-used)."""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Mapping
from pathlib import Path

import pandas as pd
from splink import Linker

from identity.engine import Engine
from identity.model import settings, train, with_counted_u
from identity.rules import given_names_compatible

log = logging.getLogger(__name__)

SHARED_COLUMNS: tuple[str, ...] = ("email", "mobile", "loyalty_card")


def count_people(given_names: list[str]) -> int:
    """Return how many different people a list of first names stands for.

    Names that may be one person (Toos and Antonia, Jason and Jsson) count once, so a personal
    e-mail address written with a nickname in one channel is not mistaken for a family address.
    """
    people: list[str] = []
    for name in given_names:
        if not any(given_names_compatible(name, name, other, other) for other in people):
            people.append(name)
    return len(people)


NAME_COUNT_COLUMNS: tuple[str, ...] = tuple(f"{column}_names" for column in SHARED_COLUMNS)


def prepare(engine: Engine, standardised: pd.DataFrame,
            recount: Mapping[str, Collection[str]] | None = None) -> pd.DataFrame:
    """Return the standardised records with ``<column>_names`` people counts, sorted by unique_id.

    For each strong identifier the count says how many different first names use the value:
    a loyalty card carried by "jan" and "anna" is a household card, not a personal one.

    recount: per column of SHARED_COLUMNS, the values to count again (an incremental run: those of
        its new, changed and deleted records); the records keep the ``<column>_names`` they carry
        for every other value. A count depends only on the records holding the value, so it is the
        one a count of everything gives. None: count every value.
    """
    frame = standardised.sort_values("unique_id", kind="stable").reset_index(drop=True)
    named = frame[frame["given_first"].notna()]
    people: dict[tuple[str, ...], int] = {}   # most values share a handful of name sets
    for column in SHARED_COLUMNS:
        counted = named if recount is None else named[named[column].isin(list(recount[column]))]
        # Plain dicts rather than a groupby with a Python function per group: 100k groups.
        names_of: dict[str, set[str]] = {}
        for value, present, first in zip(counted[column].tolist(), counted[column].notna().tolist(),
                                         counted["given_first"].tolist()):
            if present:
                names_of.setdefault(value, set()).add(first)
        counts: dict[str, int] = {}
        for value, names in names_of.items():
            key = tuple(sorted(names))
            if key not in people:
                people[key] = count_people(list(key))
            counts[value] = people[key]
        found = frame[column].map(counts).fillna(0)
        if recount is not None:
            found = found.where(frame[column].isin(list(recount[column])) | frame[column].isna(),
                                frame[f"{column}_names"])
        frame[f"{column}_names"] = found.astype("int64")
    return frame


M_FLOOR = 0.005   # no level may claim it never happens among matches (a weight below about -7.6)


def finalise_model(model: dict) -> dict:
    """Return a trained model made safe to predict with: u corrected, m floored, rounded.

    Random sampling estimates u from pairs that include the true matches, which inflates u of rare
    agreement levels (an exact e-mail) by about prior * m; that share is taken out again.
    EM can drive the m of a disagreement level to 1e-26 when it never saw, say, two landlines of
    one person differ; a mover's old landline would then veto every match. Rounding: EM sums floats
    in parallel, so two trainings on one drop differ in the last bits; rounded parameters make the
    same drop give the same scores, clusters and IDs every time.
    """
    model = json.loads(json.dumps(model))
    prior = model.get("probability_two_random_records_match") or 0.0
    for comparison in model.get("comparisons", []):
        for level in comparison.get("comparison_levels", []):
            m, u = level.get("m_probability"), level.get("u_probability")
            if level.get("is_null_level") or not isinstance(m, float):
                continue
            level["m_probability"] = max(m, M_FLOOR)
            if isinstance(u, float):
                # Random pairs include the true matches: take their share out of u.
                level["u_probability"] = max(u - prior * m, u * 0.1)
    return round_model(model)


def build_linker(engine: Engine, records: pd.DataFrame, model_path: Path | None = None, seed: int = 42) -> tuple[Linker, bool]:
    """Return a linker over the records and whether it was trained now (False: model re-used)."""
    api = engine.splink_api()
    table = api.register(engine.table(records))
    if model_path is not None:
        model = json.loads(Path(model_path).read_text())
        return Linker(table, model_for(model, engine.dialect)), False
    linker = Linker(table, settings())
    train(linker, seed=seed)
    model = round_model(with_counted_u(finalise_model(linker.misc.save_model_to_json()), records))
    return Linker(api.register(engine.table(records)), model), True


class ModelMismatch(ValueError):
    """A saved model whose comparisons are not this herken's; the message names the first difference."""


LEVEL_PARAMETERS: tuple[str, ...] = ("m_probability", "u_probability", "tf_adjustment_column",
                                     "tf_adjustment_weight", "tf_minimum_u_value")
MODEL_PARAMETERS: tuple[str, ...] = ("probability_two_random_records_match", "linker_uid")   # the uid names the model


def model_for(model: dict, dialect: str) -> dict:
    """Return a saved model whose SQL is in the given dialect: as it is, or its trained parameters carried over.

    A saved model holds its comparisons as SQL of one dialect (``jaro_winkler_similarity`` on
    DuckDB is ``jaro_winkler`` on Spark). For another engine the comparisons are built afresh from
    :func:`identity.model.settings` in that engine's dialect and only what training learnt goes
    into them: the match rate, each level's m and u, and its term-frequency settings. Raise
    ModelMismatch when the model's comparisons are not this herken's (a model of an older version).
    """
    if model.get("sql_dialect", "duckdb") == dialect:
        return model
    return carry_parameters(model, settings().create_settings_dict(dialect)) | {"sql_dialect": dialect}


def carry_parameters(trained: dict, fresh: dict) -> dict:
    """Return fresh settings with the trained model's parameters, comparison by name and level by label."""
    out = json.loads(json.dumps(fresh))
    for key in MODEL_PARAMETERS:
        if key in trained:
            out[key] = trained[key]
    theirs = {c["output_column_name"]: c for c in trained.get("comparisons", [])}
    ours = [c["output_column_name"] for c in out["comparisons"]]
    if sorted(theirs) != sorted(ours):
        raise ModelMismatch(f"the model compares {', '.join(sorted(theirs))}; this herken compares "
                            f"{', '.join(sorted(ours))}: train a new model (leave out --model)")
    for comparison in out["comparisons"]:
        name = comparison["output_column_name"]
        trained_levels = theirs[name]["comparison_levels"]
        labels = [level.get("label_for_charts") for level in comparison["comparison_levels"]]
        if [level.get("label_for_charts") for level in trained_levels] != labels:
            raise ModelMismatch(f"the model's levels of '{name}' are not this herken's ({labels}): "
                                "train a new model (leave out --model)")
        for level, learnt in zip(comparison["comparison_levels"], trained_levels):
            for key in LEVEL_PARAMETERS:
                level.pop(key, None)
                if key in learnt:
                    level[key] = learnt[key]
    return out


def _round(value: float, digits: int = 6) -> float:
    """Return a probability rounded to a number of significant digits."""
    return float(f"{value:.{digits}g}")


def round_model(model: dict) -> dict:
    """Return a Splink model dict with its probabilities rounded to 6 significant digits."""
    model = json.loads(json.dumps(model))
    if model.get("probability_two_random_records_match") is not None:
        model["probability_two_random_records_match"] = _round(model["probability_two_random_records_match"])
    for comparison in model.get("comparisons", []):
        for level in comparison.get("comparison_levels", []):
            for key in ("m_probability", "u_probability"):
                if isinstance(level.get(key), float):
                    level[key] = _round(level[key])
    return model


def predict_pairs(linker: Linker, threshold: float) -> pd.DataFrame:
    """Return scored pairs (unique_id_l, unique_id_r, match_weight, match_probability, gammas).

    The engine's copy of the pairs, and every other table Splink made, are dropped once the pairs
    are here: at a million records they held gigabytes of the engine's memory through clustering.
    """
    predictions = linker.inference.predict(threshold_match_probability=threshold)
    pairs = predictions.as_pandas_dataframe()
    linker.table_management.delete_tables_created_by_splink_from_db()
    return pairs


MODEL_DIALECT = "duckdb"   # what a run saves and publishes: real-time scoring and explanations read DuckDB SQL


def save_model(linker: Linker, path: Path) -> None:
    """Write the trained model as Splink JSON in DuckDB's dialect (whatever engine ran it), usable as settings."""
    model = model_for(linker.misc.save_model_to_json(), MODEL_DIALECT)
    path.write_text(json.dumps(model, indent=4))
