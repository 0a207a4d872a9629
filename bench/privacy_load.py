"""Load with tokens on against the same load without: what authentication, channel views, consent and the
audit log cost the service (issue 15's load run).

    python bench/privacy_load.py                                  # 30,000 households (~100k records) -> SQLite
    python bench/privacy_load.py --store sqlite:///big.db --duration 60 --rounds 2
    python bench/privacy_load.py --store postgresql+psycopg://postgres@127.0.0.1:5432/big

Two `herken serve` processes on the same store, exactly as a user starts them: one with
``HERKEN_TOKENS`` set (every call authenticated, each channel's view applied, consent applied, every
call audited) and one without (loopback, every caller local). Rounds alternate between them. In each
round one client process (``grpc.aio``, one channel) keeps ``--clients`` calls in flight for
``--duration`` seconds: a mix of GetProfile by customer_id (70%, as the store tablet, the webshop and
customer service in turn), SearchCustomers by name as the store tablet (20%) and UpdatePreferences as
the webshop (10%). Reported per server and round: requests/s, errors by status code, p50 and p99 overall
and per RPC; then the ratio of the tokens-on throughput to the tokens-off throughput of the same round,
and the audit entries written during the tokens-on rounds.

Without --store it generates a drop (``--households``, ``--seed``) and resolves it into a fresh
SQLite file under ``--keep`` (default a temporary folder), reused when it is there.
"""

from __future__ import annotations

import argparse
import array
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parent))
from runner import herken  # noqa: E402
from serve import AioBenchServer, _has_run, _sleep_until  # noqa: E402

from profile_api._generated.herken.v1 import profile_service_pb2 as pb  # noqa: E402
from profile_api._generated.herken.v1 import profile_service_pb2_grpc as pb_grpc  # noqa: E402

TOKENS = {"store": "bench-store-token", "webshop": "bench-webshop-token", "service": "bench-service-token"}
MIX = (("GetProfile", 0.70), ("SearchCustomers", 0.20), ("UpdatePreferences", 0.10))


def _script() -> list[str]:
    return [sys.executable, str(Path(__file__).resolve())]


def sample_people(url: str, n: int, seed: int) -> list[list[str]]:
    """Return n [customer_id, display_name] of the store's profiles."""
    from sqlalchemy import text

    from profile_api.store import open_store

    engine = open_store(url)
    with engine.connect() as conn:
        rows = [list(row) for row in conn.execute(text("SELECT customer_id, display_name FROM profile"))]
    engine.dispose()
    return random.Random(seed).sample(rows, min(n, len(rows)))


def child_client(port: int, people_file: Path, concurrency: int, start_at: float, duration: float, out: Path,
                 seed: int, tokens: bool) -> None:
    """Keep `concurrency` mixed calls in flight from start_at for duration seconds; write latencies per RPC."""
    people = json.loads(people_file.read_text())
    rng = random.Random(seed)
    kinds = [name for name, share in MIX for _ in range(int(share * 100))]
    channels = ("store", "webshop", "service")
    latencies: dict[str, array.array] = {name: array.array("d") for name, _ in MIX}
    errors: dict[str, int] = {}

    def metadata(channel: str) -> tuple:
        return (("authorization", f"Bearer {TOKENS[channel]}"),) if tokens else ()

    def request(i: int) -> tuple[str, object, tuple]:
        kind = kinds[rng.randrange(len(kinds))]
        customer_id, name = people[rng.randrange(len(people))]
        if kind == "GetProfile":
            return kind, pb.GetProfileRequest(customer_id=customer_id), metadata(channels[i % 3])
        if kind == "SearchCustomers":
            return kind, pb.SearchCustomersRequest(name=name, limit=10), metadata("store")
        return kind, pb.UpdatePreferencesRequest(
            customer_id=customer_id, source="webshop",
            preferences=[pb.PreferenceEntry(key="delivery_slot", value=rng.choice(("morning", "evening")))]), \
            metadata("webshop")

    async def run() -> None:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            await asyncio.wait_for(channel.channel_ready(), 30)
            stub = pb_grpc.ProfileServiceStub(channel)
            for i in range(30):                    # warm up the connection and the server's caches
                kind, message, meta = request(i)
                try:
                    await getattr(stub, kind)(message, metadata=meta, timeout=10)
                except grpc.aio.AioRpcError:
                    pass
            await asyncio.sleep(max(0.0, start_at - time.time()))
            clock = time.perf_counter
            end = clock() + (start_at + duration - time.time())

            async def caller(k: int) -> None:
                i = k
                while clock() < end:
                    kind, message, meta = request(i)
                    began = clock()
                    try:
                        await getattr(stub, kind)(message, metadata=meta, timeout=10)
                    except grpc.aio.AioRpcError as err:
                        key = f"{kind}:{err.code().name}"
                        errors[key] = errors.get(key, 0) + 1
                    latencies[kind].append((clock() - began) * 1e6)
                    i += concurrency

            await asyncio.gather(*(caller(k) for k in range(concurrency)))

    asyncio.run(run())
    out.write_text(json.dumps({"latencies_us": {k: v.tolist() for k, v in latencies.items()}, "errors": errors}))


