"""Walk-ins found by name: persons made in real time (ResolveRecord with persist), then looked for by the store
tablet's name search, beside the search of the run's own persons.

    python bench/walk_ins.py --store sqlite:///STORE.db                    # 500 walk-ins, on a copy of the store
    python bench/walk_ins.py --store sqlite:///STORE.db --walk-ins 1000 --out walk_ins.json

The store is one ``herken resolve`` published (``herken generate D --households 30000 --seed 7`` for the README's
100k figures). An SQLite store is copied first (its file and nothing else), so the published store is left as it
was; another URL is written to as it is. In this process, as a server process would: the search's name index is
built, 300 names of the store's records are searched (p50 / p90), then ``--walk-ins`` persons of names no record
holds (Faker nl_NL, double surnames) are resolved with persist through ``RecordResolver``, and searched by name:
how many come back as the person made, how long the first search after them took (it reads their identity events
and names into the search) and the p50 / p90 of the searches. Before session 30 a walk-in was found by name only
after the next run. Prints JSON.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from faker import Faker  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.runner import print_figures  # noqa: E402
from profile_api.profiles import ProfileStore  # noqa: E402
from profile_api.resolve_record import RECORD_FIELDS, RecordRequest, RecordResolver  # noqa: E402
from profile_api.store import open_store  # noqa: E402

SEARCHED = 300


def _quantiles(milliseconds: list[float]) -> dict[str, float]:
    """Return p50 and p90 of search times in milliseconds."""
    ordered = sorted(milliseconds)
    return {"p50_ms": round(ordered[len(ordered) // 2], 2),
            "p90_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))], 2)}


def _timed_searches(store: ProfileStore, names: list[str]) -> tuple[list[float], list[list[str]]]:
    """Return each search's time in ms and the customer_ids it found."""
    times, found = [], []
    for name in names:
        started = time.perf_counter()
        hits = store.search(name=name, limit=10)
        times.append(1000 * (time.perf_counter() - started))
        found.append([hit.customer_id for hit in hits])
    return times, found


def measure(url: str, walk_ins: int, seed: int) -> dict:
    """Return the figures of one store (see the module's docstring)."""
    engine = open_store(url)
    store, resolver = ProfileStore(engine), RecordResolver(engine)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT first_name, last_name FROM source_record "
                                 "WHERE first_name IS NOT NULL AND last_name IS NOT NULL")).all()
    rng = random.Random(seed)
    store.warm_up()
    resolver.warm_up()
    run_times, _ = _timed_searches(store, [f"{a} {b}" for a, b in rng.sample(rows, min(SEARCHED, len(rows)))])
    fake = Faker("nl_NL")
    Faker.seed(seed)
    made: list[tuple[str, str]] = []
    started = time.perf_counter()
    for i in range(walk_ins):
        first, last = fake.first_name(), f"{fake.last_name()}-{fake.last_name()}"
        values = dict.fromkeys(RECORD_FIELDS) | {"first_name": first, "last_name": last,
                                                 "birth_date": fake.date_of_birth().isoformat()}
        resolved = resolver.resolve(RecordRequest("pos", f"WALK-IN-{seed}-{i}", values, True))
        if resolved.created:
            made.append((f"{first} {last}", resolved.customer_id))
    persisted = time.perf_counter() - started
    first_started = time.perf_counter()
    store.search(name=made[0][0], limit=10)
    first_ms = 1000 * (time.perf_counter() - first_started)
    sample = made[:SEARCHED]
    times, found = _timed_searches(store, [name for name, _ in sample])
    hits = sum(customer in ids for (_, customer), ids in zip(sample, found))
    engine.dispose()
    return {"walk_ins": walk_ins, "made_new": len(made), "persist_seconds": round(persisted, 1),
            "searched": len(sample), "found_by_name": hits, "first_search_after_ms": round(first_ms, 1),
            "walk_in_search": _quantiles(times), "run_search": _quantiles(run_times)}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True, help="a published store (an SQLite store is copied first)")
    parser.add_argument("--walk-ins", type=int, default=500, help="persons to make in real time (default 500)")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--out", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    url = make_url(args.store)
    with tempfile.TemporaryDirectory(prefix="herken-walk-ins-") as work:
        if url.get_backend_name() == "sqlite":
            copy = Path(work) / "store.db"
            shutil.copyfile(url.database, copy)
            target = f"sqlite:///{copy}"
        else:
            target = args.store
        figures = measure(target, args.walk_ins, args.seed)
    print_figures(figures, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
