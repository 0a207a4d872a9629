"""Which failures of the store a client should retry, and which mean its call ran out of time.

A database restart, a connection the server ended, a store that cannot be reached: the call failed
but the next one will most likely work (the server opens new connections by itself), so the client
hears UNAVAILABLE and to try again, not INTERNAL. A statement cancelled by ``statement_timeout``
(``profile_api.bounds``) is DEADLINE_EXCEEDED. ``service.status_of`` asks here first.

Errors come either wrapped by SQLAlchemy (``DBAPIError.orig``) or straight from the driver (the
server's hot reads use the driver's cursor, ``profile_api.store.read``).
"""

from __future__ import annotations

import grpc
import sqlalchemy.exc

RETRY = "; nothing was changed by this call: try again shortly"

# PostgreSQL SQLSTATEs of a connection that broke or a server that is not there (yet)
_CONNECTION_CLASSES = ("08",)                                  # connection_exception and its kinds
_UNAVAILABLE_STATES = {"57P01", "57P02", "57P03", "53300"}    # admin/crash shutdown, starting up, too many connections
_CANCELLED_STATE = "57014"                                     # query_canceled (statement_timeout)

# What drivers say without a SQLSTATE when the connection is gone (psycopg, libpq, sqlite3)
_GONE_WORDS = ("connection is closed", "server closed the connection", "terminating connection",
               "connection to server", "could not connect", "connection refused", "connection timed out",
               "consuming input failed", "ssl syscall", "the connection is lost", "no connection to the server",
               "unable to open database file", "disk i/o error")


def _driver_error(err: BaseException) -> BaseException:
    return getattr(err, "orig", None) or err if isinstance(err, sqlalchemy.exc.DBAPIError) else err


def store_fault(err: BaseException) -> tuple[grpc.StatusCode, str] | None:
    """Return (status, message) when err is the store going away (UNAVAILABLE) or a statement cut off at the
    call's deadline (DEADLINE_EXCEEDED); None for any other error."""
    driver = _driver_error(err)
    module = type(driver).__module__.split(".")[0]
    if module not in ("psycopg", "sqlite3", "psycopg2") and not isinstance(err, sqlalchemy.exc.DBAPIError):
        return None
    state = getattr(driver, "sqlstate", None) or getattr(getattr(driver, "diag", None), "sqlstate", None)
    said = " ".join(str(driver).split()).lower()
    if state == _CANCELLED_STATE or (module == "sqlite3" and said == "interrupted"):
        return grpc.StatusCode.DEADLINE_EXCEEDED, ("the store did not answer within the call's deadline; "
                                                   "try again, or later if the server is busy")
    invalidated = isinstance(err, sqlalchemy.exc.DBAPIError) and err.connection_invalidated
    gone = (invalidated or (state is not None and (state[:2] in _CONNECTION_CLASSES or state in _UNAVAILABLE_STATES))
            or (state is None and any(words in said for words in _GONE_WORDS)))
    if gone:
        return grpc.StatusCode.UNAVAILABLE, f"the store cannot be reached now (its connection broke){RETRY}"
    return None
