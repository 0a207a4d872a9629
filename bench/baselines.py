"""The two baselines herken is measured against, on the same standardised records.

Both take the output of :func:`identity.pipeline.standardise_drop`, so a comparison with herken is
about the linking logic only, and both return a links frame (unique_id, source, record_id,
customer_id, household_id) that :func:`identity.evaluate.evaluate` scores.

- :func:`deterministic_graph`: the identity graph most retailers start with: records sharing an
  e-mail address, a phone number or a loyalty card are one person.
- :func:`vanilla_splink`: Splink set up the way its tutorials do: library comparisons, EM training,
  connected components at 0.95.

Neither caps very common values nor knows about households beyond "shares an address": that is
the point of a baseline.
"""

from __future__ import annotations

import logging

import pandas as pd

from identity.graph import connected_components
import splink.comparison_library as cl
from splink import Linker, SettingsCreator, block_on

from identity.engine import Engine
from identity.lifecycle import stable_id

log = logging.getLogger(__name__)

PERSON_KEYS: tuple[str, ...] = ("email", "mobile", "landline", "loyalty_card")
VANILLA_HOUSEHOLD_KEYS: tuple[str, ...] = ("address_key", "loyalty_card", "landline")
VANILLA_PREDICT_THRESHOLD = 0.2    # as in the Splink tutorials; clustering only uses pairs >= 0.95
VANILLA_CLUSTER_THRESHOLD = 0.95
LINK_COLUMNS: list[str] = ["unique_id", "source", "record_id", "customer_id", "household_id"]


def shared_value_edges(frame: pd.DataFrame, node: str, columns: tuple[str, ...]) -> pd.DataFrame:
    """Return (kind, value, person) rows for every value of the columns carried by two or more nodes."""
    long = (
        frame[[node, *columns]]
        .melt(id_vars=node, var_name="kind", value_name="value")
        .dropna(subset=["value"])
        .drop_duplicates()
    )
    long = long[long["value"].astype(str) != ""]
    spread = long.groupby(["kind", "value"])[node].transform("size")
    return long.loc[spread >= 2, ["kind", "value", node]].rename(columns={node: "person"}).reset_index(drop=True)


def _components(nodes: list[str], edges: pd.DataFrame) -> dict[str, str]:
    """Return the connected component of every node, labelled by its smallest node."""
    return connected_components(nodes, edges).labels()


def _links(records: pd.DataFrame, person: pd.Series, household: pd.Series) -> pd.DataFrame:
    """Return the links frame of records given a person and a household label per record."""
    links = records[["unique_id", "source", "record_id"]].copy()
    links["customer_id"] = person.map(lambda p: stable_id("C", p)).to_numpy()
    links["household_id"] = household.map(lambda h: stable_id("H", h)).to_numpy()
    return links[LINK_COLUMNS].reset_index(drop=True)


def deterministic_graph(records: pd.DataFrame) -> pd.DataFrame:
    """Return links where a shared e-mail, phone or card makes one person, and a shared address one household."""
    ids = records["unique_id"].tolist()
    person_edges = shared_value_edges(records, "unique_id", PERSON_KEYS)
    person_of = _components(ids, person_edges)
    household_edges = pd.concat(
        [person_edges, shared_value_edges(records, "unique_id", ("address_key",))], ignore_index=True
    )
    # Every person edge is also a household edge, so each household is a union of whole persons.
    household_of = _components(ids, household_edges)
    log.info(
        "deterministic graph: %d records -> %d persons, %d households",
        len(ids), len(set(person_of.values())), len(set(household_of.values())),
    )
    uid = records["unique_id"]
    return _links(records, uid.map(person_of), uid.map(household_of))


def vanilla_settings() -> SettingsCreator:
    """Return Splink settings as a typical user writes them: library comparisons, obvious blocking."""
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=[
            cl.NameComparison("given_first").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname_core").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("birth_date", input_is_string=True),
            cl.EmailComparison("email"),
            cl.ExactMatch("mobile"),
            cl.ExactMatch("landline"),
            cl.ExactMatch("loyalty_card"),
            cl.ExactMatch("address_key"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("email"),
            block_on("mobile"),
            block_on("landline"),
            block_on("loyalty_card"),
            block_on("address_key"),
            block_on("surname_core", "birth_date"),
            block_on("given_first", "surname_core"),
        ],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )


def vanilla_splink(engine: Engine, records: pd.DataFrame, seed: int = 42) -> pd.DataFrame:
    """Return links from tutorial-style Splink: EM-trained, connected components at 0.95."""
    columns = [
        "unique_id", "source", "record_id", "given_first", "surname_core", "birth_date", "email",
        "mobile", "landline", "loyalty_card", "address_key",
    ]
    linker = Linker(engine.splink_api().register(records[columns]), vanilla_settings())
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_first", "surname_core", "birth_date"), block_on("email")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=seed)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("given_first", "surname_core"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("birth_date"))
    predictions = linker.inference.predict(threshold_match_probability=VANILLA_PREDICT_THRESHOLD)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=VANILLA_CLUSTER_THRESHOLD
    ).as_pandas_dataframe()[["unique_id", "cluster_id"]]
    person_of = dict(zip(clusters["unique_id"].astype(str), clusters["cluster_id"].astype(str)))

    # Households: persons joined by a shared address, card or landline on any of their records.
    persons = records[["unique_id", *VANILLA_HOUSEHOLD_KEYS]].copy()
    persons["person"] = persons["unique_id"].map(person_of)
    edges = shared_value_edges(persons, "person", VANILLA_HOUSEHOLD_KEYS)
    household_of = _components(sorted(set(person_of.values())), edges)
    log.info(
        "vanilla Splink: %d records -> %d persons, %d households",
        len(records), len(set(person_of.values())), len(set(household_of.values())),
    )
    return _links(records, persons["person"], persons["person"].map(household_of))
