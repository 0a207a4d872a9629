"""Writing a synthetic drop: the entry point, the CSV files and the renamed taxonomy's extra files."""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import replace
from operator import itemgetter
from pathlib import Path
from typing import Sequence

from identity.ingest import CHANNELS, IDENTITY_COLUMNS, INTERACTION_COLUMNS, PREFERENCE_COLUMNS, TRUTH_COLUMNS
from identity.progress import NO_PROGRESS, Progress, counted
from synth.behaviour import _Row, _interactions, _preferences
from synth.config import DEFAULT_CONFIG, GenerateSummary, SynthConfig
from synth.model import _Person, _Record
from synth.population import _World, _build_household, _link_leavers, _plan_records
from synth.reference import (
    TAXONOMIES, _CATEGORIES, _LETTER_SIZES, _MORE_PET_FOOD, _PET_FOOD, _RENAMED, _RENAMED_PETS_CONFIG,
)
from synth.render import _assign_identifiers, _record_ids, _render_record

logger = logging.getLogger(__name__)


def generate_drop(out_dir: Path, households: int, seed: int,
                  config: SynthConfig = DEFAULT_CONFIG, taxonomy: str = "default",
                  progress: Progress = NO_PROGRESS) -> GenerateSummary:
    """Write a synthetic drop (four channel files, interactions, preferences, truth) to out_dir.

    With ``taxonomy="renamed"`` the categories are named as another retailer might name them
    (``clothing`` for women's and men's clothing, ``pet_food/dog``, ``pet_food/cat``, ...), birds
    and rabbits join the pets (unless the config sets their rates), and the drop also holds the
    matching ``categories.csv`` and ``attributes_truth.csv``: each person's true clothing size
    (and the one before, when it changed), shoe size and the household's pets.

    Progress hears of three steps: building the households, the persons' interactions, writing rows.
    """
    if households < 1:
        raise ValueError(f"households must be at least 1, got {households}")
    if taxonomy not in TAXONOMIES:
        raise ValueError(f"taxonomy must be one of {', '.join(TAXONOMIES)}, got {taxonomy!r}")
    if taxonomy == "renamed" and not (config.bird_rate or config.rabbit_rate):
        config = replace(config, **_RENAMED_PETS_CONFIG)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    w = _World(seed, config)
    rng = w.rng

    progress.step(f"building {households:,} households", total=households, unit="households")
    hhs = [_build_household(w, i) for i in counted(range(households), progress)]
    _link_leavers(w, hhs)
    persons: list[_Person] = []
    for hh in hhs:
        _plan_records(w, hh)
        for p in hh.persons:
            if p.records:
                _assign_identifiers(w, p)
                persons.append(p)

    by_channel: dict[str, list[_Record]] = {c: [] for c in CHANNELS}
    for p in persons:
        for rec in p.records:
            by_channel[rec.channel].append(rec)
    for channel, recs in by_channel.items():
        for rec, rid in zip(recs, _record_ids(channel, len(recs), rng)):
            rec.record_id = rid
        rng.shuffle(recs)

    pref_rows: list[tuple] = []
    for p in persons:
        pref_rows.extend(_preferences(w, p))
    items: list[_Row] = []
    progress.step(f"interactions of {len(persons):,} persons", total=len(persons), unit="persons")
    for p in counted(persons, progress):
        items.extend(_interactions(w, p))

    records = sum(map(len, by_channel.values()))
    progress.step(f"writing {out_dir}", total=2 * records + len(items) + len(pref_rows)
                  + (len(persons) if taxonomy == "renamed" else 0), unit="rows")
    counts: dict[str, int] = {}
    for channel, recs in by_channel.items():
        rows = [_render_record(w, rec) for rec in recs]
        _write_csv(out_dir / f"{channel}.csv", IDENTITY_COLUMNS, rows)
        counts[channel] = len(rows)
        progress.advance(len(rows))

    items.sort(key=itemgetter(0))   # by time; the sort is stable, so ties stay deterministic
    interaction_rows = [row for _, row in items]
    if taxonomy == "renamed":
        interaction_rows = [row[:5] + (_RENAMED.get(row[5], row[5]),) + row[6:] for row in interaction_rows]
        _write_taxonomy(out_dir, persons)
        progress.advance(len(persons))
    else:       # a folder that held a renamed drop: its taxonomy would rename this drop's categories
        for stale in ("categories.csv", "attributes_truth.csv"):
            (out_dir / stale).unlink(missing_ok=True)
    _write_csv(out_dir / "interactions.csv", INTERACTION_COLUMNS, interaction_rows)
    progress.advance(len(interaction_rows))

    pref_rows.sort(key=itemgetter(3))
    prefs = [(rec.channel, rec.record_id, key, value, w.iso(t)) for rec, key, value, t in pref_rows]
    _write_csv(out_dir / "preferences.csv", PREFERENCE_COLUMNS, prefs)
    progress.advance(len(prefs))

    truth = [(c, rec.record_id, rec.person.pid, rec.person.household.hid)
             for c in CHANNELS for rec in by_channel[c]]
    _write_csv(out_dir / "truth.csv", TRUTH_COLUMNS, truth)
    progress.advance(len(truth))
    progress.close()

    summary = GenerateSummary(
        households=households, persons=len(persons), records=counts,
        interactions=len(interaction_rows), preferences=len(prefs),
    )
    logger.info(
        "synthetic drop in %s: %d households, %d persons, records %s, %d interactions, "
        "%d preferences", out_dir, summary.households, summary.persons, counts,
        summary.interactions, summary.preferences,
    )
    return summary


def _write_taxonomy(out_dir: Path, persons: list[_Person]) -> None:
    """Write the renamed drop's categories.csv and every person's true sizes and pets (attributes_truth.csv)."""
    groups = {"clothing": ("clothing", ""), "shoes": ("shoes", "")}
    groups.update({_RENAMED[food]: ("pet_food", pet) for pet, food in _PET_FOOD.items()})
    names = dict.fromkeys(_RENAMED.get(c, c) for c in (*_CATEGORIES, *_MORE_PET_FOOD))
    _write_csv(out_dir / "categories.csv", ("category", "group", "pet"),
               [(c, *groups.get(c, ("other", ""))) for c in names])
    rows = []
    for p in persons:
        changed = p.size_change
        animals = ("cat", "dog") if p.household.pet == "both" else (p.household.pet,) if p.household.pet else ()
        rows.append((p.pid, p.household.hid, p.gender, _LETTER_SIZES[changed[1] if changed else p.size],
                     _LETTER_SIZES[p.size] if changed else "", str(p.shoe), ",".join(animals)))
    _write_csv(out_dir / "attributes_truth.csv", ATTRIBUTES_TRUTH_COLUMNS, rows)


ATTRIBUTES_TRUTH_COLUMNS: tuple[str, ...] = (
    "person_id", "household_id", "gender", "clothing_size", "clothing_size_before", "shoe_size", "pets",
)


def _write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    # Plain joins are four times faster than csv.writer; rows with a comma, quote or line break
    # go through csv.writer, so the file is exactly what csv.writer would write.
    buffer = io.StringIO()
    quoting = csv.writer(buffer, lineterminator="\n")
    lines = [",".join(header)]
    width = len(header) - 1
    for row in rows:
        line = ",".join(row)
        if line.count(",") != width or '"' in line or "\n" in line or "\r" in line:
            buffer.seek(0)
            buffer.truncate()
            quoting.writerow(row)
            line = buffer.getvalue()[:-1]
        lines.append(line)
    lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8", newline="")
