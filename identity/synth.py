"""Deterministic synthetic drops: Dutch households, their persons, and the messy records they leave.

The generator first builds a population (households with addresses, landlines, loyalty cards, pets
and family e-mail; persons with true names, birth dates, sizes and preferences), then writes each
person's records in each channel through that channel's noise profile (``ChannelProfile``), and
finally the persons' interactions and stated preferences. Everything random is drawn from one
``random.Random(seed)``; Faker("nl_NL"), seeded with the same seed, only fills the name, street and
town pools once. So the same seed and household count give byte-identical files.

Timestamps are relative to ``SynthConfig.as_of`` (a fixed instant, not the wall clock), again for
determinism.

Two noise versions (``SynthConfig.noise``, ``herken generate --noise``): "v1" is the generator as it
was before issue 12, byte for byte per seed, with roepnamen from its first list (which shared 116 of
its 139 name pairs with the resolver's own list). "v2", the default, takes its names from
``identity/synth_names.py``, written apart from the resolver's list, and adds the name noise of
``NameNoise`` (functions in ``identity/synth_noise.py``). v2 draws from the same random stream, so
a v2 drop differs from the v1 drop of the same seed in more than the noise.
"""

from __future__ import annotations

import csv
import io
import logging
import random
import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass, field, replace
from functools import lru_cache
from datetime import date, datetime, timedelta
from itertools import accumulate
from operator import itemgetter
from pathlib import Path
from types import MappingProxyType
from typing import Mapping, Sequence

from faker import Faker

from identity import synth_names, synth_noise
from identity.progress import NO_PROGRESS, Progress, counted

__all__ = [
    "ChannelProfile",
    "NameNoise",
    "NOISE_VERSIONS",
    "SynthConfig",
    "DEFAULT_CONFIG",
    "GenerateSummary",
    "generate_drop",
    "CHANNELS",
    "IDENTITY_COLUMNS",
    "INTERACTION_COLUMNS",
    "PREFERENCE_COLUMNS",
    "TRUTH_COLUMNS",
]

logger = logging.getLogger(__name__)

# The drop contract is defined once, by the reader; the generator writes exactly that.
from identity.ingest import (  # noqa: E402
    CHANNELS, IDENTITY_COLUMNS, INTERACTION_COLUMNS, PREFERENCE_COLUMNS, TRUTH_COLUMNS,
)


# --------------------------------------------------------------------------------------------
# Configuration: every knob that shapes the data, in one place.
# --------------------------------------------------------------------------------------------

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
    independent name list (``identity/synth_names.py``), not from a rate here.
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


# --------------------------------------------------------------------------------------------
# Static reference data
# --------------------------------------------------------------------------------------------

# Official (doop)names with the roepnamen people actually use: the v1 list (116 of its 139 pairs are
# in the resolver's list); v2 uses identity/synth_names.py instead.
_FORMAL_MALE: dict[str, tuple[str, ...]] = {
    "Johannes": ("Hans", "Jan", "Joop", "Johan"), "Cornelis": ("Kees", "Cor", "Niels"),
    "Pieter": ("Piet", "Peter"), "Willem": ("Wim", "Pim"), "Hendrik": ("Henk", "Rik", "Henny"),
    "Jacobus": ("Koos", "Jaap", "Jaco"), "Nicolaas": ("Klaas", "Niek", "Nico"),
    "Alexander": ("Sander", "Alex"), "Sebastiaan": ("Bas",), "Gerardus": ("Gerard", "Gert"),
    "Theodorus": ("Theo", "Ruud"), "Antonius": ("Toon", "Ton", "Anton"),
    "Adrianus": ("Arie", "Jan", "Adrie"), "Franciscus": ("Frans", "Frank"),
    "Wilhelmus": ("Wim", "Willem"), "Petrus": ("Piet", "Peter"), "Josephus": ("Joop", "Jos", "Sjef"),
    "Lambertus": ("Bert",), "Albertus": ("Bert", "Ab"), "Hermanus": ("Herman", "Manus"),
    "Gijsbertus": ("Gijs", "Bert"), "Bernardus": ("Ben", "Bernard"), "Leonardus": ("Leo", "Leon"),
    "Marinus": ("Rinus", "Marien"), "Martinus": ("Martin", "Tinus"), "Frederik": ("Frits", "Freek"),
    "Matthijs": ("Thijs",), "Bartholomeus": ("Bart",), "Christiaan": ("Chris",),
    "Jacob": ("Jaap", "Koos"), "Robertus": ("Rob", "Robert"), "Arnoldus": ("Arnold", "Noud"),
    "Everardus": ("Evert",), "Dirk": ("Dick",), "Maximiliaan": ("Max",),
    "Mohamed": ("Mohammed", "Muhammed"), "Youssef": ("Yousef", "Youssouf"), "Ahmed": ("Ahmet",),
}
_FORMAL_FEMALE: dict[str, tuple[str, ...]] = {
    "Elisabeth": ("Lies", "Bep", "Els", "Liesbeth"), "Maria": ("Mieke", "Ria", "Marieke", "Mia"),
    "Geertruida": ("Truus", "Trudy"), "Catharina": ("Karin", "Tineke", "Toos", "Ina"),
    "Wilhelmina": ("Mien", "Willy", "Wilma"), "Johanna": ("Anneke", "Jo", "Hanneke", "Joke"),
    "Cornelia": ("Corrie", "Nel", "Nelleke"), "Hendrika": ("Riek", "Rika", "Henny"),
    "Jacoba": ("Coby", "Co"), "Petronella": ("Nel", "Nelly", "Ellen"),
    "Anna": ("Anneke", "Ans", "Annie"), "Margaretha": ("Greet", "Margriet", "Margot"),
    "Alida": ("Alie", "Lida"), "Gerarda": ("Gerda",), "Theodora": ("Dora", "Thea"),
    "Antonia": ("Toni", "Toos", "Tonny"), "Francisca": ("Cisca", "Francien"),
    "Christina": ("Stien", "Tineke"), "Josephina": ("Fien", "José"), "Helena": ("Lenie", "Heleen"),
    "Susanna": ("Suus", "Sanne"), "Alexandra": ("Sandra", "Lex"), "Adriana": ("Adrie", "Jeanne"),
    "Everdina": ("Dini",), "Fatima": ("Fatma",), "Khadija": ("Khadidja",),
}
# Names of the generations born roughly 1950-1990.
_CLASSIC_MALE = (
    "Jan", "Peter", "Hans", "Kees", "Marco", "Richard", "Mark", "Erik", "Frank", "Robert", "Paul",
    "Rob", "Martin", "Michel", "Dennis", "Patrick", "Jeroen", "Sander", "Arjan", "Ronald", "René",
    "Edwin", "Marcel", "Remco", "Bart", "Wouter", "Bas", "Joost", "Maarten", "Niels", "Roy",
    "Sven", "Kevin", "Tim", "Stefan", "Mike", "Ruud", "Johan", "André", "Dirk", "Harm", "Gert-Jan",
    "Jan-Willem", "Pieter-Jan", "Daniël", "Michaël", "Raphaël", "Noël",
)
_CLASSIC_FEMALE = (
    "Anja", "Monique", "Ingrid", "Petra", "Sandra", "Linda", "Marieke", "Esther", "Wendy",
    "Patricia", "Nicole", "Karin", "Marjolein", "Saskia", "Miranda", "Ellen", "Annemarie", "Irene",
    "Jolanda", "Marian", "Yvonne", "Kim", "Sanne", "Lisa", "Anouk", "Femke", "Mirjam", "Ilse",
    "Inge", "Chantal", "Manon", "Renée", "José", "Anne-Marie", "Marloes", "Eva", "Iris", "Maaike",
    "Daphne", "Tamara", "Bianca", "Judith", "Zoë", "Chloë", "Anaïs", "Inès",
)
_ACCENT_ADD = {
    "Jose": "José", "Rene": "René", "Andre": "André", "Zoe": "Zoë", "Daniel": "Daniël",
    "Michael": "Michaël", "Renee": "Renée", "Ines": "Inès", "Anais": "Anaïs", "Noel": "Noël",
    "Chloe": "Chloë", "Raphael": "Raphaël", "Gulsen": "Gülsen", "Ozlem": "Özlem",
}
# Twins: similar names ("Daan"/"Dean") are what makes them hard.
_TWIN_NAMES = (
    (("Daan", "M"), ("Dean", "M")), (("Sem", "M"), ("Sam", "M")), (("Luuk", "M"), ("Lucas", "M")),
    (("Thijs", "M"), ("Thomas", "M")), (("Jens", "M"), ("Jesse", "M")), (("Milan", "M"), ("Mika", "M")),
    (("Emma", "F"), ("Emmy", "F")), (("Lotte", "F"), ("Lieke", "F")), (("Anna", "F"), ("Anne", "F")),
    (("Julia", "F"), ("Julie", "F")), (("Fenna", "F"), ("Femke", "F")), (("Sara", "F"), ("Sanne", "F")),
    (("Noah", "M"), ("Noor", "F")), (("Finn", "M"), ("Fleur", "F")), (("Daan", "M"), ("Dana", "F")),
)
_STREET_SUFFIXES = ("straat", "straat", "straat", "laan", "laan", "weg", "weg", "plein", "hof",
                    "singel", "dreef", "kade", "pad", "steeg")
