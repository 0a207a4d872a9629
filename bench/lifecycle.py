"""Day 1 -> day 2: do customer IDs last, and does every day-1 ID still answer GetProfile?

    python bench/lifecycle.py --households 30000 [--incremental] [--store URL] [--work DIR]

Generates a day-1 drop and its day 2 (``herken generate-day2``: 2% new records, 1% changed, 0.5%
deleted, 0.3% of households moving house), resolves day 1 and then day 2 into one store (day 2 in
full, or with ``--incremental`` only the delta), and measures:

- kept: of the day-1 persons none of whose records was deleted, the share whose records all carry
  their day-1 customer_id on day 2 (target >= 99.9%); kept_most: the share whose day-1 customer_id
  is the ID of most of their records on day 2 (a person that split kept its ID with the larger part);
- answers: of the day-1 customer_ids with a record left, the share for which GetProfile (a real
  gRPC server and client) answers the profile holding most of those records (target >= 99.9%);
- deleted: day-1 IDs whose records were all deleted that answer NOT_FOUND saying so;
- reconcile: the day-1 IDs plus day 2's identity events give exactly the day-2 IDs;
- person F1 of day 2 against truth.csv, and each run's wall time.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import grpc  # noqa: E402
import pandas as pd  # noqa: E402

from bench.runner import day_drops, herken  # noqa: E402
from identity.evaluate import evaluate  # noqa: E402
from identity.lifecycle import Event, reconcile  # noqa: E402
from profile_api._generated.herken.v1 import profile_service_pb2 as pb  # noqa: E402
from profile_api._generated.herken.v1 import profile_service_pb2_grpc as pb_grpc  # noqa: E402
from profile_api.server import store_servicer, start_server  # noqa: E402
from profile_api.store import open_store, read_links  # noqa: E402
from profile_api.store.history import read_events  # noqa: E402


def measure(store_url: str, links1: pd.DataFrame, links2: pd.DataFrame, run2_events: list[Event]) -> dict:
    """Return the lifecycle figures of day 2 against day 1 (see the module's docstring)."""
    key1 = links1["source"] + ":" + links1["record_id"]
    key2 = dict(zip(links2["source"] + ":" + links2["record_id"], links2["customer_id"]))
    intact, kept, kept_most, answerable, answered, redirected = 0, 0, 0, 0, 0, 0
    gone, gone_answered = 0, 0
    server, port = start_server(store_servicer(store_url), port=0)
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    stub = pb_grpc.ProfileServiceStub(channel)
    try:
        for customer, keys in key1.groupby(links1["customer_id"]):
            now = [key2.get(k) for k in keys]
            left = [c for c in now if c is not None]
            if len(left) == len(now):
                intact += 1
                kept += all(c == customer for c in left)
                kept_most += Counter(left).most_common(1)[0][0] == customer
            if not left:
                gone += 1
                try:
                    stub.GetProfile(pb.GetProfileRequest(customer_id=customer))
                except grpc.RpcError as err:
                    gone_answered += err.code() == grpc.StatusCode.NOT_FOUND and "no longer exists" in err.details()
                continue
            answerable += 1
            holder = Counter(left).most_common(1)[0][0]
            reply = stub.GetProfile(pb.GetProfileRequest(customer_id=customer))
            answered += reply.profile.customer_id == holder
            redirected += reply.redirected_from == customer
    finally:
        channel.close()
        server.stop(None)
    ids1, ids2 = set(links1["customer_id"]), set(links2["customer_id"])
    return {
        "persons_day1": len(ids1), "persons_day2": len(ids2),
        "kept": kept / intact if intact else None, "intact_persons": intact,
        "kept_most": kept_most / intact if intact else None,
        "answers": answered / answerable if answerable else None, "answerable_ids": answerable,
        "redirected": redirected, "deleted_ids": gone,
        "deleted_not_found": gone_answered / gone if gone else None,
        "reconciles": reconcile(ids1, run2_events) == ids2,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=30000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--noise", choices=("v1", "v2"), default="v2")
    parser.add_argument("--incremental", action="store_true", help="resolve day 2 from the delta only")
    parser.add_argument("--store", help="store URL (default: an SQLite file in the work folder)")
    parser.add_argument("--work", help="work folder (default: a new temporary folder); drops there are reused")
    args = parser.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="herken-lifecycle-"))
    work.mkdir(parents=True, exist_ok=True)
    day1, full, delta = day_drops(work, args.households, args.seed, args.noise)
    store = args.store or f"sqlite:///{work / 'store.db'}"
    if store.startswith("sqlite:///"):
        Path(store[len("sqlite:///"):]).unlink(missing_ok=True)
    started = time.perf_counter()
    herken("resolve", str(day1), "--store", store, work=work)
    day1_seconds = time.perf_counter() - started
    engine = open_store(store)
    links1 = read_links(engine)
    links1.to_csv(work / "links-day1.csv", index=False)
    with engine.connect() as conn:
        last = max((e.seq for e in read_events(conn)), default=0)
    started = time.perf_counter()
    if args.incremental:
        herken("resolve", str(delta), "--incremental", "--store", store, work=work)
    else:
        herken("resolve", str(full), "--store", store, work=work)
    day2_seconds = time.perf_counter() - started
    links2 = read_links(engine)
    links2.to_csv(work / f"links-day2-{'incremental' if args.incremental else 'full'}.csv", index=False)
    with engine.connect() as conn:
        events = [Event(e.kind, e.before, e.after, e.reason) for e in read_events(conn, after_seq=last)]
    figures = measure(store, links1, links2, events)
    truth = pd.read_csv(full / "truth.csv", dtype=str)
    scores = evaluate(links2, truth)
    figures.update({
        "mode": "incremental" if args.incremental else "full", "households": args.households,
        "records_day2": len(links2), "day1_seconds": round(day1_seconds, 1), "day2_seconds": round(day2_seconds, 1),
        "events_day2": Counter(e.kind for e in events), "person_f1_day2": scores.person.f1,
    })
    print(json.dumps(figures, indent=2, default=str))


if __name__ == "__main__":
    main()
