"""Person accuracy on Splink's public example data sets, beside a plain Splink model in the same run.

Data that nobody on this project wrote, other than Febrl (bench/febrl.py):

- ``fake_1000``: 1,000 records of 250 people (first name, surname, birth date, city, e-mail) with
  typos, missing values and birth dates shifted by days, months or a year;
- ``fake_20000``: 20,000 records from the same generator as fake_1000, only in Splink's demos repository
  (``--data``), where more people share a name;
- ``rldata500`` and ``rldata10000``: R's RecordLinkage package's 500 and 10,000 German records (first and
  second given name, surname and second surname, birth year, month and day), 10% of them a duplicate
  with exactly one corrupted field (a name typo, or a date part replaced), only in dblink's repository
  (``--data``); a month or day no calendar has (0, 13, 64) is written as it is, and ingest sets it aside (the
  record is kept without its birth date);
- ``historical_50k``: 50,578 records of 5,156 historical people from Wikidata (first name, surname,
  birth date, birth place, a fake UK postcode) with typos, titles in the name fields, missing values and
  birth dates mistyped by a digit or two (some into dates no calendar has, which ingest sets aside,
  keeping the record).

Each record goes to one of the four channel files at random (fixed seed): first name, surname and
birth date as they are; the fake sets' e-mail and city; historical_50k's postcode and birth place as
the city; every person their own household. The drop is resolved with the ``herken`` command as a
user would, untuned, and scored pairwise on persons against the data set's own cluster column:
quarantined records count as missed (``herken``; a birth date no calendar has quarantined its whole
  record before session 25, and is set aside since), and again on the records ingest accepted
(``herken_on_accepted_records``). Beside it, Splink as its tutorials set it up, on the same fields of
the same rows (name comparisons with term frequencies, a date-of-birth comparison, the city exact with
term frequencies, the postcode or e-mail; EM training; connected components), at the tutorials' threshold
of 0.95 and at the best of 0.5, 0.9 and 0.95 in hindsight.

usage:
    python bench/splink_sets.py [--set fake_1000|fake_20000|historical_50k|rldata500|rldata10000 ...] [--data DIR] [--keep DIR]

The data come from Splink's own loader (``splink.datasets.splink_datasets``), which downloads each set
once from github.com/moj-analytical-services/splink_datasets into Splink's package folder; on a machine
without the network, ``--data DIR`` reads the files as that repository names them
(``data/fake_1000.csv``, ``data/historical_figures_with_errors_50k.parquet``) from DIR.
"""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from febrl import HEADER, person_scores, read_csv, write_channel_drop  # bench/ is on the path when a bench script runs
from runner import herken

FILES = {"fake_1000": "fake_1000.csv", "fake_20000": "fake_20000.csv",
         "historical_50k": "historical_figures_with_errors_50k.parquet",
         "rldata500": "RLdata500.csv", "rldata10000": "RLdata10000.csv"}
# not in Splink's loader: fake_20000 is in github.com/moj-analytical-services/splink_demos (data/); the RLdata
# sets of R's RecordLinkage package are in github.com/cleanzr/dblink (examples/)
ONLY_IN_DEMOS = {"fake_20000", "rldata500", "rldata10000"}
RLDATA = {"rldata500", "rldata10000"}
DEFAULT_SETS = ("fake_1000", "historical_50k")
# the data set's columns that fill the drop contract's, per set (the rest stay empty)
CONTRACT = {
    "fake_1000": {"first_name": "first_name", "last_name": "surname", "birth_date": "dob", "email": "email",
                  "city": "city"},
    "fake_20000": {"first_name": "first_name", "last_name": "surname", "birth_date": "dob", "email": "email",
                   "city": "city"},
    "historical_50k": {"first_name": "first_name", "last_name": "surname", "birth_date": "dob",
                       "postcode": "postcode_fake", "city": "birth_place"},
    "rldata500": {"first_name": "first_name", "last_name": "surname", "birth_date": "dob"},
    "rldata10000": {"first_name": "first_name", "last_name": "surname", "birth_date": "dob"},
}
THRESHOLDS = (0.5, 0.9, 0.95)
TUTORIAL_THRESHOLD = 0.95


def load(name: str, data: Path | None):  # type: ignore[no-untyped-def]
    """Return one data set as a pandas frame of strings ('' for missing), from DIR or Splink's loader."""
    import pandas as pd

    if data is not None:
        path = data / FILES[name]
        if not path.is_file():
            raise SystemExit(f"{path} not found: --data must hold the files as the splink_datasets repository "
                             f"names them ({', '.join(FILES.values())})")
        frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path, dtype=str)
    elif name in ONLY_IN_DEMOS:
        where = ("github.com/cleanzr/dblink, examples/" if name in RLDATA
                 else "github.com/moj-analytical-services/splink_demos, data/")
        raise SystemExit(f"{name} is not in Splink's loader: pass --data DIR holding {FILES[name]} ({where})")
    else:
        from splink.datasets import splink_datasets

        frame = getattr(splink_datasets, name)
        frame = frame.to_pandas() if hasattr(frame, "to_pandas") else frame    # an Arrow table from Splink 5's loader
    if name in RLDATA:
        frame = rldata_columns(frame)
    return frame.rename(columns={"group": "cluster"}).astype("string").fillna("")   # fake_20000 says "group"