_PARTICLES = (
    "van der", "van den", "van de", "van 't", "in 't", "op den", "op de", "in de", "van", "de",
    "den", "der", "ter", "ten", "te",
)
_COMMON_PARTICLE_SURNAMES = (
    ("de", "Jong"), ("de", "Vries"), ("van den", "Berg"), ("van", "Dijk"), ("de", "Boer"),
    ("de", "Groot"), ("van", "Leeuwen"), ("de", "Wit"), ("de", "Graaf"), ("van der", "Meer"),
    ("van der", "Linden"), ("de", "Haan"), ("van den", "Heuvel"), ("van der", "Veen"),
    ("van den", "Broek"), ("de", "Bruijn"), ("de", "Bruin"), ("van der", "Heijden"), ("van", "Beek"),
    ("van", "Vliet"), ("van de", "Ven"), ("van", "Dam"), ("van der", "Wal"), ("de", "Kok"),
    ("van", "Wijk"), ("van den", "Brink"), ("van der", "Heide"), ("van", "Dongen"), ("de", "Lange"),
    ("de", "Vos"), ("van", "Rijn"), ("van der", "Berg"), ("ter", "Horst"), ("van 't", "Hof"),
    ("ten", "Cate"), ("in 't", "Veld"), ("de", "Ruiter"), ("van der", "Laan"), ("van", "Os"),
    ("de", "Koning"), ("van", "Doorn"), ("ten", "Brink"), ("van", "Essen"), ("de", "Jager"),
    ("van", "Zanten"), ("van", "Loon"), ("van der", "Velden"), ("van", "Gils"), ("op den", "Akker"),
    ("van 't", "Zand"), ("ter", "Haar"), ("van de", "Kamp"), ("de", "Ridder"), ("van", "Schaik"),
    ("van den", "Bosch"), ("van der", "Sluis"), ("de", "Leeuw"), ("van", "Buuren"), ("van der", "Zee"),
)
_COMMON_PLAIN_SURNAMES = (
    "Jansen", "Bakker", "Janssen", "Visser", "Smit", "Meijer", "Mulder", "Bos", "Vos", "Peters",
    "Hendriks", "Dekker", "Brouwer", "Dijkstra", "Smits", "Kok", "Jacobs", "Vermeulen", "Schouten",
    "Willems", "Hoekstra", "Maas", "Verhoeven", "Koster", "Prins", "Blom", "Huisman", "Peeters",
    "Post", "Kuipers", "Kuiper", "Veenstra", "Kramer", "Scholten", "Martens", "Evers", "Hermans",
    "Postma", "Gerritsen", "Bosman", "Timmermans", "Groen", "Verbeek", "Sanders", "Bouma", "Mol",
    "Hofman", "Molenaar", "Boon", "Kamphuis", "Vink", "Claassen", "Meyer", "Jonker", "Wolters",
    "Lammers", "Driessen", "Verschuren", "Hoogendoorn", "Koopman", "Bosch", "Schipper",
)
_MIGRANT_SURNAMES = (
    "Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Öztürk", "Aydın", "Bouzid", "Benali",
    "Tahiri", "Ouali", "El Amrani", "El Idrissi", "Ait Taleb", "Nguyen", "Tan", "Lie", "Ramdin",
    "Biharie", "Sewnarain", "Kromosoeto", "Kowalski", "Nowak",
)
# Given names that go with a surname's origin (Turkish, Moroccan); others take Dutch names.
_ORIGIN_OF = {s: "tr" for s in _MIGRANT_SURNAMES[:8]} | {s: "ma" for s in _MIGRANT_SURNAMES[8:15]}
_ORIGIN_NAMES = {
    ("tr", "M"): ("Mehmet", "Mustafa", "Emre", "Burak", "Murat", "Hasan", "Yusuf", "Kerem", "Ahmed"),
    ("tr", "F"): ("Ayşe", "Gülsen", "Özlem", "Elif", "Zeynep", "Fatma", "Hatice", "Büşra", "Esra"),
    ("ma", "M"): ("Mohamed", "Youssef", "Rachid", "Karim", "Said", "Mustafa", "Ayoub", "Bilal"),
    ("ma", "F"): ("Fatima", "Khadija", "Naima", "Samira", "Latifa", "Nadia", "Imane", "Hanane"),
}
_CLASSIC_STREETS = (
    "Kerkstraat", "Dorpsstraat", "Molenweg", "Stationsstraat", "Schoolstraat", "Julianastraat",
    "Wilhelminastraat", "Beatrixlaan", "Nieuwstraat", "Hoofdstraat", "Lindelaan", "Eikenlaan",
    "Kastanjelaan", "Berkenlaan", "Merelstraat", "Vondellaan", "Burgemeester de Withstraat",
    "Prins Bernhardlaan", "Koningin Julianaweg", "Van Goghstraat", "Graaf Florisstraat",
    "Burgemeester van Walsumweg", "Prins Hendrikkade", "Marktstraat", "Emmastraat",
    "Oranjestraat", "Parkweg", "Spoorstraat", "Industrieweg", "Rembrandtlaan",
    "Van der Helststraat", "Burgemeester Roosstraat", "Prinses Irenestraat", "Tulpstraat",
)
# Big towns: name, aliases, postcode range, area code, relative size, number of stores.
_BIG_CITIES = (
    ("Amsterdam", (), 1011, 1109, "020", 9.0, 6), ("Rotterdam", (), 3011, 3089, "010", 6.5, 5),
    ("Den Haag", ("'s-Gravenhage",), 2491, 2597, "070", 5.5, 4),
    ("Utrecht", (), 3511, 3585, "030", 3.6, 3), ("Eindhoven", (), 5611, 5658, "040", 2.4, 2),
    ("Groningen", (), 9711, 9747, "050", 2.3, 2), ("Tilburg", (), 5011, 5049, "013", 2.2, 2),
    ("Almere", (), 1311, 1364, "036", 2.1, 2), ("Breda", (), 4811, 4839, "076", 1.9, 2),
    ("Nijmegen", (), 6511, 6546, "024", 1.8, 2), ("Apeldoorn", (), 7311, 7339, "055", 1.6, 1),
    ("Haarlem", (), 2011, 2037, "023", 1.6, 1), ("Arnhem", (), 6811, 6846, "026", 1.6, 1),
    ("Enschede", (), 7511, 7548, "053", 1.6, 1), ("Amersfoort", (), 3811, 3829, "033", 1.6, 1),
    ("Zaandam", (), 1501, 1509, "075", 1.5, 1),
    ("'s-Hertogenbosch", ("Den Bosch",), 5211, 5247, "073", 1.5, 1),
    ("Zwolle", (), 8011, 8046, "038", 1.3, 1), ("Leiden", (), 2311, 2334, "071", 1.3, 1),
    ("Maastricht", (), 6211, 6229, "043", 1.2, 1), ("Dordrecht", (), 3311, 3329, "078", 1.2, 1),
    ("Zoetermeer", (), 2711, 2729, "079", 1.2, 1), ("Leeuwarden", (), 8911, 8939, "058", 1.2, 1),
    ("Delft", (), 2611, 2629, "015", 1.0, 1), ("Alkmaar", (), 1811, 1827, "072", 1.0, 1),
    ("Hilversum", (), 1211, 1223, "035", 0.9, 1),
)
_SMALL_AREA_CODES = (
    "0111 0113 0114 0115 0117 0118 0161 0162 0164 0165 0166 0167 0168 0172 0174 0180 0181 0182 "
    "0183 0184 0186 0187 0222 0223 0224 0226 0227 0228 0229 0251 0252 0255 0294 0297 0299 0313 "
    "0314 0315 0316 0317 0318 0320 0321 0341 0342 0343 0344 0345 0346 0347 0348 0411 0412 0413 "
    "0416 0418 0475 0478 0481 0485 0486 0487 0488 0492 0493 0495 0497 0499 0511 0512 0513 0514 "
    "0515 0516 0517 0518 0519 0521 0522 0523 0524 0525 0527 0528 0529 0541 0543 0544 0545 0546 "
    "0547 0548 0561 0562 0566 0570 0571 0572 0573 0575 0577 0578 0591 0592 0593 0594 0595 0596 "
    "0597 0598 0599"
).split()
_FOREIGN = {
    "BE": dict(
        cities=(("Antwerpen", "2000"), ("Gent", "9000"), ("Brugge", "8000"), ("Leuven", "3000"),
                ("Hasselt", "3500"), ("Mechelen", "2800"), ("Turnhout", "2300")),
        streets=("Meir", "Kerkstraat", "Statiestraat", "Kapelsestraat", "Nationalestraat",
                 "Turnhoutsebaan", "Brusselsesteenweg"),
        surnames=("Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes",
                  "Goossens", "Wouters", "De Smet", "Van Damme", "De Backer", "Vandenberghe"),
        male=("Wout", "Jens", "Koen", "Pieter", "Stijn", "Bram", "Thibault"),
        female=("Lien", "Sien", "Griet", "Els", "Ann", "Eline", "Febe"),
        phone=("32", "47"), pc_prefix="B-",
    ),
    "DE": dict(
        cities=(("Berlin", "10115"), ("Köln", "50667"), ("Düsseldorf", "40213"),
                ("Aachen", "52062"), ("Kleve", "47533"), ("Münster", "48143"), ("Emmerich", "46446")),
        streets=("Hauptstraße", "Bahnhofstraße", "Schulstraße", "Gartenstraße", "Lindenstraße",
                 "Kirchweg"),
        surnames=("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner",
                  "Becker", "Hoffmann", "Schäfer"),
        male=("Jürgen", "Stefan", "Andreas", "Jörg", "Björn", "Matthias", "Lukas"),
        female=("Sabine", "Ute", "Anke", "Jana", "Katrin", "Lea", "Jülide"),
        phone=("49", "15"), pc_prefix="D-",
    ),
}
_EMAIL_DOMAINS = (
    ("gmail.com", 34), ("hotmail.com", 20), ("outlook.com", 8), ("live.nl", 5), ("ziggo.nl", 6),
    ("kpnmail.nl", 5), ("hotmail.nl", 3), ("icloud.com", 5), ("yahoo.com", 3), ("home.nl", 3),
    ("planet.nl", 3), ("xs4all.nl", 2), ("hetnet.nl", 2), ("telfort.nl", 1),
)
_ISP_DOMAINS = ("ziggo.nl", "kpnmail.nl", "home.nl", "planet.nl", "xs4all.nl", "hetnet.nl")
_DOMAIN_TYPOS = {
    "gmail.com": ("gmial.com", "gmail.co", "gamil.com", "gmail.nl", "gmai.com"),
    "hotmail.com": ("hotmial.com", "hotmail.co", "hotmai.com", "hotmil.com"),
    "outlook.com": ("outlok.com", "outlook.nl"), "ziggo.nl": ("ziggo.com", "zigo.nl"),
    "kpnmail.nl": ("kpnmail.com", "kpmail.nl"), "live.nl": ("live.com", "lve.nl"),
    "icloud.com": ("icloud.nl", "iclould.com"), "planet.nl": ("planet.com",),
}
_KEYBOARD = {
    "a": "qsz", "b": "vgn", "c": "xdv", "d": "sfe", "e": "wrd", "f": "dgr", "g": "fht", "h": "gjy",
    "i": "uok", "j": "hku", "k": "jli", "l": "ko", "m": "n", "n": "bm", "o": "ipl", "p": "o",
    "q": "wa", "r": "etf", "s": "adw", "t": "ryg", "u": "yij", "v": "cb", "w": "qes", "x": "zc",
    "y": "tu", "z": "xs",
}
_LETTER_SIZES = ("XS", "S", "M", "L", "XL", "XXL")
_WOMEN_SIZE_W = (0.08, 0.22, 0.32, 0.23, 0.10, 0.05)
_MEN_SIZE_W = (0.02, 0.10, 0.30, 0.33, 0.17, 0.08)
_KIDS_CM = (56, 62, 68, 74, 80, 86, 92, 98, 104, 110, 116, 122, 128, 134, 140, 146, 152, 158, 164)
_DELIVERY = (("home", 0.6), ("pickup_point", 0.25), ("store_pickup", 0.15))
_SLOTS = (("evening", 0.35), ("saturday_morning", 0.2), ("saturday_afternoon", 0.12),
          ("weekday_daytime", 0.23), ("sunday", 0.1))
# category: (sku prefix, price low, price high, sizing)
_CATEGORIES = {
    "womens_clothing": ("WCL", 9.0, 89.0, "women"), "mens_clothing": ("MCL", 9.0, 99.0, "men"),
    "kids_clothing": ("KCL", 5.0, 39.0, "kids"), "shoes": ("SHO", 19.0, 119.0, "shoe"),
    "dog_food": ("DOG", 8.0, 49.0, None), "cat_food": ("CAT", 6.0, 39.0, None),
    "pet_accessories": ("PET", 3.0, 59.0, None), "baby": ("BAB", 5.0, 45.0, None),
    "household": ("HOU", 2.0, 49.0, None), "beauty": ("BEA", 3.0, 39.0, None),
    "toys": ("TOY", 5.0, 69.0, None), "garden": ("GAR", 4.0, 99.0, None),
}
# Food for the pets only some configurations have; their SKUs come from a random stream of their own,
# so that adding them left the draws of every existing seed as they were.
_MORE_PET_FOOD = {"bird_food": ("BRD", 3.0, 29.0, None), "rabbit_food": ("RAB", 4.0, 35.0, None)}
_PET_FOOD = {"dog": "dog_food", "cat": "cat_food", "bird": "bird_food", "rabbit": "rabbit_food"}
# The renamed taxonomy (generate_drop(taxonomy="renamed")): categories as another retailer names them.
_RENAMED = {"womens_clothing": "clothing", "mens_clothing": "clothing", "dog_food": "pet_food/dog",
            "cat_food": "pet_food/cat", "bird_food": "pet_food/bird", "rabbit_food": "pet_food/rabbit"}
_RENAMED_PETS_CONFIG = {"bird_rate": 0.06, "rabbit_rate": 0.05}
TAXONOMIES = ("default", "renamed")


# --------------------------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------------------------

@dataclass(slots=True, eq=False)
class _Address:
    street: str
    number: int
    addition: str        # "", "A", "2", "hs", "bis", "II"
    postcode: str        # canonical "1234AB" or foreign digits
    city: str
    city_aliases: tuple[str, ...]
    country: str         # "NL", "BE", "DE"
    store: str


