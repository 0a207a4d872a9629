"""Benchmark GetProfile under load, beside a no-op gRPC handler measured in the same run.

    python bench/serve.py                                   # 30,000 households -> SQLite and PostgreSQL
    python bench/serve.py --keep /tmp/herken-serve          # the same, keeping drop and stores for next time
    python bench/serve.py --store sqlite:///big.db --store postgresql+psycopg://postgres@127.0.0.1:5432/big
    python bench/serve.py --noop-only                       # the floor of this machine, no store needed

Without --store it generates a drop (``--households``, ``--seed``), resolves it with ``herken resolve``
into a fresh SQLite file and a fresh PostgreSQL database (``--pg-admin`` names the server), then
measures every server twice: one client alone (latency without queueing) and ``--clients`` closed-loop
clients at once, each for a fixed time. Servers run as ``herken serve --processes N`` does
(``profile_api.server.ServerGroup``: ``--processes`` processes on one port, default one per core,
each with the default thread pool, health and reflection). The no-op server has exactly that shape;
only its GetProfile returns an empty reply without touching a store. ``--rounds`` repeats the whole
sequence, so that a load from elsewhere on the machine is seen in every server's rows.

Every server and every client is its own process (this script with a hidden ``--child-*`` option),
all on 127.0.0.1: Python gRPC clients in one process would serialise on one GIL and measure
themselves. On a 2-core machine the clients share the cores with the server, so the no-op figures
are the ceiling of the machine, not of the service. Loops are bounded by time and by a request cap.

``--mode aio-email`` measures what issue 13 asks of the serving core:

    python bench/serve.py --mode aio-email --drop ../drops/g30k --keep /tmp/herken-serve-100k --rounds 3

``herken serve`` exactly as a user starts it (``python -m herken.cli serve --store URL --port P``, its
default processes and threads; ``--serve-arg`` passes options to try another shape), on each store,
beside two no-op servers in the same run: a thread pool (``grpc.server``, 8 workers) and an asyncio
server (``grpc.aio``), both through the generated servicer interface, answering a fixed small profile.
One client process (``grpc.aio``, one channel) keeps ``--clients`` calls in flight (default 16), then
one call at a time (one-client latency); every call is GetProfile by an Identifier of kind e-mail, the
values drawn (``--seed``) from the e-mail addresses the drop's records hold, as written. All servers
stay up and the rounds alternate between them. Reported per server and round: requests/s, the ratio
to the faster no-op of that round, errors by status code, p50/p99, CPU per request; then the issue's
targets judged on the median round: at least 70% of the faster no-op on SQLite and 60% on PostgreSQL,
no errors, one-client p99 at most 2 ms. ``--drop`` resolves an existing drop into SQLite and into a
fresh PostgreSQL database (``--pg-admin`` the server, ``--pg-database`` its name: one of your own where
others run the bench too) instead of generating one; ``--keep`` re-uses both stores.
``--also-serve SPEC`` adds another ``herken serve`` per store in the same rounds: its options and
NAME=VALUE words for its environment, so that another shape (``'--threads 4'``) or another build
(``'PYTHONPATH=/path/to/old/checkout'``) is measured side by side.
"""

from __future__ import annotations

import argparse
import array
import asyncio
import csv
import functools
import json
import os
import random
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent import futures
from dataclasses import asdict, dataclass
from pathlib import Path

import grpc

from profile_api._generated.herken.v1 import profile_service_pb2 as pb
from profile_api._generated.herken.v1 import profile_service_pb2_grpc as pb_grpc
from runner import herken as _herken  # bench/ is on the path when a bench script runs

P99_TARGET_MS = 10.0
THROUGHPUT_TARGET = 0.60           # of the no-op throughput
MAX_REQUESTS_PER_CLIENT = 2_000_000
SAMPLE_IDS = 5_000
PG_ADMIN_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_BENCH_DB = "herken_bench_serve"


# --- children: one server, or one closed-loop client ---

def child_server(target: str, port_file: Path, processes: int, max_workers: int) -> None:
    """Serve target ('noop' or a store URL) on a free loopback port, write the port, run until SIGTERM.

    The no-op server is built exactly like the store's (``ServerGroup``, the same processes and threads);
    only its servicer differs.
    """
    from profile_api.server import DEFAULT_MAX_WORKERS, ServerGroup, store_servicer
    from profile_api.store import open_store

    if target != "noop":
        open_store(target).dispose()    # as serve_processes does: an outdated store is refused once, here
    factory = NoopServicer if target == "noop" else functools.partial(store_servicer, target)
    group = ServerGroup(factory, "127.0.0.1", 0, processes, max_workers or DEFAULT_MAX_WORKERS)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    port_file.with_suffix(".tmp").write_text(str(group.port))
    port_file.with_suffix(".tmp").rename(port_file)
    while not stopping:
        time.sleep(0.2)
    group.stop()


