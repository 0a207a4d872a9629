"""Where a run loses true record pairs, and where its match probabilities part from the truth.

    python bench/misses.py --drop DROP                  # a drop with truth.csv (herken generate)
    python bench/misses.py --drop DROP --out misses.json

Resolves the drop in this process (``identity.pipeline.resolve``, nothing published), keeps its scored
pairs and clustering, and compares both with the drop's truth.csv:

- **missed pairs**: the true record pairs the run left in two persons, per pair of pieces of one true
  person, by why: a cannot-link rule refused a pair between the pieces (the rule), the best pair
  between them scored below the match threshold, or no pair between them was scored at all (from
  ``PREDICT_THRESHOLD`` up: not a candidate, or a candidate scored below it);
- **never scored**: for the pieces of one person between which no pair was scored, what their closest two
  records share (a full name and nothing else, a surname and a city, ...): where blocking or the scores
  under ``PREDICT_THRESHOLD`` lose them;
- **false pairs**: record pairs of two true persons the run put in one, within one true household or
  across households; and by the merges that made them, per gamma pattern and tenth of probability
  (replayed in the order made), beside the true pairs the same merges brought;
- **left apart by pattern**: per gamma pattern, the scored true pairs the run left in two persons, beside the share
  of the pattern's pairs that are one person and the share it joined (a million records, session 23: 7,138 pairs
  on a full name and nothing else, of which a fifth are one person; 2,231 of one surname and one e-mail address
  under two first names, which the rules keep apart as a family's address);
- **calibration**: per gamma pattern (the level of every comparison) with at least ``--min-pairs``
  scored pairs, their mean match probability against the share that is one person, the patterns
  whose gap costs the most pairs first. A pattern whose probability falls short of its truth at one
  drop size and not at another points at a parameter that does not scale: at a million records
  "same address" had no u (random sampling saw no two records at one address) and scored 0.62 where
  89% of its pairs were one person (session 17; ``identity.model.address_level_u``);
- **capped name blocks**: the true pairs never scored that a name-only blocking rule would have found but
  for its cap on block size (``identity.model.NAME_BLOCK_CAP``), and whether the model would have scored
  them at the match threshold or more: whether the cap, fixed in records, costs recall as the drop grows
  (session 20, a million records: 119 such pairs of 40,596 never scored);
- **households**: the true household pairs the run left in two households, by why: a person split across
  them, a side with no address, card or landline (an orphan) that shares nothing, only a surname, or an
  e-mail or mobile with the other, a side with a card or landline but no address, an address in common,
  or different addresses; and the false household pairs, by a person merged across two households, an
  address in common, or neither. An orphan that shares nothing with its household, or only a surname,
  has no evidence a resolver could use without guessing. Beside them, two bounds: herken's household grouping run
  on the true persons (what person errors cost the households), and the grouping that joins each true person's
  records and every value two records of one true household share (``household_evidence_ceiling``: precision 1.0,
  the recall shared identifiers alone allow).

Only a drop with truth can be looked at this way: our generator's, or a public set mapped onto the
drop contract (``../shared/external``). Prints JSON.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from itertools import combinations
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pandas as pd  # noqa: E402

from bench.runner import print_figures  # noqa: E402
from identity.compiled_model import ModelScorer  # noqa: E402
from identity.engine import make_engine  # noqa: E402
from identity.evaluate import PairScores, pair_scores  # noqa: E402
from identity.graph import UnionFind  # noqa: E402
from identity.households import group_households, household_anchors, household_edges, person_links  # noqa: E402
from identity.model import NAME_BLOCK_CAP, NAME_BLOCKS, blocking_rules_of, plain_rules, with_block_sizes  # noqa: E402
from identity.pipeline import MATCH_THRESHOLD, ResolveOptions, resolve  # noqa: E402
from identity.realtime import parse_blocking_rule  # noqa: E402

NOT_SCORED, BELOW, ABOVE = "not scored", "below the threshold", "above the threshold, not joined"


def _split(outer: Mapping[str, str], inner: Mapping[str, str]) -> list[list[list[str]]]:
    """Return, per value of outer, its records (the keys of outer, all in inner) split by their value in inner:
    per true person the pieces the run made of it, or per run's person the true persons in it."""
    groups: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for uid, key in outer.items():
        groups[key][inner[uid]].append(uid)
    return [list(parts.values()) for parts in groups.values()]


