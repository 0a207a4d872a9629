"""Who is calling: the channel a request's bearer token maps to (``Caller``).

Pure of gRPC and storage: the servicer hands in the request's metadata, this module says who it is.
"""

from __future__ import annotations

from dataclasses import dataclass

CHANNELS_OF_TOKENS = ("store", "webshop", "app", "service", "backoffice")
LOCAL_CHANNEL = "local"     # a server without tokens (loopback only): every caller is local, with every right


@dataclass(frozen=True)
class Caller:
    """The channel a request came from and the id of its token (never the token itself); None without tokens."""

    channel: str
    token_id: str | None = None


LOCAL = Caller(LOCAL_CHANNEL)
