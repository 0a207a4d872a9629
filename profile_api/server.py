"""Building and starting the gRPC server: ProfileService with standard health checking and reflection.

Kept apart from the servicer so that tests and benchmarks start a real server on port 0 and stop it.
"""

from __future__ import annotations

from concurrent import futures

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from profile_api._generated.herken.v1 import profile_service_pb2_grpc as pb_grpc
from profile_api.profiles import ProfileStore
from profile_api.service import SERVICE_NAME, ProfileServicer
from profile_api.store import open_store

# One thread per concurrent call up to this many; further calls queue. The handlers hold the GIL most
# of the time, so more threads add switching, not throughput.
DEFAULT_MAX_WORKERS = 16

_OPTIONS = [
    ("grpc.so_reuseport", 0),   # a second server on a taken port must fail, not share it
]


def start_server(servicer: pb_grpc.ProfileServiceServicer, host: str = "127.0.0.1", port: int = 0,
                 max_workers: int = DEFAULT_MAX_WORKERS) -> tuple[grpc.Server, int]:
    """Start a server with this ProfileService servicer, health (SERVING) and reflection; return it and its port.

    Raises OSError when the address cannot be bound.
    """
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="herken-rpc"),
                         options=_OPTIONS)
    pb_grpc.add_ProfileServiceServicer_to_server(servicer, server)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (SERVICE_NAME, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME), server)
    address = f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"
    try:
        bound = server.add_insecure_port(address)
    except RuntimeError:
        bound = 0
    if bound == 0:
        raise OSError(f"cannot listen on {address}: the port is in use or the address is not this machine's")
    server.start()
    for service in ("", SERVICE_NAME):
        health_servicer.set(service, health_pb2.HealthCheckResponse.SERVING)
    return server, bound


def serve(store_url: str, host: str = "127.0.0.1", port: int = 0, *,
          max_workers: int = DEFAULT_MAX_WORKERS) -> tuple[grpc.Server, int]:
    """Serve the store at store_url on host:port (0 picks a free port); return the started server and its port."""
    return start_server(ProfileServicer(ProfileStore(open_store(store_url))), host, port, max_workers)
