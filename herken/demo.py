"""The channel tour of `herken demo`: a real gRPC client asks the running ProfileService what the store
tablet, the webshop and a back-office service would get, and prints it for people to read.

The subjects (a customer at the counter, a webshop login, an e-mail to customer service, a family
loyalty card) are picked from the store's source records, written as the channels wrote them.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass

import grpc
from sqlalchemy import text
from sqlalchemy.engine import Engine

from identity.explain import HouseholdLink, household_link_words
from profile_api._generated.herken.v1 import profile_service_pb2 as pb
from profile_api._generated.herken.v1 import profile_service_pb2_grpc as pb_grpc

Print = Callable[[str], None]

_LINKED = "source_record r JOIN record_link l ON l.source = r.source AND l.record_id = r.record_id"
_CHANNELS_OF = "(SELECT COUNT(DISTINCT l2.source) FROM record_link l2 WHERE l2.customer_id = l.customer_id)"
_PREFERENCES_OF = ("(SELECT COUNT(*) FROM preference p JOIN record_link l3 ON l3.source = p.source "
                   "AND l3.record_id = p.record_id WHERE l3.customer_id = l.customer_id{extra})")
_UNIQUE_EMAIL = ("(SELECT COUNT(DISTINCT l4.customer_id) FROM source_record r4 JOIN record_link l4 "
                 "ON l4.source = r4.source AND l4.record_id = r4.record_id WHERE r4.std_email = r.std_email) = 1")
_PREFILL_KEYS = ("clothing_size", "shoe_size", "delivery_method", "delivery_slot")


@dataclass(frozen=True)
class Subjects:
    """What each channel knows of the customers the tour asks about."""

    counter: tuple[str, str, str] | None      # name, postcode, house number as the customer says them
    family_card: str | None                   # a loyalty card several persons use, as the till reads it
    webshop_email: str | None                 # a webshop login
    service_email: str | None                 # the sender of an e-mail to customer service


def pick_subjects(engine: Engine) -> Subjects:
    """Return demo subjects from the store: well-linked persons (a different one per channel), as written."""
    chosen: list[str] = ["-"]

    with engine.connect() as con:
        def first(sql: str) -> tuple | None:
            """Return the first row (its last column is the customer_id, remembered to not show them twice)."""
            others = ", ".join(f"'{c}'" for c in chosen)    # our own customer ids: no user input here
            row = con.execute(text(sql.replace("{others}", others))).first()
            if row is None:
                return None
            chosen.append(row[-1])
            return tuple(row[:-1])

        counter = first(
            f"SELECT r.first_name || ' ' || r.last_name, r.postcode, r.house_number, l.customer_id FROM {_LINKED} "
            "WHERE r.source = 'pos' AND r.first_name IS NOT NULL AND r.last_name IS NOT NULL "
            "AND r.std_postcode IS NOT NULL AND r.house_number IS NOT NULL "
            f"ORDER BY {_CHANNELS_OF} DESC, {_PREFERENCES_OF.format(extra='')} DESC, r.record_id")
        stated_elsewhere = " AND p.source <> 'webshop' AND p.key IN (" + ", ".join(f"'{k}'" for k in _PREFILL_KEYS) + ")"
        webshop = first(
            f"SELECT r.email, l.customer_id FROM {_LINKED} WHERE r.source = 'webshop' AND r.std_email IS NOT NULL "
            f"AND {_UNIQUE_EMAIL} AND l.customer_id NOT IN ({{others}}) "
            f"ORDER BY {_PREFERENCES_OF.format(extra=stated_elsewhere)} DESC, "
            f"{_PREFERENCES_OF.format(extra='')} DESC, r.record_id")
        service = first(
            f"SELECT r.email, l.customer_id FROM {_LINKED} WHERE r.source = 'service' AND r.std_email IS NOT NULL "
            f"AND {_UNIQUE_EMAIL} AND l.customer_id NOT IN ({{others}}) "
            f"ORDER BY {_CHANNELS_OF} DESC, {_PREFERENCES_OF.format(extra='')} DESC, r.record_id")
        card = con.execute(text(
            f"SELECT MIN(r.loyalty_card) FROM {_LINKED} WHERE r.std_loyalty_card IS NOT NULL "
            "GROUP BY r.std_loyalty_card HAVING COUNT(DISTINCT l.customer_id) > 1 "
            "ORDER BY COUNT(DISTINCT l.customer_id) DESC, MIN(r.loyalty_card)")).first()
    return Subjects(counter=counter, family_card=card[0] if card else None,
                    webshop_email=webshop[0] if webshop else None, service_email=service[0] if service else None)


# --- formatting replies for people ---

def _when(ts: object) -> str:
    """Return a Timestamp as a date, or '' when unset."""
    if ts is None or (ts.seconds == 0 and ts.nanos == 0):
        return ""
    return ts.ToDatetime(tzinfo=dt.timezone.utc).date().isoformat()


def _preference(p: pb.Preference) -> str:
    when = _when(p.stated_at)
    return f"{p.key} = {p.value}  (said to {p.source}{', ' + when if when else ''})"


def _members(household: pb.Household) -> str:
    return ", ".join(m.display_name or m.customer_id for m in household.members)


def profile_lines(profile: pb.Profile, *, golden: bool = False, evidence: bool = False) -> list[str]:
    """Return a readable summary of a profile; with golden, the golden record's sources; with evidence, the evidence."""
    lines = [f"{profile.display_name}  (customer {profile.customer_id})",
             f"  household {profile.household_id}: {_members(profile.household)}"
             + (f"; pets: {', '.join(profile.household.pets)}" if profile.household.pets else "")]
    if golden:
        lines.append("  golden record (value  <- source record):")
        for name in ("first_name", "last_name", "email", "phone", "street", "house_number", "postcode", "city",
                     "birth_date"):
            value = getattr(profile.golden, name)
            if value.value:
                lines.append(f"    {name:<13}{value.value:<32}<- {value.source} {value.record_id}")
    if profile.preferences:
        lines.append("  preferences:")
        lines.extend(f"    {_preference(p)}" for p in profile.preferences)
    else:
        lines.append("  preferences: none stated")
    if profile.attributes:
        lines.append("  derived from purchases:")
        for a in profile.attributes:
            because = ", ".join(f"{k} {v}" for k, v in sorted(a.evidence.items())) if evidence else ""
            lines.append(f"    {a.name} = {a.value}" + (f"  ({because})" if because else ""))
    return lines