def missed_pairs(labels: Mapping[str, str], truth: Mapping[str, str], probability: Mapping[tuple[str, str], float],
                 refused: Mapping[tuple[str, str], str], threshold: float = MATCH_THRESHOLD) -> Counter:
    """Return the true pairs left apart, counted by why (a rule's name, BELOW, ABOVE or NOT_SCORED).

    labels: the run's person per record; truth: the true person per record; probability and refused: by
    (id_l, id_r) in either order. Two pieces of one person count len(a) * len(b) pairs under one reason:
    a refusal between them if any (the most frequent), else their best pair's score.
    """
    counted: Counter = Counter()
    for parts in _split(truth, labels):
        for a, b in combinations(parts, 2):
            rules = Counter(refused[(x, y)] for x in a for y in b if (x, y) in refused)
            best = max((probability.get((x, y), 0.0) for x in a for y in b), default=0.0)
            why = rules.most_common(1)[0][0] if rules else NOT_SCORED if best == 0.0 else BELOW if best < threshold else ABOVE
            counted[why] += len(a) * len(b)
    return counted


def false_pairs(labels: Mapping[str, str], truth: Mapping[str, str], household: Mapping[str, str]) -> Counter:
    """Return the pairs of two true persons put in one, counted as "same household" or "other household"."""
    counted: Counter = Counter()
    for people in _split(labels, truth):
        for a, b in combinations(people, 2):
            counted["same household" if household[a[0]] == household[b[0]] else "other household"] += len(a) * len(b)
    return counted


def gamma_patterns(pairs: pd.DataFrame) -> tuple[str, pd.Series]:
    """Return the names of the pairs' comparisons ("given_name,surname,...") and each pair's gamma pattern ("5,6,-1,...")."""
    gammas = [c for c in pairs.columns if c.startswith("gamma_")]
    return ",".join(c.removeprefix("gamma_") for c in gammas), pairs[gammas].astype(str).agg(",".join, axis=1)


def calibration(pairs: pd.DataFrame, truth: Mapping[str, str], min_pairs: int = 200, top: int = 15,
                patterns: tuple[str, pd.Series] | None = None) -> list[dict]:
    """Return per gamma pattern with at least min_pairs pairs: pairs, mean probability, share one person, and the
    pairs the gap between them amounts to; largest gap in pairs first, at most top (patterns: ``gamma_patterns``,
    when the caller has them)."""
    names, pattern = patterns or gamma_patterns(pairs)
    same = pairs["unique_id_l"].map(truth) == pairs["unique_id_r"].map(truth)
    table = pd.DataFrame({"pattern": pattern, "p": pairs["match_probability"].astype(float), "same": same})
    grouped = table.groupby("pattern").agg(pairs=("p", "size"), probability=("p", "mean"), one_person=("same", "mean"))
    grouped = grouped[grouped["pairs"] >= min_pairs]
    grouped["gap_pairs"] = (grouped["one_person"] - grouped["probability"]) * grouped["pairs"]
    grouped = grouped.reindex(grouped["gap_pairs"].abs().sort_values(ascending=False).index).head(top)
    return [{"levels": f"{names} = {key}", "pairs": int(row.pairs), "probability": round(float(row.probability), 3),
             "one_person": round(float(row.one_person), 3), "gap_pairs": round(float(row.gap_pairs), 1)}
            for key, row in grouped.iterrows()]


def left_apart_by_pattern(pairs: pd.DataFrame, truth: Mapping[str, str], labels: Mapping[str, str],
                          top: int = 15, patterns: tuple[str, pd.Series] | None = None) -> list[dict]:
    """Return per gamma pattern the scored true pairs the run left in two persons, most first (at most top), beside
    the pattern's pairs, the share of them one person and the share the run joined: what a rule or the threshold
    keeps apart, and whether the pattern's pairs are mostly one person at all (patterns: ``gamma_patterns``, when the
    caller has them)."""
    names, pattern = patterns or gamma_patterns(pairs)
    left, right = pairs["unique_id_l"], pairs["unique_id_r"]
    table = pd.DataFrame({"pattern": pattern,
                          "p": pairs["match_probability"].astype(float),
                          "same": left.map(truth).notna() & (left.map(truth) == right.map(truth)),
                          "joined": left.map(labels).notna() & (left.map(labels) == right.map(labels))})
    table["apart"] = table["same"] & ~table["joined"]
    grouped = table.groupby("pattern").agg(left_apart=("apart", "sum"), pairs=("p", "size"),
                                           one_person=("same", "mean"), joined=("joined", "mean"))
    grouped = grouped[grouped["left_apart"] > 0].sort_values("left_apart", ascending=False).head(top)
    return [{"levels": f"{names} = {key}", "left_apart": int(row.left_apart), "pairs": int(row.pairs),
             "one_person": round(float(row.one_person), 3), "joined": round(float(row.joined), 3)}
            for key, row in grouped.iterrows()]


