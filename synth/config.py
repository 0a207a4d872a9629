"""Configuration of the synthetic drop: every knob that shapes the data, in one place."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Mapping


@dataclass(frozen=True)
class ChannelProfile:
    """Who has records in one channel and how that channel garbles them; values are probabilities.

    Uptake and duplicates are per adult; every other rate is per record. Weighted tuples are
    ``(option, weight)`` pairs: birth-date strftime formats, phone notations (see
    ``_phone_notation``) and postcode layouts ("1234AB", "1234 AB", "1234ab", "1234 ab").
    """

    uptake: float              # adult has at least one record in this channel
    duplicate: float           # ... and a second one (new card, second account, agent re-typed)
    name_typo: float           # one insert/delete/substitute/transpose in first or last name
    nickname: float            # roepnaam ("Hans") instead of the official name ("Johannes")
    initials: float            # "J.", "J.P.", "JP" instead of the first name
    full_given_names: float    # all given names: "Johannes Petrus"
    particle_variant: float    # "v.d. Berg", "Berg, van der", "Berg" ... for "van der Berg"
    upper: float               # the whole record in capitals (legacy till systems)
    lower: float               # names typed in lower case
    accent_flip: float         # José -> Jose, Gülsen -> Gulsen, or the other way round
    swap_names: float          # first and last name in each other's field
    salutation: float          # "Dhr. Jansen" / "Mevr. Jansen" with empty first name
    first_missing: float
    last_missing: float
    birth_missing: float
    birth_typo: float          # one digit off, or day and month swapped (always a real date)
    birth_formats: tuple[tuple[str, float], ...]
    phone_missing: float
    landline: float            # the household landline instead of the mobile, when there is one
    phone_notations: tuple[tuple[str, float], ...]
    email_missing: float
    email_case: float          # "Jan.DeVries@Gmail.com"
    email_space: float         # leading/trailing blanks
    email_domain_typo: float   # gmial.com, hotmial.com, ziggo.com ...
    address_missing: float     # street, number, postcode and city all empty
    postcode_missing: float
    postcode_formats: tuple[tuple[str, float], ...]
    street_abbrev: float       # "Kerkstr.", "Burg. de Withln."
    street_with_number: float  # "Kerkstraat 12A" in street, house_number empty
    city_missing: float
    loyalty_card: float        # record carries the person's card (pos always does)
    card_spaces: float         # card number typed in groups of four


_PC_POS = (("1234AB", 0.75), ("1234 AB", 0.2), ("1234ab", 0.05))
_PC_ONLINE = (("1234 AB", 0.8), ("1234AB", 0.2))
_PC_SERVICE = (("1234AB", 0.35), ("1234 AB", 0.35), ("1234ab", 0.15), ("1234 ab", 0.15))

_DEFAULT_CHANNELS: dict[str, ChannelProfile] = {
    # Loyalty-card sign-ups at the till: medium noise, upper-case legacy system, card always.
    "pos": ChannelProfile(
        uptake=0.68, duplicate=0.06, name_typo=0.07, nickname=0.40, initials=0.09,
        full_given_names=0.02, particle_variant=0.35, upper=0.12, lower=0.02, accent_flip=0.45,
        swap_names=0.01, salutation=0.0, first_missing=0.01, last_missing=0.0,
        birth_missing=0.22, birth_typo=0.03,
        birth_formats=(("%d-%m-%Y", 0.7), ("%Y-%m-%d", 0.2), ("%d/%m/%Y", 0.1)),
        phone_missing=0.40, landline=0.45,
        phone_notations=(("compact", 0.55), ("dash", 0.2), ("spaced", 0.1), ("e164", 0.1),
                         ("intl_00", 0.05)),
        email_missing=0.35, email_case=0.08, email_space=0.02, email_domain_typo=0.03,
        address_missing=0.08, postcode_missing=0.03, postcode_formats=_PC_POS,
        street_abbrev=0.08, street_with_number=0.02, city_missing=0.03,
        loyalty_card=1.0, card_spaces=0.0,
    ),
    # Webshop accounts: validated forms, the cleanest channel.
    "webshop": ChannelProfile(
        uptake=0.55, duplicate=0.07, name_typo=0.04, nickname=0.40, initials=0.02,
        full_given_names=0.03, particle_variant=0.18, upper=0.01, lower=0.05, accent_flip=0.12,
        swap_names=0.01, salutation=0.0, first_missing=0.0, last_missing=0.0,
        birth_missing=0.45, birth_typo=0.01,
        birth_formats=(("%Y-%m-%d", 0.85), ("%d-%m-%Y", 0.15)),
        phone_missing=0.25, landline=0.2,
        phone_notations=(("e164", 0.45), ("compact", 0.35), ("spaced", 0.1), ("dash", 0.1)),
        email_missing=0.0, email_case=0.05, email_space=0.01, email_domain_typo=0.004,
        address_missing=0.05, postcode_missing=0.0, postcode_formats=_PC_ONLINE,
        street_abbrev=0.02, street_with_number=0.01, city_missing=0.0,
        loyalty_card=0.25, card_spaces=0.0,
    ),
    # App accounts: sparse (often only a first name and the login e-mail), card in the app.
    "app": ChannelProfile(
        uptake=0.38, duplicate=0.03, name_typo=0.05, nickname=0.85, initials=0.01,
        full_given_names=0.0, particle_variant=0.22, upper=0.01, lower=0.12, accent_flip=0.15,
        swap_names=0.01, salutation=0.0, first_missing=0.08, last_missing=0.60,
        birth_missing=0.60, birth_typo=0.02,
        birth_formats=(("%Y-%m-%d", 0.95), ("%d-%m-%Y", 0.05)),
        phone_missing=0.65, landline=0.0,
        phone_notations=(("e164", 0.8), ("compact", 0.2)),
        email_missing=0.0, email_case=0.03, email_space=0.01, email_domain_typo=0.0,
        address_missing=0.85, postcode_missing=0.05, postcode_formats=_PC_ONLINE,
        street_abbrev=0.02, street_with_number=0.02, city_missing=0.05,
        loyalty_card=0.35, card_spaces=0.0,
    ),
    # Customer-service contacts typed by agents during a call: the messiest channel.
    "service": ChannelProfile(
        uptake=0.26, duplicate=0.15, name_typo=0.14, nickname=0.70, initials=0.08,
        full_given_names=0.01, particle_variant=0.45, upper=0.04, lower=0.06, accent_flip=0.35,
        swap_names=0.03, salutation=0.03, first_missing=0.05, last_missing=0.0,
        birth_missing=0.58, birth_typo=0.05,
        birth_formats=(("%d-%m-%Y", 0.35), ("%Y-%m-%d", 0.35), ("%d/%m/%Y", 0.3)),
        phone_missing=0.25, landline=0.4,
        phone_notations=(("compact", 0.2), ("dash", 0.2), ("spaced", 0.2), ("paren", 0.08),
                         ("e164", 0.12), ("intl_spaced", 0.08), ("intl_trunk", 0.07),
                         ("intl_00", 0.05)),
        email_missing=0.35, email_case=0.10, email_space=0.05, email_domain_typo=0.05,
        address_missing=0.45, postcode_missing=0.10, postcode_formats=_PC_SERVICE,
        street_abbrev=0.12, street_with_number=0.18, city_missing=0.08,
        loyalty_card=0.15, card_spaces=0.3,
    ),
}


NOISE_VERSIONS = ("v1", "v2")


@dataclass(frozen=True)
class NameNoise:
    """The noise that ``noise="v2"`` adds on top of the channel profiles; values are probabilities.

    The kinds are those measured on public data that nobody on this project wrote (issue 12): first
    names replaced outright, as Febrl does to a share of its duplicates; transpositions, alone and
    with one more edit ("rahcel", "tabhta"); doubled and dropped letters; phonetic spellings; a first
    name missing from one side; sparse records with only a name and a city. Each rate is per record
    (the first one per later record of a person), a few percent each. Typos and respellings hit the
    first or the last name with equal odds. Nicknames the resolver does not know come from the
    independent name list (``synth/names.py``), not from a rate here.
    """

    first_name_replaced: float = 0.03   # a person's 2nd+ record: another first name of that gender
    transposition: float = 0.02         # two adjacent letters swapped ("Rachel" -> "Rahcel")
    transposition_edit: float = 0.35    # ... of those, with one more edit on top ("Tabhta")
    double_or_drop: float = 0.02        # a letter doubled or dropped ("Tim" -> "Timm", "Anneke" -> "Aneke")
    phonetic: float = 0.03              # respelt as it sounds: ij/y, ei/ij, c/k, ph/f, th/t, dt/t ...
    first_missing: float = 0.02         # first name empty, on top of the channel's own first_missing
    sparse: float = 0.04                # a record with only the names and the city: no birth date,
                                        # contact data, card, street, number or postcode ...
    sparse_channels: tuple[str, ...] = ("pos", "service")   # ... in these channels (accounts keep
                                                             # their login e-mail)
    other_form_rate: float = 0.15       # each further form of a formal name a person also goes by


@dataclass(frozen=True)
class SynthConfig:
    """Population shape and per-channel noise; the defaults aim at real Dutch retail data.

    ``noise`` picks the noise version (see the module docstring): "v1" reproduces the generator as
    it was before issue 12 and ignores ``name_noise``; "v2" (default) uses ``name_noise``.
    """

    as_of: datetime = datetime(2026, 1, 1)   # end of the history window (exclusive)
    history_days: int = 4 * 365               # updated_at, interactions etc. fall in this window
    household_mix: tuple[tuple[str, float], ...] = (
        ("single", 0.31), ("couple", 0.30), ("family", 0.34), ("multigen", 0.025),
        ("flatshare", 0.025),
    )
    twin_family_rate: float = 0.03        # families whose children include twins
    son_named_after_father: float = 0.10  # families with a son: he carries father's first name
    single_parent_rate: float = 0.2       # of families
    foreign_household_rate: float = 0.008  # Belgian/German customers
    mover_rate: float = 0.085             # households that moved within the window
    left_home_rate: float = 0.3           # young singles whose old address is their parents'
    neighbour_rate: float = 0.03          # households in the same building as an earlier one
    shared_card_rate: float = 0.5         # multi-adult households sharing one loyalty card
    landline_rate: float = 0.2
    family_email_rate: float = 0.1
    no_birth_date_rate: float = 0.015     # persons whose birth date is in no record
    formal_name_rate: float = 0.32        # adults with an official name plus roepnaam (by era)
    double_surname_rate: float = 0.3      # women with a male partner who sometimes use his name
    second_email_rate: float = 0.22
    dog_rate: float = 0.2
    cat_rate: float = 0.18
    bird_rate: float = 0.0                # none by default, so that existing seeds write what they did
    rabbit_rate: float = 0.0
    non_customer_rate: float = 0.12       # non-primary adults with no records at all
    adult_child_record_rate: float = 0.75  # children aged 16+ with their own records
    minor_record_rate: float = 0.04       # children under 16 with an app account
    inactive_rate: float = 0.12           # persons with records but no purchases or views
    interaction_shape: float = 1.6        # gamma shape/scale of the number of ad-hoc interactions
    interaction_scale: float = 4.0
    preference_rate: float = 0.36         # persons stating at least one preference
    preference_change_rate: float = 0.15  # ... who later re-state a changed value elsewhere
    channels: Mapping[str, ChannelProfile] = field(
        default_factory=lambda: MappingProxyType(dict(_DEFAULT_CHANNELS))
    )
    noise: str = "v2"
    name_noise: NameNoise = NameNoise()

    def __post_init__(self) -> None:
        if self.noise not in NOISE_VERSIONS:
            raise ValueError(f"noise must be one of {', '.join(NOISE_VERSIONS)}, got {self.noise!r}")


DEFAULT_CONFIG = SynthConfig()


@dataclass(frozen=True)
class GenerateSummary:
    """Counts of what one call to ``generate_drop`` wrote."""

    households: int
    persons: int                 # persons with at least one identity record
    records: dict[str, int]      # identity records per channel
    interactions: int
    preferences: int