class NoopServicer(pb_grpc.ProfileServiceServicer):
    """GetProfile returns an empty reply without touching a store: the cost of gRPC itself."""

    def GetProfile(self, request: pb.GetProfileRequest, context: object) -> pb.GetProfileResponse:  # noqa: N802
        return pb.GetProfileResponse()


def child_client(port: int, ids_file: Path, start_at: float, duration: float, out: Path, seed: int) -> None:
    """Call GetProfile in a closed loop from start_at for duration seconds; write latencies (µs) and errors."""
    ids = json.loads(ids_file.read_text())
    rng = random.Random(seed)
    requests = [pb.GetProfileRequest(customer_id=rng.choice(ids)) for _ in range(1000)]
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    grpc.channel_ready_future(channel).result(timeout=30)
    call = pb_grpc.ProfileServiceStub(channel).GetProfile
    for request in requests[:50]:      # warm up the connection and the server's caches
        call(request, timeout=10)
    latencies = array.array("d")
    errors = 0
    while time.time() < start_at:
        time.sleep(0.001)
    end = time.perf_counter() + (start_at + duration - time.time())
    cpu_start = time.process_time()
    clock = time.perf_counter
    i = 0
    while i < MAX_REQUESTS_PER_CLIENT:
        began = clock()
        if began >= end:
            break
        try:
            call(requests[i % 1000], timeout=10)
        except grpc.RpcError:
            errors += 1
        latencies.append((clock() - began) * 1e6)
        i += 1
    cpu = time.process_time() - cpu_start
    channel.close()
    out.write_text(json.dumps({"latencies_us": latencies.tolist(), "errors": errors, "cpu_s": cpu}))


# --- the parent ---

@dataclass
class Result:
    """One measurement: a server under a number of clients for a fixed time."""

    server: str
    round: int
    clients: int
    seconds: float
    requests: int
    errors: int
    rps: float
    p50_ms: float
    p99_ms: float
    mean_ms: float
    server_cores: float     # CPU the server used during the window, in cores
    client_cores: float     # CPU the clients used
    database_cores: float   # CPU of PostgreSQL's processes (any database on this machine)
    other_cores: float      # CPU used by everything else on the machine: it skews the figures


def _script() -> list[str]:
    return [sys.executable, str(Path(__file__).resolve())]


def _terminate(process: subprocess.Popen) -> None:  # type: ignore[type-arg]
    """Stop a server child with SIGTERM, as a service manager would; kill it after 15 s; wait for it."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class ServerProcess:
    """A server child on a free loopback port; stopped on exit of the with block."""

    def __init__(self, target: str, work: Path, processes: int, max_workers: int) -> None:
        self.port_file = work / f"port-{os.getpid()}-{time.monotonic_ns()}"
        self.log = open(work / "server.log", "ab")
        self.process = subprocess.Popen(
            [*_script(), "--child-server", target, "--port-file", str(self.port_file), "--processes", str(processes),
             "--max-workers", str(max_workers)], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while not self.port_file.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise SystemExit(f"the server for {target} did not start; see {work / 'server.log'}")
            time.sleep(0.05)
        self.port = int(self.port_file.read_text())

    def stop(self) -> None:
        """Stop the server child and wait for it."""
        _terminate(self.process)
        self.log.close()
        self.port_file.unlink(missing_ok=True)

    def __enter__(self) -> "ServerProcess":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _busy_cpu_seconds() -> float:
    """Return CPU seconds the whole machine has spent busy since boot (Linux)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)    # idle and iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _process_cpu_seconds(pid: int) -> float:
    """Return the user + system CPU seconds of a process (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _tree_cpu_seconds(root: int) -> float:
    """Return the CPU seconds of a process and its living descendants (the server group) (Linux)."""
    parent_of = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent_of[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    tree, grown = {root}, True
    while grown:
        more = {pid for pid, parent in parent_of.items() if parent in tree} - tree
        tree, grown = tree | more, bool(more)
    total = 0.0
    for pid in tree:
        try:
            total += _process_cpu_seconds(pid)
        except OSError:
            continue
    return total


def _database_cpu_seconds() -> dict[int, float]:
    """Return the CPU seconds of every PostgreSQL process on this machine, by pid (Linux)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    found[int(entry.name)] = _process_cpu_seconds(int(entry.name))
            except OSError:
                continue     # gone meanwhile, or not ours to read
    return found


def _sleep_until(moment: float) -> None:
    while (left := moment - time.time()) > 0:
        time.sleep(min(left, 0.5))


