"""The asyncio shape of the server (``herken serve --server aio``): grpc.aio, ProfileService, health, reflection.

The handlers are the servicer's own (``ProfileServicer``, undecorated) behind ``async def`` wrappers
that turn what they raise into the same status codes (``service.status_of``), so both shapes answer
alike. Where the store read runs:

- inline, on the event loop, for GetProfile and GetHousehold on SQLite: a read is a few tens of µs
  of CPU holding the GIL anyway, and handing it to a thread would cost more than the read;
- in a small thread pool (``threads``) for the same reads on PostgreSQL (a network round trip), and
  always for SearchCustomers and UpdatePreferences (a search or a write that waits for a publish
  must not hold up every other call).

The event loop runs in a thread of its own, so that a caller (the CLI, tests, ServerGroup) starts
and stops it like the thread-pool server: ``stop(grace).wait()``, ``wait_for_termination()``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from concurrent import futures
from typing import Any

import grpc
from grpc_health.v1 import health_pb2
from grpc_health.v1._async import HealthServicer as AioHealthServicer

from profile_api._generated.herken.v1 import profile_service_pb2 as pb
from profile_api._generated.herken.v1 import profile_service_pb2_grpc as pb_grpc
from profile_api.bounds import DEFAULT_LIMITS, ServerLimits, server_arguments
from profile_api.health import HEALTH_CHECK_SECONDS, StoreHealth
from profile_api.server import (
    DEFAULT_MAX_WORKERS, ServeOptions, _address, add_profile_service, expose, freeze_heap, store_servicer,
)
from profile_api.service import SERVICE_NAME, ProfileServicer, status_of

INLINE_ON_A_LOCAL_FILE = frozenset({"GetProfile", "GetHousehold"})   # one keyed read each
START_TIMEOUT_SECONDS = 30


class _HealthFromThreads:
    """The asyncio health service's ``set`` for StoreHealth, which sets the status from other threads."""

    def __init__(self, servicer: AioHealthServicer, loop: asyncio.AbstractEventLoop) -> None:
        self._servicer, self._loop = servicer, loop

    def set(self, service: str, status: int) -> None:
        asyncio.run_coroutine_threadsafe(self._servicer.set(service, status), self._loop).result()


def _async_handler(servicer: ProfileServicer, name: str, executor: futures.Executor | None
                   ) -> Callable[[Any, grpc.aio.ServicerContext], Awaitable[Any]]:
    """Return an async handler running the servicer's method name inline (executor None) or in executor."""
    method = getattr(type(servicer), name)
    body = getattr(method, "__wrapped__", method)     # without rpc(): its abort is the thread-pool server's

    if executor is None:
        async def handler(request: Any, context: grpc.aio.ServicerContext) -> Any:
            try:
                return body(servicer, request, context)
            except Exception as err:    # noqa: BLE001  (status_of logs what it does not expect)
                code, message = status_of(name, err)
            await context.abort(code, message)
    else:
        async def handler(request: Any, context: grpc.aio.ServicerContext) -> Any:
            try:
                return await asyncio.get_running_loop().run_in_executor(executor, body, servicer, request, context)
            except Exception as err:    # noqa: BLE001
                code, message = status_of(name, err)
            await context.abort(code, message)

    handler.__name__ = name
    return handler


class _AsyncProfileServicer:
    """ProfileService's methods as async handlers over a ProfileServicer (see the module's docstring)."""

    def __init__(self, servicer: ProfileServicer, executor: futures.Executor, inline: bool) -> None:
        for method in pb.DESCRIPTOR.services_by_name["ProfileService"].methods:
            runs_inline = inline and method.name in INLINE_ON_A_LOCAL_FILE
            setattr(self, method.name, _async_handler(servicer, method.name, None if runs_inline else executor))


