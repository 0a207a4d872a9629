"""Day 2 of a drop: what a retailer's extracts look like a day (or a week) later.

From a day-1 drop (as ``synth.writer.generate_drop`` writes it, with ``truth.csv``) this writes

- a full day-2 drop: every record still there, with the changes made, plus the new ones;
- a delta drop: only the new and changed records, the new interactions and preferences, and
  ``deletions.csv`` (``source,record_id``) naming the records deleted.

The changes, as shares of the day-1 records: new records (half new records of known persons, a
channel they were not known in yet; half the records of new households), changed records (a new
mobile number, a new e-mail address, a corrected name or birth date), deleted records, and
households that moved house (every record of theirs with an address gets the new one). Both
drops carry the full day-2 ``truth.csv``.
"""

from __future__ import annotations

import random
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from identity.ingest import CHANNELS, IDENTITY_COLUMNS
from synth.config import SynthConfig
from synth.writer import generate_drop

DAY2_AT = "2026-06-02T09:00:00"     # updated_at of changed and new records (after every day-1 time)


@dataclass(frozen=True)
class Day2Summary:
    """What changed between day 1 and day 2."""

    records_day1: int
    new_of_known: int
    new_of_new: int
    changed: int
    moved_households: int
    moved_records: int
    deleted: int