# The fields whose agreement describes what two pieces of one person share when no pair between them was scored.
SHARED_FIELDS: tuple[str, ...] = ("given_canonical", "initial", "surname_core", "birth_date", "email", "mobile",
                                  "landline", "loyalty_card", "address_key", "postcode", "city")


def never_scored_sharing(records: pd.DataFrame, labels: Mapping[str, str], truth: Mapping[str, str],
                         scored: Collection[tuple[str, str]], top: int = 15) -> dict[str, int]:
    """Return, for the pieces of one person between which no pair was scored (either order in ``scored``), what
    the two records sharing most of SHARED_FIELDS share ("given_canonical surname_core", "(nothing)"), counted in
    true pairs (len(a) * len(b) per pair of pieces); the most frequent first, at most top."""
    present = [f for f in SHARED_FIELDS if f in records.columns]
    values = {uid: row for uid, row in zip(records["unique_id"], records[present].itertuples(index=False))}
    def shared(x: str, y: str) -> tuple[str, ...]:
        return tuple(f for f, a, b in zip(present, values[x], values[y]) if isinstance(a, str) and a == b)

    counted: Counter = Counter()
    for parts in _split({uid: truth[uid] for uid in values if uid in truth and uid in labels}, labels):
        for a, b in combinations(parts, 2):
            if any((x, y) in scored or (y, x) in scored for x in a for y in b):
                continue
            best = max((shared(x, y) for x in a for y in b), key=len)
            counted[" ".join(best) or "(nothing)"] += len(a) * len(b)
    return dict(counted.most_common(top))


KEPT_OUT, CANDIDATE = "kept out by the cap", "a candidate"


def capped_name_blocks(records: pd.DataFrame, truth: Mapping[str, str], scored: Collection[tuple[str, str]],
                       score: Callable[[Mapping[str, object], Mapping[str, object]], float], rules: Iterable[str],
                       cap: int = NAME_BLOCK_CAP, threshold: float = MATCH_THRESHOLD) -> dict[str, int]:
    """Return what the cap on name-only blocking rules (``identity.model.NAME_BLOCK_CAP``) costs: the true
    record pairs in two of the run's persons, never scored, that agree on a capped rule's key, counted by
    the first such rule, by whether the cap kept them out (every capped rule they agree on is above the cap
    and no other rule pairs them) or they were a candidate (scored under ``PREDICT_THRESHOLD``), and by
    whether the model scores them at the threshold or more.

    records: unique_id, person (the run's) and the blocking rules' columns, every record of the drop (block
    sizes are counted over them); truth: the true person per record; scored: the scored pairs (either
    order); score: a pair of records, as column -> value mappings (None for missing), to a match
    probability; rules: the model's blocking rules as plain SQL (``l.x = r.x AND ...``, uncapped).
    """
    capped = {frozenset(key): size for key, size in NAME_BLOCKS.items()}
    others = [rule.equalities for rule in map(parse_blocking_rule, rules)
              if frozenset(l for l, r in rule.equalities if l == r) not in capped
              or any(l != r for l, r in rule.equalities)]

    def pairs_on(equalities: Iterable[tuple[str, str]], a: Mapping[str, object], b: Mapping[str, object]) -> bool:
        return all(a[x] is not None and a[x] == b[y] for x, y in equalities)

    sized = with_block_sizes(records)
    sized = sized[sized["unique_id"].isin(list(truth))]
    sized = sized.assign(truth=sized["unique_id"].map(truth))
    both = sized.merge(sized, on="truth", suffixes=("_l", "_r"))
    both = both[(both["unique_id_l"] < both["unique_id_r"]) & (both["person_l"] != both["person_r"])]
    counted: Counter = Counter()
    for row in both.to_dict("records"):
        left, right = ({c[:-2]: (v if not isinstance(v, float) or v == v else None)
                        for c, v in row.items() if c.endswith(side)} for side in ("_l", "_r"))
        if (left["unique_id"], right["unique_id"]) in scored or (right["unique_id"], left["unique_id"]) in scored:
            continue
        agreed = [(key, size) for key, size in NAME_BLOCKS.items() if pairs_on(((c, c) for c in key), left, right)]
        if not agreed:
            continue
        kept_out = all(left[size] > cap for _, size in agreed) and not any(
            pairs_on(rule, left, right) or pairs_on(rule, right, left) for rule in others)
        sure = "scores at the threshold or more" if score(left, right) >= threshold else "scores under it"
        counted[f"{'+'.join(agreed[0][0])}, {KEPT_OUT if kept_out else CANDIDATE}, {sure}"] += 1
    return dict(sorted(counted.items()))


