"""How many persons one shared value may join into a household, measured on the drop.

A household shares its address, often a card, sometimes a landline or an e-mail address; a value that
many persons share is no household's (a shop's default card typed in at the till, a care home, a
call centre's number). Where "many" begins depends on the drop: on how often its households show a
value held by three persons or more rather than two, and on how many shared values of the kind it
holds (the larger the drop, the larger the largest household it will show).

The measurement: of the values held by two persons or more, the share held by three or more, ``r``
(over the kinds whose value is a record's own, and with one pseudo-count either way, so a small drop
that shows no value held by three does not forbid them). Household sizes fall off at least as fast as a geometric tail (each further
member rarer than the last), so of a kind's ``shared`` values about ``shared * r ** (n - 2)`` are held
by ``n`` persons or more. A kind's cap is the largest ``n`` at which that is still at least
``EXPECTED_LARGER``: a value held by more persons is one the drop's households would show less than
once in a thousand drops of its size. Measured on our generator (300k records, 81,742 shared values,
11,325 held by three or more): caps of 7 (mobile numbers, 96 shared) to 10 (addresses, 41,380 shared),
while no household value there is held by more than 6. ``HOUSEHOLD_CEILING`` bounds every cap
whatever a drop shows.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

# the expected number, in the whole drop, of a kind's values held by more persons than its cap
EXPECTED_LARGER = 0.001
# no value joins more persons than this, however large the drop's households (a street-wide care home is none)
HOUSEHOLD_CEILING = 50
# the cap of a run that kept none (published before caps were measured), and of every kind in a drop where no
# value is shared at all; a kind the drop shares no value of gets the cap of its most shared kind
FIXED_CAP = 8


@dataclass(frozen=True)
class HouseholdCaps:
    """The most persons a shared value of each kind may join, as measured on one drop."""

    caps: dict[str, int] = field(default_factory=dict)
    shared: dict[str, int] = field(default_factory=dict)    # per kind: values held by two persons or more
    larger: dict[str, int] = field(default_factory=dict)    # per kind: values held by three persons or more
    default: int = FIXED_CAP

    @classmethod
    def measure(cls, counts: Mapping[str, tuple[int, int]], ratio_from: Collection[str] | None = None) -> HouseholdCaps:
        """Return the caps of a drop from, per kind, its values held by two persons or more and by three or more.

        ratio_from: the kinds whose counts give the ratio (all when None; a kind that counts one family several
        times would raise it); every kind gets a cap.
        """
        shared = {kind: int(two) for kind, (two, _) in counts.items()}
        larger = {kind: int(three) for kind, (_, three) in counts.items()}
        pooled = [kind for kind in shared if ratio_from is None or kind in ratio_from] or list(shared)
        ratio = shared_ratio(sum(larger[k] for k in pooled), sum(shared[k] for k in pooled))
        caps = {kind: cap_for(shared[kind], ratio) for kind in shared}
        default = cap_for(max(shared.values()), ratio) if shared else FIXED_CAP
        return cls(caps, shared, larger, default)

    def of(self, kind: str) -> int:
        """Return the most persons a value of this kind may join."""
        return self.caps.get(kind, self.default)

    def describe(self) -> str:
        """Return one line that says what the drop showed and the caps it gave."""
        if not self.shared:
            return f"households: no value shared by two persons; a value joins at most {self.default} persons"
        told = ", ".join(f"{kind} {self.of(kind)} ({self.shared[kind]:,} shared)" for kind in sorted(self.caps))
        return (f"households: of {sum(self.shared.values()):,} values shared by two persons or more, "
                f"{sum(self.larger.values()):,} by three or more; a value joins at most this many persons per kind: "
                f"{told}; more says nothing of a household")

    def kept(self) -> dict[str, Any]:
        """Return the caps as a run keeps them (an entry of run.rules_json)."""
        return {"caps": dict(self.caps), "shared": dict(self.shared), "larger": dict(self.larger),
                "default": self.default}

    @classmethod
    def of_kept(cls, kept: Mapping[str, Any]) -> HouseholdCaps:
        """Return the caps a run kept (``kept``)."""
        return cls({k: int(v) for k, v in kept.get("caps", {}).items()},
                   {k: int(v) for k, v in kept.get("shared", {}).items()},
                   {k: int(v) for k, v in kept.get("larger", {}).items()}, int(kept.get("default", FIXED_CAP)))


FIXED = HouseholdCaps()     # every kind at FIXED_CAP: a run that kept no caps


def shared_ratio(larger: int, shared: int) -> float:
    """Return the share of shared values held by three persons or more, with one pseudo-count either way."""
    return (larger + 1) / (shared + 2)


def cap_for(shared: int, ratio: float) -> int:
    """Return the largest n of persons for which ``shared * ratio ** (n - 2)`` is at least EXPECTED_LARGER (2 to
    HOUSEHOLD_CEILING)."""
    if shared <= 0 or ratio <= 0.0:
        return 2
    if ratio >= 1.0:
        return HOUSEHOLD_CEILING
    steps = math.floor(math.log(EXPECTED_LARGER / shared) / math.log(ratio) + 1e-9)
    return max(2, min(HOUSEHOLD_CEILING, 2 + steps))
