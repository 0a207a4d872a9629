"""Pools of names, streets and towns, built once per drop from Faker seeded with the seed."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

from faker import Faker

from synth.model import _Draw, _below, _pick
from synth.reference import (
    _BIG_CITIES, _CATEGORIES, _CLASSIC_STREETS, _COMMON_PARTICLE_SURNAMES, _COMMON_PLAIN_SURNAMES, _MORE_PET_FOOD,
    _PARTICLES, _SMALL_AREA_CODES, _STREET_SUFFIXES,
)


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