def prefill_lines(profile: pb.Profile) -> list[str]:
    """Return what a checkout form would be prefilled with: sizes and delivery, and where each comes from."""
    stated = {p.key: p for p in profile.preferences}
    derived = {a.name: a for a in profile.attributes}
    lines = []
    for key, label, fallback in (("clothing_size", "clothing size", "clothing_size"),
                                 ("shoe_size", "shoe size", "shoe_size"),
                                 ("delivery_method", "delivery", "preferred_delivery"),
                                 ("delivery_slot", "delivery slot", None)):
        if key in stated:
            lines.append(f"  {label:<15}{stated[key].value:<22}stated to {stated[key].source}")
        elif fallback and fallback in derived:
            lines.append(f"  {label:<15}{derived[fallback].value:<22}inferred from purchases")
        elif key == "delivery_method" and profile.household.delivery_preference:
            lines.append(f"  {label:<15}{profile.household.delivery_preference:<22}the household's usual")
        else:
            lines.append(f"  {label:<15}{'-':<22}unknown: ask")
    return lines


# --- the tour ---

DEMO_TOKENS = {"store": "demo-store-tablet", "webshop": "demo-webshop", "service": "demo-customer-service"}


def tour(stub: pb_grpc.ProfileServiceStub, subjects: Subjects, out: Print = print,
         tokens: dict[str, str] | None = None) -> None:
    """Ask the service what each channel gets (each with its own token when tokens are given), and print it."""
    def md(channel: str) -> tuple:
        return (("authorization", f"Bearer {tokens[channel]}"),) if tokens else ()
    out("\n== Store tablet: a customer at the counter gives name and address ==")
    top = None
    if subjects.counter:
        name, postcode, number = subjects.counter
        request = pb.SearchCustomersRequest(name=name.lower(), postcode=postcode.lower(), house_number=number, limit=5)
        out(f'SearchCustomers(name="{request.name}", postcode="{request.postcode}", '
            f'house_number="{request.house_number}", limit=5)')
        found = stub.SearchCustomers(request, timeout=10, metadata=md("store")).candidates
        for i, c in enumerate(found, 1):
            matched = ", ".join(c.matched_on) or "nothing exactly (a similar name)"
            out(f"  {i}. {c.score:5.2f}  {c.display_name:<30} {c.customer_id}  matched on {matched}")
        top = found[0].customer_id if found else None
    if top:
        out(f'GetProfile(customer_id="{top}")  (the clerk taps the first candidate; the tablet sees contact data '
            'masked and the birth year only)')
        for line in profile_lines(stub.GetProfile(pb.GetProfileRequest(customer_id=top), timeout=10,
                                                  metadata=md("store")).profile, golden=True):
            out("  " + line)
    if subjects.family_card:
        out(f'GetProfile(loyalty card "{subjects.family_card}")  (the till scans a family card)')
        reply = stub.GetProfile(pb.GetProfileRequest(identifier=pb.Identifier(
            kind=pb.IDENTIFIER_KIND_LOYALTY_CARD, value=subjects.family_card)), timeout=10, metadata=md("store"))
        if reply.WhichOneof("result") == "ambiguous":
            out(f"  ambiguous: {reply.ambiguous.reason}")
            for c in reply.ambiguous.candidates:
                out(f"    - {c.display_name:<30} {c.customer_id}  household {c.household_id}")
        else:
            out(f"  one person: {reply.profile.display_name}")

    _walk_in(stub, md("store"), out)

    out("\n== Webshop: a customer logs in; the checkout is prefilled ==")
    if subjects.webshop_email:
        email = subjects.webshop_email.upper()
        out(f'GetProfile(e-mail "{email}")  (any notation of the login e-mail)')
        profile = stub.GetProfile(pb.GetProfileRequest(identifier=pb.Identifier(
            kind=pb.IDENTIFIER_KIND_EMAIL, value=email)), timeout=10, metadata=md("webshop")).profile
        out(f"  {profile.display_name}  (customer {profile.customer_id})")
        for line in prefill_lines(profile):
            out(line)
        out('UpdatePreferences(source="webshop", delivery_slot = "evening")  (chosen at checkout)')
        stub.UpdatePreferences(pb.UpdatePreferencesRequest(
            customer_id=profile.customer_id, source="webshop",
            preferences=[pb.PreferenceEntry(key="delivery_slot", value="evening")]), timeout=10, metadata=md("webshop"))
        again = stub.GetProfile(pb.GetProfileRequest(customer_id=profile.customer_id), timeout=10,
                                metadata=md("store")).profile
        slot = next((p for p in again.preferences if p.key == "delivery_slot"), None)
        out(f"  GetProfile from any channel now says: {_preference(slot) if slot else 'no slot'}")
    else:
        out("  (no webshop login with an e-mail in this drop)")

    out("\n== Back office: customer service receives an e-mail ==")
    if subjects.service_email:
        out(f'GetProfile(e-mail "{subjects.service_email}")')
        reply = stub.GetProfile(pb.GetProfileRequest(identifier=pb.Identifier(
            kind=pb.IDENTIFIER_KIND_EMAIL, value=subjects.service_email)), timeout=10, metadata=md("service"))
        for line in profile_lines(reply.profile, golden=True, evidence=True):
            out("  " + line)
    else:
        out("  (no customer-service record with an e-mail in this drop)")
    if subjects.family_card:
        _why_one_household(stub, subjects.family_card, md("service"), out)