def _read(day1: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(day1 / name, dtype=str, keep_default_na=False)


def _records(day1: Path) -> pd.DataFrame:
    frames = [_read(day1, f"{c}.csv").assign(source=c) for c in CHANNELS if (day1 / f"{c}.csv").is_file()]
    return pd.concat(frames, ignore_index=True)


def _write_drop(out: Path, records: pd.DataFrame, interactions: pd.DataFrame, preferences: pd.DataFrame,
                truth: pd.DataFrame, deletions: pd.DataFrame | None = None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for channel in CHANNELS:
        records.loc[records["source"] == channel, list(IDENTITY_COLUMNS)].to_csv(out / f"{channel}.csv", index=False)
    interactions.to_csv(out / "interactions.csv", index=False)
    preferences.to_csv(out / "preferences.csv", index=False)
    truth.to_csv(out / "truth.csv", index=False)
    if deletions is not None:
        deletions.to_csv(out / "deletions.csv", index=False)


def _mobile(rng: random.Random) -> str:
    return f"06-{rng.randint(10_000_000, 99_999_999)}"


def _change(row: pd.Series, rng: random.Random) -> pd.Series:
    """Return a record as its customer changed it: a new mobile, a new e-mail, a corrected name."""
    row = row.copy()
    kind = rng.choice(("phone", "email", "name"))
    if kind == "phone":
        row["phone"] = _mobile(rng)
    elif kind == "email" and row["first_name"]:
        row["email"] = f"{row['first_name'].lower()}.{rng.randint(1, 999)}@ziggo.nl"
    else:
        row["first_name"] = row["first_name"].strip().title()
        row["last_name"] = " ".join(row["last_name"].split())
    row["updated_at"] = DAY2_AT
    return row


def write_day2(day1: Path, full: Path, delta: Path, seed: int = 2, new: float = 0.02, changed: float = 0.01,
               deleted: float = 0.005, moved: float = 0.003) -> Day2Summary:
    """Write the full day-2 drop to ``full`` and the delta drop to ``delta``; return what changed."""
    rng = random.Random(seed)
    day1 = Path(day1)
    records = _records(day1)
    truth = _read(day1, "truth.csv")
    interactions, preferences = _read(day1, "interactions.csv"), _read(day1, "preferences.csv")
    key = records["source"] + ":" + records["record_id"]
    person = dict(zip(truth["source"] + ":" + truth["record_id"], truth["person_id"]))
    household = dict(zip(truth["source"] + ":" + truth["record_id"], truth["household_id"]))
    count = len(records)

    # deleted records
    gone = set(rng.sample(list(key), int(count * deleted)))
    keep = ~key.isin(gone)
    deletions = records.loc[~keep, ["source", "record_id"]]
    records, key = records[keep].reset_index(drop=True), key[keep].reset_index(drop=True)

    # households that moved: their records with an address take a neighbour's street and postcode,
    # another house number
    homes = sorted({household[k] for k in key})
    movers = set(rng.sample(homes, max(1, int(len(homes) * moved))))
    addressed = records["street"].ne("") | records["postcode"].ne("")
    touched = pd.Series(False, index=records.index)
    for home in sorted(movers):
        mine = key.map(household).eq(home) & addressed
        if not mine.any():
            continue
        donor = records.loc[addressed & ~key.map(household).eq(home)].sample(1, random_state=rng.randint(0, 2**31)).iloc[0]
        number = str(rng.randint(1, 250))
        for column, value in (("street", donor["street"]), ("house_number", number), ("postcode", donor["postcode"]),
                              ("city", donor["city"]), ("updated_at", DAY2_AT)):
            records.loc[mine, column] = value
        touched |= mine
    moved_records = int(touched.sum())

    # changed records
    chosen = rng.sample([i for i in records.index if not touched[i]], int(count * changed))
    for i in chosen:
        records.loc[i] = _change(records.loc[i], rng)
    touched[chosen] = True

    # new records of known persons: a copy of one of their records in a channel they were not known in
    by_person: dict[str, list[int]] = {}
    for i, k in zip(records.index, key):
        by_person.setdefault(person[k], []).append(i)
    half = int(count * new / 2)
    fresh, fresh_truth = [], []
    for n, who in enumerate(rng.sample(sorted(by_person), min(half, len(by_person)))):
        known = set(records.loc[by_person[who], "source"])
        channels = [c for c in CHANNELS if c not in known] or list(CHANNELS)
        row = records.loc[rng.choice(by_person[who])].copy()
        row["source"] = rng.choice(channels)
        row["record_id"] = f"D2-{seed}-{n:06d}"
        row["loyalty_card"] = row["loyalty_card"] if row["source"] == "pos" else ""
        if row["source"] == "app":
            row[["street", "house_number", "postcode", "city"]] = ""
        row["updated_at"] = DAY2_AT
        fresh.append(row)
        fresh_truth.append((row["source"], row["record_id"], who, household[key[by_person[who][0]]]))

    # the records of new households, from a drop of their own
    with tempfile.TemporaryDirectory() as tmp:
        per_household = max(1.0, count / max(1, len(homes)))
        generate_drop(Path(tmp), households=max(1, round(half / per_household)), seed=seed * 7919 + 1,
                      config=SynthConfig())
        others, other_truth = _records(Path(tmp)), _read(Path(tmp), "truth.csv")
        other_interactions, other_preferences = _read(Path(tmp), "interactions.csv"), _read(Path(tmp), "preferences.csv")
    rename = {f"{s}:{r}": f"N{seed}-{r}" for s, r in zip(others["source"], others["record_id"])}

    def renamed(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        frame["record_id"] = (frame["source"] + ":" + frame["record_id"]).map(rename)
        return frame

    others = renamed(others).assign(updated_at=DAY2_AT)
    other_truth = renamed(other_truth)
    other_truth["person_id"] = f"N{seed}-" + other_truth["person_id"]
    other_truth["household_id"] = f"N{seed}-" + other_truth["household_id"]
    other_interactions, other_preferences = renamed(other_interactions), renamed(other_preferences)

    new_records = pd.concat([pd.DataFrame(fresh), others], ignore_index=True)
    full_records = pd.concat([records, new_records], ignore_index=True)
    truth2 = pd.concat([truth[~(truth["source"] + ":" + truth["record_id"]).isin(gone)],
                        pd.DataFrame(fresh_truth, columns=list(truth.columns)), other_truth], ignore_index=True)
    kept_interactions = interactions[~(interactions["source"] + ":" + interactions["record_id"]).isin(gone)]
    kept_preferences = preferences[~(preferences["source"] + ":" + preferences["record_id"]).isin(gone)]
    _write_drop(Path(full), full_records, pd.concat([kept_interactions, other_interactions], ignore_index=True),
                pd.concat([kept_preferences, other_preferences], ignore_index=True), truth2)
    delta_records = pd.concat([records[touched], new_records], ignore_index=True)
    _write_drop(Path(delta), delta_records, other_interactions, other_preferences, truth2, deletions)
    for name in ("categories.csv",):
        if (day1 / name).is_file():
            shutil.copy(day1 / name, Path(full) / name)
            shutil.copy(day1 / name, Path(delta) / name)
    return Day2Summary(count, len(fresh), len(others), len(chosen), len(movers), moved_records, len(gone))