def load(server_name: str, round_: int, server_pid: int, port: int, clients: int, duration: float, ids_file: Path,
         work: Path) -> Result:
    """Run clients closed-loop client processes against port for duration seconds; return the figures."""
    import numpy as np

    start_at = time.time() + 3.0 + 0.25 * clients     # time for every client to start, connect and warm up
    outs = [work / f"client-{i}.json" for i in range(clients)]
    for out in outs:
        out.unlink(missing_ok=True)
    procs = [subprocess.Popen([*_script(), "--child-client", "--port", str(port), "--ids", str(ids_file),
                               "--start-at", repr(start_at), "--duration", str(duration), "--out", str(out),
                               "--seed", str(i)], stderr=subprocess.PIPE)
             for i, out in enumerate(outs)]
    _sleep_until(start_at)
    busy, served, database = _busy_cpu_seconds(), _tree_cpu_seconds(server_pid), _database_cpu_seconds()
    _sleep_until(start_at + duration)
    busy, served = _busy_cpu_seconds() - busy, _tree_cpu_seconds(server_pid) - served
    database = sum(cpu - database.get(pid, 0.0) for pid, cpu in _database_cpu_seconds().items())
    for p in procs:
        try:
            _, err = p.communicate(timeout=start_at - time.time() + duration + 60)
        except subprocess.TimeoutExpired:
            p.kill()
            raise SystemExit(f"a client against {server_name} did not finish") from None
        if p.returncode != 0:
            raise SystemExit(f"a client against {server_name} failed:\n{err.decode(errors='replace')[-2000:]}")
    latencies, errors, client_cpu = [], 0, 0.0
    for out in outs:
        data = json.loads(out.read_text())
        latencies.extend(data["latencies_us"])
        errors += data["errors"]
        client_cpu += data["cpu_s"]
        out.unlink()
    values = np.asarray(latencies) / 1000.0
    return Result(server_name, round_, clients, duration, len(values), errors, round(len(values) / duration, 1),
                  round(float(np.percentile(values, 50)), 3), round(float(np.percentile(values, 99)), 3),
                  round(float(values.mean()), 3), round(served / duration, 2), round(client_cpu / duration, 2),
                  round(database / duration, 2), round(max(0.0, busy - served - client_cpu - database) / duration, 2))


def _has_run(url: str) -> bool:
    """Return True when the store at url exists and holds a published run (an SQLite file is not created)."""
    from sqlalchemy.engine import make_url

    from profile_api.store import latest_run, open_store

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").is_file():
        return False
    try:
        return latest_run(open_store(url)) is not None
    except Exception:
        return False




def _fresh_pg_database(admin_url: str, name: str) -> str:
    """Create (or re-create) an empty PostgreSQL database; return its URL."""
    from sqlalchemy import create_engine, text

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as con:
        con.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        con.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return admin_url.rsplit("/", 1)[0] + "/" + name


def prepare_stores(args: argparse.Namespace, work: Path) -> list[tuple[str, str]]:
    """Return (name, url) of the stores to measure, generating and resolving a drop when none is given."""
    if args.store:
        return [(("PostgreSQL" if url.startswith("postgresql") else "SQLite"), url) for url in args.store]
    drop = args.drop or work / "drop"
    if not args.drop and not (drop / "truth.csv").is_file():
        _herken("generate", str(drop), "--households", str(args.households), "--seed", str(args.seed), work=work)
    stores = []
    sqlite_url = f"sqlite:///{work / 'herken.db'}"
    if not _has_run(sqlite_url):
        for name in ("herken.db", "herken.db-wal", "herken.db-shm"):
            (work / name).unlink(missing_ok=True)
        _herken("resolve", str(drop), "--store", sqlite_url, work=work)
    stores.append(("SQLite", sqlite_url))
    if not args.skip_postgres:
        pg_url = args.pg_admin.rsplit("/", 1)[0] + "/" + args.pg_database
        marker = work / "postgres.url"      # the PostgreSQL store was resolved from this work directory's drop
        if not (marker.is_file() and marker.read_text() == pg_url and _has_run(pg_url)):
            marker.unlink(missing_ok=True)
            pg_url = _fresh_pg_database(args.pg_admin, args.pg_database)
            models = sorted((work / "runs").glob("*/model.json"))
            _herken("resolve", str(drop), "--store", pg_url, *(["--model", str(models[-1])] if models else []),
                    work=work)
            marker.write_text(pg_url)
        stores.append(("PostgreSQL", pg_url))
    return stores


def sample_ids(url: str, n: int, seed: int) -> list[str]:
    """Return n customer ids drawn at random from the store (with replacement when it has fewer)."""
    from sqlalchemy import text

    from profile_api.store import open_store

    with open_store(url).connect() as con:
        ids = [row[0] for row in con.execute(text("SELECT customer_id FROM person ORDER BY customer_id"))]
    if not ids:
        raise SystemExit(f"the store {url} holds no persons; resolve a drop into it first")
    rng = random.Random(seed)
    return rng.sample(ids, n) if len(ids) >= n else [rng.choice(ids) for _ in range(n)]


def _floor(results: list[Result], r: Result) -> Result | None:
    """Return the no-op measurement of the same round with the same number of clients."""
    return next((n for n in results if n.server == "no-op" and n.round == r.round and n.clients == r.clients), None)


def _per_request_ms(cores: float, r: Result) -> float:
    """Return CPU milliseconds per request of a measurement's CPU use in cores (0 when nothing was served)."""
    return cores * 1000 / r.rps if r.rps else 0.0


