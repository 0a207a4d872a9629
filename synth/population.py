"""The population: households, families, movers and leavers, e-mail addresses, and which channels
each person has records in, and when."""

from __future__ import annotations

import random
import unicodedata
from datetime import date, datetime, timedelta
from functools import lru_cache

from identity.ingest import CHANNELS
from synth import names as synth_names
from synth.config import SynthConfig
from synth.model import _Address, _Draw, _Household, _Person, _Record, _below, _pick, _randint
from synth.pools import _City, _build_pools
from synth.reference import (
    _CLASSIC_FEMALE, _CLASSIC_MALE, _DELIVERY, _EMAIL_DOMAINS, _FOREIGN, _FORMAL_FEMALE, _FORMAL_MALE,
    _ISP_DOMAINS, _MEN_SIZE_W, _MIGRANT_SURNAMES, _ORIGIN_NAMES, _ORIGIN_OF, _SLOTS, _SMALL_AREA_CODES,
    _TWIN_NAMES, _WOMEN_SIZE_W,
)


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
        self.postcodes_used: set[str] = set()     # one street stretch per postcode
        self.logins: dict[str, set[str]] = {"webshop": set(), "app": set()}
        self.cards: set[str] = set()
        self.phones: set[str] = set()
        self.addresses: list[_Address] = []
        self.dwellings: set[tuple[str, str, int, str]] = set()   # (city, street, number, addition) in use
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
                    if add != base.addition and add not in used \
                            and (base.city, base.street, base.number, add) not in self.dwellings:
                        addr = _Address(base.street, base.number, add, base.postcode, base.city,
                                        base.city_aliases, "NL", base.store)
                        return self._occupy(addr)
        city = near if near is not None else self.pools.cities[self.pools.city_draw(rng)]
        street_i = _below(rng, len(city.streets))
        number = min(int(rng.expovariate(1 / 35)) + 1, 380)
        key = (street_i, number // 40)
        postcode = city.postcodes.get(key)
        if postcode is None:
            letters = "SA"
            while letters in _UNUSED_LETTERS:
                letters = _pick(rng, _POSTCODE_LETTERS) + _pick(rng, _POSTCODE_LETTERS)
            postcode = self._free_postcode(f"{_randint(rng, city.pc_low, city.pc_high)}{letters}")
            city.postcodes[key] = postcode
        r = rng.random()
        addition = ""
        if r < 0.18:
            addition = _ADDITIONS(rng)
        # One household per dwelling: a number already taken moves to the next free one in the same
        # stretch of the street (the same postcode), and when that stretch is full, to a free flat
        # of the same building; without a draw, so the rest of the drop stays as the seed makes it.
        block = range(max(1, number // 40 * 40), min(number // 40 * 40 + 40, 381))
        number, addition = self._free_dwelling(city.name, city.streets[street_i], number, addition, block)
        addr = _Address(city.streets[street_i], number, addition, postcode, city.name,
                        city.aliases, "NL", _pick(rng, city.stores))
        return self._occupy(addr)

    def _free_postcode(self, postcode: str) -> str:
        """Return postcode, or the next one in order that no other street stretch holds; without a draw.

        A Dutch postcode and a house number name one address: two streets drawing one postcode put
        strangers at one address (a million records drew 8,000 pairs of them). The v1 generator keeps
        its collisions: it stays byte-identical to what it was.
        """
        while self.v2 and (postcode in self.postcodes_used or postcode[4:] in _UNUSED_LETTERS):   # v1 as it was
            digits, letters = int(postcode[:4]), postcode[4:]
            second = _POSTCODE_LETTERS.find(letters[1]) + 1
            first = _POSTCODE_LETTERS.find(letters[0]) + second // len(_POSTCODE_LETTERS)
            digits += first // len(_POSTCODE_LETTERS)
            letters = (_POSTCODE_LETTERS[first % len(_POSTCODE_LETTERS)]
                       + _POSTCODE_LETTERS[second % len(_POSTCODE_LETTERS)])
            postcode = f"{1000 + (digits - 1000) % 9000}{letters}"
        self.postcodes_used.add(postcode)
        return postcode

    def _free_dwelling(self, city: str, street: str, number: int, addition: str,
                       numbers: range) -> tuple[int, str]:
        """A free dwelling: (number, addition), else the next number of ``numbers`` (wrapping) free with
        that addition, else a free flat at ``number`` (addition A, B, C, 1, 2, ... as Dutch flats go)."""
        if (city, street, number, addition) not in self.dwellings:
            return number, addition
        start = numbers.index(number)
        for i in range(1, len(numbers)):
            candidate = numbers[(start + i) % len(numbers)]
            if (city, street, candidate, addition) not in self.dwellings:
                return candidate, addition
        for flat in _FLATS:
            if (city, street, number, flat) not in self.dwellings:
                return number, flat
        n = 4
        while (city, street, number, str(n)) in self.dwellings:
            n += 1
        return number, str(n)

    def _occupy(self, addr: _Address) -> _Address:
        """Record the address as a household's dwelling and return it."""
        self.addresses.append(addr)
        self.dwellings.add((addr.city, addr.street, addr.number, addr.addition))
        return addr

    def foreign_address(self, country: str) -> _Address:
        rng = self.rng
        info = _FOREIGN[country]
        city, pc = _pick(rng, info["cities"])
        if country == "DE":
            pc = f"{int(pc) + _below(rng, 0, 80):05d}"
        street, number = _pick(rng, info["streets"]), _randint(rng, 1, 180)
        number, addition = self._free_dwelling(city, street, number, "", range(1, 181))
        addr = _Address(street, number, addition, pc, city, (), country, _pick(rng, self.pools.all_stores[:8]))
        self.dwellings.add((city, street, number, addition))
        return addr

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
_POSTCODE_LETTERS = "ABCDEGHJKLMNPRSTVWXZ"
_UNUSED_LETTERS = ("SA", "SD", "SS")    # letter pairs Dutch postcodes do not use
# The flats of one building, in the order a full street stretch fills them (no draw: see new_address).
_FLATS = ("", "A", "B", "C", "1", "2", "3", "hs", "bis", "II", "bg")
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