@dataclass(slots=True, eq=False)
class _Household:
    hid: str
    kind: str
    address: _Address
    old_address: _Address | None = None
    move_at: int = 0                 # seconds into the window; records before it are "old"
    landline: tuple[str, str] | None = None     # (country code, national significant number)
    old_landline: tuple[str, str] | None = None
    card: str = ""
    family_email: str = ""
    pet: str = ""                    # "", "dog", "cat", "both" (dog and cat), "bird", "rabbit"
    persons: list[_Person] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class _Person:
    pid: str
    household: _Household
    gender: str
    first: str
    alts: tuple[str, ...]            # roepnamen or spelling variants of the first name
    middles: tuple[str, ...]
    particle: str
    stem: str
    birth: date | None
    age: int
    partner: _Person | None = None
    child: bool = False              # a child of the household's parents
    double_surname: bool = False
    emails: list[str] = field(default_factory=list)
    mobile: tuple[str, str] | None = None
    card: str = ""
    size: int = 2                    # index into _LETTER_SIZES
    size_change: tuple[int, int] | None = None   # (at, new index)
    shoe: int = 40
    delivery: str = "home"
    delivery_change: tuple[int, str] | None = None
    slot: str = "evening"
    primary: bool = False
    records: list[_Record] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class _Record:
    channel: str
    person: _Person
    at: int                          # seconds into the window
    record_id: str = ""
    card: str = ""
    email: str = ""


def _pick(rng: random.Random, seq: Sequence):
    """rng.choice without its slow integer path; the float path is plenty for these sizes."""
    return seq[int(rng.random() * len(seq))]


def _below(rng: random.Random, a: int, b: int | None = None) -> int:
    """A random integer in [0, a) or, with two arguments, in [a, b)."""
    if b is None:
        return int(rng.random() * a)
    return a + int(rng.random() * (b - a))


def _randint(rng: random.Random, a: int, b: int) -> int:
    """A random integer in [a, b]."""
    return a + int(rng.random() * (b - a + 1))


class _Draw:
    """Weighted choice with cumulative weights computed once."""

    __slots__ = ("options", "cum", "total")

    def __init__(self, pairs: Sequence[tuple[object, float]]) -> None:
        self.options = [p[0] for p in pairs]
        self.cum = list(accumulate(p[1] for p in pairs))
        self.total = self.cum[-1]

    def __call__(self, rng: random.Random):
        return self.options[bisect_right(self.cum, rng.random() * self.total)]


# --------------------------------------------------------------------------------------------
# Pools (built once per drop from Faker seeded with the seed)
# --------------------------------------------------------------------------------------------

@dataclass(slots=True, eq=False)
class _City:
    name: str
    aliases: tuple[str, ...]
    pc_low: int
    pc_high: int
    area: str
    stores: tuple[str, ...]
    streets: list[str]
    postcodes: dict[tuple[int, int], str] = field(default_factory=dict)


@dataclass(slots=True)
class _Pools:
    male_modern: list[str]
    female_modern: list[str]
    surname_plain: _Draw
    surname_particle: _Draw
    cities: list[_City]
    city_draw: _Draw
    all_stores: list[str]
    skus: dict[str, list[tuple[str, int, str]]]   # category -> (sku, price in cents, sizing)


_PARTICLE_RE = re.compile(r"^(" + "|".join(re.escape(p) for p in _PARTICLES) + r") ([A-Z][a-z]+)$")
_PLAIN_RE = re.compile(r"^[A-Z][a-z]{2,}$")


def _build_pools(seed: int, rng: random.Random) -> _Pools:
    """Draw name, street and town pools from Faker once; everything later draws from these."""
    fake = Faker("nl_NL")
    fake.seed_instance(seed)
    male = list(dict.fromkeys(fake.first_name_male() for _ in range(600)))
    female = list(dict.fromkeys(fake.first_name_female() for _ in range(600)))

    plain_tail: list[str] = []
    particle_tail: list[tuple[str, str]] = []
    for _ in range(2500):
        name = fake.last_name()
        m = _PARTICLE_RE.match(name)
        if m:
            particle_tail.append((m.group(1), m.group(2)))
        elif _PLAIN_RE.match(name):
            plain_tail.append(name)
    # Common names dominate (Zipf-like), so unrelated people often share a surname.
    plain = [((None, s), 12.0 / (i + 1) ** 0.6) for i, s in enumerate(_COMMON_PLAIN_SURNAMES)]
    plain += [((None, s), 0.35) for s in plain_tail]
    particle = [((p, s), 12.0 / (i + 1) ** 0.6) for i, (p, s) in enumerate(_COMMON_PARTICLE_SURNAMES)]
    particle += [((p, s), 0.35) for p, s in particle_tail]

    # Faker's streets are "<first name><suffix>"; real ones are as often named after people.
    faker_streets = list(dict.fromkeys(fake.street_name() for _ in range(1500)))
    faker_streets += list(dict.fromkeys(
        f"{stem}{_pick(rng, _STREET_SUFFIXES)}" for stem in plain_tail[:1000]
    ))
    used_prefixes = {c[0] for c in _BIG_CITIES}
    towns: list[str] = []
    for _ in range(1200):
        t = fake.city()
        if t not in used_prefixes and "(" not in t:
            used_prefixes.add(t)
            towns.append(t)
        if len(towns) >= 180:
            break

    cities: list[_City] = []
    weights: list[float] = []
    store_no = 0
    all_stores: list[str] = []

    def new_stores(k: int) -> tuple[str, ...]:
        nonlocal store_no
        out = []
        for _ in range(k):
            store_no += 1
            out.append(f"S{store_no:03d}")
        all_stores.extend(out)
        return tuple(out)

    def streets_for(n: int) -> list[str]:
        out = list(dict.fromkeys(
            _pick(rng, _CLASSIC_STREETS) if rng.random() < 0.35 else _pick(rng, faker_streets)
            for _ in range(n)
        ))
        return out

    for name, aliases, lo, hi, area, weight, n_stores in _BIG_CITIES:
        cities.append(_City(name, aliases, lo, hi, area, new_stores(n_stores),
                            streets_for(int(60 * weight) + 40)))
        weights.append(weight)
    for town in towns:
        lo = _below(rng, 1000, 9990)
        stores = new_stores(1) if rng.random() < 0.4 else ()
        cities.append(_City(town, (), lo, lo + _below(rng, 0, 4), _pick(rng, _SMALL_AREA_CODES),
                            stores, streets_for(_below(rng, 15, 45))))
        weights.append(0.12)
    for city in cities:
        if not city.stores:
            city.stores = (_pick(rng, all_stores),)

    skus: dict[str, list[tuple[str, int, str]]] = {}
    for cat, (prefix, lo_p, hi_p, sizing) in _CATEGORIES.items():
        items = []
        for n in rng.sample(range(10000, 99999), 250):
            cents = 100 * int(rng.uniform(lo_p, hi_p)) + _pick(rng, (99, 95, 49, 0))
            system = "letter"
            if sizing == "women" and rng.random() < 0.5:
                system = "numeric"
            items.append((f"{prefix}{n}", cents, system))
        skus[cat] = items
    more = random.Random(f"more-pet-food-{seed}")
    for cat, (prefix, lo_p, hi_p, _) in _MORE_PET_FOOD.items():
        skus[cat] = [(f"{prefix}{n}", 100 * int(more.uniform(lo_p, hi_p)) + _pick(more, (99, 95, 49, 0)), "letter")
                     for n in more.sample(range(10000, 99999), 250)]

    return _Pools(
        male_modern=male, female_modern=female, surname_plain=_Draw(plain),
        surname_particle=_Draw(particle), cities=cities,
        city_draw=_Draw(list(zip(range(len(cities)), weights))), all_stores=all_stores, skus=skus,
    )


# --------------------------------------------------------------------------------------------
# Population
# --------------------------------------------------------------------------------------------