def markdown(results: list[Result]) -> str:
    """Return the table of all measurements, each row with its ratio to the no-op server of its round."""
    head = ("| round | server | clients | seconds | requests | errors | req/s | p50 ms | p99 ms | mean ms | "
            "of no-op req/s | p99 ≤ 10 ms | server cores | server CPU ms/req | client cores | PostgreSQL cores | "
            "PostgreSQL CPU ms/req | other cores |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in results:
        base = _floor(results, r)
        ratio = f"{r.rps / base.rps:.0%}" if base and r.server != "no-op" else "—"
        lines.append(f"| {r.round} | {r.server} | {r.clients} | {r.seconds:.0f} | {r.requests:,} | {r.errors} | "
                     f"{r.rps:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {r.mean_ms:.2f} | {ratio} | "
                     f"{'yes' if r.p99_ms <= P99_TARGET_MS else 'no'} | {r.server_cores:.2f} | "
                     f"{_per_request_ms(r.server_cores, r):.2f} | {r.client_cores:.2f} | {r.database_cores:.2f} | "
                     f"{_per_request_ms(r.database_cores, r):.2f} | {r.other_cores:.2f} |")
    return "\n".join(lines)


def verdicts(results: list[Result], clients: int) -> list[str]:
    """Return one line per store: the targets met or missed, beside the no-op server's figures.

    Each server is judged by its best round (highest throughput, lowest p99): a load from elsewhere
    on the machine only ever slows a round down, so the best round is the nearest to this machine's
    own capacity. The ratio of every single round is listed beside it.
    """
    loaded = [r for r in results if r.clients == clients]
    noop_rps = max(r.rps for r in loaded if r.server == "no-op")
    noop_p99 = min(r.p99_ms for r in loaded if r.server == "no-op")
    lines = []
    if noop_p99 > P99_TARGET_MS:
        lines.append(f"note: the no-op handler itself has p99 {noop_p99:.2f} ms at best under {clients} clients on this "
                     f"machine ({os.cpu_count()} cores shared by servers and clients): p99 ≤ {P99_TARGET_MS:g} ms is "
                     "out of reach here for any handler; compare the rows side by side")
    noop_cpu = min(_per_request_ms(r.server_cores, r) for r in loaded if r.server == "no-op")
    busy = sorted({f"{r.server} (round {r.round})" for r in results if r.other_cores > 0.2})
    if busy:
        lines.append(f"note: other processes kept cores busy while measuring {', '.join(busy)} (column 'other "
                     "cores'); those rows are depressed by them")
    for server in dict.fromkeys(r.server for r in loaded if r.server != "no-op"):
        rows = [r for r in loaded if r.server == server]
        ratio, p99 = max(r.rps for r in rows) / noop_rps, min(r.p99_ms for r in rows)
        per_round = ", ".join(f"{r.rps / _floor(results, r).rps:.0%}" for r in rows)
        cpu = min(_per_request_ms(r.server_cores, r) for r in rows)
        lines.append(f"{server}: best round {ratio:.0%} of the no-op's best throughput (target ≥ {THROUGHPUT_TARGET:.0%}: "
                     f"{'met' if ratio >= THROUGHPUT_TARGET else 'MISSED'}; round by round {per_round}); "
                     f"p99 {p99:.2f} ms (target ≤ {P99_TARGET_MS:g} ms: {'met' if p99 <= P99_TARGET_MS else 'missed'}; "
                     f"no-op {noop_p99:.2f} ms); server CPU {cpu:.2f} ms per request at best (no-op {noop_cpu:.2f} ms)")
    return lines


def bench(args: argparse.Namespace, work: Path) -> dict:
    """Measure the no-op server and each store's server; print the tables and return the figures."""
    stores = [] if args.noop_only else prepare_stores(args, work)
    results: list[Result] = []
    targets = [("no-op", "noop"), *stores]
    ids_files = {}
    for name, target in targets:
        # Each store is asked for its own customers; the no-op server gets the first store's requests.
        source = target if target != "noop" else (stores[0][1] if stores else None)
        ids = sample_ids(source, SAMPLE_IDS, args.seed) if source else [f"C{i:06d}" for i in range(SAMPLE_IDS)]
        ids_files[name] = work / f"ids-{len(ids_files)}.json"
        ids_files[name].write_text(json.dumps(ids))
    # Rounds repeat the whole sequence, so that a load from elsewhere on the machine hits every server alike.
    for round_ in range(1, args.rounds + 1):
        for name, target in targets:
            with ServerProcess(target, work, args.processes, args.max_workers) as server:
                for clients, seconds in ((1, args.single_duration), (args.clients, args.duration)):
                    print(f"round {round_}: {name}: {clients} client(s) for {seconds:g} s ...", file=sys.stderr,
                          flush=True)
                    results.append(load(name, round_, server.process.pid, server.port, clients, seconds,
                                        ids_files[name], work))
    from profile_api.server import DEFAULT_MAX_WORKERS

    print(f"\nGetProfile by customer_id; {os.cpu_count()} cores; {args.processes} server process(es) of "
          f"{args.max_workers or DEFAULT_MAX_WORKERS} threads and {args.clients} client processes on 127.0.0.1")
    for name, url in stores:
        print(f"  {name}: {url}")
    print()
    print(markdown(results))
    print()
    for line in verdicts(results, args.clients):
        print(line)
    return {"cores": os.cpu_count(), "stores": dict(stores), "results": [asdict(r) for r in results]}



# --- --mode aio-email: `herken serve` with its defaults against two no-op kinds, one asyncio client ---

NOOP_THREAD_WORKERS = 8
EMAIL_SAMPLE = 5_000


def _noop_reply() -> pb.GetProfileResponse:
    """Return the fixed small profile both no-op servers answer with."""
    return pb.GetProfileResponse(profile=pb.Profile(customer_id="C000001", household_id="H000001",
                                                    display_name="Johanna de Vries"))


def _noop_resolved() -> pb.ResolveRecordResponse:
    """Return the fixed small answer both no-op servers give ResolveRecord (bench/realtime.py)."""
    return pb.ResolveRecordResponse(customer_id="C000001", household_id="H000001", match_probability=0.99,
                                    candidates=[pb.MatchCandidate(customer_id="C000001", household_id="H000001",
                                                                  display_name="Johanna de Vries",
                                                                  match_probability=0.99)])


def child_noop(kind: str, port_file: Path) -> None:
    """Serve a no-op ProfileService of kind 'threads' (grpc.server, 8 workers) or 'aio' (grpc.aio) until SIGTERM.

    Both use the generated servicer interface and registration; GetProfile answers a fixed small
    profile and ResolveRecord a fixed small match, without reading anything: the cost of the server
    kind itself.
    """
    reply, resolved = _noop_reply(), _noop_resolved()

    def announce(port: int) -> None:
        port_file.with_suffix(".tmp").write_text(str(port))
        port_file.with_suffix(".tmp").rename(port_file)

    if kind == "threads":
        class ThreadsNoop(pb_grpc.ProfileServiceServicer):
            def GetProfile(self, request: pb.GetProfileRequest, context: object) -> pb.GetProfileResponse:  # noqa: N802
                return reply

            def ResolveRecord(self, request: pb.ResolveRecordRequest, context: object) -> pb.ResolveRecordResponse:  # noqa: N802
                return resolved

        server = grpc.server(futures.ThreadPoolExecutor(max_workers=NOOP_THREAD_WORKERS))
        pb_grpc.add_ProfileServiceServicer_to_server(ThreadsNoop(), server)
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        stopping = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stopping.set())
        announce(port)
        stopping.wait()
        server.stop(1).wait()
        return

    class AioNoop(pb_grpc.ProfileServiceServicer):
        async def GetProfile(self, request: pb.GetProfileRequest, context: object) -> pb.GetProfileResponse:  # noqa: N802
            return reply

        async def ResolveRecord(self, request: pb.ResolveRecordRequest,  # noqa: N802
                                context: object) -> pb.ResolveRecordResponse:
            return resolved

    async def run() -> None:
        server = grpc.aio.server()
        pb_grpc.add_ProfileServiceServicer_to_server(AioNoop(), server)
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        stopping = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopping.set)
        announce(port)
        await stopping.wait()
        await server.stop(1)

    asyncio.run(run())


