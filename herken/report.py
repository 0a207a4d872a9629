"""The HTML report of the published run: what came in, what the model learned, what it decided.

One self-contained page: the Vega runtime that Splink ships is inlined, so the page opens without a
network. :func:`read_report` is the only code that reads the store; everything after it is pure
functions from :class:`ReportData` to HTML.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import case, distinct, func, select, tuple_
from sqlalchemy.engine import Engine
from sqlmodel import Session

from herken.waterfall import MergeWaterfall, merge_waterfall
from identity.categories import DEFAULT_CATEGORIES
from identity.rules import RULE_TITLES, STEWARD, unmeasured
from identity.strictness import HOUSEHOLDS, PLACEHOLDER_VALUES
from profile_api.store import StoreError, latest_run
from profile_api.store.models import MatchEdge, Person, QuarantinedRow, RecordLink, Run, SourceRecord

log = logging.getLogger(__name__)

QUARANTINE_CAP = 500    # rows shown; the total is always given
PAIR_SAMPLE = 50        # review pairs and refused merges shown, each
RAW_CHARS = 300         # a quarantined row's raw text is cut here

# What a reviewer sees of a record: (heading, raw columns shown, standardised columns compared across
# the pair). Shown columns come in groups: joined by a space within a group, by a comma between groups.
PAIR_FIELDS: tuple[tuple[str, tuple[tuple[str, ...], ...], tuple[str, ...]], ...] = (
    ("first name", (("first_name",),), ("std_given",)),
    ("last name", (("last_name",),), ("std_surname",)),
    ("birth date", (("birth_date",),), ("std_birth_date",)),
    ("e-mail", (("email",),), ("std_email",)),
    ("phone", (("phone",),), ("std_phone",)),
    ("address", (("street", "house_number"), ("postcode", "city")), ("std_postcode", "std_house_number")),
    ("loyalty card", (("loyalty_card",),), ("std_loyalty_card",)),
)
RECORD_COLUMNS: tuple[str, ...] = tuple(dict.fromkeys(
    [c for _, shown, _ in PAIR_FIELDS for group in shown for c in group]
    + [c for _, _, compared in PAIR_FIELDS for c in compared]
))


# --------------------------------------------------------------------------------------------
# The report's data, as plain values


@dataclass(frozen=True)
class RecordView:
    """One source record as a reviewer sees it: raw values and the standardised ones compared."""

    unique_id: str
    customer_id: str | None
    shown: dict[str, str | None]      # heading -> the values as received
    compared: dict[str, str | None]   # heading -> the standardised values, None when any is missing


def record_view(unique_id: str, customer_id: str | None, values: dict[str, str | None]) -> RecordView:
    """Return what a reviewer sees of a record, from its store columns (raw and standardised)."""
    shown, compared = {}, {}
    for heading, raw, std in PAIR_FIELDS:
        groups = (" ".join(v for c in group if (v := values.get(c))) for group in raw)
        shown[heading] = ", ".join(g for g in groups if g) or None
        keys = [values.get(c) for c in std]
        compared[heading] = " ".join(k for k in keys if k) if all(keys) else None
    return RecordView(unique_id, customer_id, shown, compared)


@dataclass(frozen=True)
class PairView:
    """A scored pair of the run with both records (None when a record is not in the store)."""

    unique_id_l: str
    unique_id_r: str
    match_probability: float
    match_weight: float | None
    reason: str | None
    left: RecordView | None
    right: RecordView | None

    @property
    def outcome(self) -> str:
        """Return whether the run put the two records in one person."""
        if self.left is None or self.right is None or not self.left.customer_id:
            return "unknown"
        return "same person" if self.left.customer_id == self.right.customer_id else "kept apart"


@dataclass(frozen=True)
class QuarantineView:
    """A quarantined row: where it was and why."""

    file: str
    line: int
    reason: str
    raw: str


@dataclass(frozen=True)
class ChannelView:
    """How many records a channel holds in the store and how many persons they belong to."""

    source: str
    records: int
    persons: int


@dataclass
class ReportData:
    """Everything the report shows, read from the store."""

    run: Run
    channels: list[ChannelView]
    records_per_person: dict[int, int]        # cluster size -> number of persons
    persons_per_household: dict[int, int]     # household size -> number of households
    quarantine: list[QuarantineView]
    quarantine_total: int
    review: list[PairView]
    review_total: int                         # borderline pairs the store keeps (a sample of those in the band)
    refused: list[PairView]
    refused_total: int
    merges_total: int
    file_counts: list[dict[str, Any]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    model: dict[str, Any] = field(default_factory=dict)
    rules_against_model: list[RuleAgainstModel] = field(default_factory=list)   # one per cannot-link rule
    categories: list[tuple[str, str, str | None]] = field(default_factory=list)   # the run's taxonomy
    unplaced_categories: list[tuple[str, int]] = field(default_factory=list)       # (category, interactions)
    # {"band": [low, high], "pairs": N, "kept": n} (see Run.review_json); empty for a run published before it was kept
    review_band: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ParameterRow:
    """One comparison level of the model with its m and u probabilities and match weight."""

    comparison: str
    level: str
    m_probability: float | None
    u_probability: float | None

    @property
    def match_weight(self) -> float | None:
        """Return log2(m/u), or None when either is unknown or zero."""
        m, u = self.m_probability, self.u_probability
        return math.log2(m / u) if m and u else None


# --------------------------------------------------------------------------------------------
# Reading the store


def read_report(engine: Engine, quarantine_cap: int = QUARANTINE_CAP, pair_sample: int = PAIR_SAMPLE) -> ReportData:
    """Return the report data of the published run; raise StoreError when nothing was published."""
    run = latest_run(engine)
    if run is None:
        raise StoreError("the store holds no published run; run `herken resolve DROP` first")
    with Session(engine) as session:
        records = dict(session.execute(
            select(SourceRecord.source, func.count()).group_by(SourceRecord.source)).all())
        persons = dict(session.execute(
            select(RecordLink.source, func.count(distinct(RecordLink.customer_id))).group_by(RecordLink.source)).all())
        channels = [ChannelView(s, int(records[s]), int(persons.get(s, 0))) for s in sorted(records)]

        per_person = select(func.count().label("n")).select_from(RecordLink).group_by(RecordLink.customer_id).subquery()
        per_household = select(func.count().label("n")).select_from(Person).group_by(Person.household_id).subquery()
        records_per_person = _distribution(session, per_person.c.n)
        persons_per_household = _distribution(session, per_household.c.n)

        quarantine_total = session.execute(
            select(func.count()).select_from(QuarantinedRow).where(QuarantinedRow.run_id == run.run_id)).scalar_one()
        quarantine = [QuarantineView(f, int(n), r, raw) for f, n, r, raw in session.execute(
            select(QuarantinedRow.file, QuarantinedRow.line, QuarantinedRow.reason, QuarantinedRow.raw)
            .where(QuarantinedRow.run_id == run.run_id)
            .order_by(QuarantinedRow.file, QuarantinedRow.line).limit(quarantine_cap)).all()]

        totals = dict(session.execute(
            select(MatchEdge.kind, func.count()).where(MatchEdge.run_id == run.run_id).group_by(MatchEdge.kind)).all())
        # Most uncertain first for review; most confident first for refusals (the model wanted them).
        review = _edges(session, run.run_id, "review", func.abs(MatchEdge.match_probability - 0.5).asc(), pair_sample)
        refused = _edges(session, run.run_id, "refused", MatchEdge.match_probability.desc(), pair_sample)
        views = _record_views(session, [uid for e in (*review, *refused) for uid in (e.unique_id_l, e.unique_id_r)])
        rules = read_rules_against_model(session, run)

    def pair(e: MatchEdge) -> PairView:
        return PairView(e.unique_id_l, e.unique_id_r, e.match_probability, e.match_weight, e.reason,
                        views.get(e.unique_id_l), views.get(e.unique_id_r))

    return ReportData(
        run=run, channels=channels, records_per_person=records_per_person,
        persons_per_household=persons_per_household, quarantine=quarantine, quarantine_total=int(quarantine_total),
        review=[pair(e) for e in review], review_total=int(totals.get("review", 0)),
        refused=[pair(e) for e in refused], refused_total=int(totals.get("refused", 0)),
        merges_total=int(totals.get("merge", 0)),
        file_counts=json.loads(run.counts_json or "[]"), timings=json.loads(run.timings_json or "{}"),
        model=json.loads(run.model_json or "{}"), rules_against_model=rules,
        categories=[tuple(c) for c in json.loads(run.categories_json or "[]")],
        unplaced_categories=[(str(c), int(n)) for c, n in json.loads(run.unplaced_categories_json or "[]")],
        review_band=json.loads(run.review_json or "{}"),
    )


def _distribution(session: Session, size_column: Any) -> dict[int, int]:
    """Return size -> how many groups have that size, for a column of group sizes."""
    rows = session.execute(select(size_column, func.count()).group_by(size_column).order_by(size_column)).all()
    return {int(size): int(count) for size, count in rows}


def _edges(session: Session, run_id: str, kind: str, order: Any, limit: int) -> list[MatchEdge]:
    """Return up to limit edges of one kind, in the given order (ties broken by the pair's ids)."""
    return list(session.scalars(
        select(MatchEdge).where(MatchEdge.run_id == run_id, MatchEdge.kind == kind)
        .order_by(order, MatchEdge.unique_id_l, MatchEdge.unique_id_r).limit(limit)).all())


def _record_views(session: Session, unique_ids: Iterable[str]) -> dict[str, RecordView]:
    """Return the records behind unique ids ("source:record_id"), with the person each belongs to."""
    keys = sorted({tuple(uid.split(":", 1)) for uid in unique_ids if ":" in uid})
    if not keys:
        return {}
    columns = [getattr(SourceRecord, c) for c in ("source", "record_id", *RECORD_COLUMNS)]
    rows = session.execute(
        select(*columns, RecordLink.customer_id)
        .outerjoin(RecordLink, (RecordLink.source == SourceRecord.source) & (RecordLink.record_id == SourceRecord.record_id))
        .where(tuple_(SourceRecord.source, SourceRecord.record_id).in_(keys))).all()
    views = {}
    for row in rows:
        values = row._mapping
        uid = f"{values['source']}:{values['record_id']}"
        views[uid] = record_view(uid, values["customer_id"], {c: values[c] for c in RECORD_COLUMNS})
    return views


# --------------------------------------------------------------------------------------------
# The model: parameters and Splink's charts, from the stored model JSON alone


def model_parameters(model: dict[str, Any]) -> list[ParameterRow]:
    """Return the non-null comparison levels of a Splink model JSON, in model order."""
    rows = []
    for comparison in model.get("comparisons", []):
        name = comparison.get("output_column_name") or comparison.get("comparison_description", "")
        for level in comparison.get("comparison_levels", []):
            if level.get("is_null_level"):
                continue
            rows.append(ParameterRow(name, level.get("label_for_charts") or level.get("sql_condition", ""),
                                     level.get("m_probability"), level.get("u_probability")))
    return rows


def model_charts(model: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Return (title, Vega-Lite spec) of Splink's match-weights and m/u charts of a model JSON.

    Splink 5 builds both charts from the settings alone, so no linker or data is needed.
    """
    from splink import SettingsCreator

    settings = SettingsCreator.from_path_or_dict(model).get_settings(model.get("sql_dialect") or "duckdb")
    return [
        ("Match weights", settings.match_weights_chart().chart_dict),
        ("m and u probabilities", settings.m_u_parameters_chart().chart_dict),
    ]


def chart_runtime() -> str | None:
    """Return the Vega, Vega-Lite and Vega-Embed JavaScript Splink ships, or None if not found."""
    try:
        # Splink pins the runtime to the versions its chart specs are written for.
        from splink.internals.html_utils import load_chart_libraries
    except ImportError:
        return None
    libraries = load_chart_libraries()
    return "\n".join(libraries[name] for name in ("vega", "vega-lite", "vega-embed"))


# --------------------------------------------------------------------------------------------
# Pure HTML helpers


class Html(str):
    """Markup that is already safe; everything else is escaped on output."""


def esc(value: object) -> Html:
    """Return value as safe HTML: Html unchanged, None as a dash, ints with separators, the rest escaped."""
    if isinstance(value, Html):
        return value
    if value is None or value == "":
        return Html('<span class="none">–</span>')
    if isinstance(value, bool):
        return Html("yes" if value else "no")
    if isinstance(value, int):
        return Html(f"{value:,}")
    return Html(html.escape(str(value)))


def tag(name: str, content: object = "", **attrs: object) -> Html:
    """Return one element; attribute names ending in _ lose it (class_ -> class); values are escaped."""
    rendered = "".join(f' {k.rstrip("_").replace("_", "-")}="{html.escape(str(v))}"'
                       for k, v in attrs.items() if v is not None)
    return Html(f"<{name}{rendered}>{esc(content) if content != '' else ''}</{name}>")


def join(parts: Iterable[object]) -> Html:
    """Return the escaped parts one after another."""
    return Html("".join(esc(p) for p in parts))


def table(headers: Sequence[str], rows: Iterable[Sequence[object]], numeric: Iterable[int] = (),
          class_: str | None = None) -> Html:
    """Return a table; columns whose index is in numeric are right-aligned."""
    right = set(numeric)
    head = join(tag("th", h, class_="num" if i in right else None) for i, h in enumerate(headers))
    body = join(
        tag("tr", join(tag("td", c, class_="num" if i in right else None) for i, c in enumerate(row)))
        for row in rows
    )
    return tag("table", join([tag("thead", tag("tr", head)), tag("tbody", body)]), class_=class_)


def bar(value: float, largest: float) -> Html:
    """Return a horizontal bar whose length is value's share of largest."""
    width = 0.0 if largest <= 0 else max(0.0, min(100.0, 100.0 * value / largest))
    return Html(f'<span class="bar" style="width:{width:.1f}%"></span>')


def percent(part: float, whole: float) -> str:
    """Return part as a percentage of whole, or a dash when whole is zero."""
    return f"{100.0 * part / whole:.1f}%" if whole else "–"


def number(value: float | None, digits: int = 3) -> Html:
    """Return a float with a fixed number of digits, or a dash."""
    return esc(None if value is None else f"{value:.{digits}f}")


def section(anchor: str, title: str, *content: object) -> Html:
    """Return a titled section of the page."""
    return tag("section", join([tag("h2", title), *content]), id=anchor)


def distribution_table(size_heading: str, count_heading: str, distribution: dict[int, int]) -> Html:
    """Return a size distribution as a table with count, share and a bar per size."""
    total = sum(distribution.values())
    largest = max(distribution.values(), default=0)
    rows = [(size, count, percent(count, total), bar(count, largest)) for size, count in sorted(distribution.items())]
    rows.append((Html("<strong>total</strong>"), total, "", ""))
    return table([size_heading, count_heading, "share", ""], rows, numeric=(0, 1, 2), class_="dist")


def field_class(left: str | None, right: str | None) -> str | None:
    """Return "same" or "diff" for two standardised values, None when either is missing."""
    if not left or not right:
        return None
    return "same" if left == right else "diff"


def pairs_table(pairs: Sequence[PairView], with_reason: bool) -> Html:
    """Return pairs with both records side by side, one two-row block per pair, agreeing fields marked."""
    headers = ["probability", "weight", "outcome", *(["reason"] if with_reason else []), "record",
               *(h for h, _, _ in PAIR_FIELDS)]
    head = tag("thead", tag("tr", join(tag("th", h) for h in headers)))
    blocks = []
    for p in pairs:
        lead = [tag("td", number(p.match_probability), rowspan=2, class_="num"),
                tag("td", number(p.match_weight, 2), rowspan=2, class_="num"),
                tag("td", p.outcome, rowspan=2, class_="outcome " + p.outcome.replace(" ", "-"))]
        if with_reason:
            lead.append(tag("td", p.reason, rowspan=2, class_="reason"))
        rows = []
        for uid, record, other in ((p.unique_id_l, p.left, p.right), (p.unique_id_r, p.right, p.left)):
            cells = [tag("td", tag("code", uid), class_="rid")]
            for heading, _, _ in PAIR_FIELDS:
                if record is None:
                    cells.append(tag("td", None))
                    continue
                mark = field_class(record.compared.get(heading), other.compared.get(heading) if other else None)
                cells.append(tag("td", record.shown.get(heading), class_=mark))
            rows.append(tag("tr", join([*lead, *cells])))
            lead = []
        blocks.append(tag("tbody", join(rows), class_="pair"))
    return tag("table", join([head, *blocks]), class_="pairs")


def shown_of(shown: int, total: int, noun: str, order: str = "") -> Html:
    """Return a line saying how many of how many are shown, and in which order."""
    if total == 0:
        return tag("p", f"No {noun} in this run.", class_="muted")
    text = f"All {total:,} {noun}" if shown >= total else f"{shown:,} of {total:,} {noun} shown"
    return tag("p", f"{text}, {order}." if order else f"{text}.", class_="muted")


def borderline_text(shown: int, kept: int, review_band: dict[str, Any]) -> str:
    """Return what the borderline pairs shown are: how many of how many the run kept, and of how many in the band.

    A run keeps a random sample of its borderline pairs; review_band (Run.review_json) says of how
    many. A run published before it was kept says only that the pairs are a sample.
    """
    in_band = review_band.get("pairs")
    if in_band is None:
        if kept == 0:
            return "No borderline pairs kept for this run."
        return (f"{shown:,} of the {kept:,} borderline pairs the run kept shown, most uncertain first; they are "
                "a random sample of its borderline pairs, of how many was not recorded (a run published before "
                "schema 7).")
    if in_band == 0:
        return "No pairs in this band in this run."
    whole = f"all {in_band:,} pairs in the band" if kept >= in_band else \
        f"a random sample of {kept:,} of the {in_band:,} pairs in the band"
    if shown >= kept:
        return f"The run kept {whole}; all shown, most uncertain first."
    return f"The run kept {whole}; {shown:,} shown, most uncertain first."


def _when(value: dt.datetime | None) -> str:
    """Return a timestamp of the store (written in UTC) to the second."""
    return "–" if value is None else value.strftime("%Y-%m-%d %H:%M:%S") + " UTC"


def header_html(data: ReportData) -> Html:
    """Return the run header: key figures, where and when, step timings."""
    run = data.run
    model = "trained on this drop" if run.trained else "re-used from an earlier run"
    figures = [("records", run.records), ("persons", run.persons), ("households", run.households),
               ("quarantined rows", run.quarantined), ("merges", data.merges_total),
               ("refused merges", data.refused_total),
               (f"refused at p ≥ {AGAINST_MODEL}", sum(r.against_model for r in data.rules_against_model))]
    cards = join(tag("div", join([tag("div", v, class_="figure"), tag("div", k, class_="label")]), class_="card")
                 for k, v in figures)
    duration = (run.finished_at - run.started_at).total_seconds() if run.started_at and run.finished_at else None
    facts = [("run", tag("code", run.run_id)), ("drop", tag("code", run.drop_path)),
             ("started", _when(run.started_at)), ("finished", _when(run.finished_at)),
             ("took", f"{duration:.1f} s" if duration is not None else None), ("model", model)]
    facts_html = tag("dl", join(join([tag("dt", k), tag("dd", v)]) for k, v in facts), class_="facts")
    largest = max(data.timings.values(), default=0.0)
    timing_rows = [(step, f"{seconds:.2f}", bar(seconds, largest)) for step, seconds in data.timings.items()]
    timing_rows.append((Html("<strong>total</strong>"), f"{sum(data.timings.values()):.2f}", ""))
    timings = join([tag("h3", "Step timings (seconds)"),
                    table(["step", "seconds", ""], timing_rows, numeric=(1,), class_="dist")])
    return tag("header", join([
        tag("h1", "herken run report"),
        tag("div", cards, class_="cards"),
        tag("div", join([tag("div", facts_html), tag("div", timings)]), class_="columns"),
    ]))


def _kept_description(run: Run, rule: str) -> str | None:
    """Return the description of an entry the run kept with its rules (run.rules_json), or None without one."""
    return next((entry.get("description") for entry in json.loads(run.rules_json or "[]")
                 if entry.get("rule") == rule), None)


def input_html(data: ReportData) -> Html:
    """Return the per-file counts and the records per channel."""
    file_rows = []
    for c in data.file_counts:
        read, accepted, quarantined, aside = (int(c.get(k, 0))
                                              for k in ("read", "accepted", "quarantined", "set_aside"))
        check = "✓" if read == accepted + quarantined else "✗ does not add up"
        file_rows.append((tag("code", c.get("file")), read, accepted, quarantined, aside, check))
    total_records = sum(ch.records for ch in data.channels)
    largest = max((ch.records for ch in data.channels), default=0)
    channel_rows = [(ch.source, ch.records, percent(ch.records, total_records), ch.persons,
                     percent(ch.persons, data.run.persons), bar(ch.records, largest)) for ch in data.channels]
    channel_rows.append((Html("<strong>total</strong>"), total_records, "", "", "", ""))
    placeholders = _kept_description(data.run, PLACEHOLDER_VALUES)
    return section("input", "Input",
                   tag("p", f"{placeholders[:1].upper()}{placeholders[1:]}.", class_="note") if placeholders else "",
                   tag("div", join([
                       tag("div", join([tag("h3", "Files: read = accepted + quarantined"),
                                        table(["file", "read", "accepted", "quarantined",
                                               "accepted, birth date set aside", "adds up"], file_rows,
                                              numeric=(1, 2, 3, 4))])),
                       tag("div", join([tag("h3", "Records per channel"),
                                        table(["channel", "records", "share", "persons", "of all persons", ""],
                                              channel_rows, numeric=(1, 2, 3, 4), class_="dist")])),
                   ]), class_="columns"))


def categories_html(data: ReportData) -> Html:
    """Return the category taxonomy in brief and the categories it does not place, with their interactions."""
    built_in = sorted(data.categories) == sorted(DEFAULT_CATEGORIES)
    groups: dict[str, list[str]] = {}
    for category, group, _ in data.categories:
        groups.setdefault(group, []).append(category)
    pets = sorted({pet for _, group, pet in data.categories if group == "pet_food" and pet})
    summary = ", ".join(f"{len(groups[g]):,} {g.replace('_', ' ')}" + (f" ({', '.join(pets)})" if g == "pet_food" else "")
                        for g in ("clothing", "shoes", "pet_food", "other") if g in groups) or "no categories"
    source = "the built-in taxonomy (no categories.csv)" if built_in else "categories.csv"
    total = sum(n for _, n in data.unplaced_categories)
    rows = [(tag("code", c), n) for c, n in data.unplaced_categories]
    return section("categories", "Categories",
                   tag("p", f"Sizes and pets are derived through {source}: {summary}."),
                   tag("h3", "Categories the taxonomy does not place"),
                   tag("p", f"{len(rows):,} categories with {total:,} interactions count as other: no size or pet "
                            "is derived from them. Name them in categories.csv to place them.", class_="muted")
                   if rows else tag("p", "Every category of the drop is placed.", class_="muted"),
                   table(["category", "interactions"], rows, numeric=(1,)) if rows else "")


def model_html(data: ReportData, charts: Sequence[tuple[str, dict[str, Any]]], chart_note: str | None) -> Html:
    """Return the model section: prior, Splink's charts and the parameter table."""
    prior = data.model.get("probability_two_random_records_match")
    prior_text = (f"Probability that two random records match: {prior:.5f} (1 in {1 / prior:,.0f})."
                  if isinstance(prior, (int, float)) and prior > 0 else "The model has no prior match probability.")
    parts: list[object] = [tag("p", prior_text)]
    if chart_note:
        parts.append(tag("p", chart_note, class_="note"))
    for i, (title, spec) in enumerate(charts):
        parts.append(tag("h3", title))
        parts.append(chart_html(str(i), spec))
    rows = [(p.comparison, p.level, number(p.m_probability, 4), number(p.u_probability, 4), number(p.match_weight, 2))
            for p in model_parameters(data.model)]
    parts.append(tag("details", join([
        tag("summary", "Parameters as a table"),
        table(["comparison", "level", "m", "u", "match weight"], rows, numeric=(2, 3, 4)),
    ]), open=None if charts else "open"))
    return section("model", "Model", *parts)


def chart_html(key: str, spec: dict[str, Any]) -> Html:
    """Return a chart's place on the page and its Vega-Lite spec (drawn by EMBED when the runtime is there)."""
    return join([tag("div", "", class_="vega-chart", data_spec=f"chart-spec-{key}"),
                 Html(f'<script type="application/json" id="chart-spec-{key}">{json_for_script(spec)}</script>')])


def merges_html(waterfall: MergeWaterfall | None, note: str | None) -> Html:
    """Return the waterfall section: how sampled merges added up from the prior to their match weight."""
    if waterfall is None:
        return section("merges", "How merges added up",
                       tag("p", note or "The run merged no records.", class_="muted"))
    rows = [(str(i), tag("code", m.record_a), tag("code", m.record_b), number(m.match_probability, 4))
            for i, m in enumerate(waterfall.merges)]
    return section(
        "merges", "How merges added up",
        tag("p", join([f"{len(waterfall.merges)} of the run's {waterfall.total:,} merges, from the weakest to the "
                       "surest, scored again with the run's model: each bar is a comparison's match weight, from the "
                       "prior to the final weight. The slider picks the pair (its record number below); ",
                       tag("code", "herken explain RECORD RECORD"), " prints the same figures."]), class_="muted"),
        chart_html("merges", waterfall.spec) if note is None else tag("p", note, class_="note"),
        table(["record number", "record", "record", "match probability"], rows, numeric=(0, 3)))


def clusters_html(data: ReportData) -> Html:
    """Return the cluster and household size distributions side by side, and the household caps the run measured."""
    caps = _kept_description(data.run, HOUSEHOLDS)
    return section("clusters", "Persons and households", tag("div", join([
        tag("div", join([tag("h3", "Records per person"),
                         distribution_table("records", "persons", data.records_per_person)])),
        tag("div", join([tag("h3", "Persons per household"),
                         distribution_table("persons", "households", data.persons_per_household)])),
    ]), class_="columns"), tag("p", f"Households: {_without_title(caps, 'households')}.", class_="muted")
        if caps else "")


def review_html(data: ReportData) -> Html:
    """Return the borderline pairs and the refused merges."""
    legend = tag("p", join([
        "Values compare after standardisation: ", tag("span", "agrees", class_="same legend"), " ",
        tag("span", "differs", class_="diff legend"), "; unmarked when either side is empty.",
    ]), class_="muted")
    band = data.review_band.get("band")
    review = join([
        tag("h3", f"Borderline pairs (match probability {band[0]:g}–{band[1]:g})" if band else "Borderline pairs"),
        tag("p", borderline_text(len(data.review), data.review_total, data.review_band), class_="muted"),
        pairs_table(data.review, with_reason=False) if data.review else "",
    ])
    refused = join([
        tag("h3", "Refused merges"),
        tag("p", "Pairs the model scored as a match that a cannot-link rule kept apart.", class_="muted"),
        shown_of(len(data.refused), data.refused_total, "refused merges", "most confident first"),
        pairs_table(data.refused, with_reason=True) if data.refused else "",
    ])
    return section("review", "Review", legend, review, refused)


def quarantine_html(data: ReportData) -> Html:
    """Return the quarantined rows with file, line and reason."""
    def raw(text: str) -> Html:
        return tag("code", text if len(text) <= RAW_CHARS else text[:RAW_CHARS] + "…")

    rows = [(tag("code", q.file), str(q.line), q.reason, raw(q.raw)) for q in data.quarantine]
    return section("quarantine", "Quarantine",
                   shown_of(len(data.quarantine), data.quarantine_total, "quarantined rows", "by file and line"),
                   table(["file", "line", "reason", "row as received"], rows, numeric=(1,), class_="quarantine")
                   if rows else "")


# --------------------------------------------------------------------------------------------
# Rules against the model: pairs the model was sure of that a cannot-link rule kept apart

AGAINST_MODEL = 0.9     # a refused pair scored at least this is a rule overruling a confident model
RULE_EXAMPLES = 3       # example pairs shown per rule in the report
OTHER_RULE = "other"    # a refusal whose reason names none of identity.rules.RULE_TITLES
# Rules that are not measured on a drop: what they do in every run.
RULE_STANDING: dict[str, str] = {STEWARD: "a pair a data steward separated is never joined"}


@dataclass(frozen=True)
class RuleAgainstModel:
    """One cannot-link rule in a run: how many pairs it refused, how many the model was sure of, examples."""

    rule: str
    title: str
    refused: int                    # every pair the rule refused
    against_model: int              # of which the model scored match probability >= AGAINST_MODEL
    examples: list[PairView]        # refusals at >= AGAINST_MODEL, highest probability first
    strictness: str | None = None   # how the rule applied to the run's drop, as the run kept it


def _rule_of_reason() -> Any:
    """Return the SQL expression of a refusal's rule, read from its reason text as identity.rules.rule_of does."""
    return case(*((MatchEdge.reason.startswith(title, autoescape=True), rule) for rule, title in RULE_TITLES.items()),
                else_=OTHER_RULE)


def read_rules_against_model(session: Session, run: Run, examples: int = RULE_EXAMPLES) -> list[RuleAgainstModel]:
    """Return every rule of the run with its refusals counted in SQL, a few examples and its strictness.

    The rules of identity.rules come in their order, each even when it refused nothing; refusals
    with a reason no rule writes come last, as one OTHER_RULE row.
    """
    refused = (select(_rule_of_reason().label("rule"), MatchEdge.match_probability.label("probability"))
               .where(MatchEdge.run_id == run.run_id, MatchEdge.kind == "refused").subquery())
    sure = func.sum(case((refused.c.probability >= AGAINST_MODEL, 1), else_=0))
    counts = {rule: (int(total), int(against or 0)) for rule, total, against in session.execute(
        select(refused.c.rule, func.count(), sure).group_by(refused.c.rule)).all()}
    rules = [*RULE_TITLES, *([OTHER_RULE] if OTHER_RULE in counts else [])]
    shown = {rule: list(session.scalars(
        select(MatchEdge).where(MatchEdge.run_id == run.run_id, MatchEdge.kind == "refused",
                                _rule_of_reason() == rule, MatchEdge.match_probability >= AGAINST_MODEL)
        .order_by(MatchEdge.match_probability.desc(), MatchEdge.unique_id_l, MatchEdge.unique_id_r)
        .limit(examples)).all()) if examples > 0 and counts.get(rule, (0, 0))[1] else []
        for rule in rules}
    views = _record_views(session, [uid for edges in shown.values() for e in edges
                                    for uid in (e.unique_id_l, e.unique_id_r)])
    kept = json.loads(run.rules_json) if run.rules_json else None
    described = {entry["rule"]: entry["description"] for entry in kept or []}

    def strictness(rule: str) -> str | None:
        if rule in RULE_STANDING or rule == OTHER_RULE:
            return RULE_STANDING.get(rule)
        if kept is None:   # the run was published before runs kept their rules
            return None
        return described.get(rule, unmeasured(rule))

    return [RuleAgainstModel(
        rule, RULE_TITLES.get(rule, "a reason no rule gives"), *counts.get(rule, (0, 0)),
        [PairView(e.unique_id_l, e.unique_id_r, e.match_probability, e.match_weight, e.reason,
                  views.get(e.unique_id_l), views.get(e.unique_id_r)) for e in shown[rule]],
        strictness(rule)) for rule in rules]


def rules_against_model(engine: Engine, examples: int = 1) -> list[RuleAgainstModel]:
    """Return the rules against the model of the store's published run; raise StoreError when there is none."""
    run = latest_run(engine)
    if run is None:
        raise StoreError("the store holds no published run; run `herken resolve DROP` first")
    with Session(engine) as session:
        return read_rules_against_model(session, run, examples)


def _without_title(line: str, title: str) -> str:
    """Return a strictness line or a reason without the rule title it starts with (shown beside it already)."""
    return line[len(title):].lstrip(":").strip() if line.startswith(title) else line


def rules_table(rules: Sequence[RuleAgainstModel]) -> Html:
    """Return one row per rule: refusals at p >= AGAINST_MODEL, all refusals, their share, the rule's strictness."""
    def strictness(r: RuleAgainstModel) -> object:
        if r.strictness:
            return _without_title(r.strictness, r.title)
        return None if r.rule == OTHER_RULE else Html(
            '<span class="none">not kept for this run (published before runs kept their rules)</span>')

    rows = [(r.title, r.against_model, r.refused, percent(r.against_model, r.refused), strictness(r)) for r in rules]
    return table(["rule", f"refused at p ≥ {AGAINST_MODEL}", "refused in all", "share", "how strict on this drop"],
                 rows, numeric=(1, 2, 3), class_="rules")


def rules_html(data: ReportData) -> Html:
    """Return the "rules against the model" section: the table and each rule's most confident refusals."""
    rules = data.rules_against_model
    against = sum(r.against_model for r in rules)
    lead = (f"{against:,} pairs the model scored at match probability ≥ {AGAINST_MODEL} were kept apart by a "
            "cannot-link rule. When one rule refuses many of them, look at its examples: if they are one "
            "person each, the rule fights this data." if against else
            f"No cannot-link rule refused a pair the model scored at match probability ≥ {AGAINST_MODEL}.")
    parts: list[object] = [tag("p", lead, class_="note" if against else "muted"), rules_table(rules)]
    for r in rules:
        if r.examples:
            parts.append(tag("h3", f"{r.title}: the {len(r.examples):,} most confident of {r.against_model:,} "
                                   f"refusals at p ≥ {AGAINST_MODEL}"))
            parts.append(pairs_table(r.examples, with_reason=True))
    return section("rules", "Rules against the model", *parts)


def _record_brief(uid: str, view: RecordView | None) -> str:
    """Return a record's id with its name and birth date as received, for one line of the CLI."""
    if view is None:
        return uid
    name = " ".join(v for v in (view.shown.get("first name"), view.shown.get("last name")) if v) or "no name"
    born = view.shown.get("birth date")
    return f"{uid} ({name}{', ' + born if born else ''})"


def rules_against_model_lines(rules: Sequence[RuleAgainstModel]) -> list[str]:
    """Return the summary lines `herken resolve` prints: refusals against the model with an example, strictness.

    A rule shows when it refused a pair or the run kept how strict it was.
    """
    lines = [f"rules against the model (refused pairs the model scored at match probability >= {AGAINST_MODEL}):"]
    shown = [r for r in rules if r.refused or (r.strictness and r.rule not in RULE_STANDING)]
    for r in shown:
        line = f"  {r.title}: {r.against_model:,} of {r.refused:,} refused pairs"
        if r.examples:
            e = r.examples[0]
            conflict = _without_title(e.reason or "", r.title).strip()
            line += (f"; e.g. p {e.match_probability:.4f} {_record_brief(e.unique_id_l, e.left)} / "
                     f"{_record_brief(e.unique_id_r, e.right)}{': ' + conflict if conflict else ''}")
        lines.append(line)
    if not shown:
        lines.append("  no rule refused any pair")
    measured = [r.strictness for r in rules if r.strictness and r.rule not in RULE_STANDING]
    if measured:
        lines.append("how strict each rule was on this drop:")
        lines.extend(f"  {line}" for line in measured)
    return lines


def json_for_script(value: Any) -> str:
    """Return JSON that is safe inside a script element (no <, > or & left to end it)."""
    return (json.dumps(value, default=str)
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2330; margin: 0; background: #f6f7f9; }
main { max-width: 1280px; margin: 0 auto; padding: 0 24px 48px; }
nav { position: sticky; top: 0; background: #1d2330; padding: 8px 24px; z-index: 1; }
nav a { color: #dfe5ee; margin-right: 18px; text-decoration: none; font-weight: 500; }
h1 { font-size: 24px; margin: 24px 0 12px; } h2 { font-size: 19px; margin: 0 0 8px; } h3 { font-size: 15px; margin: 16px 0 6px; }
section, header { background: #fff; border: 1px solid #e1e4ea; border-radius: 8px; padding: 16px 20px; margin-top: 18px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; }
.card { background: #f0f3f8; border-radius: 6px; padding: 10px 16px; min-width: 120px; }
.figure { font-size: 22px; font-weight: 600; } .label { color: #5b6577; font-size: 12px; }
.columns { display: flex; flex-wrap: wrap; gap: 32px; } .columns > div { flex: 1 1 380px; min-width: 0; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 14px; margin: 16px 0 0; }
dl.facts dt { color: #5b6577; } dl.facts dd { margin: 0; overflow-wrap: anywhere; }
table { border-collapse: collapse; font-size: 13px; margin: 4px 0 8px; }
th, td { padding: 3px 8px; border-bottom: 1px solid #eceef2; text-align: left; vertical-align: top; }
th { background: #f0f3f8; font-weight: 600; white-space: nowrap; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
table.dist td:last-child { width: 180px; }
.bar { display: inline-block; height: 10px; background: #4c78a8; border-radius: 2px; }
.none, .muted { color: #8a93a3; } .note { background: #fff6e0; padding: 6px 10px; border-radius: 4px; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; overflow-wrap: anywhere; }
table.pairs { width: 100%; } table.pairs tbody.pair:nth-of-type(even) { background: #fafbfc; }
table.pairs tbody.pair { border-top: 2px solid #d5dae3; }
.same { background: #e3f4e8; } .diff { background: #fde8e6; }
.legend { padding: 1px 6px; border-radius: 3px; }
.outcome { white-space: nowrap; font-weight: 500; } .same-person { color: #1e7b3c; } .kept-apart { color: #a33a2e; }
.reason { max-width: 220px; }
table.quarantine td:last-child { max-width: 560px; }
.vega-chart { overflow-x: auto; }
footer { color: #8a93a3; font-size: 12px; margin-top: 18px; }
"""

EMBED = """
document.querySelectorAll("div.vega-chart").forEach(function (el) {
  var spec = JSON.parse(document.getElementById(el.dataset.spec).textContent);
  vegaEmbed(el, spec, {actions: false}).catch(function (err) {
    el.textContent = "The chart could not be drawn: " + (err.message || err);
  });
});
"""


def render_report(data: ReportData, charts: Sequence[tuple[str, dict[str, Any]]], runtime: str | None,
                  generated_at: dt.datetime, chart_note: str | None = None,
                  waterfall: MergeWaterfall | None = None, waterfall_note: str | None = None) -> str:
    """Return the whole page; charts are drawn only when the JavaScript runtime is given."""
    if runtime is None and charts:
        charts, chart_note = [], "Charts are left out: Splink's Vega runtime was not found. The table below holds the same figures."
    if runtime is None and waterfall is not None and waterfall_note is None:
        waterfall_note = "The chart is left out: Splink's Vega runtime was not found."
    nav = tag("nav", join(tag("a", t, href=f"#{a}") for a, t in (
        ("top", "Run"), ("input", "Input"), ("categories", "Categories"), ("model", "Model"),
        ("merges", "Merges"), ("clusters", "Persons and households"), ("rules", "Rules against the model"),
        ("review", "Review"), ("quarantine", "Quarantine"))))
    body = join([
        nav,
        tag("main", join([
            tag("div", "", id="top"), header_html(data), input_html(data), categories_html(data),
            model_html(data, charts, chart_note), merges_html(waterfall, waterfall_note),
            clusters_html(data), rules_html(data), review_html(data), quarantine_html(data),
            tag("footer", f"Written by herken report at {_when(generated_at)}."),
        ])),
    ])
    scripts = ""
    if (charts or (waterfall is not None and waterfall_note is None)) and runtime:
        # "</script" can only occur in the library's strings, regexes or comments, where "<\/" means "</".
        safe = re.sub(r"</(script)", r"<\\/\1", runtime, flags=re.IGNORECASE)
        scripts = f"<script>{safe}</script><script>{EMBED}</script>"
    title = html.escape(f"herken report {data.run.run_id}")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>'
            f"<style>{STYLE}</style></head><body>{body}{scripts}</body></html>\n")


# --------------------------------------------------------------------------------------------
# The command's entry point


def write_report(engine: Engine, out: Path) -> Path:
    """Write the self-contained HTML report of the store's published run to out; return out."""
    data = read_report(engine)
    chart_note = None
    try:
        charts = model_charts(data.model)
    except Exception as err:  # a model Splink cannot read still gets a report, with the table only
        log.warning("the model charts could not be built: %s", err)
        charts, chart_note = [], f"The model charts could not be built ({err}); the table below holds the figures."
    waterfall, waterfall_note = None, None
    try:
        waterfall = merge_waterfall(engine, data.run.run_id)
    except Exception as err:  # a pair that cannot be scored again still gets a report, without the chart
        log.warning("the waterfall chart could not be built: %s", err)
        waterfall_note = f"The waterfall chart could not be built ({err})."
    page = render_report(data, charts, chart_runtime() if charts or waterfall else None,
                         dt.datetime.now(dt.timezone.utc), chart_note, waterfall, waterfall_note)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    log.info("wrote the report of run %s to %s", data.run.run_id, out)
    return out