class _World:
    """Mutable state of one generation run: the rng, pools, config and uniqueness registers."""

    def __init__(self, seed: int, cfg: SynthConfig) -> None:
        self.rng = random.Random(seed)
        self.cfg = cfg
        self.pools = _build_pools(seed, self.rng)
        self.window = cfg.history_days * 86400
        self.start = cfg.as_of - timedelta(seconds=self.window)
        midnight = datetime.combine(self.start.date(), datetime.min.time())
        self.start_offset = int((self.start - midnight).total_seconds())
        self.days = [(midnight.date() + timedelta(days=d)).isoformat()
                     for d in range(cfg.history_days + 2)]
        self.emails: set[str] = set()
        self.logins: dict[str, set[str]] = {"webshop": set(), "app": set()}
        self.cards: set[str] = set()
        self.phones: set[str] = set()
        self.addresses: list[_Address] = []
        self.next_person = 0
        self.families: list[_Household] = []
        self.category_draws: dict[tuple, _Draw] = {}
        self.latest_birth: dict[int, int] = {}
        # Official names for Dutch-born persons (and their middle names); not the transliterated ones.
        origin_names = {n for names in _ORIGIN_NAMES.values() for n in names}
        self.v2 = cfg.noise == "v2"
        if self.v2:
            self.formal_male, self.formal_female = synth_names.FORMAL_MALE, synth_names.FORMAL_FEMALE
            self.forms = {**synth_names.FORMAL_MALE, **synth_names.FORMAL_FEMALE,
                          **synth_names.ORIGIN_VARIANTS}
        else:
            self.formal_male, self.formal_female = _FORMAL_MALE, _FORMAL_FEMALE
        self.formal_m = [n for n in self.formal_male if n not in origin_names]
        self.formal_f = [n for n in self.formal_female if n not in origin_names]
        self.city_by_name = {c.name: c for c in self.pools.cities}
        self.domain = _Draw(_EMAIL_DOMAINS)
        self.household_kind = _Draw(cfg.household_mix)
        self.profiles = cfg.channels
        self.birth_fmt = {c: _Draw(p.birth_formats) for c, p in cfg.channels.items()}
        self.phone_fmt = {c: _Draw(p.phone_notations) for c, p in cfg.channels.items()}
        self.pc_fmt = {c: _Draw(p.postcode_formats) for c, p in cfg.channels.items()}

    # ---- identifiers -------------------------------------------------------------------
    def new_card(self) -> str:
        rng = self.rng
        while True:
            card = f"26{int(rng.random() * 10**11):011d}"
            if card not in self.cards:
                self.cards.add(card)
                return card

    def new_mobile(self, country: str = "31") -> tuple[str, str]:
        rng = self.rng
        while True:
            if country == "31":
                nsn = "6" + str(_randint(rng, 1, 5)) + f"{_below(rng, 10**7):07d}"
            elif country == "32":
                nsn = "4" + str(_randint(rng, 70, 99)) + f"{_below(rng, 10**6):06d}"
            elif country == "49":
                prefix = _pick(rng, ("51", "52", "60", "70", "71", "76"))
                nsn = f"1{prefix}{_below(rng, 10**8):08d}"
            else:  # Polish mobile
                nsn = _pick(rng, "5678") + f"{_below(rng, 10**8):08d}"
            if (country, nsn) not in self.phones:
                self.phones.add((country, nsn))
                return country, nsn

    def new_landline(self, area: str) -> tuple[str, str]:
        rng = self.rng
        digits = 10 - len(area)
        while True:
            tail = f"{_below(rng, 10 ** (digits - 1)):0{digits - 1}d}"
            nsn = f"{area[1:]}{_randint(rng, 2, 9)}{tail}"
            if ("31", nsn) not in self.phones:
                self.phones.add(("31", nsn))
                return "31", nsn

    def iso(self, seconds: int) -> str:
        """The ISO timestamp `seconds` into the window, e.g. '2024-03-01T14:05:09'."""
        day, rest = divmod(seconds + self.start_offset, 86400)
        hours, rest = divmod(rest, 3600)
        minutes, secs = divmod(rest, 60)
        return f"{self.days[day]}T{hours:02d}:{minutes:02d}:{secs:02d}"

    def unique_email(self, local: str, domain: str) -> str:
        rng = self.rng
        address = f"{local}@{domain}"
        while address in self.emails:
            address = f"{local}{_randint(rng, 1, 999)}@{domain}"
        self.emails.add(address)
        return address

    # ---- addresses ---------------------------------------------------------------------
    def new_address(self, near: _City | None = None) -> _Address:
        rng = self.rng
        if self.addresses and rng.random() < self.cfg.neighbour_rate:
            # Another flat in the same building as an earlier household.
            base = _pick(rng, self.addresses)
            if base.country == "NL":
                used = {a.addition for a in self.addresses[-200:] if a.street == base.street}
                for add in ("1", "2", "3", "A", "B", "C", "hs", "II"):
                    if add != base.addition and add not in used:
                        addr = _Address(base.street, base.number, add, base.postcode, base.city,
                                        base.city_aliases, "NL", base.store)
                        self.addresses.append(addr)
                        return addr
        city = near if near is not None else self.pools.cities[self.pools.city_draw(rng)]
        street_i = _below(rng, len(city.streets))
        number = min(int(rng.expovariate(1 / 35)) + 1, 380)
        key = (street_i, number // 40)
        postcode = city.postcodes.get(key)
        if postcode is None:
            letters = "SA"
            while letters in ("SA", "SD", "SS"):
                letters = _pick(rng, "ABCDEGHJKLMNPRSTVWXZ") + _pick(rng, "ABCDEGHJKLMNPRSTVWXZ")
            postcode = f"{_randint(rng, city.pc_low, city.pc_high)}{letters}"
            city.postcodes[key] = postcode
        r = rng.random()
        addition = ""
        if r < 0.18:
            addition = _ADDITIONS(rng)
        addr = _Address(city.streets[street_i], number, addition, postcode, city.name,
                        city.aliases, "NL", _pick(rng, city.stores))
        self.addresses.append(addr)
        return addr

    def foreign_address(self, country: str) -> _Address:
        rng = self.rng
        info = _FOREIGN[country]
        city, pc = _pick(rng, info["cities"])
        if country == "DE":
            pc = f"{int(pc) + _below(rng, 0, 80):05d}"
        return _Address(_pick(rng, info["streets"]), _randint(rng, 1, 180), "", pc, city, (),
                        country, _pick(rng, self.pools.all_stores[:8]))

    # ---- persons -----------------------------------------------------------------------
    def forms_of(self, name: str) -> tuple[str, ...]:
        """The roepnamen or spellings a given name goes by in this noise version's list."""
        if self.v2:
            return self.forms.get(name, ())
        return _FORMAL_MALE.get(name) or _FORMAL_FEMALE.get(name) or ()

    def roepnamen(self, alts: tuple[str, ...]) -> tuple[str, ...]:
        """The forms of a formal name one person goes by: the usual one first, then a few others."""
        rng = self.rng
        if not self.v2:
            roep = _pick(rng, alts)
            return (roep,) + tuple(a for a in alts if a != roep and rng.random() < 0.3)
        # The list gives the most usual form first: form i is chosen with weight 1 / (i + 1).
        roep = alts[_ZIPF[len(alts)](rng)]
        rate = self.cfg.name_noise.other_form_rate
        return (roep,) + tuple(a for a in alts if a != roep and rng.random() < rate)

    def other_first_name(self, p: _Person) -> str:
        """A first name of the person's gender that is not theirs (v2: a name replaced outright)."""
        rng = self.rng
        pools = ((_CLASSIC_MALE, self.pools.male_modern, self.formal_m) if p.gender == "M" else
                 (_CLASSIC_FEMALE, self.pools.female_modern, self.formal_f))
        own = {p.first, *p.alts}
        while True:
            name = _pick(rng, _pick(rng, pools))
            if name not in own:
                return name

    def birth_for(self, age: int) -> date:
        # A birthday uniformly in the year that makes the person `age` at the reference date.
        latest = self.latest_birth.get(age)
        if latest is None:
            ref = self.cfg.as_of.date()
            latest = self.latest_birth[age] = date(ref.year - age, ref.month, min(ref.day, 28)).toordinal()
        return date.fromordinal(latest - int(self.rng.random() * 365))

    def surname(self) -> tuple[str, str]:
        rng = self.rng
        r = rng.random()
        if r < 0.30:
            return self.pools.surname_particle(rng)
        if r < 0.38:
            return "", _pick(rng, _MIGRANT_SURNAMES)
        return "", self.pools.surname_plain(rng)[1]

    def given_names(self, gender: str, birth_year: int) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
        rng = self.rng
        cfg = self.cfg
        if birth_year < 1965:
            formal_p, classic_p = cfg.formal_name_rate * 1.5, 0.9
        elif birth_year < 1990:
            formal_p, classic_p = cfg.formal_name_rate * 0.8, 0.85
        else:
            formal_p, classic_p = cfg.formal_name_rate * 0.3, 0.25
        r = rng.random()
        formal = self.formal_male if gender == "M" else self.formal_female
        if r < formal_p:
            first = _pick(rng, self.formal_m if gender == "M" else self.formal_f)
            # The roepnaam is the usual one; the other forms turn up occasionally.
            alts = self.roepnamen(formal[first])
            middles = tuple(_pick(rng, self.formal_m if gender == "M" else self.formal_f)
                            for _ in range(_pick(rng, (1, 1, 2))))
            return first, alts, middles
        if rng.random() < classic_p:
            first = _pick(rng, _CLASSIC_MALE if gender == "M" else _CLASSIC_FEMALE)
        else:
            first = _pick(rng, self.pools.male_modern if gender == "M" else self.pools.female_modern)
        middles = ()
        if rng.random() < 0.5:
            middles = (_pick(rng, self.formal_m if gender == "M" else self.formal_f),)
        return first, (), middles

    def person(self, hh: _Household, gender: str, age: int, surname: tuple[str, str] | None = None,
               first: str | None = None, birth: date | None = None, foreign: str = "") -> _Person:
        rng = self.rng
        self.next_person += 1
        if birth is None:
            birth = self.birth_for(age)
        if foreign:
            info = _FOREIGN[foreign]
            name = first or _pick(rng, info["male"] if gender == "M" else info["female"])
            alts, middles = (), ()
            particle, stem = surname or ("", _pick(rng, info["surnames"]))
        else:
            particle, stem = surname or self.surname()
            origin = _ORIGIN_OF.get(stem)
            if origin and first is None and (birth.year < 1995 or rng.random() < 0.5):
                name = _pick(rng, _ORIGIN_NAMES[origin, gender])
                forms = self.forms_of(name)
                alts, middles = ((_pick(rng, forms),) if forms and rng.random() < 0.5 else ()), ()
            else:
                name, alts, middles = self.given_names(gender, birth.year)
            if first is not None:
                # Named after a relative: same official name, often another roepnaam.
                forms = self.forms_of(first)
                name, alts = first, ((_pick(rng, forms),) if forms else ())
        p = _Person(
            pid=f"PER{self.next_person:07d}", household=hh, gender=gender, first=name, alts=alts,
            middles=middles, particle=particle, stem=stem, birth=birth, age=age,
        )
        p.size = _SIZE_DRAW[gender](rng)
        if gender == "F":
            p.shoe = max(36, min(42, round(rng.gauss(39, 1.3))))
        else:
            p.shoe = max(40, min(46, round(rng.gauss(43.5, 1.4))))
        p.delivery = _DELIVERY_DRAW(rng)
        p.slot = _SLOT_DRAW(rng)
        hh.persons.append(p)
        return p


_ZIPF = {n: _Draw([(i, 1.0 / (i + 1)) for i in range(n)])
         for n in {len(forms) for table in (synth_names.FORMAL_MALE, synth_names.FORMAL_FEMALE)
                   for forms in table.values()}}
_ADDITIONS = _Draw((("A", 0.3), ("B", 0.12), ("C", 0.03), ("1", 0.15), ("2", 0.14), ("3", 0.06),
                    ("hs", 0.08), ("bis", 0.03), ("II", 0.04), ("bg", 0.05)))
_SIZE_DRAW = {"F": _Draw(list(zip(range(6), _WOMEN_SIZE_W))),
              "M": _Draw(list(zip(range(6), _MEN_SIZE_W)))}
_DELIVERY_DRAW = _Draw(_DELIVERY)
_SLOT_DRAW = _Draw(_SLOTS)


def _single_age(rng: random.Random) -> int:
    band = rng.random()
    if band < 0.35:
        return _randint(rng, 19, 32)
    if band < 0.65:
        return _randint(rng, 33, 64)
    return _randint(rng, 65, 92)


def _build_household(w: _World, index: int) -> _Household:
    rng = w.rng
    cfg = w.cfg
    hid = f"HH{index + 1:06d}"
    foreign = ""
    if rng.random() < cfg.foreign_household_rate:
        foreign = _pick(rng, ("BE", "BE", "DE"))
        kind = "single" if rng.random() < 0.6 else "couple"
        address = w.foreign_address(foreign)
    else:
        kind = w.household_kind(rng)
        address = w.new_address()
    hh = _Household(hid=hid, kind=kind, address=address)

    if kind == "single":
        w.person(hh, _pick(rng, "MF"), _single_age(rng), foreign=foreign)
    elif kind == "couple":
        a = _randint(rng, 21, 86)
        g1 = _pick(rng, "MF")
        g2 = g1 if rng.random() < 0.05 else ("F" if g1 == "M" else "M")
        p1 = w.person(hh, g1, a, foreign=foreign)
        p2 = w.person(hh, g2, max(19, min(92, a + _randint(rng, -6, 6))), foreign=foreign)
        p1.partner, p2.partner = p2, p1
    elif kind == "family":
        _build_family(w, hh)
    elif kind == "multigen":
        mid = _randint(rng, 42, 62)
        g1 = _pick(rng, "MF")
        p1 = w.person(hh, g1, mid)
        if rng.random() < 0.6:
            p2 = w.person(hh, "F" if g1 == "M" else "M", mid + _randint(rng, -5, 5))
            p1.partner, p2.partner = p2, p1
        old_age = min(95, mid + _randint(rng, 24, 34))
        parent_gender = _pick(rng, "MF")
        same_first = p1.first if (g1 == "M" and parent_gender == "M" and rng.random() < 0.3) else None
        w.person(hh, parent_gender, old_age, surname=(p1.particle, p1.stem), first=same_first)
    else:  # flatshare: unrelated adults, different surnames
        for _ in range(_pick(rng, (2, 2, 3, 4))):
            w.person(hh, _pick(rng, "MF"), _randint(rng, 19, 34))

    _household_extras(w, hh, foreign)
    return hh


_N_KIDS = _Draw(((1, 0.35), (2, 0.45), (3, 0.2)))
_N_PREFS = _Draw(((1, 0.6), (2, 0.3), (3, 0.1)))
_FALLBACK_CHANNEL = _Draw((("pos", 0.5), ("webshop", 0.35), ("app", 0.1), ("service", 0.05)))


def _build_family(w: _World, hh: _Household) -> None:
    rng = w.rng
    cfg = w.cfg
    single = rng.random() < cfg.single_parent_rate
    twins = rng.random() < cfg.twin_family_rate
    n_kids = _N_KIDS(rng)
    if twins:
        n_kids = max(2, n_kids)
    twin_age = _randint(rng, 16, 24) if rng.random() < 0.75 else _randint(rng, 1, 15)
    low = 26 if not twins else twin_age + 21
    parent_age = _randint(rng, max(26, low), max(58, low + 2))
    father = mother = None
    if single:
        g = "F" if rng.random() < 0.8 else "M"
        p = w.person(hh, g, parent_age)
        if g == "F":
            mother = p
        else:
            father = p
    else:
        father = w.person(hh, "M", parent_age + _randint(rng, -2, 5))
        mother = w.person(hh, "F", parent_age)
        father.partner, mother.partner = mother, father
    if father is not None:
        kid_surname = (father.particle, father.stem)
        if mother is not None and rng.random() < 0.12:
            kid_surname = (mother.particle, mother.stem)
    else:
        # Single mother: children often carry the absent father's name.
        kid_surname = (mother.particle, mother.stem) if rng.random() < 0.55 else w.surname()
    max_age = min(25, parent_age - 20)
    ages = sorted((_randint(rng, 0, max_age) for _ in range(n_kids)), reverse=True)
    named_son = father is not None and rng.random() < cfg.son_named_after_father
    start = 0
    if twins:
        ages = [min(twin_age, max_age)] * 2 + ages[2:]
        birth = w.birth_for(ages[0])
        pair = _pick(rng, _TWIN_NAMES) if rng.random() < 0.5 else None
        for k in range(2):
            if pair:
                name, gender = pair[k]
            else:
                gender = _pick(rng, "MF")
                name = None
            kid = w.person(hh, gender, ages[k], surname=kid_surname, birth=birth)
            kid.child = True
            if name:
                kid.first, kid.alts = name, ()
            elif k == 1 and rng.random() < 0.5:
                # Same initial as the other twin.
                first_kid = hh.persons[-2]
                pool = (w.pools.male_modern if gender == "M" else w.pools.female_modern)
                same = [n for n in pool if n[0] == first_kid.first[0] and n != first_kid.first]
                if same:
                    kid.first, kid.alts = _pick(rng, same), ()
            while k == 1 and kid.first == hh.persons[-2].first:   # twins never share a name
                pool = w.pools.male_modern if gender == "M" else w.pools.female_modern
                kid.first, kid.alts = _pick(rng, pool), ()
        start = 2
    for age in ages[start:]:
        gender = _pick(rng, "MF")
        if named_son and gender == "M":
            kid = w.person(hh, "M", age, surname=kid_surname, first=father.first)
            named_son = False
        else:
            kid = w.person(hh, gender, age, surname=kid_surname)
        kid.child = True
    w.families.append(hh)


def _household_extras(w: _World, hh: _Household, foreign: str) -> None:
    rng = w.rng
    cfg = w.cfg
    persons = hh.persons
    adults = [p for p in persons if p.age >= 18]
    for p in persons:
        if rng.random() < cfg.no_birth_date_rate:
            p.birth = None
        if foreign:
            p.mobile = w.new_mobile("32" if foreign == "BE" else "49")
        elif p.age >= 12 and not (p.age >= 80 and rng.random() < 0.3):
            p.mobile = w.new_mobile("48" if rng.random() < 0.005 else "31")
        if (p.partner is not None and p.gender == "F" and p.partner.gender == "M" and not foreign
                and (p.partner.particle, p.partner.stem) != (p.particle, p.stem)):
            rate = cfg.double_surname_rate * (1.5 if p.birth and p.birth.year < 1970 else 0.7)
            p.double_surname = rng.random() < rate
    adults[0].primary = True
    if not foreign and rng.random() < cfg.landline_rate:
        city = w.city_by_name.get(hh.address.city)
        hh.landline = w.new_landline(city.area if city else _pick(rng, _SMALL_AREA_CODES))
    if not foreign and rng.random() < cfg.mover_rate:
        _make_mover(w, hh)
    r = rng.random()
    if r < cfg.dog_rate:
        hh.pet = "both" if rng.random() < 0.15 else "dog"
    elif r < cfg.dog_rate + cfg.cat_rate:
        hh.pet = "cat"
    elif r < cfg.dog_rate + cfg.cat_rate + cfg.bird_rate:
        hh.pet = "bird"
    elif r < cfg.dog_rate + cfg.cat_rate + cfg.bird_rate + cfg.rabbit_rate:
        hh.pet = "rabbit"

    # Cards: shared by the household in about half of the multi-adult households.
    if len(adults) > 1 and rng.random() < cfg.shared_card_rate:
        hh.card = w.new_card()
    for p in persons:
        if hh.card and (p.age >= 18 or (p.age >= 16 and rng.random() < 0.5)):
            p.card = hh.card
        else:
            p.card = w.new_card()

    for p in persons:
        if p.age >= 12:
            _make_emails(w, p, foreign)
    if len(adults) > 1 and rng.random() < cfg.family_email_rate:
        a, b = adults[0], adults[1]
        if rng.random() < 0.5:
            hh.family_email = a.emails[0]          # one partner's address used by both
        else:
            stem = _fold((a.particle + a.stem) if rng.random() < 0.7 else a.stem)
            local = _pick(rng, (
                f"familie{stem}", f"fam.{stem}", f"{_fold(a.first)}en{_fold(b.first)}",
                f"{stem}{_fold(b.stem)}", f"familie.{stem}",
            ))
            domain = _pick(rng, _ISP_DOMAINS + ("hotmail.com", "gmail.com"))
            hh.family_email = w.unique_email(local, domain)


def _make_mover(w: _World, hh: _Household) -> None:
    rng = w.rng
    old_city = None
    if rng.random() < 0.6:
        old_city = w.city_by_name.get(hh.address.city)
    hh.old_address = w.new_address(near=old_city)
    hh.move_at = _below(rng, int(w.window * 0.1), int(w.window * 0.95))
    if hh.landline is not None or rng.random() < 0.15:
        city = w.city_by_name.get(hh.old_address.city)
        hh.old_landline = w.new_landline(city.area if city else _pick(rng, _SMALL_AREA_CODES))


def _link_leavers(w: _World, households: list[_Household]) -> None:
    """Young singles who left home: their old records carry the parents' address and name."""
    rng = w.rng
    if not w.families:
        return
    for hh in households:
        if hh.kind != "single" or hh.address.country != "NL":
            continue
        p = hh.persons[0]
        if hh.old_address is not None or not 19 <= p.age <= 30:
            continue
        if rng.random() >= w.cfg.left_home_rate:
            continue
        for _ in range(5):
            fam = _pick(rng, w.families)
            parents = [q for q in fam.persons if q.age >= p.age + 20]
            if parents and fam.old_address is None:
                father = next((q for q in parents if q.gender == "M"), parents[0])
                p.particle, p.stem = father.particle, father.stem
                p.double_surname = False
                _make_emails(w, p, "")
                hh.old_address = fam.address
                hh.old_landline = fam.landline
                hh.move_at = _below(rng, int(w.window * 0.1), int(w.window * 0.9))
                break


# ---- e-mail ------------------------------------------------------------------------------

@lru_cache(maxsize=65536)
def _fold(text: str) -> str:
    """Lower-case ASCII letters and digits only: 'Öztürk' -> 'ozturk', "van 't Hof" -> 'vanthof'."""
    text = text.replace("ı", "i").replace("ß", "ss")
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text.lower() if ch.isascii() and ch.isalnum())


