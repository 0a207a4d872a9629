"""Building and starting the gRPC server: ProfileService with standard health checking and reflection.

Kept apart from the servicer so that tests and benchmarks start a real server on port 0 and stop it.

One Python process serves on at most one core (the GIL). ``serve_processes`` runs several server
processes on one port (SO_REUSEPORT: the kernel spreads connections over them), the way gRPC's own
Python examples scale a server over the cores of a machine.
"""

from __future__ import annotations

import functools
import multiprocessing
import gc
import signal
import socket
import sys
from collections.abc import Callable
from concurrent import futures
from pathlib import Path
from typing import TYPE_CHECKING

import grpc
from google.protobuf import message_factory
from google.protobuf.message import Message
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from dataclasses import dataclass, field

from profile_api._generated.herken.v1 import profile_service_pb2 as pb
from profile_api._generated.herken.v1 import profile_service_pb2_grpc as pb_grpc
from profile_api.access import Access
from profile_api.bounds import DEFAULT_LIMITS, ServerLimits, decoder, server_arguments
from profile_api.consent import DEFAULT_CONSENT
from profile_api.health import HEALTH_CHECK_SECONDS, StoreHealth
from profile_api.profiles import ProfileStore
from profile_api.service import SERVICE_NAME, ProfileServicer
from profile_api.store import open_store
from profile_api.store.read import CacheSettings

if TYPE_CHECKING:
    from multiprocessing.queues import Queue
    from multiprocessing.synchronize import Event, Semaphore

# Threads per server process (``default_threads``). On SQLite a handler holds the GIL for most of its
# time, so threads beyond a few only add switching; a second thread keeps a slow search from holding
# up the others. On PostgreSQL a read waits for its round trip without the GIL, so more threads keep
# the process busy. Measured with bench/serve.py --mode aio-email (GetProfile by e-mail, 16 calls in
# flight, 100k-record store, 2 rounds, a loaded machine): SQLite 0.77-0.78 ms of server CPU per request
# with 2 threads, 0.83-0.86 with 4, 0.97-1.03 with 8, at the same throughput or less; PostgreSQL
# 1,209-1,210 requests/s with 4 threads against 794-816 with 2 and 872-993 with 8, at 0.55-0.59 ms of
# server CPU per request against 0.69-0.71 and 0.79-0.83.
DEFAULT_MAX_WORKERS = 2
DATABASE_SERVER_MAX_WORKERS = 4
STOP_GRACE_SECONDS = 5    # calls under way when a server stops may finish within this
PARENT_CHECK_SECONDS = 1   # how often a process of a ServerGroup looks whether its parent still runs

ServicerFactory = Callable[[], pb_grpc.ProfileServiceServicer]
StartServer = Callable[..., tuple]    # start_server, or aio_server.start_aio_server: (server, port)


@dataclass(frozen=True)
class ServeOptions:
    """Who may call (tokens and channel rights), what a person who never said consents to, TLS, the bounds of
    a call and the keyed reads kept in memory."""

    access: Access = field(default_factory=Access)
    consent_defaults: dict[str, bool] = field(default_factory=lambda: dict(DEFAULT_CONSENT))
    tls: tuple[bytes, bytes] | None = None      # (certificate chain, private key), PEM
    runs_dir: Path | None = None                # the runs folder ForgetCustomer scrubs (None: left alone)
    limits: ServerLimits = DEFAULT_LIMITS       # deadline, calls at once, message sizes (profile_api.bounds)
    cache: CacheSettings = CacheSettings()      # keyed reads kept in memory (profile_api.store.read.KeptReads)

    def credentials(self) -> grpc.ServerCredentials | None:
        """Return the server's TLS credentials, or None to listen without TLS."""
        return None if self.tls is None else grpc.ssl_server_credentials([(self.tls[1], self.tls[0])])


def default_threads(store_url: str) -> int:
    """Return the request threads per process a store is best served with (see DEFAULT_MAX_WORKERS)."""
    try:
        local = make_url(store_url).get_backend_name() == "sqlite"
    except ArgumentError:
        local = True      # not a URL: opening the store says so
    return DEFAULT_MAX_WORKERS if local else DATABASE_SERVER_MAX_WORKERS


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"


def _encode(reply: bytes | Message) -> bytes:
    """Return a reply's encoding: a message is encoded, bytes (a reply encoded already) pass through."""
    return reply if isinstance(reply, bytes) else reply.SerializeToString()


