"""Health that follows the store: SERVING while the store can be read, NOT_SERVING while it cannot.

A load balancer or an orchestrator asks ``grpc.health.v1.Health`` whether to send a server requests;
a server whose store file is gone or whose database is down answers every GetProfile with an error,
so it should say so there. A check runs in a thread of its own every few seconds; the serving
threads do nothing extra (GetProfile stays one row read). Under the asyncio server the checks are
a task of its event loop that runs each check in a thread of the loop's executor (``watch_async``).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterable

import grpc
from grpc_health.v1 import health, health_pb2

from profile_api.profiles import ProfileStore

log = logging.getLogger(__name__)

# How often a server checks its store. A check costs a new connection and one indexed read (about
# a millisecond on PostgreSQL, less on SQLite), so every two seconds is nothing beside the serving.
HEALTH_CHECK_SECONDS = 2.0

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


class StoreHealth:
    """Sets a server's health status from checks of its store.

    A check reads the store on a new connection (``ProfileStore.unreadable``); when that fails, the
    answers the store keeps in memory are forgotten (the reads then go to the store and fail as it
    does, rather than answer from memory until the store's generation is checked); when it works it
    also builds the search's name index if a run was published since the last build
    (``ProfileStore.warm_up``), so neither the first search after the start nor the first after a
    publish waits for it. The status changes only when the outcome does, and each change is logged.
    """

    def __init__(self, health_servicer: health.HealthServicer, services: Iterable[str], store: ProfileStore) -> None:
        """Args:
            health_servicer: the server's health service; its status is set here from now on.
            services: the service names whose status follows the store ("" is the whole server).
            store: the store the server answers from.
        """
        self._health = health_servicer
        self._services = tuple(services)
        self._store = store
        self.serving: bool | None = None     # None until the first check
        for service in self._services:
            self._health.set(service, NOT_SERVING)

    def check(self) -> bool:
        """Check the store now and set the status accordingly; return whether the server is SERVING."""
        problem = self._store.unreadable()
        if problem is None:
            try:
                self._store.warm_up()
            except Exception as err:    # noqa: BLE001  (whatever breaks the index build, the search cannot serve)
                problem = f"the search index could not be built: {' '.join(str(err).split())}"
        else:       # what the server kept in memory does not answer for a store that cannot be read
            self._store.forget_kept_reads()
        self._set(problem)
        return problem is None

    def _set(self, problem: str | None) -> None:
        serving = problem is None
        if serving == self.serving:
            return
        if serving and self.serving is not None:
            log.warning("the store can be read again; health SERVING")
        elif not serving:
            log.warning("the store cannot be read (%s); health NOT_SERVING until it can", problem)
        self.serving = serving
        for service in self._services:
            self._health.set(service, SERVING if serving else NOT_SERVING)

    def watch(self, server: grpc.Server, interval: float = HEALTH_CHECK_SECONDS) -> threading.Thread:
        """Check every interval seconds, in a daemon thread, until the server has stopped; return the thread."""

        def loop() -> None:
            while server.wait_for_termination(timeout=interval):    # True: timed out, the server still runs
                try:
                    self.check()
                except Exception:   # noqa: BLE001  (the thread must go on checking; a check says what failed)
                    log.exception("the health check of the store failed")
                    self._set("the check itself failed; see the log")

        thread = threading.Thread(target=loop, name="herken-health", daemon=True)
        thread.start()
        return thread

    async def watch_async(self, interval: float = HEALTH_CHECK_SECONDS) -> None:
        """Check every interval seconds until cancelled (the asyncio server's task), each check in the
        loop's default executor: a check opens a connection and may build the search index, which must
        not hold up the event loop's requests."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(interval)
            try:
                await loop.run_in_executor(None, self.check)
            except Exception:   # noqa: BLE001  (the task must go on checking; a check says what failed)
                log.exception("the health check of the store failed")
                await loop.run_in_executor(None, self._set, "the check itself failed; see the log")