WALK_IN = {"record_id": "DEMO-WALK-IN-1", "first_name": "Fenna", "last_name": "Kwakernaat-Pimpel",
           "birth_date": "1990-04-12", "email": "fenna.kwakernaat@example.nl", "city": "Utrecht"}


def _walk_in(stub: pb_grpc.ProfileServiceStub, metadata: tuple, out: Print) -> None:
    """A new customer signs up at the till (ResolveRecord with persist); the service desk finds her by name at once."""
    out("\n== Till: a new customer signs up; the service desk finds her by name, no batch run in between ==")
    out(f'ResolveRecord(source="pos", persist=true, record={{first_name: "{WALK_IN["first_name"]}", '
        f'last_name: "{WALK_IN["last_name"]}", birth_date: "{WALK_IN["birth_date"]}", ...}})')
    request = pb.ResolveRecordRequest(source="pos", record=pb.SourceRecord(**WALK_IN), persist=True)
    for attempt in range(20):        # the first call loads the published run; until then the server says UNAVAILABLE
        try:
            made = stub.ResolveRecord(request, timeout=30, metadata=metadata)
            break
        except grpc.RpcError as err:
            if err.code() != grpc.StatusCode.UNAVAILABLE or attempt == 19:
                raise
            time.sleep(0.5)
    out(f"  {'a new customer' if made.created else 'a known customer'} {made.customer_id}, "
        f"household {made.household_id}")
    name = f'{WALK_IN["first_name"]} {WALK_IN["last_name"]}'.lower()
    out(f'SearchCustomers(name="{name}")')
    for c in stub.SearchCustomers(pb.SearchCustomersRequest(name=name, limit=3), timeout=10,
                                  metadata=metadata).candidates:
        out(f"  {c.score:5.2f}  {c.display_name:<30} {c.customer_id}  matched on {', '.join(c.matched_on)}")


