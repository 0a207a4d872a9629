"""SIGKILL `herken resolve` at named points of a 100k-record run while `herken serve` answers, and run it again.

    python bench/kill_resolve.py --work /tmp/herken-kill                  # SQLite, 30,000 households
    python bench/kill_resolve.py --work /tmp/herken-kill --store postgresql+psycopg://postgres@127.0.0.1:5432/kill

Two drops are generated (``--households``, seeds ``--seed`` and ``--seed`` + 1) and the first is
resolved into the store (``--store``; default an SQLite file in ``--work``), once; ``--work`` keeps
them for the next time. ``herken serve`` then serves the store, and ``--clients`` threads of this
process ask it for the profiles of a fixed sample of persons, closed-loop, throughout. For each
kill point (``herken.pause_points``: linking, run-folder, publishing, committing), in turn:

1. ``herken resolve`` of the other drop runs with ``HERKEN_PAUSE_AT`` set to the point; once it
   says it paused there it is held ``--hold`` seconds, killed with SIGKILL, and the clients go on
   for ``--hold`` seconds more. Counted over that window: requests answered, errors, answers that
   differ from the previous result (the profile as it was before the run started).
2. The next run (the same drop, not paused) runs to the end while the clients go on; counted: its
   exit status, its time, requests answered and errors meanwhile (answers may change once it
   commits, and a person of the previous result that the new one no longer has is NOT_FOUND).

The killed run is always of the drop that is not published, so that its publish would change
what the clients are answered. The clients pause ``--pause-ms`` between calls: a closed loop on two
cores would leave the run next to nothing.

Prints JSON (and writes it to WORK/kill_resolve-sqlite.json or -postgresql.json).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import grpc  # noqa: E402
from sqlalchemy import text  # noqa: E402

from bench.runner import herken  # noqa: E402
from herken.pause_points import POINTS  # noqa: E402
from profile_api._generated.herken.v1 import profile_service_pb2 as pb  # noqa: E402
from profile_api._generated.herken.v1 import profile_service_pb2_grpc as pb_grpc  # noqa: E402
from profile_api.store import latest_run, open_store  # noqa: E402

SAMPLE = 500


class Clients:
    """Threads asking the server for profiles of a sample, closed-loop; counts kept per window."""

    def __init__(self, port: int, customers: list[str], threads: int, pause: float) -> None:
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self.stub = pb_grpc.ProfileServiceStub(self.channel)
        self.pause = pause
        self.rebase(customers)           # the published result before any run
        self.lock = threading.Lock()
        self.reset()
        self._stop = threading.Event()
        self.threads = [threading.Thread(target=self._loop, args=(i,), daemon=True) for i in range(threads)]
        for thread in self.threads:
            thread.start()

    def _ask(self, customer_id: str) -> bytes:
        return self.stub.GetProfile(pb.GetProfileRequest(customer_id=customer_id), timeout=10).SerializeToString(
            deterministic=True)

    def reset(self) -> None:
        with self.lock:
            self.answered, self.changed, self.latencies = 0, 0, []
            self.errors: dict[str, int] = {}

    def window(self) -> dict:
        with self.lock:
            lat = sorted(self.latencies)
            figures = {"answered": self.answered, "errors": dict(self.errors), "changed_answers": self.changed,
                       "p50_ms": round(lat[len(lat) // 2] * 1000, 2) if lat else None,
                       "p99_ms": round(lat[int(len(lat) * 0.99)] * 1000, 2) if lat else None,
                       "max_ms": round(lat[-1] * 1000, 2) if lat else None}
        self.reset()
        return figures

    def _loop(self, seed: int) -> None:
        rng = random.Random(seed)
        while not self._stop.wait(self.pause):
            customers, previous = self.state
            customer_id = rng.choice(customers)
            begun = time.perf_counter()
            try:
                answer = self._ask(customer_id)
                with self.lock:
                    self.answered += 1
                    self.latencies.append(time.perf_counter() - begun)
                    self.changed += answer != previous[customer_id]
            except grpc.RpcError as err:
                with self.lock:
                    key = err.code().name
                    self.errors[key] = self.errors.get(key, 0) + 1

    def rebase(self, customers: list[str]) -> None:
        """Ask for these persons from now on, their answers now being the previous result (after a run published)."""
        self.state = (customers, {c: self._ask(c) for c in customers})

    def stop(self) -> None:
        self._stop.set()
        for thread in self.threads:
            thread.join(15)
        self.channel.close()


def resolve_process(drop: Path, store: str, work: Path, pause_at: str = "") -> subprocess.Popen:
    env = {**os.environ, "HERKEN_RUNS_DIR": str(work / "runs"), "HERKEN_PAUSE_AT": pause_at}
    return subprocess.Popen([sys.executable, "-m", "herken.cli", "resolve", str(drop), "--store", store], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)


def wait_for_pause(run: subprocess.Popen, point: str) -> float:
    """Read the run's stderr until it pauses at point; return the seconds it took to get there."""
    begun = time.monotonic()
    said = []
    for line in run.stderr:
        said.append(line)
        if f"paused at {point}" in line:
            return time.monotonic() - begun
    raise SystemExit(f"the run ended before pausing at {point}:\n{''.join(said[-20:])}")