class AioServer:
    """A started grpc.aio server on an event loop in a thread of its own; ``port`` is where it listens."""

    def __init__(self, servicer: pb_grpc.ProfileServiceServicer, host: str, port: int, *, threads: int,
                 share_port: bool = False, health_interval: float = HEALTH_CHECK_SECONDS,
                 inline: bool | None = None, credentials: grpc.ServerCredentials | None = None,
                 limits: ServerLimits = DEFAULT_LIMITS) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="herken-aio", daemon=True)
        self._thread.start()
        self._executor = futures.ThreadPoolExecutor(max_workers=threads, thread_name_prefix="herken-store")
        self._stopped = threading.Event()
        self._servicer = servicer
        self._watch: asyncio.Task[None] | None = None
        self._server: grpc.aio.Server | None = None
        is_store = isinstance(servicer, ProfileServicer)
        if is_store:
            inline = servicer.store.local_file if inline is None else inline
            handlers: Any = _AsyncProfileServicer(servicer, self._executor, inline)
        else:
            handlers = servicer       # a servicer of its own (tests, benchmarks): its methods as they are
        services = ("", SERVICE_NAME)
        address = _address(host, port)

        async def start() -> tuple[grpc.aio.Server, AioHealthServicer, int]:
            server = grpc.aio.server(**server_arguments(limits, share_port=share_port, aio=True))
            add_profile_service(handlers, server)
            health_servicer = AioHealthServicer()
            bound = expose(server, health_servicer, address, credentials)
            await server.start()
            return server, health_servicer, bound

        try:
            self._server, health_servicer, self.port = self._run(start())
            if is_store:
                store_health = StoreHealth(_HealthFromThreads(health_servicer, self._loop), services, servicer.store)
                store_health.check()     # reads the store and builds the search's index: then SERVING
                freeze_heap()
                self._watch = self._run(self._create_task(store_health.watch_async(health_interval)))
            else:
                for service in services:
                    self._run(health_servicer.set(service, health_pb2.HealthCheckResponse.SERVING))
        except BaseException:
            self.stop(0)
            raise

    def _run(self, coroutine: Awaitable[Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(START_TIMEOUT_SECONDS)  # type: ignore[arg-type]

    @staticmethod
    async def _create_task(coroutine: Any) -> asyncio.Task[None]:
        return asyncio.get_running_loop().create_task(coroutine)

    def stop(self, grace: float | None) -> threading.Event:
        """Stop serving (calls under way may finish within grace seconds) and end the loop; return a set Event."""
        if not self._stopped.is_set() and self._thread.is_alive():
            async def stop() -> None:
                if self._watch is not None:
                    self._watch.cancel()
                if self._server is not None:
                    await self._server.stop(grace)

            try:
                asyncio.run_coroutine_threadsafe(stop(), self._loop).result((grace or 0) + 10)
            finally:
                self._loop.call_soon_threadsafe(self._loop.stop)
                self._thread.join(10)
                self._executor.shutdown(wait=False, cancel_futures=True)
                if isinstance(self._servicer, ProfileServicer):
                    self._servicer.close()
        self._stopped.set()
        return self._stopped

    def wait_for_termination(self, timeout: float | None = None) -> bool:
        """Wait until the server has stopped; return True when timeout passed first (as grpc.Server does)."""
        return not self._stopped.wait(timeout)


def start_aio_server(servicer: pb_grpc.ProfileServiceServicer, host: str = "127.0.0.1", port: int = 0,
                     max_workers: int = DEFAULT_MAX_WORKERS, *, share_port: bool = False,
                     health_interval: float = HEALTH_CHECK_SECONDS,
                     credentials: grpc.ServerCredentials | None = None,
                     limits: ServerLimits = DEFAULT_LIMITS) -> tuple[AioServer, int]:
    """``server.start_server`` in the asyncio shape: max_workers is the store threads' pool; return it and its port."""
    server = AioServer(servicer, host, port, threads=max_workers, share_port=share_port,
                       health_interval=health_interval, credentials=credentials, limits=limits)
    return server, server.port


def serve_aio(store_url: str, host: str = "127.0.0.1", port: int = 0, *, max_workers: int = DEFAULT_MAX_WORKERS,
              health_interval: float = HEALTH_CHECK_SECONDS, options: ServeOptions | None = None
              ) -> tuple[AioServer, int]:
    """Serve the store at store_url with the asyncio server on host:port; return it and its port."""
    options = options or ServeOptions()
    return start_aio_server(store_servicer(store_url, options), host, port, max_workers,
                            health_interval=health_interval, credentials=options.credentials(), limits=options.limits)