def rldata_columns(frame):  # type: ignore[no-untyped-def]
    """Return an RLdata frame with Splink's column names: given names and surnames joined, the birth date as
    yyyy-mm-dd from its three numbers (as written: month 0 or 13 stays, and ingest sets it aside)."""
    import pandas as pd

    def joined(first: str, second: str) -> pd.Series:
        return (frame[first].fillna("") + " " + frame[second].replace("NA", "").fillna("")).str.strip()

    def part(column: str, width: int) -> pd.Series:
        return frame[column].astype(int).astype(str).str.zfill(width)

    return pd.DataFrame({"unique_id": frame["rec_id"], "cluster": frame["ent_id"],
                         "first_name": joined("fname_c1", "fname_c2"), "surname": joined("lname_c1", "lname_c2"),
                         "dob": part("by", 4) + "-" + part("bm", 2) + "-" + part("bd", 2)})


def write_drop(name: str, frame, out: Path) -> None:  # type: ignore[no-untyped-def]
    """Write one data set as a herken drop with truth.csv."""
    mapping = CONTRACT[name]

    def values(row: dict) -> list[str]:
        fields = {c: row[mapping[c]] if c in mapping else "" for c in HEADER}
        fields.update(record_id=row["unique_id"], updated_at="2024-01-01")
        return [fields[c] for c in HEADER]

    write_channel_drop(out, ((values(row), row["cluster"]) for row in frame.to_dict("records")))


def plain_splink(name: str, frame) -> dict[float, dict]:  # type: ignore[no-untyped-def]
    """Return the person scores of Splink as its tutorials set it up, per clustering threshold."""
    import pandas as pd
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    mapping = CONTRACT[name]
    records = pd.DataFrame({"unique_id": frame["unique_id"], "cluster": frame["cluster"],
                            **{c: frame[source].replace("", None) for c, source in mapping.items()}})
    records["birth_date"] = pd.to_datetime(records["birth_date"], errors="coerce").dt.strftime("%Y-%m-%d")
    place = "postcode" if "postcode" in mapping else "email" if "email" in mapping else None
    comparisons = [
        cl.NameComparison("first_name").configure(term_frequency_adjustments=True),
        cl.NameComparison("last_name").configure(term_frequency_adjustments=True),
        cl.DateOfBirthComparison("birth_date", input_is_string=True),
    ]
    if "city" in mapping:
        comparisons.append(cl.ExactMatch("city").configure(term_frequency_adjustments=True))
    if place is not None:
        comparisons.append(cl.PostcodeComparison("postcode") if place == "postcode" else cl.EmailComparison("email"))
    settings = SettingsCreator(
        link_type="dedupe_only", comparisons=comparisons, retain_intermediate_calculation_columns=False,
        blocking_rules_to_generate_predictions=[
            block_on("first_name", "last_name"), block_on("last_name", "birth_date"),
            block_on("first_name", "birth_date"), *([block_on(place)] if place else []),
            block_on("substr(first_name, 1, 2)", "substr(last_name, 1, 2)"),
        ])
    linker = Linker(DuckDBAPI().register(records), settings, log_level="WARNING")
    # The tutorials' deterministic rule; a set where no two records agree on all three fields (RLdata: every
    # duplicate carries one error) takes the three rules on two of them instead, else the match rate would be 0.
    exact = records.dropna(subset=["first_name", "last_name", "birth_date"]).duplicated(
        ["first_name", "last_name", "birth_date"]).any()
    linker.training.estimate_probability_two_random_records_match(
        [block_on("first_name", "last_name", "birth_date")] if exact else
        [block_on("first_name", "last_name"), block_on("last_name", "birth_date"), block_on("first_name", "birth_date")],
        recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=42)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("first_name", "last_name"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("birth_date"))
    predictions = linker.inference.predict(threshold_match_probability=0.2)
    truth = [{"source": "", "record_id": u, "person_id": c} for u, c in zip(records["unique_id"], records["cluster"])]
    scores = {}
    for threshold in THRESHOLDS:
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, threshold_match_probability=threshold).as_pandas_dataframe()
        scores[threshold] = person_scores(truth, {("", str(u)): str(c) for u, c in
                                                  zip(clusters["unique_id"], clusters["cluster_id"])})
    return scores


def main(argv: list[str] | None = None) -> int:
    """Resolve each asked set with herken and with plain Splink; print their person scores as JSON lines."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", action="append", choices=tuple(FILES), help="which set (repeatable; default fake_1000 and historical_50k)")
    parser.add_argument("--data", type=Path, help="a folder holding the sets' files (else Splink downloads them)")
    parser.add_argument("--keep", type=Path, help="keep the drops and stores in this directory")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="herken-splink-sets-") as tmp:
        work = (args.keep or Path(tmp)).resolve()
        for name in args.set or DEFAULT_SETS:
            frame = load(name, args.data)
            drop, store, links = work / name, f"sqlite:///{work / name}.db", work / f"{name}.links.csv"
            write_drop(name, frame, drop)
            herken("resolve", str(drop), "--store", store, work=work)
            herken("links", "--store", store, "--out", str(links), work=work)
            predicted = {(r["source"], r["record_id"]): r["customer_id"] for r in read_csv(links)}
            truth = read_csv(drop / "truth.csv")
            accepted = [r for r in truth if (r["source"], r["record_id"]) in predicted]
            splink = plain_splink(name, frame)
            best = max(THRESHOLDS, key=lambda t: splink[t]["f1"])
            print(json.dumps({"set": name, "herken": person_scores(truth, predicted),
                              "herken_on_accepted_records": person_scores(accepted, predicted),
                              f"splink_{TUTORIAL_THRESHOLD}": splink[TUTORIAL_THRESHOLD],
                              "splink_best": {"threshold": best, **splink[best]}}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
