"""Consent per person and purpose, as served: the latest statement per purpose, else the server's default.

Pure: the store keeps each person's statements as they stand (``profile.consent``, JSON written by
``profile_api.store.consent``); this module turns that and the configured defaults into what a
profile may show (derived attributes only where profiling is allowed, remembered preferences only
where personalisation is) and into the ``Consent`` entries of the served profile.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from profile_api._generated.herken.v1 import profile_service_pb2 as pb

PURPOSES: dict[int, str] = {
    pb.CONSENT_PURPOSE_PERSONALISATION: "personalisation",
    pb.CONSENT_PURPOSE_MARKETING: "marketing",
    pb.CONSENT_PURPOSE_PROFILING: "profiling",
}
PURPOSE_ENUM = {name: value for value, name in PURPOSES.items()}
# What a person who never said anything is taken to allow, unless herken.toml's [herken.consent] says
# otherwise: recognising a customer and remembering what they told us is what they expect of a shop
# (legitimate interest); marketing needs a yes.
DEFAULT_CONSENT: dict[str, bool] = {"personalisation": True, "marketing": False, "profiling": True}

Statement = tuple[bool, str, str]     # granted, channel, stated_at (ISO, UTC)


def consent_defaults(table: Mapping[str, object] | None) -> dict[str, bool]:
    """Return DEFAULT_CONSENT with a ``[herken.consent]`` table's booleans applied.

    Raises:
        ValueError: an unknown purpose or a value that is not true or false.
    """
    defaults = dict(DEFAULT_CONSENT)
    for purpose, value in (table or {}).items():
        if purpose not in defaults:
            raise ValueError(f"[herken.consent] {purpose!r}: purposes are {', '.join(defaults)}")
        if not isinstance(value, bool):
            raise ValueError(f"[herken.consent] {purpose}: write true or false, not {value!r}")
        defaults[purpose] = value
    return defaults


def state_of(statements: Iterable[tuple[str, bool, str, dt.datetime | str, int]]) -> dict[str, Statement]:
    """Return {purpose: (granted, channel, stated_at)} of a person: per purpose the latest statement.

    statements: (purpose, granted, channel, stated_at, id); the id orders two statements made at the same time.
    """
    latest: dict[str, tuple[str, int, Statement]] = {}
    for purpose, granted, channel, stated_at, seq in statements:
        stamp = utc_stamp(stated_at)
        key = (stamp, seq)
        if purpose not in latest or key > latest[purpose][:2]:
            latest[purpose] = (stamp, seq, (bool(granted), channel, stamp))
    return {purpose: entry[2] for purpose, entry in sorted(latest.items())}


def utc_stamp(value: dt.datetime | str) -> str:
    """Return a time as the store's drivers answer it (a datetime, aware or not, or text) as naive UTC ISO text."""
    when = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    if when.tzinfo is not None:
        when = when.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return when.isoformat(timespec="seconds")


def parse_state(text: str | None) -> dict[str, Statement]:
    """Return the state a ``profile.consent`` column holds ({} for None)."""
    if not text:
        return {}
    return {purpose: (bool(granted), channel, stamp) for purpose, (granted, channel, stamp) in json.loads(text).items()}


def state_json(state: Mapping[str, Statement]) -> str | None:
    """Return the ``profile.consent`` column of a state (None for no statement)."""
    return json.dumps({p: list(s) for p, s in sorted(state.items())}, separators=(",", ":")) if state else None


@dataclass(frozen=True)
class Allowed:
    """What a person's consent allows a profile to show."""

    preferences: bool
    attributes: bool


def allowed(state: Mapping[str, Statement], defaults: Mapping[str, bool]) -> Allowed:
    """Return what a profile may show under this state and these defaults."""
    def granted(purpose: str) -> bool:
        return state[purpose][0] if purpose in state else defaults[purpose]
    return Allowed(preferences=granted("personalisation"), attributes=granted("profiling"))


def consent_messages(state: Mapping[str, Statement], defaults: Mapping[str, bool]) -> list[pb.Consent]:
    """Return the Consent entries of a profile: one per purpose, in the enum's order."""
    entries = []
    for value, purpose in PURPOSES.items():
        if purpose in state:
            granted, channel, stamp = state[purpose]
            entry = pb.Consent(purpose=value, granted=granted, channel=channel)
            entry.stated_at.FromDatetime(dt.datetime.fromisoformat(stamp).replace(tzinfo=None))
        else:
            entry = pb.Consent(purpose=value, granted=defaults[purpose], by_default=True)
        entries.append(entry)
    return entries


def encoded_consents(state: Mapping[str, Statement], defaults: Mapping[str, bool]) -> bytes:
    """Return the consents as Profile field 8, encoded (appended to an encoded Profile)."""
    return pb.Profile(consents=consent_messages(state, defaults)).SerializeToString()