@lru_cache(maxsize=65536)
def _strip_accents(text: str) -> str:
    text = text.replace("ı", "i").replace("İ", "I").replace("ß", "ss")
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


_EMAIL_PATTERNS = _Draw((
    ("{first}.{last}", 30), ("{ini}.{last}", 14), ("{first}{last}", 12), ("{first}.{last}{yy}", 7),
    ("{ini}{last}{yy}", 6), ("{first}_{last}", 4), ("{first}{yyyy}", 6), ("{last}.{first}", 3),
    ("{first}{n}", 6), ("{first}{last3}", 3), ("{ini}.{stem}", 5),
))


def _make_emails(w: _World, p: _Person, foreign: str) -> None:
    rng = w.rng
    first = _fold(p.alts[0] if p.alts and rng.random() < 0.7 else p.first) or "info"
    ini = first[0]
    last_full = _fold(p.particle + p.stem)
    last = last_full if rng.random() < 0.7 else _fold(p.stem)
    yy = f"{p.birth.year % 100:02d}" if p.birth else str(_randint(rng, 10, 99))
    yyyy = str(p.birth.year) if p.birth else str(_randint(rng, 1950, 2005))
    stem = _fold(p.stem)
    n = str(_randint(rng, 1, 999))
    values = dict(first=first, ini=ini, last=last, yy=yy, yyyy=yyyy, n=n, last3=last[:3], stem=stem)
    local = _EMAIL_PATTERNS(rng).format(**values)
    if foreign == "BE":
        domain = _pick(rng, ("telenet.be", "skynet.be", "gmail.com", "hotmail.com"))
    elif foreign == "DE":
        domain = _pick(rng, ("gmx.de", "web.de", "t-online.de", "gmail.com"))
    elif p.age >= 60 and rng.random() < 0.5:
        domain = _pick(rng, _ISP_DOMAINS)
    else:
        domain = w.domain(rng)
    p.emails = [w.unique_email(local, domain)]
    if rng.random() < w.cfg.second_email_rate:
        local2 = _EMAIL_PATTERNS(rng).format(**values)
        p.emails.append(w.unique_email(local2, w.domain(rng)))


# --------------------------------------------------------------------------------------------
# Records: which channels each person has, and when
# --------------------------------------------------------------------------------------------

def _plan_records(w: _World, hh: _Household) -> None:
    rng = w.rng
    cfg = w.cfg
    prof = w.profiles
    for p in hh.persons:
        if p.age < 16:
            if p.age >= 12 and rng.random() < cfg.minor_record_rate:
                p.records.append(_Record("app", p, _when(w, "app", 0, w.window)))
            continue
        if p.child:
            if rng.random() >= cfg.adult_child_record_rate:
                continue
            uptake = {"pos": 0.35, "webshop": 0.45, "app": 0.6, "service": 0.1}
        else:
            if not p.primary and rng.random() < cfg.non_customer_rate:
                continue
            uptake = {c: prof[c].uptake for c in CHANNELS}
            if p.age >= 70:
                uptake["webshop"] *= 0.5
                uptake["app"] *= 0.2
            elif p.age >= 45:
                uptake["app"] *= 0.6
            else:
                uptake["app"] *= 1.3
        if p.household.address.country != "NL":
            uptake = {"pos": 0.1, "webshop": 0.95, "app": 0.2, "service": 0.2}
        channels = [c for c in CHANNELS if rng.random() < uptake[c]]
        if not channels:
            channels = [_FALLBACK_CHANNEL(rng)]
        for c in channels:
            n = 1
            if rng.random() < prof[c].duplicate:
                n = 2 if rng.random() > 0.2 or c != "service" else 3
            for _ in range(n):
                p.records.append(_Record(c, p, _when(w, c, 0, w.window)))
        # Movers: make old and new addresses both visible when a person has several records.
        if hh.old_address is not None and len(p.records) >= 2:
            p.records.sort(key=lambda r: r.at)
            if p.records[0].at >= hh.move_at:
                p.records[0].at = _when(w, p.records[0].channel, 0, hh.move_at)
            if p.records[-1].at < hh.move_at:
                p.records[-1].at = _when(w, p.records[-1].channel, hh.move_at, w.window)
    # The primary adult is never a non-customer and falls back to one channel, so every
    # household shows up in the drop.
    assert any(p.records for p in hh.persons), hh.hid


# --------------------------------------------------------------------------------------------
# Rendering: a person's truth through a channel's noise
# --------------------------------------------------------------------------------------------

def _typo(text: str, rng: random.Random) -> str:
    if len(text) < 3:
        return text
    i = _below(rng, 1, len(text)) if rng.random() < 0.85 else 0
    op = rng.random()
    ch = text[i]
    low = ch.lower()
    near = _KEYBOARD.get(low, "aeiou")
    if op < 0.3:      # substitute with a neighbouring key
        sub = _pick(rng, near)
        return text[:i] + (sub.upper() if ch.isupper() else sub) + text[i + 1:]
    if op < 0.55:     # delete
        return text[:i] + text[i + 1:]
    if op < 0.8:      # insert: doubled letter or neighbouring key
        ins = low if rng.random() < 0.6 else _pick(rng, near)
        return text[:i] + ins + text[i:]
    j = i if i < len(text) - 1 else i - 1   # transpose
    return text[:j] + text[j + 1] + text[j] + text[j + 2:]


_ABBREV = {"van der": ("v.d.", "vd", "v/d", "V.d."), "van den": ("v.d.", "vd", "v/d", "vd."),
           "van de": ("v.d.", "vd", "v/d"), "van": ("v.",), "van 't": ("v. 't", "v.t."),
           "in 't": ("i.t.",)}