def child_aio_client(port: int, values_file: Path, concurrency: int, start_at: float, duration: float, out: Path,
                     seed: int) -> None:
    """From one asyncio client (grpc.aio, one channel), keep `concurrency` GetProfile calls by e-mail in flight
    from start_at for duration seconds; write latencies (µs), errors by status code and the client's CPU."""
    values = json.loads(values_file.read_text())
    rng = random.Random(seed)
    requests = [pb.GetProfileRequest(identifier=pb.Identifier(kind=pb.IDENTIFIER_KIND_EMAIL, value=value))
                for value in rng.sample(values, min(len(values), 2000))]
    latencies = array.array("d")
    errors: dict[str, int] = {}

    async def run() -> float:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            await asyncio.wait_for(channel.channel_ready(), 30)
            call = pb_grpc.ProfileServiceStub(channel).GetProfile
            for request in requests[:50]:          # warm up the connection and the server's caches
                try:
                    await call(request, timeout=10)
                except grpc.aio.AioRpcError:
                    pass                           # counted when measured
            await asyncio.sleep(max(0.0, start_at - time.time()))
            clock = time.perf_counter
            end = clock() + (start_at + duration - time.time())
            cpu_start = time.process_time()

            async def caller(k: int) -> None:
                i = k
                while i < MAX_REQUESTS_PER_CLIENT:
                    began = clock()
                    if began >= end:
                        return
                    try:
                        await call(requests[i % len(requests)], timeout=10)
                    except grpc.aio.AioRpcError as err:
                        errors[err.code().name] = errors.get(err.code().name, 0) + 1
                    latencies.append((clock() - began) * 1e6)
                    i += concurrency

            await asyncio.gather(*(caller(k) for k in range(concurrency)))
            return time.process_time() - cpu_start

    cpu = asyncio.run(run())
    out.write_text(json.dumps({"latencies_us": latencies.tolist(), "errors": errors, "cpu_s": cpu}))