def false_pairs_by_merge(merges: Iterable[tuple[str, str, float]], truth: Mapping[str, str],
                         pattern: Mapping[tuple[str, str], str], top: int = 15) -> list[dict]:
    """Return, per gamma pattern and tenth of match probability of the merges made, the false and true record pairs
    those merges added, replayed in the order made; most false pairs first, at most top.

    merges: (id_l, id_r, probability) in the order the clustering made them; pattern: the gamma pattern of a
    scored pair by (id_l, id_r) in either order ("steward or edited" for a merge of no scored pair).
    """
    parent: dict[str, str] = {}
    people: dict[str, Counter] = {}

    def root(x: str) -> str:
        while parent.get(x, x) != x:
            parent[x] = parent.get(parent[x], parent[x])
            x = parent[x]
        return x

    false: Counter = Counter()
    true: Counter = Counter()
    made: Counter = Counter()
    for a, b, probability in merges:
        ra, rb = root(a), root(b)
        if ra == rb:
            continue
        left = people.setdefault(ra, Counter({truth[a]: 1}))
        right = people.setdefault(rb, Counter({truth[b]: 1}))
        good = sum(left[p] * right[p] for p in left if p in right)
        key = (pattern.get((a, b)) or pattern.get((b, a)) or "steward or edited", min(int(probability * 10), 9) / 10)
        false[key] += sum(left.values()) * sum(right.values()) - good
        true[key] += good
        made[key] += 1
        parent[rb] = ra
        left.update(right)
        del people[rb]
    return [{"levels": levels, "probability_from": band, "merges": made[(levels, band)], "false_pairs": n,
             "true_pairs": true[(levels, band)]} for (levels, band), n in false.most_common(top)]


# Why two pieces of one true household stayed in two households (household_misses), in the order asked.
PERSON_SPLIT = "a person split across them"
ORPHAN_NOTHING = "a side with no address, card or landline; nothing shared"
ORPHAN_SURNAME = "a side with no address, card or landline; a surname shared"
ORPHAN_CONTACT = "a side with no address, card or landline; an e-mail or mobile shared"
NO_ADDRESS = "a side with a card or landline but no address"
SAME_ADDRESS = "an address in common"
OTHER_ADDRESS = "different addresses"


def household_misses(household: Mapping[str, str], truth_household: Mapping[str, str], truth: Mapping[str, str],
                     person: Mapping[str, str], anchored: Collection[str],
                     values: Mapping[str, Mapping[str, object]]) -> Counter:
    """Return the true household pairs a run left in two households, counted by why (the constants above).

    household and person: the run's household and person per record; truth_household and truth: the true ones;
    anchored: the run's persons with an address, card or landline (who may anchor a household);
    values: per record its address_key, email, mobile and surnames (a set). Two pieces of one true household
    count len(a) * len(b) pairs under the first reason that holds.
    """
    def held(records: list[str], field: str) -> set:
        found: set = set()
        for uid in records:
            value = values[uid].get(field)
            if isinstance(value, (set, frozenset)):
                found |= value
            elif isinstance(value, str):
                found.add(value)
        return found

    anchored = set(anchored)
    counted: Counter = Counter()
    for parts in _split(truth_household, household):
        for a, b in combinations(parts, 2):
            if {truth[u] for u in a} & {truth[u] for u in b}:
                why = PERSON_SPLIT
            elif not ({person[u] for u in a} & anchored) or not ({person[u] for u in b} & anchored):
                why = ORPHAN_CONTACT if held(a, "email") & held(b, "email") or held(a, "mobile") & held(b, "mobile") \
                    else ORPHAN_SURNAME if held(a, "surnames") & held(b, "surnames") else ORPHAN_NOTHING
            else:
                here, there = held(a, "address_key"), held(b, "address_key")
                why = NO_ADDRESS if not here or not there else SAME_ADDRESS if here & there else OTHER_ADDRESS
            counted[why] += len(a) * len(b)
    return counted