_PARTICLE_STYLES = _Draw((
    ("capital", 0.18), ("abbrev", 0.14), ("comma", 0.12), ("after", 0.08), ("in_first", 0.12),
    ("dropped", 0.16), ("joined", 0.08), ("tick", 0.04), ("upper_all", 0.08),
))


def _surname_variant(particle: str, stem: str, rng: random.Random) -> tuple[str, str]:
    """A surname with a particle as some system stored it: (last_name, suffix for first_name)."""
    style = _PARTICLE_STYLES(rng)
    if style == "abbrev" and particle in _ABBREV:
        return f"{_pick(rng, _ABBREV[particle])} {stem}", ""
    if style == "comma":
        return f"{stem}, {particle}", ""
    if style == "after":
        return f"{stem} {particle}", ""
    if style == "in_first":
        return stem, particle
    if style == "dropped":
        return stem, ""
    if style == "joined":
        joined = (particle + stem).replace(" ", "").replace("'", "")
        return (joined.capitalize() if rng.random() < 0.5 else
                "".join(w.capitalize() for w in (particle + " " + stem).replace("'", "").split())), ""
    if style == "tick" and "'t" in particle:
        return f"{particle.replace(chr(39) + 't', _pick(rng, ('t', 'het')))} {stem}", ""
    if style == "upper_all":
        return f"{particle.title()} {stem}", ""
    return f"{particle[0].upper()}{particle[1:]} {stem}", ""


def _initials(p: _Person, rng: random.Random) -> str:
    letters = [p.first[0].upper()] + [m[0].upper() for m in p.middles]
    if len(letters) > 1 and rng.random() < 0.4:
        letters = letters[:1]
    style = rng.random()
    if style < 0.55:
        return "".join(f"{c}." for c in letters)
    if style < 0.8:
        return "".join(letters)
    if style < 0.9:
        return " ".join(letters)
    return ".".join(letters).lower() + "."


def _flip_accents(text: str) -> str:
    plain = _strip_accents(text)
    if plain != text:
        return plain
    return _ACCENT_ADD.get(text, text)


def _render_names(w: _World, rec: _Record, prof: ChannelProfile, upper: bool) -> tuple[str, str]:
    rng = w.rng
    p = rec.person
    noise = w.cfg.name_noise
    first = p.first
    if w.v2 and rec is not p.records[0] and rng.random() < noise.first_name_replaced:
        first = w.other_first_name(p)
    elif p.alts and rng.random() < prof.nickname:
        first = p.alts[0] if rng.random() < 0.8 else _pick(rng, p.alts)
    r = rng.random()
    if r < prof.initials:
        first = _initials(p, rng)
    elif r < prof.initials + prof.full_given_names and p.middles:
        first = " ".join((p.first,) + p.middles)

    suffix = ""
    if p.double_surname and p.partner is not None and rng.random() < 0.55:
        own = f"{p.particle} {p.stem}".strip()
        his = f"{p.partner.particle} {p.partner.stem}".strip()
        r = rng.random()
        if r < 0.2:
            last = his                                   # only the husband's name
        else:
            sep = "-" if rng.random() < 0.85 else _pick(rng, (" - ", "- ", " "))
            last = f"{his}{sep}{own}" if r < 0.8 else f"{own}{sep}{his}"
    elif p.particle and rng.random() < prof.particle_variant:
        last, suffix = _surname_variant(p.particle, p.stem, rng)
    else:
        last = f"{p.particle} {p.stem}".strip()
    if suffix and first:
        first = f"{first} {suffix}"

    if rng.random() < prof.accent_flip:
        first, last = _flip_accents(first), _flip_accents(last)
    if rng.random() < prof.name_typo:
        if rng.random() < 0.5 and len(first) > 3:
            first = _typo(first, rng)
        else:
            last = _typo(last, rng)
    if w.v2:
        first, last = _name_noise(first, last, noise, rng)
    if rng.random() < prof.first_missing or (w.v2 and rng.random() < noise.first_missing):
        first = ""
    if rng.random() < prof.last_missing:
        last = ""
    if rng.random() < prof.salutation:
        last = f"{'Dhr.' if p.gender == 'M' else _pick(rng, ('Mevr.', 'Mw.'))} {last}"
        first = ""
    if rng.random() < prof.swap_names:
        first, last = last, first
    if upper:
        first, last = first.upper(), last.upper()
    elif rng.random() < prof.lower:
        first, last = first.lower(), last.lower()
    return first, last


def _name_noise(first: str, last: str, noise: NameNoise, rng: random.Random) -> tuple[str, str]:
    """Names after v2's transpositions, doubled or dropped letters and respellings (each independent)."""
    for rate, change in ((noise.transposition, None), (noise.double_or_drop, synth_noise.double_or_drop),
                         (noise.phonetic, synth_noise.respell)):
        if rng.random() >= rate:
            continue
        if change is None:   # a transposition, for a share of them with one more edit on top
            change = (synth_noise.transpose_and_edit if rng.random() < noise.transposition_edit
                      else synth_noise.transpose)
        if rng.random() < 0.5 and first:
            first = change(first, rng)
        else:
            last = change(last, rng)
    return first, last


def _render_birth(w: _World, rec: _Record, prof: ChannelProfile) -> str:
    rng = w.rng
    b = rec.person.birth
    if b is None or rng.random() < prof.birth_missing:
        return ""
    if rng.random() < prof.birth_typo:
        b = _birth_typo(b, rng, w.cfg.as_of.date())
    return b.strftime(w.birth_fmt[rec.channel](rng))


def _birth_typo(b: date, rng: random.Random, latest: date) -> date:
    if b.day <= 12 and b.day != b.month and rng.random() < 0.4:
        return date(b.year, b.day, b.month)
    for _ in range(6):
        part = _pick(rng, ("d", "m", "y"))
        try:
            if part == "d":
                s = f"{b.day:02d}"
                k = _below(rng, 2)
                s = s[:k] + str(_below(rng, 10)) + s[k + 1:]
                cand = date(b.year, b.month, int(s))
            elif part == "m":
                cand = date(b.year, max(1, min(12, b.month + _pick(rng, (-1, 1)))), b.day)
            else:
                cand = date(b.year + _pick(rng, (-10, -1, 1, 10)), b.month, b.day)
        except ValueError:
            continue
        if cand != b and cand < latest:
            return cand
    return b


def _phone_notation(country: str, nsn: str, style: str) -> str:
    if country != "31":
        if style in ("compact", "dash", "spaced", "paren"):
            style = "intl_spaced"
        if style == "e164":
            return f"+{country}{nsn}"
        if style == "intl_00":
            return f"00{country}{nsn}"
        return f"+{country} {nsn[:3]} {nsn[3:]}"
    mobile = nsn.startswith("6")
    area = nsn[:1] if mobile else (nsn[:2] if len(_area_of(nsn)) == 3 else nsn[:3])
    rest = nsn[len(area):]
    if style == "compact":
        return f"0{nsn}"
    if style == "dash":
        return f"0{area}-{rest}"
    if style == "spaced":
        if mobile:
            return f"06 {rest[:4]} {rest[4:]}" if len(rest) == 8 else f"0{area} {rest}"
        return f"0{area} {rest[:3]} {rest[3:]}"
    if style == "paren":
        if mobile:
            return f"06 {rest[:2]} {rest[2:4]} {rest[4:6]} {rest[6:]}"
        if len(rest) == 6:
            return f"(0{area}) {rest[:2]} {rest[2:4]} {rest[4:]}"
        return f"(0{area}) {rest[:3]} {rest[3:5]} {rest[5:]}"
    if style == "e164":
        return f"+31{nsn}"
    if style == "intl_spaced":
        return f"+31 {area} {rest}"
    if style == "intl_trunk":
        return f"+31 (0){area} {rest}"
    return f"0031{nsn}"


def _area_of(nsn: str) -> str:
    """The trunk-prefixed area code of a Dutch landline NSN: '0' + 2 or 3 digits."""
    if ("0" + nsn[:2]) in _BIG_AREAS:
        return "0" + nsn[:2]
    return "0" + nsn[:3]


_BIG_AREAS = frozenset(c[4] for c in _BIG_CITIES)


def _render_phone(w: _World, rec: _Record, prof: ChannelProfile) -> str:
    rng = w.rng
    p = rec.person
    if rng.random() < prof.phone_missing:
        return ""
    hh = p.household
    old = hh.old_address is not None and rec.at < hh.move_at
    landline = hh.old_landline if old else hh.landline
    number = p.mobile
    landline_p = prof.landline * (1.5 if p.age >= 60 else 1.0)   # the elderly answer the landline
    if landline is not None and (number is None or rng.random() < landline_p):
        number = landline
    if number is None:
        return ""
    return _phone_notation(number[0], number[1], w.phone_fmt[rec.channel](rng))


def _render_email(w: _World, rec: _Record, prof: ChannelProfile) -> str:
    rng = w.rng
    if not rec.email or rng.random() < prof.email_missing:
        return ""
    email = rec.email
    if rng.random() < prof.email_domain_typo:
        local, domain = email.split("@", 1)
        typos = _DOMAIN_TYPOS.get(domain)
        if typos:
            domain = _pick(rng, typos)
        elif len(domain) > 5:
            k = _below(rng, 1, len(domain) - 4)
            domain = domain[:k] + domain[k + 1:]
        email = f"{local}@{domain}"
    if rng.random() < prof.email_case:
        if rng.random() < 0.4:
            email = email.upper()
        else:
            local, domain = email.split("@", 1)
            local = ".".join(part.capitalize() for part in local.split("."))
            email = f"{local}@{domain.capitalize()}"
    if rng.random() < prof.email_space:
        email = _pick(rng, (" ", "  ", "")) + email + _pick(rng, (" ", "", "  "))
    return email


def _house_number(number: int, addition: str, rng: random.Random) -> str:
    if not addition or rng.random() < 0.08:
        return str(number)
    if addition.isalpha() and len(addition) == 1:
        style = rng.random()
        if style < 0.4:
            return f"{number}{addition}"
        if style < 0.6:
            return f"{number} {addition}"
        if style < 0.75:
            return f"{number}-{addition.lower()}"
        if style < 0.9:
            return f"{number}{addition.lower()}"
        return f"{number}-{addition}"
    if addition.isdigit():
        style = rng.random()
        if style < 0.55:
            return f"{number}-{addition}"
        if style < 0.8:
            return f"{number} {addition}"
        return f"{number}/{addition}"
    style = rng.random()
    if style < 0.5:
        return f"{number} {addition}"
    if style < 0.8:
        return f"{number}{addition}"
    return f"{number}-{addition}"


_STREET_ABBREV = (("straat", ("str.", "str")), ("laan", ("ln.", "ln")), ("weg", ("wg.",)),
                  ("Burgemeester ", ("Burg. ", "Burgem. ")), ("Prins ", ("Pr. ",)),
                  ("Koningin ", ("Kon. ",)), ("Graaf ", ("Gr. ",)))


def _abbrev_street(street: str, rng: random.Random) -> str:
    for long, shorts in _STREET_ABBREV:
        if long.endswith(" ") and street.startswith(long):
            return _pick(rng, shorts) + street[len(long):]
        if not long.endswith(" ") and street.endswith(long):
            return street[: -len(long)] + _pick(rng, shorts)
    return street


def _render_postcode(addr: _Address, fmt: str) -> str:
    pc = addr.postcode
    if addr.country == "BE":
        return pc if fmt.startswith("1234 ") else f"B-{pc}" if fmt == "1234AB" else f"B{pc}"
    if addr.country == "DE":
        return f"D-{pc}" if fmt == "1234 ab" else pc
    digits, letters = pc[:4], pc[4:]
    if fmt == "1234AB":
        return pc
    if fmt == "1234 AB":
        return f"{digits} {letters}"
    if fmt == "1234ab":
        return f"{digits}{letters.lower()}"
    return f"{digits} {letters.lower()}"