def drop_emails(drop: Path, n: int, seed: int) -> list[str]:
    """Return n distinct e-mail values as the drop's identity records write them (all when it has fewer)."""
    found: set[str] = set()
    for channel in ("pos", "webshop", "app", "service"):
        path = drop / f"{channel}.csv"
        if path.is_file():
            with path.open(newline="", encoding="utf-8") as f:
                found.update(row["email"] for row in csv.DictReader(f) if (row.get("email") or "").strip())
    if not found:
        raise SystemExit(f"the drop {drop} holds no e-mail addresses")
    values = sorted(found)
    return random.Random(seed).sample(values, min(n, len(values)))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AioBenchServer:
    """A server for --mode aio-email: a no-op child, or `herken serve` (its defaults) on a store; stop() ends it."""

    def __init__(self, name: str, work: Path, *, noop: str | None = None, store: str | None = None,
                 serve_args: tuple[str, ...] = (), env: dict[str, str] | None = None) -> None:
        self.name = name
        self.log = open(work / "server.log", "ab")
        deadline = time.monotonic() + 180
        if noop:
            port_file = work / f"port-{os.getpid()}-{time.monotonic_ns()}"
            self.process = subprocess.Popen([*_script(), "--child-noop", noop, "--port-file", str(port_file)],
                                            stdout=self.log, stderr=subprocess.STDOUT)
            while not port_file.exists():
                self._check(deadline, work)
                time.sleep(0.05)
            self.port = int(port_file.read_text())
            port_file.unlink()
            return
        self.port = _free_port()
        self.process = subprocess.Popen([sys.executable, "-m", "herken.cli", "serve", "--store", store, "--port",
                                         str(self.port), *serve_args], stdout=self.log, stderr=subprocess.STDOUT,
                                        env={**os.environ, **(env or {})}, cwd=work)   # not this checkout's path
        from grpc_health.v1 import health_pb2, health_pb2_grpc

        with grpc.insecure_channel(f"127.0.0.1:{self.port}") as channel:      # ready: health says SERVING
            check = health_pb2_grpc.HealthStub(channel).Check
            while True:
                self._check(deadline, work)
                try:
                    if check(health_pb2.HealthCheckRequest(service=""), timeout=1).status == \
                            health_pb2.HealthCheckResponse.SERVING:
                        break
                except grpc.RpcError:
                    pass
                time.sleep(0.2)

    def _check(self, deadline: float, work: Path) -> None:
        if self.process.poll() is not None or time.monotonic() > deadline:
            self.stop()
            raise SystemExit(f"the server {self.name} did not start; see {work / 'server.log'}")

    def stop(self) -> None:
        """Stop the server (SIGTERM, as a service manager would) and wait for it."""
        _terminate(self.process)
        self.log.close()


@dataclass
class AioResult:
    """One measurement of --mode aio-email: a server under `concurrency` calls in flight for a fixed time."""

    server: str
    round: int
    concurrency: int
    seconds: float
    requests: int
    errors: dict
    rps: float
    p50_ms: float
    p99_ms: float
    server_cores: float
    client_cores: float
    database_cores: float
    other_cores: float


def aio_load(server: AioBenchServer, round_: int, concurrency: int, duration: float, values_file: Path,
             work: Path) -> AioResult:
    """Run one asyncio client process with `concurrency` calls in flight against server; return the figures."""
    import numpy as np

    start_at = time.time() + 3.0
    out = work / "aio-client.json"
    out.unlink(missing_ok=True)
    proc = subprocess.Popen([*_script(), "--child-aio-client", "--port", str(server.port), "--ids", str(values_file),
                             "--clients", str(concurrency), "--start-at", repr(start_at), "--duration", str(duration),
                             "--out", str(out), "--seed", str(round_)], stderr=subprocess.PIPE)
    _sleep_until(start_at)
    busy, served, database = _busy_cpu_seconds(), _tree_cpu_seconds(server.process.pid), _database_cpu_seconds()
    _sleep_until(start_at + duration)
    busy, served = _busy_cpu_seconds() - busy, _tree_cpu_seconds(server.process.pid) - served
    database = sum(cpu - database.get(pid, 0.0) for pid, cpu in _database_cpu_seconds().items())
    try:
        _, err = proc.communicate(timeout=duration + 120)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise SystemExit(f"the client against {server.name} did not finish") from None
    if proc.returncode != 0:
        raise SystemExit(f"the client against {server.name} failed:\n{err.decode(errors='replace')[-2000:]}")
    data = json.loads(out.read_text())
    values = np.asarray(data["latencies_us"]) / 1000.0
    client = data["cpu_s"]
    return AioResult(server.name, round_, concurrency, duration, len(values), data["errors"],
                     round(len(values) / duration, 1), round(float(np.percentile(values, 50)), 3),
                     round(float(np.percentile(values, 99)), 3), round(served / duration, 2),
                     round(client / duration, 2), round(database / duration, 2),
                     round(max(0.0, busy - served - client - database) / duration, 2))


