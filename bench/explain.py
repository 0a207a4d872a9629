"""How long an explanation takes: ``Explainer.explain_pair`` (what ``herken explain A B`` and ExplainMatch run) on a
published store, for two persons of one household and for two households; and ``Explainer.explain_household`` (what
``herken explain-household`` and ExplainHousehold run) for the first households of two or more persons.

    python bench/explain.py --store sqlite:///STORE.db                 # 100 pairs of each, this build
    python bench/explain.py --store sqlite:///STORE.db --pairs 200 --out explain.json

The store is one ``herken resolve`` published (`herken generate D --households 90000 --seed 3` for the 300k figures
in the README). The pairs are chosen from the store in a fixed order: the smallest record of the first and of the
last person of the first households of two or more persons, and the smallest records of two households apart. The
first call loads the published run's model (timed on its own); the others are timed one by one in this process,
without a server: the gRPC call adds what any call adds (bench/serve.py). Prints JSON: p50 / p90 / max in ms per
kind, how many explanations of one household found a path of links, and of the whole households how many members
no link reached.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text  # noqa: E402

from bench.runner import print_figures  # noqa: E402
from profile_api.explain import Explainer  # noqa: E402
from profile_api.store import open_store  # noqa: E402

_FIRSTS = text("""SELECT household_id, customer_id, min(source || ':' || record_id) FROM record_link
GROUP BY household_id, customer_id ORDER BY household_id, customer_id LIMIT :limit""")


def _quantiles(seconds: list[float]) -> dict[str, float]:
    """Return p50, p90 and max of call times, in milliseconds."""
    ordered = sorted(seconds)
    return {"p50_ms": round(1000 * ordered[len(ordered) // 2], 1),
            "p90_ms": round(1000 * ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))], 1),
            "max_ms": round(1000 * ordered[-1], 1), "calls": len(ordered)}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (see the module's docstring); print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True, help="a store `herken resolve` published")
    parser.add_argument("--pairs", type=int, default=100, help="pairs of each kind (default 100)")
    parser.add_argument("--out", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    engine = open_store(args.store)
    with engine.connect() as con:
        rows = con.execute(_FIRSTS, {"limit": 40 * args.pairs}).all()
    households: dict[str, list[str]] = {}
    for household_id, _, record in rows:
        households.setdefault(household_id, []).append(record)
    shared = [(records[0], records[-1]) for records in households.values() if len(records) >= 2][:args.pairs]
    alone = [records[0] for records in households.values()]
    apart = list(zip(alone[:args.pairs], alone[args.pairs:2 * args.pairs]))
    if len(shared) < args.pairs or len(apart) < args.pairs:
        raise SystemExit(f"the store holds too few households for {args.pairs} pairs of each kind; give fewer --pairs")
    explainer = Explainer(engine)
    started = time.perf_counter()
    explainer.explain_pair(*shared[0])
    first = time.perf_counter() - started
    figures: dict = {"store": args.store, "first_call_s": round(first, 2)}
    for kind, pairs in (("one_household", shared), ("two_households", apart)):
        seconds, paths = [], 0
        for a, b in pairs:
            started = time.perf_counter()
            explained = explainer.explain_pair(a, b)
            seconds.append(time.perf_counter() - started)
            household = getattr(explained, "household", None)     # None: a build before households were explained
            paths += bool(household and household.path)
        figures[kind] = _quantiles(seconds)
        if kind == "one_household":
            figures[kind]["with_a_path"] = paths
    tree = getattr(explainer, "explain_household", None)     # None: a build before households were explained whole
    if tree is not None:
        homes = [household_id for household_id, records in households.items() if len(records) >= 2][:args.pairs]
        seconds, unlinked, members = [], 0, 0
        for household_id in homes:
            started = time.perf_counter()
            explained = tree(household_id)
            seconds.append(time.perf_counter() - started)
            unlinked += len(explained.unlinked)
            members += len(explained.customer_ids)
        figures["whole_household"] = {**_quantiles(seconds), "members": members, "unlinked": unlinked}
    print_figures(figures, args.out)
    engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