def add_profile_service(servicer: pb_grpc.ProfileServiceServicer, server: grpc.Server) -> None:
    """Add the ProfileService to a server, as the generated ``add_ProfileServiceServicer_to_server`` does,
    except that a method may answer its reply already encoded (see ``ProfileServicer.GetProfile``), and that a
    request that cannot be decoded reaches the method as a ``bounds.Undecodable`` (answered INVALID_ARGUMENT by
    the server's interceptor, where gRPC would answer INTERNAL)."""
    service = pb.DESCRIPTOR.services_by_name["ProfileService"]
    handlers = {method.name: grpc.unary_unary_rpc_method_handler(
        getattr(servicer, method.name),
        request_deserializer=decoder(message_factory.GetMessageClass(method.input_type)),
        response_serializer=_encode) for method in service.methods}
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service.full_name, handlers),))
    server.add_registered_method_handlers(service.full_name, handlers)


def expose(server: grpc.Server | grpc.aio.Server, health_servicer: object, address: str,
           credentials: grpc.ServerCredentials | None = None) -> int:
    """Add health checking and reflection to a server (thread pool or asyncio) and bind it (with TLS when
    credentials are given); return the port.

    Raises OSError naming the address when the server cannot listen there.
    """
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (SERVICE_NAME, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME), server)
    try:
        bound = server.add_insecure_port(address) if credentials is None else \
            server.add_secure_port(address, credentials)
    except RuntimeError:
        bound = 0
    if bound == 0:
        raise OSError(f"cannot listen on {address}: the port is in use or the address is not this machine's")
    return bound


def start_server(servicer: pb_grpc.ProfileServiceServicer, host: str = "127.0.0.1", port: int = 0,
                 max_workers: int = DEFAULT_MAX_WORKERS, *, share_port: bool = False,
                 health_interval: float = HEALTH_CHECK_SECONDS,
                 credentials: grpc.ServerCredentials | None = None,
                 limits: ServerLimits = DEFAULT_LIMITS) -> tuple[grpc.Server, int]:
    """Start a server with this ProfileService servicer, health checking and reflection; return it and its port.

    Over a store (a ProfileServicer) it returns once the store has been read and the search's name
    index built (about 1.5 s at 100k records, so that no search waits for it); from then on health
    says SERVING while the store can be read and NOT_SERVING while it cannot, checked every
    health_interval seconds (``profile_api.health``). Any other servicer is SERVING from the start.

    Args:
        share_port: let other processes of a group listen on the same port (SO_REUSEPORT); without
            it, a port that is taken is an error rather than silently shared.
        health_interval: seconds between two checks of the store.
        credentials: TLS (``ServeOptions.credentials``); None listens without.
        limits: the deadline, the calls at once and the message sizes (``profile_api.bounds``).

    Raises:
        OSError: the address cannot be bound.
    """
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="herken-rpc"),
                         **server_arguments(limits, share_port=share_port, aio=False))
    add_profile_service(servicer, server)
    health_servicer = health.HealthServicer()
    services = ("", SERVICE_NAME)
    store_health = StoreHealth(health_servicer, services, servicer.store) \
        if isinstance(servicer, ProfileServicer) else None       # NOT_SERVING until its first check
    bound = expose(server, health_servicer, _address(host, port), credentials)
    server.start()
    if store_health is None:
        for service in services:
            health_servicer.set(service, health_pb2.HealthCheckResponse.SERVING)
    else:
        store_health.check()          # reads the store and builds the search's index: then SERVING
        freeze_heap()
        store_health.watch(server, health_interval)
    return server, bound


def freeze_heap() -> None:
    """Exclude what the server holds once started (modules, the store's search index) from garbage collection.

    A collection otherwise walks the hundreds of thousands of objects of the name index again and
    again while a request waits; they live as long as the server (``gc.freeze``). An index rebuilt
    after a publish is freed as usual, by reference counting.
    """
    gc.collect()
    gc.freeze()


def store_servicer(store_url: str, options: ServeOptions | None = None) -> ProfileServicer:
    """Return the ProfileService servicer of the store at store_url (no tokens, default consent when no options)."""
    options = options or ServeOptions()
    store = open_store(store_url, create=False)      # a server never makes a store, nor one in place of a removed file
    return ProfileServicer(ProfileStore(store, statement_seconds=options.limits.deadline_seconds, cache=options.cache),
                           access=options.access,
                           consent_defaults=options.consent_defaults, runs_dir=options.runs_dir)


