"""Score candidate pairs of standardised records with a Splink model (trained or re-used)."""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Mapping
from pathlib import Path

import pandas as pd
from splink import Linker

from identity.bulk import isin
from identity.engine import Engine, make_engine
from identity.model import capped_rules, plain_rules, settings, train, with_block_sizes, with_counted_u
from identity.monotone import monotone_weights
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
    named = frame["given_first"].notna()
    people: dict[tuple[str, ...], int] = {}   # most values share a handful of name sets
    for column in SHARED_COLUMNS:
        values = frame[column]
        # an incremental run counts again only the values its delta touches (``recount``): the rows holding them
        again = None if recount is None else isin(values, list(recount[column]))
        chosen = named if again is None else named & again
        pairs = pd.DataFrame({"value": values[chosen], "name": frame.loc[chosen, "given_first"]})
        pairs = pairs[pairs["value"].notna()].drop_duplicates()
        names = pairs.groupby("value", sort=False)["name"].size()
        # A value used with one first name stands for one person; only the others are counted in Python.
        counts = pd.Series(1, index=names.index[names == 1], dtype="int64")
        several = pairs[pairs["value"].isin(names.index[names > 1])]
        names_of: dict[str, list[str]] = {}
        for value, first in zip(several["value"].tolist(), several["name"].tolist()):
            names_of.setdefault(value, []).append(first)
        counted: dict[str, int] = {}
        for value, firsts in names_of.items():
            key = tuple(sorted(firsts))
            if key not in people:
                people[key] = count_people(list(key))
            counted[value] = people[key]
        if counted:
            counts = pd.concat([counts, pd.Series(counted, dtype="int64")])
        if again is None:
            found = values.map(counts).fillna(0)
        else:   # the other rows keep their count; a row without a value counts 0
            found = frame[f"{column}_names"].where(values.notna(), 0)
            found[again] = values[again].map(counts).fillna(0)
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


def model_file_problem(path: Path) -> str | None:
    """Return why a saved model file cannot be re-used (missing, not JSON, not a Splink model herken saved), or None."""
    try:
        model = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return f"--model {path}: no such file; give the model.json of an earlier run (in its runs folder)"
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        return f"--model {path}: not a readable JSON file ({err}); give the model.json of an earlier run"
    comparisons = model.get("comparisons") if isinstance(model, dict) else None
    if not isinstance(comparisons, list) or not comparisons or "probability_two_random_records_match" not in model \
            or not all(isinstance(c, dict) and "output_column_name" in c for c in comparisons):
        return (f"--model {path}: not a Splink model as herken saves one (comparisons, "
                "probability_two_random_records_match); give the model.json of an earlier run")
    return None


def build_linker(engine: Engine, records: pd.DataFrame, model_path: Path | None = None, seed: int = 42) -> tuple[Linker, bool]:
    """Return a linker over the records and whether it was trained now (False: model re-used)."""
    api = engine.splink_api()
    if model_path is not None:
        model = model_for(json.loads(Path(model_path).read_text()), engine.dialect)
        trained = False
    else:
        model = model_for(train_model(engine, records, seed), engine.dialect)
        trained = True
    # the batch's predict: name-only rules capped (identity.model.NAME_BLOCK_CAP), over the block sizes
    return Linker(api.register(engine.table(with_block_sizes(records))), capped_rules(model, engine.dialect)), trained


def train_model(engine: Engine, records: pd.DataFrame, seed: int = 42) -> dict:
    """Return a model trained on the records, finalised (:func:`finalise_model`), with counted u and rounded.

    Training runs in DuckDB whatever engine scores the pairs: its steps are bounded samples (u from
    a million random pairs, EM from at most ``identity.model.EM_MAX_PAIRS``) plus a count over the
    records, light work that Spark runs as dozens of small jobs (297 of a 550-second run at 100k
    records), and Spark's random sampling draws other pairs than DuckDB's from the same seed: the
    same drop then gave models, and persons, a little apart (person F1 0.9299 against 0.9363 at
    100k). Trained here, both engines score with one model; Spark does the scoring of every pair.
    """
    trainer = engine if engine.dialect == "duckdb" else make_engine("duckdb")
    try:
        linker = Linker(trainer.splink_api().register(trainer.table(records)), settings())
        train(linker, seed=seed, records=len(records))
        model = linker.misc.save_model_to_json()
    finally:
        if trainer is not engine:
            trainer.close()
    return round_model(monotone_weights(with_counted_u(finalise_model(model), records)))


RETRAIN = ("train a new model: leave out --model, or for a store published by an older herken run one full "
           "`herken resolve DROP` before the next --incremental")


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
                            f"{', '.join(sorted(ours))}: {RETRAIN}")
    for comparison in out["comparisons"]:
        name = comparison["output_column_name"]
        trained_levels = theirs[name]["comparison_levels"]
        labels = [level.get("label_for_charts") for level in comparison["comparison_levels"]]
        if [level.get("label_for_charts") for level in trained_levels] != labels:
            raise ModelMismatch(f"the model's levels of '{name}' are not this herken's ({labels}): {RETRAIN}")
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


# The fields of each side that the run reads from a scored pair: the clustering's rules
# (identity.cluster) and the strictness measured on the drop (identity.strictness).
PAIR_FIELDS: tuple[str, ...] = ("given_first", "initials", "surname_core", "birth_date", "postcode", "email", "mobile")


def predict_pairs(linker: Linker, engine: Engine, threshold: float) -> pd.DataFrame:
    """Return scored pairs: unique_id_l, unique_id_r, match_weight, match_probability, the gammas and
    both sides of PAIR_FIELDS.

    Only these columns leave the engine (Splink keeps some sixty: every compared column of both
    sides); at a million records the rest held gigabytes of the run's memory through clustering.
    The engine's copy of the pairs, and every other table Splink made, are dropped once the pairs
    are here.
    """
    predictions = linker.inference.predict(threshold_match_probability=threshold)
    names = [column.unquote().name for column in predictions.columns]
    wanted = ["unique_id_l", "unique_id_r", "match_weight", "match_probability",
              *[c for c in names if c.startswith("gamma_")],
              *[f"{field}_{side}" for field in PAIR_FIELDS for side in "lr" if f"{field}_{side}" in names]]
    pairs = engine.sql(f"SELECT {', '.join(wanted)} FROM {predictions.physical_name}")
    linker.table_management.delete_tables_created_by_splink_from_db()
    # Splink's cache still names the dropped tables (term frequencies): a later predict would read them
    linker._db_api._intermediate_table_cache.invalidate_cache()
    return pairs


MODEL_DIALECT = "duckdb"   # what a run saves and publishes: real-time scoring and explanations read DuckDB SQL


def save_model(linker: Linker, path: Path) -> None:
    """Write the trained model as Splink JSON in DuckDB's dialect (whatever engine ran it), usable as settings."""
    model = plain_rules(model_for(linker.misc.save_model_to_json(), MODEL_DIALECT))
    path.write_text(json.dumps(model, indent=4))
