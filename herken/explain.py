"""`herken explain` as text: a pair's weights as a table that adds up, the verdict and the path of links."""

from __future__ import annotations

from identity.explain import HouseholdTree, Link, PairExplanation, RecordExplanation, household_link_words

VALUE_WIDTH = 30   # a compared value is cut to this many characters in the table


def _cut(text: str, width: int = VALUE_WIDTH) -> str:
    """Return text cut to width characters (an ellipsis marks the cut); a dash when empty."""
    if not text:
        return "-"
    return text if len(text) <= width else text[:width - 1] + "…"


def _link_lines(links: list[Link]) -> list[str]:
    """Return one line per link: the two records, its match probability and what made it."""
    width = max((len(link.record_a) for link in links), default=0)
    return [f"    {link.record_a:<{width}} -> {link.record_b}   {link.match_probability:.4f}  {link.joined_by}"
            for link in links]


def pair_lines(explanation: PairExplanation) -> list[str]:
    """Return the explanation of a pair as lines of text."""
    e, score = explanation, explanation.score
    persons = "one person" if e.same_person else "two persons"
    lines = [
        f"{e.record_a}  and  {e.record_b}: {persons} "
        f"({e.customer_id_a}{'' if e.same_person else ', ' + e.customer_id_b})",
        f"  match probability {score.match_probability:.6f}, match weight {score.match_weight:+.3f}"
        + ("" if score.compared else " (the run's blocking rules never pair them)"),
        "",
    ]
    level_width = max([len(c.level) for c in score.comparisons] + [len("prior (two random records)")])
    head = (f"  {'comparison':<13} {'level':<{level_width}} {'weight':>8}   "
            f"{_cut(e.record_a):<{VALUE_WIDTH}}   {e.record_b}")
    lines += [head, "  " + "-" * (len(head) - 2)]
    for c in score.comparisons:
        tf = f"   (rarity of the value {c.term_frequency_weight:+.3f})" if c.term_frequency_weight else ""
        lines.append(f"  {c.comparison:<13} {c.level:<{level_width}} {c.match_weight:>+8.3f}   "
                     f"{_cut(c.value_a):<{VALUE_WIDTH}}   {_cut(c.value_b)}{tf}")
    lines.append(f"  {'prior':<13} {'(two random records)':<{level_width}} {score.prior_weight:>+8.3f}")
    lines.append(f"  {'total':<13} {'':<{level_width}} {score.match_weight:>+8.3f}")
    lines += ["", f"  decision: {e.verdict.decision}"]
    if e.verdict.rule:
        decided = e.verdict.steward_decision_id
        lines.append(f"  rule: {e.verdict.rule}" + (f" (steward decision {decided})" if decided else ""))
    if e.path:
        lines += ["  path:", *_link_lines(e.path)]
    if e.household is not None:
        lines.append(f"  household: {e.household.decision}")
    return lines


def record_lines(explanation: RecordExplanation) -> list[str]:
    """Return the explanation of one record's place in its person as lines of text."""
    e = explanation
    lines = [e.decision]
    if e.links:
        lines += ["  links of the person, from this record:", *_link_lines(e.links)]
    return lines


def household_lines(tree: HouseholdTree) -> list[str]:
    """Return `herken explain-household` as text: the decision, then each member reached and by what."""
    lines = [f"household {tree.household_id}: {tree.decision}"]
    if tree.customer_ids:
        lines.append(f"  from {tree.customer_ids[0]}:")
        lines.extend(f"    {household_link_words(link)}" for link in tree.links)
    lines.extend(f"  {person}: not linked in the records as they are now" for person in tree.unlinked)
    return lines
