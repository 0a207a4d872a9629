"""Rendering: a person's truth through a channel's noise (names, birth dates, phones, e-mail,
addresses, cards, record ids)."""

from __future__ import annotations

import random
from datetime import date

from synth import noise as synth_noise
from synth.config import ChannelProfile, NameNoise
from synth.model import _Address, _Draw, _Person, _Record, _below, _pick, _randint
from synth.population import _World, _fold, _make_emails, _strip_accents
from synth.reference import _ACCENT_ADD, _BIG_CITIES, _DOMAIN_TYPOS, _KEYBOARD


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
