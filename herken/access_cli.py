"""The commands about who may ask what: the serve command's access options, `herken token`, `herken audit`."""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import json
import secrets
import sys
from collections.abc import Callable
from pathlib import Path

from herken.config import Settings

EXIT_OK, EXIT_BAD_INPUT = 0, 2
LOOPBACK_NAMES = ("localhost",)


def is_loopback(host: str) -> bool:
    """Return True when host is an address of this machine only (127.0.0.0/8, ::1, localhost)."""
    if host.strip("[]") in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def add_serve_access_args(p: argparse.ArgumentParser) -> None:
    """Add --tls-cert and --tls-key to `herken serve`."""
    p.add_argument("--tls-cert", help="PEM certificate chain: serve over TLS (with --tls-key)")
    p.add_argument("--tls-key", help="PEM private key of --tls-cert")


def serve_options(args: argparse.Namespace, settings: Settings) -> tuple[object | None, str | None]:
    """Return the ServeOptions of `herken serve` (tokens, channel rights, consent defaults, TLS), or why not.

    Without any token the server binds loopback only (every local caller has every right); asked for
    another address without tokens it refuses.
    """
    from profile_api.access import AccessConfigError, access_of
    from profile_api.consent import consent_defaults
    from profile_api.server import ServeOptions

    try:
        access = access_of(settings.tokens, settings.tokens_table, settings.channels)
        defaults = consent_defaults(settings.consent)
    except (AccessConfigError, ValueError) as err:
        return None, str(err)
    if not access.required and not is_loopback(args.host):
        return None, (f"no tokens are configured, so herken serves this machine only and will not listen on "
                      f"{args.host}; set HERKEN_TOKENS=token:channel,... or a [herken.tokens] table in herken.toml "
                      f"(`herken token new CHANNEL` makes one), or serve on 127.0.0.1")
    tls = None
    if bool(args.tls_cert) != bool(args.tls_key):
        return None, "--tls-cert and --tls-key go together"
    if args.tls_cert:
        try:
            tls = (Path(args.tls_cert).read_bytes(), Path(args.tls_key).read_bytes())
        except OSError as err:
            return None, f"cannot read {err.filename}: {err.strerror}"
        if b"-----BEGIN" not in tls[0] or b"-----BEGIN" not in tls[1]:
            return None, "--tls-cert and --tls-key must be PEM files (-----BEGIN ...)"
    return ServeOptions(access=access, consent_defaults=defaults, tls=tls, runs_dir=Path(settings.runs_dir)), None


def access_note(options: object) -> str:
    """Return a line saying how callers are authenticated."""
    access = options.access    # type: ignore[attr-defined]
    if not access.required:
        return ("no tokens configured: serving this machine only, every caller with every right "
                "(set HERKEN_TOKENS or [herken.tokens] to serve channels)")
    channels = sorted({channel for channel, _ in access.tokens.values()})
    return f"{len(access.tokens)} token(s) for {', '.join(channels)}; every call needs `authorization: Bearer TOKEN`"


def cmd_token(args: argparse.Namespace, settings: Settings) -> int:
    """Make a token for a channel, or hash one: print the herken.toml entry that holds only its hash."""
    from profile_api.access import CHANNELS_OF_TOKENS, token_hash

    if args.action == "new":
        if args.value not in CHANNELS_OF_TOKENS:
            print(f"error: channel must be one of {', '.join(CHANNELS_OF_TOKENS)}", file=sys.stderr)
            return EXIT_BAD_INPUT
        token = secrets.token_urlsafe(32)
        name = args.name or f"{args.value}-{token_hash(token)[:6]}"
        print(f"token (give it to the {args.value} channel; it is not shown again): {token}")
        print("herken.toml entry (holds only its hash):")
        print(f'[herken.tokens]\n{name} = {{ sha256 = "{token_hash(token)}", channel = "{args.value}" }}')
        return EXIT_OK
    print(token_hash(args.value))
    return EXIT_OK


def _since(text: str) -> dt.datetime:
    when = dt.datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)


def cmd_audit(args: argparse.Namespace, settings: Settings) -> int:
    """Print the audit log: who (channel, token id) read or changed whom, when, through which RPC or command."""
    from profile_api.store import StoreError, UnusableStore, open_store
    from profile_api.store.audit import read_entries

    try:
        since = _since(args.since) if args.since else None
    except ValueError:
        print(f"error: --since {args.since!r} is not a time; write e.g. 2026-12-01 or 2026-12-01T08:00:00",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        engine = open_store(args.store, create=False)
    except UnusableStore as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except StoreError as err:      # the database cannot be reached now: worth trying again
        print(f"error: {err}", file=sys.stderr)
        return 1
    with engine.connect() as conn:
        entries = read_entries(conn, customer_id=args.customer, channel=args.channel, since=since)
    engine.dispose()
    for entry in entries:
        at = entry["at"]
        entry["at"] = (at if at.tzinfo else at.replace(tzinfo=dt.timezone.utc)).isoformat(timespec="seconds")
    if args.json:
        print(json.dumps(entries, indent=1))
        return EXIT_OK
    for e in entries:
        who = e["channel"] + (f" ({e['token_id']})" if e["token_id"] else "")
        whom = e["customer_id"] or e["household_id"] or "-"
        print(f"{e['at']}  {who:<28} {e['action']:<20} {whom:<16} {e['outcome']}"
              + (f"  {e['detail']}" if e["detail"] else ""))
    print(f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}", file=sys.stderr)
    return EXIT_OK


def add_access_commands(sub: argparse._SubParsersAction, settings: Settings,
                        store_arg: Callable[[argparse.ArgumentParser, Settings], None]) -> None:
    """Add `herken token` and `herken audit`."""
    p = sub.add_parser("token", help="make a token for a channel (`new CHANNEL`) or print a token's hash (`hash TOKEN`)")
    p.add_argument("action", choices=("new", "hash"))
    p.add_argument("value", help="new: the channel (store, webshop, app, service, backoffice); hash: the token")
    p.add_argument("--name", help="new: the token's name in herken.toml and the audit log")
    p.set_defaults(func=cmd_token)

    p = sub.add_parser("audit", help="who read or changed whom, when, through which RPC or command")
    store_arg(p, settings)
    p.add_argument("--customer", help="only entries about this customer_id")
    p.add_argument("--channel", help="only entries of this channel (store, webshop, app, service, backoffice, local)")
    p.add_argument("--since", help="only entries at or after this time (ISO, UTC unless it says otherwise)")
    p.add_argument("--json", action="store_true", help="print the entries as JSON")
    p.set_defaults(func=cmd_audit)