def start_server(store: str, work: Path) -> tuple[subprocess.Popen, int]:
    server = subprocess.Popen([sys.executable, "-m", "herken.cli", "serve", "--store", store, "--port", "0"],
                              stdout=subprocess.PIPE, stderr=open(work / "serve.log", "a"), text=True, cwd=ROOT)
    line = server.stdout.readline()
    found = re.search(r"on [^ ]+:(\d+) ", line)
    if not found:
        server.kill()
        raise SystemExit(f"herken serve did not start: {line}")
    return server, int(found.group(1))


def sample_customers(store: str, n: int) -> list[str]:
    engine = open_store(store)
    try:
        with engine.connect() as conn:
            ids = [row[0] for row in conn.execute(text("SELECT customer_id FROM profile"))]
    finally:
        engine.dispose()
    return random.Random(0).sample(ids, min(n, len(ids)))


def run_id_of(store: str) -> str | None:
    return (published_of(store) or (None, None))[0]


def published_of(store: str) -> tuple[str, str] | None:
    """Return (run_id, drop path) of the store's published run; None when there is none."""
    engine = open_store(store)
    try:
        run = latest_run(engine)
        return None if run is None else (run.run_id, run.drop_path)
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, required=True, help="drops, store, runs and logs (kept for next time)")
    parser.add_argument("--store", help="store URL (default: sqlite:///WORK/herken.db)")
    parser.add_argument("--households", type=int, default=30000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--clients", type=int, default=2, help="client threads polling the server")
    parser.add_argument("--pause-ms", type=float, default=5.0,
                        help="each client's pause between two calls (default 5: a steady load that leaves the run "
                             "a core; 0: closed-loop)")
    parser.add_argument("--hold", type=float, default=2.0, help="seconds paused before the kill, and polled after it")
    parser.add_argument("--points", default=",".join(POINTS))
    args = parser.parse_args(argv)
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    store = args.store or f"sqlite:///{work / 'herken.db'}"
    drops = [work / f"drop-{args.seed}", work / f"drop-{args.seed + 1}"]
    for seed, drop in zip((args.seed, args.seed + 1), drops):
        if not (drop / "truth.csv").is_file():
            herken("generate", str(drop), "--households", str(args.households), "--seed", str(seed), work=work)
    if run_id_of(store) is None:
        begun = time.monotonic()
        herken("resolve", str(drops[0]), "--store", store, work=work)
        print(f"first run: {time.monotonic() - begun:.1f} s", file=sys.stderr)

    server, port = start_server(store, work)
    figures: dict = {"store": store.split("@")[-1], "households": args.households, "clients": args.clients,
                     "points": []}
    try:
        clients = Clients(port, sample_customers(store, SAMPLE), args.clients, args.pause_ms / 1000)
        published_drop = Path(published_of(store)[1]).resolve()
        drop = drops[0] if published_drop == drops[1].resolve() else drops[1]    # a run that would change things
        for point in args.points.split(","):
            before = run_id_of(store)
            clients.window()
            run = resolve_process(drop, store, work, pause_at=point)
            reached = wait_for_pause(run, point)
            time.sleep(args.hold)
            run.send_signal(signal.SIGKILL)
            run.wait()
            run.stderr.close(), run.stdout.close()
            time.sleep(args.hold)
            killed = clients.window()
            intact = run_id_of(store) == before
            print(f"{point}: killed after {reached:.1f} s; {killed}", file=sys.stderr, flush=True)

            begun = time.monotonic()
            nxt = resolve_process(drop, store, work)
            out, err = nxt.communicate()
            took = time.monotonic() - begun
            during_next = clients.window()
            print(f"{point}: next run exit {nxt.returncode} in {took:.1f} s; {during_next}", file=sys.stderr,
                  flush=True)
            if nxt.returncode != 0:
                (work / f"next-after-{point}.log").write_text(out + err)
            figures["points"].append({
                "point": point, "seconds_to_point": round(reached, 1), "seconds_polled": round(reached + 2 * args.hold, 1),    # from the run's start to --hold after the kill
                "while_killed": killed, "previous_result_still_published": intact,
                "next_run": {"exit": nxt.returncode, "seconds": round(took, 1), "published": run_id_of(store) != before,
                             "clients_meanwhile": during_next},
            })
            clients.rebase(sample_customers(store, SAMPLE))
            drop = drops[0] if drop == drops[1] else drops[1]      # the next kill is of a run that changes things
        clients.stop()
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
    leftovers = sorted(p.name for p in (work / "runs").glob("*.partial"))
    figures["partial_run_folders_left"] = leftovers
    text_out = json.dumps(figures, indent=2)
    print(text_out)
    (work / f"kill_resolve-{store.split(':')[0].split('+')[0]}.json").write_text(text_out + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
