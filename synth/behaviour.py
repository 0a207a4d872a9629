"""Behaviour: the preferences persons state and their interactions (purchases, returns, views,
contacts)."""

from __future__ import annotations

import random

from synth.model import _Draw, _Household, _Person, _Record, _below, _pick, _randint
from synth.population import _N_PREFS, _World, _time_of_day, _when
from synth.reference import _CATEGORIES, _DELIVERY, _KIDS_CM, _LETTER_SIZES, _MORE_PET_FOOD, _PET_FOOD, _SLOTS


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