def _render_address(w: _World, rec: _Record, prof: ChannelProfile,
                    upper: bool) -> tuple[str, str, str, str]:
    rng = w.rng
    hh = rec.person.household
    if rng.random() < prof.address_missing:
        return "", "", "", ""
    addr = hh.old_address if hh.old_address is not None and rec.at < hh.move_at else hh.address
    street = addr.street
    if rng.random() < prof.street_abbrev:
        street = _abbrev_street(street, rng)
    number = _house_number(addr.number, addr.addition, rng)
    postcode = ""
    if rng.random() >= prof.postcode_missing:
        postcode = _render_postcode(addr, w.pc_fmt[rec.channel](rng))
    city = addr.city
    if addr.city_aliases and rng.random() < 0.25:
        city = _pick(rng, addr.city_aliases)
    if addr.country != "NL" and rng.random() < 0.3:
        country = "België" if addr.country == "BE" else "Duitsland"
        city = _strip_accents(city) if rng.random() < 0.5 else f"{city} ({country})"
    if rng.random() < prof.city_missing:
        city = ""
    if rng.random() < prof.street_with_number:
        street, number = f"{street} {number}", ""
    if upper:
        street, city = street.upper(), city.upper()
    elif rng.random() < 0.03:
        city = city.upper()
    return street, number, postcode, city


def _render_card(rec: _Record, prof: ChannelProfile, rng: random.Random) -> str:
    if not rec.card:
        return ""
    if rec.channel != "pos" and rng.random() >= prof.loyalty_card:
        return ""
    if rng.random() < prof.card_spaces:
        c = rec.card
        return " ".join(c[i:i + 4] for i in range(0, len(c), 4))
    return rec.card


def _assign_identifiers(w: _World, p: _Person) -> None:
    """Choose per record the card and e-mail it was registered with."""
    rng = w.rng
    hh = p.household
    seen: dict[str, int] = {}
    has_pos = any(r.channel == "pos" for r in p.records)
    login_first = 0 if len(p.emails) < 2 or rng.random() < 0.75 else 1
    for rec in sorted(p.records, key=lambda r: r.at):
        k = seen.get(rec.channel, 0)
        seen[rec.channel] = k + 1
        if rec.channel == "pos":
            rec.card = p.card if k == 0 or rng.random() < 0.65 else w.new_card()
        elif has_pos:
            rec.card = p.card
        if not p.emails:
            _make_emails(w, p, "")
        emails = p.emails
        if rec.channel in w.logins:
            # Accounts log in with an e-mail address that no other account in the channel has.
            logins = w.logins[rec.channel]
            if hh.family_email and p.age >= 18 and hh.family_email not in logins and rng.random() < 0.5:
                email = hh.family_email
            else:
                if k > 0 and len(emails) < 2:
                    local = f"{_fold(p.first)}{_randint(rng, 1, 99)}"
                    emails.append(w.unique_email(local, w.domain(rng)))
                email = emails[(login_first + k) % len(emails)]
                if email in logins:
                    email = next((e for e in emails if e not in logins), "")
                    if not email:
                        local = f"{_fold(p.first)}{_randint(rng, 100, 999)}"
                        email = w.unique_email(local, w.domain(rng))
                        emails.append(email)
            logins.add(email)
        elif hh.family_email and p.age >= 18 and rng.random() < 0.5:
            email = hh.family_email
        else:
            email = emails[0] if len(emails) == 1 or rng.random() < 0.75 else emails[1]
        rec.email = email


def _render_record(w: _World, rec: _Record) -> tuple[str, ...]:
    rng = w.rng
    prof = w.profiles[rec.channel]
    upper = rng.random() < prof.upper
    first, last = _render_names(w, rec, prof, upper)
    birth = _render_birth(w, rec, prof)
    email = _render_email(w, rec, prof)
    phone = _render_phone(w, rec, prof)
    street, number, postcode, city = _render_address(w, rec, prof, upper)
    card = _render_card(rec, prof, rng)
    noise = w.cfg.name_noise
    if w.v2 and rec.channel in noise.sparse_channels and rng.random() < noise.sparse:
        # Only a name and a city: a paper form, a quick note by a service agent.
        hh = rec.person.household
        addr = hh.old_address if hh.old_address is not None and rec.at < hh.move_at else hh.address
        city = city or (addr.city.upper() if upper else addr.city)
        birth = email = phone = street = number = postcode = card = ""
    return (rec.record_id, first, last, birth, email, phone, street, number, postcode, city, card,
            w.iso(rec.at))


_ID_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _record_ids(channel: str, n: int, rng: random.Random) -> list[str]:
    """Random-looking ids that say nothing about the person behind them."""
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        if channel == "pos":
            rid = "".join(_pick(rng, _ID_ALPHABET) for _ in range(10))
        elif channel == "webshop":
            rid = f"W{_below(rng, 10**8):08d}"
        elif channel == "app":
            rid = f"{rng.getrandbits(48):012x}"
        else:
            rid = f"SR-{_below(rng, 10**7):07d}"
        if rid not in seen:
            seen.add(rid)
            out.append(rid)
    return out


# --------------------------------------------------------------------------------------------
# Preferences and interactions
# --------------------------------------------------------------------------------------------

_PREF_CHANNEL_W = {"webshop": 3.0, "app": 3.0, "service": 1.0, "pos": 0.5}


def _size_value(p: _Person, size: int, rng: random.Random) -> str:
    if p.gender == "F" and rng.random() < 0.35:
        return str(36 + 2 * size)
    return _LETTER_SIZES[size]


def _preferences(w: _World, p: _Person) -> list[tuple]:
    rng = w.rng
    cfg = w.cfg
    if p.age < 16 or not p.records:
        return []
    # Preferences are mostly set in account settings; till- or phone-only customers state fewer.
    has_account = any(r.channel in ("webshop", "app") for r in p.records)
    if rng.random() >= cfg.preference_rate * (1.2 if has_account else 0.7):
        return []
    keys = ["clothing_size", "shoe_size", "delivery_method", "delivery_slot"]
    if p.household.pet:
        keys += ["pet", "pet"]
    n = _N_PREFS(rng)
    chosen = list(dict.fromkeys(_pick(rng, keys) for _ in range(n)))
    if rng.random() < 0.06:
        chosen.append(_pick(rng, ("newsletter_topic", "newsletter_topic", "contact_channel")))
    recs = p.records
    pick = _Draw([(r, _PREF_CHANNEL_W[r.channel]) for r in recs])
    rows = []
    change_key = None
    if rng.random() < cfg.preference_change_rate and len({r.channel for r in recs}) > 1:
        options = [k for k in chosen if k in ("clothing_size", "delivery_method", "delivery_slot")]
        change_key = _pick(rng, options) if options else None
    for key in chosen:
        rec = pick(rng)
        if key == change_key:
            t1 = _below(rng, 0, int(w.window * 0.75))
        else:
            t1 = _below(rng, 0, w.window)
        value = _pref_value(p, key, rng)
        rows.append((rec, key, value, t1))
        if key == change_key:
            later = [r for r in recs if r.channel != rec.channel]
            rec2 = _pick(rng, later)
            t2 = _below(rng, t1 + 30 * 86400, w.window)
            if key == "clothing_size":
                new = _pick(rng, [i for i in (p.size - 1, p.size + 1, p.size + 1) if 0 <= i <= 5])
                p.size_change = (t2, new)
                value2 = _size_value(p, new, rng)
            elif key == "delivery_method":
                new = _pick(rng, [d for d, _ in _DELIVERY if d != p.delivery])
                p.delivery_change = (t2, new)
                value2 = new
            else:
                value2 = _pick(rng, [s for s, _ in _SLOTS if s != p.slot])
                p.slot = value2
            rows.append((rec2, key, value2, t2))
    return rows


def _pref_value(p: _Person, key: str, rng: random.Random) -> str:
    if key == "clothing_size":
        return _size_value(p, p.size, rng)
    if key == "shoe_size":
        return str(p.shoe)
    if key == "delivery_method":
        return p.delivery
    if key == "delivery_slot":
        return p.slot
    if key == "pet":
        pet = p.household.pet
        return _pick(rng, ("dog", "cat")) if pet == "both" else pet
    if key == "newsletter_topic":
        return _pick(rng, ("fashion", "pets", "home", "kids", "deals"))
    return _pick(rng, ("email", "sms", "app"))


def _category_weights(w: _World, p: _Person, kids: list[_Person], baby: bool) -> _Draw:
    """What this person buys and browses: by gender, children, pets and age (cached per profile)."""
    hh = p.household
    key = (p.gender, bool(kids), hh.pet, p.age >= 40, baby)
    draw = w.category_draws.get(key)
    if draw is None:
        weights = {
            "womens_clothing": 0.30 if p.gender == "F" else 0.03,
            "mens_clothing": 0.28 if p.gender == "M" else 0.05,
            "kids_clothing": 0.2 if kids else 0.0,
            "shoes": 0.12, "household": 0.15, "beauty": 0.12 if p.gender == "F" else 0.04,
            "toys": 0.1 if kids else 0.02, "garden": 0.06 if p.age >= 40 else 0.02,
            "pet_accessories": 0.05 if hh.pet else 0.0,
            "dog_food": 0.04 if hh.pet in ("dog", "both") else 0.0,
            "cat_food": 0.04 if hh.pet in ("cat", "both") else 0.0,
            "bird_food": 0.04 if hh.pet == "bird" else 0.0,
            "rabbit_food": 0.04 if hh.pet == "rabbit" else 0.0,
            "baby": 0.05 if baby else 0.0,
        }
        draw = w.category_draws[key] = _Draw([(k, v) for k, v in weights.items() if v > 0])
    return draw


def _time_of_day(channel: str, rng: random.Random) -> int:
    if channel == "pos":
        return 32400 + int(rng.random() * 41400)     # 09:00 - 20:30, store hours
    if channel == "service":
        return 28800 + int(rng.random() * 46800)     # 08:00 - 21:00, the call centre
    return 25200 + int(rng.random() * 61200)         # 07:00 - 24:00


def _when(w: _World, channel: str, low: int, high: int) -> int:
    """A moment in [low, high) at an hour when the channel is open."""
    t = _below(w.rng, low, high)
    t = t - (t + w.start_offset) % 86400 + _time_of_day(channel, w.rng)
    return t if low <= t < high else _below(w.rng, low, high)


_Row = tuple[int, tuple[str, ...]]   # (seconds into the window, interactions.csv row)


