"""A real PostgreSQL restart under a running `herken serve`: the status codes clients see and when.

    python bench/pg_restart.py --store postgresql+psycopg://postgres@127.0.0.1:5432/DB

Starts `herken serve` on a published PostgreSQL store, calls GetProfile every 20 ms for --seconds, restarts
the local PostgreSQL cluster (`pg_ctlcluster ... restart`, which needs the rights to do so) --after seconds
in, and reports the calls per status code and the window in which calls failed. The server is not
restarted: it must recover by itself. Not a test: it restarts the machine's PostgreSQL.
"""

from __future__ import annotations

import argparse
import collections
import socket
import subprocess
import sys
import time

import grpc
from sqlalchemy import create_engine, text

from profile_api._generated.herken.v1 import profile_service_pb2 as pb
from profile_api._generated.herken.v1 import profile_service_pb2_grpc as pb_grpc

RESTART = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main restart"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", required=True)
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument("--after", type=float, default=5)
    args = parser.parse_args()
    engine = create_engine(args.store)
    with engine.connect() as conn:
        ids = [row[0] for row in conn.execute(text("SELECT customer_id FROM profile LIMIT 500"))]
    engine.dispose()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "herken.cli", "serve", "--store", args.store, "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    grpc.channel_ready_future(channel).result(timeout=60)
    time.sleep(2)      # the store read and the search index built
    stub = pb_grpc.ProfileServiceStub(channel)
    codes: collections.Counter[str] = collections.Counter()
    failed: list[float] = []
    restart, restarted, started, i = None, None, time.time(), 0
    while time.time() - started < args.seconds:
        if restart is None and time.time() - started > args.after:
            restart, restarted = subprocess.Popen(RESTART, shell=True), time.time()
        try:
            stub.GetProfile(pb.GetProfileRequest(customer_id=ids[i % len(ids)]), timeout=5)
            code = "OK"
        except grpc.RpcError as err:
            code = err.code().name
            if restarted:
                failed.append(time.time() - restarted)
        codes[code] += 1
        i += 1
        time.sleep(0.02)
    server.terminate()
    server.wait()
    print(f"restart exit {restart.wait() if restart else 'not run'}; calls: {dict(codes)}")
    if failed:
        print(f"failed calls from {min(failed):.2f} s to {max(failed):.2f} s after the restart began; all OK after")


if __name__ == "__main__":
    main()