def _faster_noop(results: list[AioResult], r: AioResult) -> AioResult | None:
    """Return the faster no-op measurement of r's round at r's concurrency."""
    noops = [n for n in results if n.server.startswith("no-op") and n.round == r.round
             and n.concurrency == r.concurrency]
    return max(noops, key=lambda n: n.rps, default=None)


def aio_markdown(results: list[AioResult]) -> str:
    """Return the table of --mode aio-email: every measurement with its ratio to the faster no-op of its round."""
    head = ("| round | server | calls in flight | requests | errors | req/s | of faster no-op | p50 ms | p99 ms | "
            "server cores | server CPU ms/req | client cores | PostgreSQL cores | other cores |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in results:
        base = _faster_noop(results, r)
        ratio = f"{r.rps / base.rps:.0%} ({base.server})" if base and not r.server.startswith("no-op") else "—"
        errors = ", ".join(f"{n} {code}" for code, n in sorted(r.errors.items())) or "0"
        lines.append(f"| {r.round} | {r.server} | {r.concurrency} | {r.requests:,} | {errors} | {r.rps:,.0f} | "
                     f"{ratio} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {r.server_cores:.2f} | "
                     f"{_per_request_ms(r.server_cores, r):.2f} | {r.client_cores:.2f} | {r.database_cores:.2f} | "
                     f"{r.other_cores:.2f} |")
    return "\n".join(lines)


def aio_verdicts(results: list[AioResult], concurrency: int) -> list[str]:
    """Return one line per herken server: the issue's targets met or missed, judged on the median round.

    The ratio of a round is herken's throughput over the faster no-op's in that round; the median of
    the rounds is judged (a load from elsewhere slows a round of every server alike, mostly).
    """
    import statistics

    lines = []
    for kind in dict.fromkeys(r.server for r in results if r.server.startswith("no-op")):
        rows = [r for r in results if r.server == kind and r.concurrency == concurrency]
        one = [r for r in results if r.server == kind and r.concurrency == 1]
        lines.append(f"{kind}: {', '.join(f'{r.rps:,.0f}' for r in rows)} req/s by round; one call at a time "
                     f"p50 {statistics.median(r.p50_ms for r in one):.2f} ms, "
                     f"p99 {statistics.median(r.p99_ms for r in one):.2f} ms")
    for server in dict.fromkeys(r.server for r in results if not r.server.startswith("no-op")):
        rows = [r for r in results if r.server == server and r.concurrency == concurrency]
        one = [r for r in results if r.server == server and r.concurrency == 1]
        ratios = [r.rps / _faster_noop(results, r).rps for r in rows]
        ratio = statistics.median(ratios)
        target = AIO_TARGETS["PostgreSQL" if "PostgreSQL" in server else "SQLite"]
        errors = sum(sum(r.errors.values()) for r in rows + one)
        p50, p99 = statistics.median(r.p50_ms for r in one), statistics.median(r.p99_ms for r in one)
        lines.append(f"{server}: {ratio:.0%} of the faster no-op (median of rounds {', '.join(f'{x:.0%}' for x in ratios)}; "
                     f"target ≥ {target:.0%}: {'met' if ratio >= target else 'MISSED'}); errors {errors} "
                     f"(target 0: {'met' if errors == 0 else 'MISSED'}); one call at a time p50 {p50:.2f} ms, "
                     f"p99 {p99:.2f} ms (target ≤ {AIO_P99_TARGET_MS:g} ms: "
                     f"{'met' if p99 <= AIO_P99_TARGET_MS else 'MISSED'})")
    return lines


AIO_TARGETS = {"SQLite": 0.70, "PostgreSQL": 0.60}
AIO_P99_TARGET_MS = 2.0


def bench_aio_email(args: argparse.Namespace, work: Path) -> dict:
    """--mode aio-email: measure herken serve (defaults) on each store beside both no-op kinds; print the table."""
    stores = prepare_stores(args, work)
    drop = args.drop or work / "drop"
    values_file = work / "emails.json"
    values_file.write_text(json.dumps(drop_emails(drop, EMAIL_SAMPLE, args.seed)))
    serve_args = tuple(args.serve_arg or ())
    servers = [AioBenchServer("no-op threads", work, noop="threads"), AioBenchServer("no-op aio", work, noop="aio")]
    try:
        for name, url in stores:
            servers.append(AioBenchServer(f"herken {name}", work, store=url, serve_args=serve_args))
            for spec in args.also_serve or ():     # another shape or build, side by side
                words = shlex.split(spec)
                env = dict(word.split("=", 1) for word in words if "=" in word and not word.startswith("-"))
                more = tuple(word for word in words if word.split("=", 1)[0] not in env)
                servers.append(AioBenchServer(f"herken {name} [{spec}]", work, store=url, serve_args=more, env=env))
        results: list[AioResult] = []
        # Every server stays up; rounds alternate between them, so a load from elsewhere is seen in every server's rows.
        for round_ in range(1, args.rounds + 1):
            for server in servers:
                for concurrency, seconds in ((1, args.single_duration), (args.clients, args.duration)):
                    print(f"round {round_}: {server.name}: {concurrency} call(s) in flight for {seconds:g} s ...",
                          file=sys.stderr, flush=True)
                    results.append(aio_load(server, round_, concurrency, seconds, values_file, work))
    finally:
        for server in servers:
            server.stop()
    shape = " ".join(("herken serve", *serve_args)) if serve_args else "herken serve (its defaults)"
    print(f"\nGetProfile by e-mail (values as the drop {drop} writes them); {os.cpu_count()} cores; {shape}; "
          f"no-ops: grpc.server with {NOOP_THREAD_WORKERS} threads, grpc.aio; one asyncio client process")
    for name, url in stores:
        print(f"  {name}: {url}")
    print()
    print(aio_markdown(results))
    print()
    for line in aio_verdicts(results, args.clients):
        print(line)
    return {"cores": os.cpu_count(), "stores": dict(stores), "serve_args": list(serve_args),
            "results": [asdict(r) for r in results]}


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments and run the benchmark (or, with --child-*, one server or client)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=("processes", "aio-email"), default="processes",
                        help="processes: the servers of --processes processes against client processes, GetProfile "
                             "by customer_id (default); aio-email: `herken serve` with its defaults against a "
                             "thread-pool and an asyncio no-op, one asyncio client, GetProfile by e-mail")
    parser.add_argument("--store", action="append", help="measure this existing store (repeatable)")
    parser.add_argument("--also-serve", action="append", metavar="SPEC",
                        help="aio-email: also measure `herken serve` started this way, on each store: options, and "
                             "NAME=VALUE words for its environment (e.g. 'PYTHONPATH=../old --threads 4'; repeatable)")
    parser.add_argument("--drop", type=Path, help="resolve this existing drop instead of generating one")
    parser.add_argument("--serve-arg", action="append",
                        help="aio-email: pass this option to `herken serve` (repeatable; default: none, its defaults)")
    parser.add_argument("--households", type=int, default=30_000, help="households to generate (default 30000)")
    parser.add_argument("--seed", type=int, default=7, help="generator and sampling seed (default 7)")
    parser.add_argument("--pg-admin", default=PG_ADMIN_DEFAULT,
                        help=f"a PostgreSQL database to create the bench database from (default {PG_ADMIN_DEFAULT})")
    parser.add_argument("--pg-database", default=PG_BENCH_DB,
                        help=f"the PostgreSQL database the bench resolves into, dropped and made again (default "
                             f"{PG_BENCH_DB}); name one of your own where others run the bench too")
    parser.add_argument("--skip-postgres", action="store_true", help="measure the SQLite store only")
    parser.add_argument("--noop-only", action="store_true", help="measure the no-op server only")
    parser.add_argument("--clients", type=int, default=16, help="concurrent closed-loop clients (default 16)")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds under load per server (default 20)")
    parser.add_argument("--single-duration", type=float, default=8.0, help="seconds with one client (default 8)")
    parser.add_argument("--rounds", type=int, default=1, help="repeat every measurement this often (default 1)")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1,
                        help="server processes sharing the port (default: one per core)")
    parser.add_argument("--max-workers", type=int, default=0, help="threads per server process (default: the server's own)")
    parser.add_argument("--keep", type=Path, help="keep drop, stores and logs here and re-use them next time")
    parser.add_argument("--out", type=Path, help="also write the figures as JSON here")
    parser.add_argument("--child-server", help=argparse.SUPPRESS)
    parser.add_argument("--child-client", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child-noop", choices=("threads", "aio"), help=argparse.SUPPRESS)
    parser.add_argument("--child-aio-client", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port-file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--ids", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--start-at", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child_server:
        child_server(args.child_server, args.port_file, args.processes, args.max_workers)
        return 0
    if args.child_client:
        child_client(args.port, args.ids, args.start_at, args.duration, args.out, args.seed)
        return 0
    if args.child_noop:
        child_noop(args.child_noop, args.port_file)
        return 0
    if args.child_aio_client:
        child_aio_client(args.port, args.ids, args.clients, args.start_at, args.duration, args.out, args.seed)
        return 0
    if not 1 <= args.clients <= 64 or not 1 <= args.rounds <= 20 or args.duration <= 0 or args.single_duration <= 0:
        parser.error("--clients must be 1 to 64, --rounds 1 to 20 and durations positive")

    with tempfile.TemporaryDirectory(prefix="herken-bench-serve-") as tmp:
        work = (args.keep or Path(tmp)).resolve()
        work.mkdir(parents=True, exist_ok=True)
        figures = bench_aio_email(args, work) if args.mode == "aio-email" else bench(args, work)
    if args.out:
        args.out.write_text(json.dumps(figures, indent=2))
        print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