def _why_one_household(stub: pb_grpc.ProfileServiceStub, card: str, metadata: tuple, out: Print) -> None:
    """Ask, as customer service, why two holders of a family card are one household (ExplainMatch on a record of each:
    the golden record names them), and print the answer."""
    reply = stub.GetProfile(pb.GetProfileRequest(identifier=pb.Identifier(
        kind=pb.IDENTIFIER_KIND_LOYALTY_CARD, value=card)), timeout=10, metadata=metadata)
    if reply.WhichOneof("result") != "ambiguous" or len(reply.ambiguous.candidates) < 2:
        return
    records = []
    for candidate in reply.ambiguous.candidates[:2]:
        golden = stub.GetProfile(pb.GetProfileRequest(customer_id=candidate.customer_id), timeout=10,
                                 metadata=metadata).profile.golden
        named = next((v for v in (golden.first_name, golden.last_name, golden.email) if v.record_id), None)
        if named is None:
            return
        records.append(pb.Identifier(kind=pb.IDENTIFIER_KIND_SOURCE_RECORD, source=named.source, value=named.record_id))
    out("\n== Back office: why are two holders of the family card one household? ==")
    out(f"ExplainMatch({records[0].source}:{records[0].value}, {records[1].source}:{records[1].value})")
    explained = stub.ExplainMatch(pb.ExplainMatchRequest(a=records[0], b=records[1]), timeout=30, metadata=metadata)
    out(f"  {explained.decision}")
    out(f"  household: {explained.household.decision}")
    household_id = explained.household.household_id_a
    if explained.household.same_household and household_id:
        out(f"ExplainHousehold({household_id})")
        whole = stub.ExplainHousehold(pb.ExplainHouseholdRequest(household_id=household_id), timeout=30,
                                      metadata=metadata)
        out(f"  {whole.decision}")
        for link in whole.links:
            words = household_link_words(HouseholdLink(link.customer_id_a, link.customer_id_b, link.kind, link.value,
                                                       link.match_probability))
            out(f"    {words}")