def load(server: AioBenchServer, tokens: bool, round_: int, args: argparse.Namespace, people: Path,
         work: Path) -> dict:
    """One round against one server: the figures."""
    import numpy as np

    start_at = time.time() + 3.0
    out = work / "client.json"
    out.unlink(missing_ok=True)
    proc = subprocess.Popen([*_script(), "--child-client", "--port", str(server.port), "--people", str(people),
                             "--clients", str(args.clients), "--start-at", repr(start_at), "--duration",
                             str(args.duration), "--out", str(out), "--seed", str(round_)]
                            + (["--tokens"] if tokens else []), stderr=subprocess.PIPE)
    _sleep_until(start_at + args.duration)
    _, err = proc.communicate(timeout=args.duration + 120)
    if proc.returncode != 0:
        raise SystemExit(f"the client failed:\n{err.decode(errors='replace')[-2000:]}")
    data = json.loads(out.read_text())
    every = np.concatenate([np.asarray(v) for v in data["latencies_us"].values()]) / 1000.0
    per_rpc = {k: {"requests": len(v), "p50_ms": round(float(np.percentile(v, 50)) / 1000, 2),
                   "p99_ms": round(float(np.percentile(v, 99)) / 1000, 2)}
               for k, v in data["latencies_us"].items() if v}
    return {"server": server.name, "round": round_, "requests": int(len(every)),
            "rps": round(len(every) / args.duration, 1), "errors": data["errors"],
            "p50_ms": round(float(np.percentile(every, 50)), 2), "p99_ms": round(float(np.percentile(every, 99)), 2),
            "per_rpc": per_rpc}


def audit_count(url: str) -> int:
    from sqlalchemy import text

    from profile_api.store import open_store

    engine = open_store(url)
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one()
    engine.dispose()
    return int(count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store")
    parser.add_argument("--households", type=int, default=30000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", help="folder for the drop and the store (re-used when there)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--json", help="write the figures here too")
    parser.add_argument("--child-client", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--people", help=argparse.SUPPRESS)
    parser.add_argument("--start-at", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--tokens", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_client:
        child_client(args.port, Path(args.people), args.clients, args.start_at, args.duration, Path(args.out),
                     args.seed, args.tokens)
        return
    work = Path(args.keep or tempfile.mkdtemp(prefix="herken-privacy-load-"))
    work.mkdir(parents=True, exist_ok=True)
    url = args.store
    if url is None:
        drop, url = work / "drop", f"sqlite:///{work / 'herken.db'}"
        if not (drop / "truth.csv").is_file():
            herken("generate", str(drop), "--households", str(args.households), "--seed", str(args.seed), work=work)
        if not _has_run(url):
            herken("resolve", str(drop), "--store", url, work=work)
    people = work / "people.json"
    people.write_text(json.dumps(sample_people(url, 5000, args.seed)))
    env_tokens = ",".join(f"{token}:{channel}" for channel, token in TOKENS.items())
    audit_before = audit_count(url)
    servers = [(AioBenchServer("tokens on", work, store=url, env={"HERKEN_TOKENS": env_tokens}), True),
               (AioBenchServer("tokens off", work, store=url, env={"HERKEN_TOKENS": ""}), False)]
    results = []
    try:
        for round_ in range(1, args.rounds + 1):
            for server, tokens in servers:
                result = load(server, tokens, round_, args, people, work)
                results.append(result)
                print(json.dumps(result), flush=True)
    finally:
        for server, _ in servers:
            server.stop()
    audited = audit_count(url) - audit_before
    on = [r for r in results if r["server"] == "tokens on"]
    off = [r for r in results if r["server"] == "tokens off"]
    ratios = [round(a["rps"] / b["rps"], 3) for a, b in zip(on, off)]
    summary = {"store": url, "clients": args.clients, "duration_s": args.duration, "rounds": results,
               "throughput_ratio_tokens_on_to_off": ratios, "audit_entries_written": audited,
               "errors": sum(sum(r["errors"].values()) for r in results)}
    print("\n| server | round | requests/s | p50 ms | p99 ms | errors |\n|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['server']} | {r['round']} | {r['rps']} | {r['p50_ms']} | {r['p99_ms']} | "
              f"{sum(r['errors'].values())} |")
    print(f"\ntokens on / tokens off throughput per round: {ratios}; audit entries written: {audited}")
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
