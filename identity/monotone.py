"""Match weights that never rank a looser agreement above a stricter one of the same field.

A comparison's levels from "exact" down to "all other comparisons" are relaxations of each other: a
first name spelled alike is weaker evidence than the same first name, the same birth year weaker
than a birth date one typo apart. Expectation maximisation does not know that. It assumes the
fields independent given a match, and where a drop's errors are not (R's RLdata10000 corrupts
exactly one field of every duplicate), the session blocked on the full name sees every true pair
with a corrupted date, and the one blocked on the birth date half of them with a corrupted first
name. It then learnt m = 0.43 for the same first name and 0.57 for one spelled alike: the same name
scored 1.3 bits below a typo of it. Plain Splink on that drop learnt m = 0.001 for the same birth
date and 0.58 for one a typo apart.

The fix is the order itself, not a constant: along each chain the likelihood ratio m/u must not
rise. Where it does, adjacent levels are pooled (pool-adjacent-violators): both get the ratio of
their summed m over their summed u, m moves between them, and the chain's total m stays as trained.
Levels outside the chains (a nickname, a swapped name, a double surname) are other kinds of
evidence and keep what they learnt. A model that already keeps the order (our generator's, at
every size measured) is returned unchanged.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

# Per comparison, its levels from the strictest agreement to the loosest, by label (identity.model.comparisons).
CHAINS: dict[str, tuple[str, ...]] = {
    "given_name": ("Exact match on given_first", "Jaro-Winkler distance of given_first >= 0.88", "same initial",
                   "All other comparisons"),
    "surname": ("Exact match on surname_core", "Jaro-Winkler distance of surname_core >= 0.9", "one typo",
                "All other comparisons"),
    "birth_date": ("Exact match on birth_date", "typo or day-month swap", "two of year, month and day", "same year",
                   "All other comparisons"),
}


def pooled(ms: list[float], us: list[float]) -> list[float]:
    """Return the m values of a chain, strictest first, pooled so that m/u never rises down the chain."""
    blocks: list[list[float]] = []   # each: [summed m, summed u, levels]
    for m, u in zip(ms, us):
        blocks.append([m, u, 1])
        while len(blocks) > 1 and blocks[-2][0] * blocks[-1][1] < blocks[-1][0] * blocks[-2][1]:
            m2, u2, n2 = blocks.pop()
            blocks[-1][0] += m2
            blocks[-1][1] += u2
            blocks[-1][2] += n2
    if len(blocks) == len(ms):
        return list(ms)     # already in order: as trained, to the last bit
    out: list[float] = []
    position = 0
    for m, u, n in blocks:
        for level_u in us[position:position + int(n)]:
            out.append(m * level_u / u)
        position += int(n)
    return out


def monotone_weights(model: dict) -> dict:
    """Return a trained model (changed in place) whose chained levels' weights fall from strictest to loosest."""
    for comparison in model.get("comparisons", []):
        chain = CHAINS.get(comparison.get("output_column_name", ""))
        if chain is None:
            continue
        by_label = {level.get("label_for_charts"): level for level in comparison.get("comparison_levels", [])}
        levels = [by_label[label] for label in chain if label in by_label
                  and isinstance(by_label[label].get("m_probability"), float)
                  and isinstance(by_label[label].get("u_probability"), float) and by_label[label]["u_probability"] > 0]
        ms = [level["m_probability"] for level in levels]
        us = [level["u_probability"] for level in levels]
        fixed = pooled(ms, us)
        if fixed != ms:
            for level, m in zip(levels, fixed):
                level["m_probability"] = m
            log.info("%s: m pooled so that a looser agreement never weighs more than a stricter one: %s",
                     comparison["output_column_name"],
                     ", ".join(f"{level['label_for_charts']} {old:.3g} -> {new:.3g}"
                               for level, old, new in zip(levels, ms, fixed) if old != new))
    return model