def false_household_pairs(household: Mapping[str, str], truth_household: Mapping[str, str],
                          person: Mapping[str, str], values: Mapping[str, Mapping[str, object]]) -> Counter:
    """Return the pairs of two true households a run put in one, counted as a person merged across them, an address
    in common, or neither."""
    counted: Counter = Counter()
    for parts in _split(household, truth_household):
        for a, b in combinations(parts, 2):
            if {person[u] for u in a} & {person[u] for u in b}:
                why = "a person merged across them"
            else:
                here = {values[u].get("address_key") for u in a} - {None}
                why = SAME_ADDRESS if here & ({values[u].get("address_key") for u in b} - {None}) else "no address in common"
            counted[why] += len(a) * len(b)
    return counted


# The values two records of one household may share, each evidence of the household a resolver may follow.
HOUSEHOLD_EVIDENCE: tuple[str, ...] = ("address_key", "loyalty_card", "landline", "email", "mobile")


def household_evidence_ceiling(records: pd.DataFrame, persons: Mapping[str, str],
                               truth_household: Mapping[str, str]) -> dict[str, float]:
    """Return the household precision, recall and F1 of the grouping that joins the records of each of ``persons``, and
    two records of one true household that share a value of HOUSEHOLD_EVIDENCE (any of their records, the earlier
    addresses of movers included): the recall that shared identifiers alone allow a resolver that never errs on
    persons (precision 1.0 by construction). Not a bound on herken's grouping, which also joins on a building and a
    surname, and attaches persons without an address through the model's links.

    persons: the person each record starts in (the true persons, or the pieces of them that the evidence allows:
    bench/linkable.py); records without one are left out.
    """
    known = records[records["unique_id"].isin(list(persons))]
    uids = known["unique_id"].tolist()
    homes = [truth_household[u] for u in uids]
    joined = UnionFind(uids)
    for values in ([persons[u] for u in uids], *(known[column].tolist() for column in HOUSEHOLD_EVIDENCE)):
        first: dict[tuple[str, str], str] = {}     # the first record of each (value, true household)
        for uid, value, home in zip(uids, values, homes):
            if isinstance(value, str):
                joined.union(first.setdefault((value, home), uid), uid)
    labels = joined.labels()
    return _rounded(pair_scores(pd.Series([labels[u] for u in uids]), pd.Series(homes)))


def households_on_true_persons(records: pd.DataFrame, pairs: pd.DataFrame, truth: Mapping[str, str],
                               truth_household: Mapping[str, str], threshold: float = MATCH_THRESHOLD) -> dict[str, float]:
    """Return the household precision, recall and F1 of herken's own grouping (``identity.households``) run on the true
    persons instead of the run's: what the household rules lose apart from what the person errors cost them."""
    known = records[records["unique_id"].isin(list(truth))].copy()
    known["person"] = known["unique_id"].map(truth)
    engine = make_engine("duckdb")
    try:
        edges = household_edges(engine, known)
    finally:
        engine.close()
    anchored, surnames, hints = household_anchors(known)
    household = group_households(sorted(known["person"].unique()), edges, surnames, anchored, hints,
                                 links=person_links(known, pairs), link_threshold=threshold)
    return _rounded(pair_scores(known["person"].map(household), known["unique_id"].map(truth_household)))


def _rounded(scores: PairScores) -> dict[str, float]:
    """Return pairwise precision, recall and F1 to four places."""
    return {"precision": round(scores.precision, 4), "recall": round(scores.recall, 4), "f1": round(scores.f1, 4)}


def household_values(records: pd.DataFrame) -> dict[str, dict[str, object]]:
    """Return per record what household_misses reads: address_key, email, mobile and its surnames."""
    def present(column: str) -> list:
        return [v if isinstance(v, str) else None for v in records[column].tolist()]

    surnames = [{n for n in (first, last) if isinstance(n, str) and len(n) > 2}
                for first, last in zip(records["surname_first"].tolist(), records["surname_last"].tolist())]
    return {uid: {"address_key": address, "email": email, "mobile": mobile, "surnames": names}
            for uid, address, email, mobile, names in zip(records["unique_id"].tolist(), present("address_key"),
                                                          present("email"), present("mobile"), surnames)}


