"""Score candidate pairs of standardised records with a Splink model (trained or re-used)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd
from splink import Linker

from identity.engine import Engine
from identity.model import settings, train

log = logging.getLogger(__name__)

# For each strong identifier, how many distinct given names use the value: a card carried by
# "jan" and "anna" is a household card. Initials-only records do not count as a name of their own.
SHARED_VALUE_SQL = """
WITH {ctes}
SELECT r.*, {columns}
FROM records r
{joins}
"""
SHARED_COLUMNS: tuple[str, ...] = ("email", "mobile", "loyalty_card")


def shared_value_sql() -> str:
    """Return the SQL that adds ``<column>_names`` counts for every shared-identifier column."""
    ctes = ",\n".join(
        f"n_{c} AS (SELECT {c} AS v, count(DISTINCT given_canonical) AS n FROM records "
        f"WHERE {c} IS NOT NULL GROUP BY {c})"
        for c in SHARED_COLUMNS
    )
    columns = ", ".join(f"coalesce(n_{c}.n, 0) AS {c}_names" for c in SHARED_COLUMNS)
    joins = "\n".join(f"LEFT JOIN n_{c} ON r.{c} = n_{c}.v" for c in SHARED_COLUMNS)
    return SHARED_VALUE_SQL.format(ctes=ctes, columns=columns, joins=joins)


def prepare(engine: Engine, standardised: pd.DataFrame) -> pd.DataFrame:
    """Return the standardised records with shared-value counts, sorted by unique_id."""
    frame = engine.sql(shared_value_sql() + " ORDER BY r.unique_id", records=standardised)
    return frame.astype({f"{c}_names": "int64" for c in SHARED_COLUMNS})


def build_linker(engine: Engine, records: pd.DataFrame, model_path: Path | None = None, seed: int = 42) -> tuple[Linker, bool]:
    """Return a linker over the records and whether it was trained now (False: model re-used)."""
    api = engine.splink_api()
    table = api.register(records)
    if model_path is not None:
        model = json.loads(Path(model_path).read_text())
        return Linker(table, model), False
    linker = Linker(table, settings())
    train(linker, seed=seed)
    # EM sums floats in parallel, so two trainings on one drop can differ in the last bits; rounded
    # parameters make the same drop give the same scores, clusters and IDs every time.
    model = round_model(linker.misc.save_model_to_json())
    return Linker(api.register(records), model), True


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
    """Return scored pairs (unique_id_l, unique_id_r, match_weight, match_probability, gammas)."""
    predictions = linker.inference.predict(threshold_match_probability=threshold)
    return predictions.as_pandas_dataframe()


def save_model(linker: Linker, path: Path) -> None:
    """Write the trained model as Splink JSON, usable as settings for a new linker."""
    linker.misc.save_model_to_json(str(path), overwrite=True)