def serve(store_url: str, host: str = "127.0.0.1", port: int = 0, *, max_workers: int = DEFAULT_MAX_WORKERS,
          health_interval: float = HEALTH_CHECK_SECONDS, options: ServeOptions | None = None
          ) -> tuple[grpc.Server, int]:
    """Serve the store at store_url on host:port (0 picks a free port); return the started server and its port."""
    options = options or ServeOptions()
    return start_server(store_servicer(store_url, options), host, port, max_workers, health_interval=health_interval,
                        credentials=options.credentials(), limits=options.limits)


def _child(factory: ServicerFactory, host: str, port: int, max_workers: int, ready: Semaphore, stop: Event,
           failed: Queue, start: StartServer, tls: tuple[bytes, bytes] | None, limits: ServerLimits) -> None:
    """One process of a ServerGroup: serve until the group says stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)    # Ctrl-C reaches the whole group; the parent stops us
    try:
        servicer = factory()
        server, _ = start(servicer, host, port, max_workers, share_port=True,
                          credentials=ServeOptions(tls=tls).credentials(), limits=limits)
    except Exception as err:     # the parent reports it; a traceback from each process would bury it
        failed.put(str(err))
        sys.exit(1)
    ready.release()
    parent = multiprocessing.parent_process()
    # The group's stop, or the parent gone without one (killed): a server process never outlives its group,
    # and never holds the port, or the parent's stdout, on its own.
    while not stop.wait(PARENT_CHECK_SECONDS):
        if parent is not None and not parent.is_alive():
            break
    server.stop(STOP_GRACE_SECONDS).wait()
    if isinstance(servicer, ProfileServicer):
        servicer.close()      # the audit entries still queued: a process of the group ends without atexit


def _listening(family: socket.AddressFamily, host: str, port: int) -> bool:
    """Return True when something accepts connections on host:port."""
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.settimeout(1)
        return probe.connect_ex((host.strip("[]"), port)) == 0


class ServerGroup:
    """Server processes sharing one port; ``port`` is where they listen, ``stop()`` ends them."""

    def __init__(self, factory: ServicerFactory, host: str, port: int, processes: int,
                 max_workers: int = DEFAULT_MAX_WORKERS, start: StartServer | None = None,
                 tls: tuple[bytes, bytes] | None = None, limits: ServerLimits = DEFAULT_LIMITS) -> None:
        """start: how each process starts its server (default ``start_server``, the thread pool); tls and limits:
        as ``ServeOptions``'."""
        context = multiprocessing.get_context("spawn")    # gRPC must not be forked once started
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        if port and _listening(family, host, port):    # SO_REUSEPORT would share it with that server
            raise OSError(f"cannot listen on {_address(host, port)}: the port is in use")
        # Hold the port (bound, not listening) while the processes bind it too: port 0 becomes one port.
        self._reservation = socket.socket(family, socket.SOCK_STREAM)
        self._reservation.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        try:
            self._reservation.bind((host.strip("[]"), port))
        except OSError as err:
            self._reservation.close()
            raise OSError(f"cannot listen on {_address(host, port)}: {err.strerror}") from None
        self.port = self._reservation.getsockname()[1]
        self._stop, ready, failed = context.Event(), context.Semaphore(0), context.Queue()
        self.processes = [context.Process(target=_child, name=f"herken-serve-{i}", daemon=True,
                                          args=(factory, host, self.port, max_workers, ready, self._stop, failed,
                                                start or start_server, tls, limits))
                          for i in range(processes)]
        for process in self.processes:
            process.start()
        for _ in self.processes:
            while not ready.acquire(timeout=0.5):
                if any(p.exitcode is not None for p in self.processes):
                    self.stop()
                    raise OSError(f"a server process did not start: {failed.get(timeout=5)}")
        self._reservation.close()

    def stop(self) -> None:
        """Stop every process (each lets its calls finish for up to STOP_GRACE_SECONDS) and wait for them."""
        self._stop.set()
        for process in self.processes:
            process.join(STOP_GRACE_SECONDS + 5)
            if process.is_alive():
                process.kill()
                process.join()
        self._reservation.close()

    def wait(self) -> None:
        """Wait until every process has ended."""
        for process in self.processes:
            process.join()


def serve_processes(store_url: str, host: str = "127.0.0.1", port: int = 0, processes: int = 2, *,
                    max_workers: int = DEFAULT_MAX_WORKERS, start: StartServer | None = None,
                    options: ServeOptions | None = None) -> ServerGroup:
    """Serve the store at store_url from several processes on one port; return the running group."""
    open_store(store_url).dispose()    # an outdated store is refused here, once, before any process starts
    options = options or ServeOptions()
    return ServerGroup(functools.partial(store_servicer, store_url, options), host, port, processes, max_workers,
                       start, options.tls, options.limits)
