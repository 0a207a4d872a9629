"""What each channel sees of a person: the views ``store``, ``checkout`` and ``full`` applied to messages.

Pure: masking functions on plain strings, and functions that change a decoded message in place.

- ``full`` (customer service, back office): everything.
- ``store`` (the store tablet): names, household members' first names, preferences, attributes;
  contact data masked (``j***@gmail.com``, ``06-****5678``, ``K***``, ``1234 **``), the house number
  withheld, the birth date as its year only.
- ``checkout`` (webshop, app): what a checkout prefill needs: name, e-mail, phone and address in
  full, preferences and attributes; no birth date, no other household members (the persons an answer
  offers to choose from by their first names only).

A person known by no name is shown by their e-mail address masked (``j***@gmail.com``), in every view.

A person's consent is applied as well (``strip_by_consent``): without personalisation no remembered
preferences, without profiling no derived attributes; without either, no household pets or delivery
preference (each mixes what was stated with what purchases show).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from identity.rule_measures import RULE_TITLES
from profile_api._generated.herken.v1 import profile_service_pb2 as pb
from profile_api.consent import Allowed


def mask_email(value: str) -> str:
    """Return an e-mail address with its local part masked: ``j***@gmail.com``."""
    local, at, domain = value.partition("@")
    if not at:
        return "***"
    return f"{local[:1]}***@{domain}"


def mask_phone(value: str) -> str:
    """Return a phone number with all but its first two and last four digits masked: ``06-****5678``."""
    digits = "".join(c for c in value if c.isdigit())
    if value.startswith("+31"):
        digits = "0" + digits[2:]
    elif value.startswith("+"):
        digits = "+" + digits
    if len(digits) < 8:
        return "****"
    return f"{digits[:2]}-****{digits[-4:]}"


def mask_street(value: str) -> str:
    """Return a street with all but its first letter masked: ``K***``."""
    return f"{value.strip()[:1]}***" if value.strip() else ""


def mask_postcode(value: str) -> str:
    """Return a Dutch postcode with its letters masked: ``1234 **`` (the area, not the street)."""
    digits = "".join(c for c in value if c.isdigit())
    return f"{digits[:4]} **" if digits else "**"


def first_name_of(display_name: str) -> str:
    """Return the first word of a display name (a household member as the store tablet sees them)."""
    return display_name.strip().split(" ", 1)[0] if display_name.strip() else ""


def shown_name(display_name: str, view: str) -> str:
    """Return a display name as a view other than full shows it: a person known by no name is shown by an e-mail
    address (a store published before names fell back to the masked address), masked here too."""
    if view != "full" and "@" in display_name:
        return mask_email(display_name.strip())
    return display_name


def restrict_candidates(candidates: Iterable[Any], view: str) -> None:
    """Show the persons an answer offers to choose from (search results, the holders of an ambiguous identifier,
    ResolveRecord's candidates) as the view allows: names with any e-mail masked (store), first names only
    (checkout, which shows no one else's full name), all (full)."""
    if view == "full":
        return
    for candidate in candidates:
        name = shown_name(candidate.display_name, view)
        candidate.display_name = first_name_of(name) if view == "checkout" else name


_STORE_MASKS = {"email": mask_email, "phone": mask_phone, "street": mask_street, "postcode": mask_postcode,
                "birth_date": lambda value: value[:4], "house_number": None}
_CHECKOUT_MASKS = {"birth_date": None}
_MASKS = {"store": _STORE_MASKS, "checkout": _CHECKOUT_MASKS, "full": {}}


def restrict_golden(golden: pb.GoldenRecord, view: str) -> None:
    """Mask or withhold the golden record's fields the view does not show in full."""
    for name, mask in _MASKS[view].items():
        if not golden.HasField(name):
            continue
        if mask is None:
            golden.ClearField(name)
        else:
            field = getattr(golden, name)
            field.value = mask(field.value)


def restrict_household(household: pb.Household, view: str) -> None:
    """Show the household's members as the view allows: first names (store), none (checkout), all (full)."""
    if view == "store":
        for member in household.members:
            member.display_name = first_name_of(shown_name(member.display_name, view))
    elif view == "checkout":
        del household.members[:]


def restrict_household_tree(reply: pb.ExplainHouseholdResponse, view: str) -> None:
    """Withhold the values that link a household from a view other than full, and its members altogether from
    checkout (which shows no other household members)."""
    if view == "full":
        return
    for link in reply.links:
        link.value = ""
    if view == "checkout":
        del reply.customer_ids[:], reply.links[:], reply.unlinked[:]
        reply.decision = f"one household ({reply.household_id}); its members are not shown to this view"


def strip_by_consent(profile: pb.Profile, allowed: Allowed) -> None:
    """Withhold what the person's consent does not allow: preferences, attributes, and of the household what
    rests on either (``strip_household_by_consent``)."""
    if not allowed.preferences:
        del profile.preferences[:]
    if not allowed.attributes:
        del profile.attributes[:]
    strip_household_by_consent(profile.household, allowed)


def strip_household_by_consent(household: pb.Household, allowed: Allowed) -> None:
    """Withhold what a household's members' consent does not allow (``allowed``: what every member allows).

    Its shared preferences are what members stated (personalisation). Its pets and its delivery preference
    mix what members stated with what their purchases show (profiling): a pet told at the till beside the
    cat food bought, a delivery method stated or else the one the orders used most. Either is shown only
    where both purposes are allowed: withdrawing one hides every value it had a part in.
    """
    if not allowed.preferences:
        del household.shared_preferences[:]
    if not (allowed.preferences and allowed.attributes):
        household.delivery_preference = ""
        del household.pets[:]


def restrict_profile(profile: pb.Profile, view: str, allowed: Allowed) -> None:
    """Apply a view and a person's consent to a profile, in place."""
    if view != "full":
        if view == "store":
            profile.display_name = shown_name(profile.display_name, view)
        restrict_golden(profile.golden, view)
        restrict_household(profile.household, view)
    strip_by_consent(profile, allowed)


def restrict_ambiguous(ambiguous: pb.Ambiguous, view: str) -> None:
    """Apply a view to the candidates of an ambiguous identifier and their households' members."""
    restrict_candidates(ambiguous.candidates, view)
    for household in ambiguous.households:
        restrict_household(household, view)


def value_free_decision(reply: pb.ExplainMatchResponse) -> str:
    """Return an explanation's decision as a view other than full may read it: made again from the rule's title, the
    steward decision's id and the probability, without what the records hold (a rule's sentence quotes the values
    it compared, "different first names anna / bert"; a steward's reason is free text; a refusal names other
    records)."""
    probability = f"match probability {reply.match_probability:.4f}"
    if reply.customer_id_a and not reply.customer_id_b:     # one record's place in its person (no b asked)
        return (f"a record of {reply.customer_id_a} (confidence {reply.match_probability:.4f}); what links it "
                "to the person's other records is withheld from this view")
    if reply.steward_decision_id:
        return (f"{'joined' if reply.same_person else 'kept apart'} by steward decision {reply.steward_decision_id}; "
                "its reason is withheld from this view")
    if reply.same_person:
        return f"one person ({probability} for this pair); what links them is withheld from this view"
    if reply.rule:
        return (f"kept apart by the cannot-link rule {reply.rule}: {RULE_TITLES.get(reply.rule, reply.rule)} "
                f"({probability}); the values compared are withheld from this view")
    return f"two persons ({probability}); what kept them apart is withheld from this view"


def restrict_explanation(reply: pb.ExplainMatchResponse, view: str) -> None:
    """Withhold the compared values of an explanation from a view other than full, and the values that link a
    household (checkout, which shows no other household members: the household's links altogether)."""
    if view != "full":
        for comparison in reply.comparisons:
            comparison.value_a = comparison.value_b = ""
        reply.decision = value_free_decision(reply)
        if reply.HasField("household"):
            household = reply.household
            for link in household.path:
                link.value = ""
            if view == "checkout":
                del household.path[:]
            if not household.same_household:
                household.decision = f"two households ({household.household_id_a}, {household.household_id_b})"
            else:
                others = len(household.path) - 1
                through = f", through {others} other member{'s' if others > 1 else ''}" if others > 0 else ""
                household.decision = (f"one household ({household.household_id_a}){through}; what links them is "
                                      "withheld from this view")