def model_score(model: Mapping[str, object], records: pd.DataFrame) -> Callable[[Mapping[str, object], Mapping[str, object]], float]:
    """Return a function scoring two records (column -> value) with the run's trained model, term frequencies
    counted over these records as Splink counts them."""
    columns = list(records.columns)
    frequencies = {c: records[c].value_counts(normalize=True).to_dict() for c in ModelScorer(model, columns).tf_columns}
    scorer = ModelScorer(model, columns, frequencies)
    return lambda left, right: scorer.score(tuple(left.get(c) for c in columns),
                                            tuple(right.get(c) for c in columns)).match_probability


def _both_ways(rows: Iterable[tuple[str, str, object]]) -> dict[tuple[str, str], object]:
    """Return a mapping of (a, b) and (b, a) to each row's value."""
    found: dict[tuple[str, str], object] = {}
    for a, b, value in rows:
        found[(a, b)] = found[(b, a)] = value
    return found


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (see the module's docstring); print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drop", type=Path, required=True, help="a drop with truth.csv")
    parser.add_argument("--min-pairs", type=int, default=200, help="smallest gamma pattern in the calibration table")
    parser.add_argument("--out", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="herken-misses-") as work:
        result = resolve(args.drop, ResolveOptions(run_dir=Path(work) / "run"))
    truth_rows = pd.read_csv(args.drop / "truth.csv", dtype=str)
    keys = truth_rows["source"] + ":" + truth_rows["record_id"]
    records = result.records
    resolved = set(records["unique_id"])
    person = {k: p for k, p in zip(keys, truth_rows["person_id"]) if k in resolved}
    household = {k: h for k, h in zip(keys, truth_rows["household_id"]) if k in resolved}
    labels = {uid: label for uid, label in zip(records["unique_id"], records["person"]) if uid in person}
    pairs = result.pairs
    probability = _both_ways(zip(pairs["unique_id_l"], pairs["unique_id_r"], pairs["match_probability"].astype(float)))
    refused = _both_ways((r.unique_id_l, r.unique_id_r, r.rule or r.reason) for r in result.clustering.refusals)
    missed = missed_pairs(labels, person, probability, refused)  # type: ignore[arg-type]
    wrong = false_pairs(labels, person, household)
    patterns = gamma_patterns(pairs)      # one pass over the pairs for every table by pattern below
    levels, pattern_of = patterns
    pattern = dict(zip(zip(pairs["unique_id_l"], pairs["unique_id_r"]), pattern_of))
    merges = [(m.unique_id_l, m.unique_id_r, m.match_probability) for m in result.clustering.merges
              if m.unique_id_l in person and m.unique_id_r in person]
    figures = {
        "drop": str(args.drop), "records": len(labels),
        "missed_pairs": dict(missed.most_common()), "missed_total": sum(missed.values()),
        "never_scored_sharing": never_scored_sharing(records, labels, person, set(pattern)),
        "false_pairs": dict(wrong), "false_total": sum(wrong.values()),
        "false_pairs_by_merge": {"levels": levels, "rows": false_pairs_by_merge(merges, person, pattern)},
        "calibration": calibration(pairs, person, args.min_pairs, patterns=patterns),
        "left_apart_by_pattern": left_apart_by_pattern(pairs, person, labels, patterns=patterns),
        "capped_name_blocks": capped_name_blocks(
            records, person, set(pattern), model_score(result.model, records),
            blocking_rules_of(plain_rules(result.model))),
    }
    homes = {uid: h for uid, h in zip(records["unique_id"], records["household"]) if uid in person}
    values = household_values(records[records["unique_id"].isin(list(person))])
    anchored = set(records.loc[records[["address_key", "loyalty_card", "landline"]].notna().any(axis=1), "person"])
    missed_homes = household_misses(homes, household, person, labels, anchored, values)
    wrong_homes = false_household_pairs(homes, household, labels, values)
    figures.update({"household_missed_pairs": dict(missed_homes.most_common()),
                    "household_missed_total": sum(missed_homes.values()),
                    "household_false_pairs": dict(wrong_homes.most_common()),
                    "household_false_total": sum(wrong_homes.values()),
                    "households_on_true_persons": households_on_true_persons(records, pairs, person, household),
                    "household_evidence_ceiling": household_evidence_ceiling(records, person, household)})
    print_figures(figures, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
