"""Who is calling and what they may do: bearer tokens mapped to channels, and each channel's rights.

Pure of gRPC and storage: the servicer hands in a request's ``authorization`` metadata and the RPC's
name; ``Access.caller`` says who it is or raises ``Denied`` (UNAUTHENTICATED or PERMISSION_DENIED).

Tokens come from ``HERKEN_TOKENS`` (``token:channel,token:channel``) or the ``[herken.tokens]``
table of herken.toml, whose entries take any of these forms::

    [herken.tokens]
    "s3cret-tablet-token" = "store"                             # the token itself
    "sha256:9f86d081884c7d65..." = "webshop"                    # its SHA-256 (hex): the file holds no secret
    tablet-amsterdam = { sha256 = "9f86d0...", channel = "store" }   # named: the audit log shows the name
    tablet-utrecht = { token = "another-token", channel = "store" }

``herken token new CHANNEL`` makes a token and prints its hashed entry. A token is known by its id
in the audit log: its name, or ``sha256:`` and the first 12 hex digits of its hash; never itself.

What each channel may call and see is ``DEFAULT_CHANNELS`` (documented in the README), changed per
channel by a ``[herken.channels.NAME]`` table: ``rpcs = [...]`` and ``view = "store" | "checkout" |
"full"``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

CHANNELS_OF_TOKENS = ("store", "webshop", "app", "service", "backoffice")
LOCAL_CHANNEL = "local"     # a server without tokens (loopback only): every caller is local, with every right

# The data channel a token's channel writes preferences as (store staff and tills are the pos channel);
# the back office hears nothing from customers, so it writes none (UpdatePreferences is not among its rights).
PREFERENCE_SOURCE = {"store": "pos", "webshop": "webshop", "app": "app", "service": "service"}

ALL_RPCS = ("GetProfile", "SearchCustomers", "UpdatePreferences", "GetHousehold", "ListIdentityEvents",
            "ResolveRecord", "ExplainMatch", "ExplainHousehold", "UpdateConsent", "ExportCustomer", "ForgetCustomer")
VIEWS = ("store", "checkout", "full")


@dataclass(frozen=True)
class Caller:
    """The channel a request came from and the id of its token (never the token itself); None without tokens."""

    channel: str
    token_id: str | None = None


LOCAL = Caller(LOCAL_CHANNEL)


@dataclass(frozen=True)
class ChannelRights:
    """The RPCs a channel may call and the view of personal data it gets (``profile_api.views``)."""

    rpcs: frozenset[str]
    view: str


_TABLET = frozenset({"GetProfile", "SearchCustomers", "UpdatePreferences", "GetHousehold", "UpdateConsent",
                     "ResolveRecord"})
_CHECKOUT = frozenset({"GetProfile", "UpdatePreferences", "GetHousehold", "UpdateConsent", "ResolveRecord"})
DEFAULT_CHANNELS: dict[str, ChannelRights] = {
    # the store tablet: search and look up; names, household first names, preferences, attributes,
    # masked contact data, the birth year
    "store": ChannelRights(_TABLET, "store"),
    # webshop and app: what a checkout prefill needs, for the customer who is logged in (no search)
    "webshop": ChannelRights(_CHECKOUT, "checkout"),
    "app": ChannelRights(_CHECKOUT, "checkout"),
    # customer service and back office see all; they alone export and forget
    "service": ChannelRights(frozenset(ALL_RPCS), "full"),
    "backoffice": ChannelRights(frozenset(ALL_RPCS) - {"UpdatePreferences"}, "full"),
    LOCAL_CHANNEL: ChannelRights(frozenset(ALL_RPCS), "full"),
}


class Denied(Exception):
    """A request refused before it ran: ``unauthenticated`` (no or unknown token) or not (the channel may not)."""

    def __init__(self, message: str, *, unauthenticated: bool, caller: Caller | None = None) -> None:
        super().__init__(message)
        self.unauthenticated = unauthenticated
        self.caller = caller     # who was refused, when the token was known


class AccessConfigError(ValueError):
    """Tokens or channel rights that cannot be used; the message says which entry and what to write instead."""


def token_hash(token: str) -> str:
    """Return the hex SHA-256 of a token, as a token file may hold it."""
    return hashlib.sha256(token.encode()).hexdigest()


def _token_id(digest: str) -> str:
    return f"sha256:{digest[:12]}"


def _check_channel(channel: object, where: str) -> str:
    if channel not in CHANNELS_OF_TOKENS:
        raise AccessConfigError(f"{where}: channel {channel!r} is not one of {', '.join(CHANNELS_OF_TOKENS)}")
    return str(channel)


def _check_hash(digest: object, where: str) -> str:
    text = str(digest).lower()
    if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
        raise AccessConfigError(f"{where}: {digest!r} is not a SHA-256 in hex (64 digits 0-9, a-f); "
                                "`herken token hash TOKEN` prints it")
    return text


def tokens_from_env(value: str) -> dict[str, tuple[str, str]]:
    """Return {hash: (channel, token id)} of HERKEN_TOKENS (``token:channel`` pairs, comma-separated)."""
    tokens: dict[str, tuple[str, str]] = {}
    for i, pair in enumerate(p.strip() for p in value.split(",")):
        if not pair:
            continue
        token, sep, channel = pair.rpartition(":")
        if not sep or not token:
            raise AccessConfigError(f"HERKEN_TOKENS entry {i + 1}: write token:channel (channel one of "
                                    f"{', '.join(CHANNELS_OF_TOKENS)})")
        digest = token_hash(token.strip())
        tokens[digest] = (_check_channel(channel.strip(), f"HERKEN_TOKENS entry {i + 1}"), _token_id(digest))
    return tokens


def tokens_from_table(table: Mapping[str, object]) -> dict[str, tuple[str, str]]:
    """Return {hash: (channel, token id)} of a ``[herken.tokens]`` table (the forms in the module's docstring)."""
    tokens: dict[str, tuple[str, str]] = {}
    for key, entry in table.items():
        where = f"[herken.tokens] {key!r}"
        if isinstance(entry, Mapping):
            channel = _check_channel(entry.get("channel"), where)
            if ("sha256" in entry) == ("token" in entry):
                raise AccessConfigError(f"{where}: give either sha256 = \"<hex>\" or token = \"<token>\"")
            digest = _check_hash(entry["sha256"], where) if "sha256" in entry else token_hash(str(entry["token"]))
            tokens[digest] = (channel, key)
        else:
            channel = _check_channel(entry, where)
            digest = _check_hash(key[len("sha256:"):], where) if key.startswith("sha256:") else token_hash(key)
            tokens[digest] = (channel, _token_id(digest))
    return tokens


def channel_rights(overrides: Mapping[str, Mapping[str, object]] | None = None) -> dict[str, ChannelRights]:
    """Return DEFAULT_CHANNELS with ``[herken.channels.NAME]`` tables (rpcs, view) applied."""
    rights = dict(DEFAULT_CHANNELS)
    for name, table in (overrides or {}).items():
        where = f"[herken.channels.{name}]"
        _check_channel(name, where)
        unknown = set(table) - {"rpcs", "view"}
        if unknown:
            raise AccessConfigError(f"{where}: unknown keys {sorted(unknown)}; a channel has rpcs and view")
        rpcs = rights[name].rpcs
        if "rpcs" in table:
            listed = table["rpcs"]
            if not isinstance(listed, list) or any(r not in ALL_RPCS for r in listed):
                raise AccessConfigError(f"{where}: rpcs must be a list of {', '.join(ALL_RPCS)}")
            rpcs = frozenset(listed)
            if name == "backoffice" and "UpdatePreferences" in rpcs:
                raise AccessConfigError(f"{where}: the back office has no channel of its own to state preferences "
                                        "in; UpdatePreferences is for store, webshop, app and service")
        view = table.get("view", rights[name].view)
        if view not in VIEWS:
            raise AccessConfigError(f"{where}: view must be one of {', '.join(VIEWS)}, not {view!r}")
        rights[name] = ChannelRights(rpcs, str(view))
    return rights


@dataclass(frozen=True)
class Access:
    """The server's tokens ({hash: (channel, token id)}) and channel rights; no tokens: everyone is LOCAL."""

    tokens: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    rights: Mapping[str, ChannelRights] = field(default_factory=lambda: dict(DEFAULT_CHANNELS))

    @property
    def required(self) -> bool:
        """Whether callers must present a token."""
        return bool(self.tokens)

    def caller(self, metadata: Iterable[tuple[str, object]] | None, rpc: str) -> Caller:
        """Return who calls rpc with this metadata.

        Raises:
            Denied: no ``authorization: Bearer TOKEN``, an unknown token, or a channel without the right.
        """
        if not self.tokens:
            return LOCAL
        header = None
        for key, value in metadata or ():
            if key == "authorization":
                header = value.decode() if isinstance(value, bytes) else str(value)
                break
        if header is None:
            raise Denied("no credentials: send the metadata `authorization: Bearer TOKEN`", unauthenticated=True)
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Denied("authorization must be `Bearer TOKEN`", unauthenticated=True)
        known = self.tokens.get(token_hash(token.strip()))
        if known is None:
            raise Denied("unknown token", unauthenticated=True)
        channel, token_id = known
        if rpc not in self.rights[channel].rpcs:
            raise Denied(f"channel {channel} may not call {rpc}", unauthenticated=False,
                         caller=Caller(channel, token_id))
        return Caller(channel, token_id)

    def view_of(self, caller: Caller) -> str:
        """Return the view of personal data the caller's channel gets."""
        return self.rights[caller.channel].view


def access_of(env_tokens: str = "", table: Mapping[str, object] | None = None,
              channels: Mapping[str, Mapping[str, object]] | None = None) -> Access:
    """Return the Access of HERKEN_TOKENS, a ``[herken.tokens]`` table and ``[herken.channels.*]`` tables."""
    tokens = tokens_from_table(table or {})
    tokens.update(tokens_from_env(env_tokens or ""))
    return Access(tokens, channel_rights(channels))