def _interactions(w: _World, p: _Person) -> list[_Row]:
    """The person's purchases, returns, views and contacts, each with its time for sorting."""
    rng = w.rng
    cfg = w.cfg
    out: list[_Row] = []
    for rec in p.records:
        if rec.channel != "service":
            continue
        # A service record is made or updated at a contact; some callers rang before.
        t = rec.at
        out.append((t, ("service", rec.record_id, "contact", w.iso(t)) + _EMPTY8))
        for _ in range((rng.random() < 0.35) + (rng.random() < 0.1)):
            if t <= 86400:
                break
            t = _when(w, "service", max(0, t - 60 * 86400), t - 86400)
            out.append((t, ("service", rec.record_id, "contact", w.iso(t)) + _EMPTY8))
    shop = [r for r in p.records if r.channel != "service"]
    if not shop:
        return out
    hh = p.household
    kids = [q for q in hh.persons if q.age < 16]
    baby = any(q.age <= 2 for q in kids)
    skus = w.pools.skus
    if p.age >= 16 and rng.random() >= cfg.inactive_rate:
        n = int(rng.gammavariate(cfg.interaction_shape, cfg.interaction_scale)) + 1
        if p.age < 18:
            n = max(1, n // 3)
        n_shop = len(shop)
        cats = _category_weights(w, p, kids, baby)
        days = cfg.history_days
        for _ in range(n):
            rec = shop[int(rng.random() * n_shop)]
            c = rec.channel
            t = int(rng.random() * days) * 86400 + _time_of_day(c, rng)
            if (c == "webshop" and rng.random() < 0.5) or (c == "app" and rng.random() < 0.7):
                cat = cats(rng)
                sku = _pick(rng, skus[cat])[0]
                out.append((t, (c, rec.record_id, "view", w.iso(t), sku, cat) + _EMPTY6))
            else:
                _purchase(w, p, rec, t, cats(rng), kids, out)
    # Repeat purchases: pet food and baby articles every four to six weeks for a while.
    if p.primary and p.age >= 18:
        series = []
        if hh.pet in ("dog", "both"):
            series.append("dog_food")
        if hh.pet in ("cat", "both"):
            series.append("cat_food")
        if hh.pet in ("bird", "rabbit"):
            series.append(_PET_FOOD[hh.pet])
        if baby:
            series.append("baby")
        for cat in series:
            rec = _pick(rng, shop)
            favourite = skus[cat][_favourite_index(p.pid, cat)]   # the same bag of food
            interval = _below(rng, 28, 43)
            length = _randint(rng, 3, 10)
            day = _below(rng, max(1, cfg.history_days - length * interval))
            for _ in range(length):
                if day >= cfg.history_days:
                    break
                if rng.random() < 0.15 and len(shop) > 1:
                    rec = _pick(rng, shop)
                t = day * 86400 + _time_of_day(rec.channel, rng)
                _purchase(w, p, rec, t, cat, kids, out, favourite)
                day += interval + _randint(rng, -5, 5)
    return out


_EMPTY6 = ("",) * 6
_EMPTY8 = ("",) * 8
_DISCOUNT_PCT = (10, 15, 20, 25, 30)
_BULK_QTY = (1, 1, 1, 2, 2, 3)
_BULK = frozenset(("dog_food", "cat_food", "bird_food", "rabbit_food", "baby", "household"))
_DELIVERY_METHODS = tuple(d for d, _ in _DELIVERY)


def _purchase(w: _World, p: _Person, rec: _Record, t: int, cat: str, kids: list[_Person],
              out: list[_Row], item: tuple[str, int, str] | None = None) -> None:
    """Append a purchase and, often when the size was wrong, its return."""
    rng = w.rng
    sku, price, system = item if item is not None else _pick(rng, w.pools.skus[cat])
    sizing = (_CATEGORIES.get(cat) or _MORE_PET_FOOD[cat])[3]
    size = ""
    wrong = False
    if sizing == "women" or sizing == "men":
        # Clothing of the other gender is usually bought for the partner, in the partner's size.
        own = (sizing == "women") == (p.gender == "F")
        wearer = p if own else p.partner
        true = wearer.size if wearer is not None else int(rng.random() * 6)
        if wearer is not None and wearer.size_change and t >= wearer.size_change[0]:
            true = wearer.size_change[1]
        idx = true
        if rng.random() < 0.12:
            idx = max(0, true + (1 if rng.random() < 0.5 else -1))
        if system == "numeric":
            size = str(36 + 2 * idx)
        else:
            idx = min(idx, 5)
            size = _LETTER_SIZES[idx]
        wrong = idx != true
    elif sizing == "shoe":
        wearer = p if p.partner is None or rng.random() < 0.85 else p.partner
        s = wearer.shoe
        if rng.random() < 0.12:
            s = max(36, min(46, s + (1 if rng.random() < 0.5 else -1)))
        size = str(s)
        wrong = s != wearer.shoe
    elif sizing == "kids":
        age = _pick(rng, kids).age if kids else _randint(rng, 2, 12)
        i = min(len(_KIDS_CM) - 1, 4 + age if age >= 1 else 2)
        if rng.random() < 0.1:
            i = max(0, min(len(_KIDS_CM) - 1, i + (1 if rng.random() < 0.5 else -1)))
            wrong = True
        size = str(_KIDS_CM[i])
    if cat in _BULK:
        qty = _pick(rng, _BULK_QTY)
    else:
        qty = 2 if rng.random() < 0.05 else 1
    gross = price * qty
    discount = gross * _pick(rng, _DISCOUNT_PCT) // 100 if rng.random() < 0.2 else 0
    amount = f"{(gross - discount) // 100}.{(gross - discount) % 100:02d}"
    discount_eur = f"{discount // 100}.{discount % 100:02d}"
    channel = rec.channel
    store = delivery = ""
    if channel == "pos":
        store = _store_at(w, p.household, t)
    elif channel == "webshop":
        change = p.delivery_change
        delivery = change[1] if change and t >= change[0] else p.delivery
        if rng.random() >= 0.8:
            delivery = _pick(rng, _DELIVERY_METHODS)
    out.append((t, (channel, rec.record_id, "purchase", w.iso(t), sku, cat, size, str(qty),
                    amount, discount_eur, store, delivery)))
    if rng.random() < (0.015 if sizing is None else 0.7 if wrong else 0.03):
        rt = t + _below(rng, 2 * 86400, 30 * 86400)
        if rt < w.window:
            store = _store_at(w, p.household, rt) if channel == "pos" else ""
            out.append((rt, (channel, rec.record_id, "return", w.iso(rt), sku, cat, size, str(qty),
                             amount, discount_eur, store, "")))


def _store_at(w: _World, hh: _Household, t: int) -> str:
    """Mostly the store near where the household lived at time t, sometimes another one."""
    if w.rng.random() >= 0.85:
        return _pick(w.rng, w.pools.all_stores)
    if hh.old_address is not None and t < hh.move_at:
        return hh.old_address.store
    return hh.address.store


def _favourite_index(pid: str, cat: str) -> int:
    """Stable per-person favourite product in a category (no use of Python's salted hash)."""
    h = 0
    for ch in pid + cat:
        h = (h * 131 + ord(ch)) % 1_000_003
    return h % 250


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------

def generate_drop(out_dir: Path, households: int, seed: int,
                  config: SynthConfig = DEFAULT_CONFIG, taxonomy: str = "default",
                  progress: Progress = NO_PROGRESS) -> GenerateSummary:
    """Write a synthetic drop (four channel files, interactions, preferences, truth) to out_dir.

    With ``taxonomy="renamed"`` the categories are named as another retailer might name them
    (``clothing`` for women's and men's clothing, ``pet_food/dog``, ``pet_food/cat``, ...), birds
    and rabbits join the pets (unless the config sets their rates), and the drop also holds the
    matching ``categories.csv`` and ``attributes_truth.csv``: each person's true clothing size
    (and the one before, when it changed), shoe size and the household's pets.

    Progress hears of three steps: building the households, the persons' interactions, writing rows.
    """
    if households < 1:
        raise ValueError(f"households must be at least 1, got {households}")
    if taxonomy not in TAXONOMIES:
        raise ValueError(f"taxonomy must be one of {', '.join(TAXONOMIES)}, got {taxonomy!r}")
    if taxonomy == "renamed" and not (config.bird_rate or config.rabbit_rate):
        config = replace(config, **_RENAMED_PETS_CONFIG)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    w = _World(seed, config)
    rng = w.rng

    progress.step(f"building {households:,} households", total=households, unit="households")
    hhs = [_build_household(w, i) for i in counted(range(households), progress)]
    _link_leavers(w, hhs)
    persons: list[_Person] = []
    for hh in hhs:
        _plan_records(w, hh)
        for p in hh.persons:
            if p.records:
                _assign_identifiers(w, p)
                persons.append(p)

    by_channel: dict[str, list[_Record]] = {c: [] for c in CHANNELS}
    for p in persons:
        for rec in p.records:
            by_channel[rec.channel].append(rec)
    for channel, recs in by_channel.items():
        for rec, rid in zip(recs, _record_ids(channel, len(recs), rng)):
            rec.record_id = rid
        rng.shuffle(recs)

    pref_rows: list[tuple] = []
    for p in persons:
        pref_rows.extend(_preferences(w, p))
    items: list[_Row] = []
    progress.step(f"interactions of {len(persons):,} persons", total=len(persons), unit="persons")
    for p in counted(persons, progress):
        items.extend(_interactions(w, p))

    records = sum(map(len, by_channel.values()))
    progress.step(f"writing {out_dir}", total=2 * records + len(items) + len(pref_rows)
                  + (len(persons) if taxonomy == "renamed" else 0), unit="rows")
    counts: dict[str, int] = {}
    for channel, recs in by_channel.items():
        rows = [_render_record(w, rec) for rec in recs]
        _write_csv(out_dir / f"{channel}.csv", IDENTITY_COLUMNS, rows)
        counts[channel] = len(rows)
        progress.advance(len(rows))

    items.sort(key=itemgetter(0))   # by time; the sort is stable, so ties stay deterministic
    interaction_rows = [row for _, row in items]
    if taxonomy == "renamed":
        interaction_rows = [row[:5] + (_RENAMED.get(row[5], row[5]),) + row[6:] for row in interaction_rows]
        _write_taxonomy(out_dir, persons)
        progress.advance(len(persons))
    _write_csv(out_dir / "interactions.csv", INTERACTION_COLUMNS, interaction_rows)
    progress.advance(len(interaction_rows))

    pref_rows.sort(key=itemgetter(3))
    prefs = [(rec.channel, rec.record_id, key, value, w.iso(t)) for rec, key, value, t in pref_rows]
    _write_csv(out_dir / "preferences.csv", PREFERENCE_COLUMNS, prefs)
    progress.advance(len(prefs))

    truth = [(c, rec.record_id, rec.person.pid, rec.person.household.hid)
             for c in CHANNELS for rec in by_channel[c]]
    _write_csv(out_dir / "truth.csv", TRUTH_COLUMNS, truth)
    progress.advance(len(truth))
    progress.close()

    summary = GenerateSummary(
        households=households, persons=len(persons), records=counts,
        interactions=len(interaction_rows), preferences=len(prefs),
    )
    logger.info(
        "synthetic drop in %s: %d households, %d persons, records %s, %d interactions, "
        "%d preferences", out_dir, summary.households, summary.persons, counts,
        summary.interactions, summary.preferences,
    )
    return summary


def _write_taxonomy(out_dir: Path, persons: list[_Person]) -> None:
    """Write the renamed drop's categories.csv and every person's true sizes and pets (attributes_truth.csv)."""
    groups = {"clothing": ("clothing", ""), "shoes": ("shoes", "")}
    groups.update({_RENAMED[food]: ("pet_food", pet) for pet, food in _PET_FOOD.items()})
    names = dict.fromkeys(_RENAMED.get(c, c) for c in (*_CATEGORIES, *_MORE_PET_FOOD))
    _write_csv(out_dir / "categories.csv", ("category", "group", "pet"),
               [(c, *groups.get(c, ("other", ""))) for c in names])
    rows = []
    for p in persons:
        changed = p.size_change
        animals = ("cat", "dog") if p.household.pet == "both" else (p.household.pet,) if p.household.pet else ()
        rows.append((p.pid, p.household.hid, p.gender, _LETTER_SIZES[changed[1] if changed else p.size],
                     _LETTER_SIZES[p.size] if changed else "", str(p.shoe), ",".join(animals)))
    _write_csv(out_dir / "attributes_truth.csv", ATTRIBUTES_TRUTH_COLUMNS, rows)


ATTRIBUTES_TRUTH_COLUMNS: tuple[str, ...] = (
    "person_id", "household_id", "gender", "clothing_size", "clothing_size_before", "shoe_size", "pets",
)


def _write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    # Plain joins are four times faster than csv.writer; rows with a comma, quote or line break
    # go through csv.writer, so the file is exactly what csv.writer would write.
    buffer = io.StringIO()
    quoting = csv.writer(buffer, lineterminator="\n")
    lines = [",".join(header)]
    width = len(header) - 1
    for row in rows:
        line = ",".join(row)
        if line.count(",") != width or '"' in line or "\n" in line or "\r" in line:
            buffer.seek(0)
            buffer.truncate()
            quoting.writerow(row)
            line = buffer.getvalue()[:-1]
        lines.append(line)
    lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8", newline="")
