"""Customers: hidden archetype and traits (the truth) plus the CRM row the shop exports.

An archetype fixes the broad behaviour the way real segments differ: how often someone shops,
how much they browse before buying, their price level, which categories they favour, how much
they send back; every customer then gets individual jitter so that archetypes overlap like
real segments do, though not so much that behaviour stops telling them apart (a classifier
on gold.customer_features recovers the archetype: bench/profile.py, `archetype_accuracy`).
"""

from __future__ import annotations

import random
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate

from insight.landing import CHANNELS, DEVICES, REFERENCE_FX_TO_EUR

from . import clock
from .catalog import TOPS
from .clock import DAY, iso
from .pii import COUNTRY_WEIGHTS, US_CITY_ZONE, Person, make_person, messy_country, messy_email

YEAR = 365 * DAY


@dataclass(frozen=True, slots=True)
class Archetype:
    """Behavioural segment; the numbers are per-customer means before jitter."""

    name: str
    share: float
    sessions_per_year: float
    views_per_session: float
    p_search: float  # chance a session starts with a search
    p_cart: float  # chance a viewed product goes into the cart
    p_checkout: float  # chance a non-empty cart is bought
    sensitivity: tuple[float, float]  # price sensitivity range
    promo: float  # chance a viewed product is shown discounted
    p_review: float  # chance a purchased item gets a review
    future_churn: float  # chance of churning in the year after the window
    opt_in: float  # marketing opt-in rate
    explore: float  # chance a view wanders outside the favourite categories
    temperament: float  # rating bias (grumpy < 0 < generous)
    channels: tuple[float, ...]  # weights over landing.CHANNELS
    returns: float  # multiplies each purchased product's return probability
    favourites: tuple[float, ...]  # weights for drawing favourite categories, over catalog.TOPS
    off_season: float  # session rate outside November and December, relative (gift buyers < 1)


# Channels: web, app, email, search_ads, social, affiliate. Favourites: Electronics, Fashion,
# Home & Kitchen, Beauty & Care, Sports & Outdoors, Grocery, Toys & Games, Books & Media.
ARCHETYPES: tuple[Archetype, ...] = (
    Archetype("champion", 0.08, 32, 4.0, 0.45, 0.34, 0.82, (0.0, 0.15), 0.10, 0.36,
              0.03, 0.55, 0.10, 0.30, (3, 5, 1.0, 0.6, 0.4, 0.2),
              0.5, (4, 2, 3, 1, 2, 0.5, 0.5, 2), 1.0),
    Archetype("loyal", 0.17, 16, 3.5, 0.40, 0.26, 0.68, (0.1, 0.4), 0.12, 0.30,
              0.08, 0.50, 0.12, 0.15, (4, 3, 1.2, 0.8, 0.5, 0.3),
              0.7, (1, 1, 3, 3, 1, 1, 1, 1), 1.0),
    Archetype("bargain_hunter", 0.18, 12, 5.0, 0.55, 0.13, 0.50, (0.8, 1.0), 0.45, 0.24,
              0.20, 0.80, 0.25, -0.10, (3, 1.5, 3.0, 1.2, 1.0, 2.5),
              1.3, (0.5, 2, 2, 2, 0.5, 4, 2, 1), 1.0),
    Archetype("window_shopper", 0.15, 18, 7.0, 0.60, 0.14, 0.10, (0.35, 0.65), 0.15, 0.20,
              0.25, 0.35, 0.35, 0.0, (4, 2, 0.6, 1.5, 2.0, 0.5),
              1.0, (2, 4, 1, 3, 1, 0.5, 1, 1), 1.0),
    Archetype("new_explorer", 0.12, 14, 4.5, 0.55, 0.20, 0.45, (0.2, 0.6), 0.18, 0.26,
              0.30, 0.60, 0.45, 0.10, (3, 2, 0.8, 2.0, 2.0, 0.8),
              2.0, (1, 1, 1, 1, 1, 1, 1, 1), 1.0),
    Archetype("lapsing", 0.15, 12, 3.5, 0.40, 0.22, 0.55, (0.25, 0.6), 0.12, 0.22,
              1.00, 0.40, 0.15, -0.20, (4, 2, 1.0, 1.0, 0.8, 0.5),
              1.5, (1, 2, 2, 1, 1, 2, 1, 1), 1.0),
    Archetype("occasional", 0.15, 7, 3.0, 0.50, 0.25, 0.55, (0.3, 0.6), 0.12, 0.25,
              0.30, 0.35, 0.20, 0.0, (5, 1, 0.5, 2.0, 1.0, 0.8),
              0.8, (1, 1, 1, 1, 3, 0.5, 4, 2), 0.2),
)  # fmt: skip
assert all(len(a.favourites) == len(TOPS) for a in ARCHETYPES)
# Spread (lognormal sigma) of a customer's session rate around the archetype's.
ACTIVITY_SPREAD = 0.3
_ARCHETYPE_CUM = list(accumulate(a.share for a in ARCHETYPES))
_COUNTRIES = tuple(COUNTRY_WEIGHTS)
_COUNTRY_CUM = list(accumulate(COUNTRY_WEIGHTS.values()))
_CURRENCY = {"GB": "GBP", "US": "USD"}
_DEVICE_PREFERENCE = (0.35, 0.55, 0.10)  # desktop, mobile, tablet


@dataclass(frozen=True, slots=True)
class Window:
    """The observed period [start, end) and the simulated-but-unwritten future, in epoch s."""

    start: int
    end: int
    future_end: int

    @classmethod
    def for_dates(cls, end_date: date, days: int) -> Window:
        start = clock.day_start(end_date - timedelta(days=days))
        end = clock.day_start(end_date + timedelta(days=1))
        return cls(start, end, end + YEAR)


@dataclass(slots=True)
class Customer:
    """One customer: CRM data plus the hidden traits behind their behaviour."""

    number: int
    customer_id: str
    archetype: Archetype
    person: Person
    birth_date: date
    zone: str
    currency: str
    fx: float  # EUR per unit of `currency`
    signup: int
    opt_in: bool
    updated: int
    churn: int | None  # UTC midnight from which the customer is gone
    price_sensitivity: float
    temperament: float
    activity: float  # individual multiplier on the archetype's session rate
    affinity: tuple[float, ...]  # share per top category
    affinity_cum: list[float]
    device: str
    device_cum: list[float]
    channel_weights: tuple[float, ...]
    channel_cum: list[float]

    def offset(self, t: int) -> int:
        """Home UTC offset (minutes) at instant `t`."""
        return clock.offset_minutes(self.zone, t)

    def pick_top(self, rng: random.Random) -> int:
        if rng.random() < self.archetype.explore:
            return rng.randrange(len(TOPS))
        cum = self.affinity_cum
        return bisect_right(cum, rng.random() * cum[-1])

    def pick_device(self, rng: random.Random) -> str:
        cum = self.device_cum
        return DEVICES[bisect_right(cum, rng.random() * cum[-1])]

    def pick_channel(self, rng: random.Random) -> str:
        cum = self.channel_cum
        return CHANNELS[bisect_right(cum, rng.random() * cum[-1])]

    def crm_row(self, rng: random.Random) -> list[str]:
        """Row in landing.CUSTOMER_FIELDS order, with benign messiness mixed in."""
        p = self.person
        signup_off = self.offset(self.signup) if rng.random() < 0.7 else 0
        return [
            self.customer_id,
            p.first_name,
            p.last_name,
            messy_email(rng, p.email),
            p.phone,
            p.street,
            p.city,
            p.postcode,
            messy_country(rng, p.country),
            self.birth_date.isoformat(),
            iso(self.signup, signup_off, zulu=rng.random() < 0.5),
            "true" if self.opt_in else "false",
            iso(self.updated, 0 if rng.random() < 0.6 else self.offset(self.updated), zulu=True),
        ]

    def truth(self) -> dict[str, object]:
        """Hidden traits for truth/customers.jsonl (future figures are added by the caller)."""
        return {
            "customer_id": self.customer_id,
            "archetype": self.archetype.name,
            "price_sensitivity": round(self.price_sensitivity, 4),
            "temperament": round(self.temperament, 4),
            "activity": round(self.activity, 4),
            "category_affinity": {
                top: round(share, 4)
                for top, share in zip(TOPS, self.affinity, strict=True)
                if share >= 1e-4
            },
            "preferred_device": self.device,
            "channel_mix": {
                ch: round(w / sum(self.channel_weights), 4)
                for ch, w in zip(CHANNELS, self.channel_weights, strict=True)
            },
            "country": self.person.country,
            "currency": self.currency,
            "signup_at": iso(self.signup, zulu=True),
            "churn_date": clock.to_date(self.churn).isoformat() if self.churn else None,
        }


def _pick_day(rng: random.Random, lo: int, hi: int) -> int:
    """A UTC midnight in [lo, hi) (both epoch seconds); `lo` itself if the range is empty."""
    first, last = -(-lo // DAY), (hi - 1) // DAY
    return (rng.randint(first, last) if last >= first else lo // DAY) * DAY


def _affinity(rng: random.Random, weights: tuple[float, ...]) -> tuple[float, ...]:
    """Dirichlet-like shares concentrated on 1-3 favourite top categories, drawn with the
    archetype's `weights` (without replacement)."""
    n_fav = rng.choices((1, 2, 3), weights=(0.35, 0.4, 0.25))[0]
    favourites: set[int] = set()
    while len(favourites) < n_fav:
        favourites.add(rng.choices(range(len(TOPS)), weights=weights)[0])
    raw = [rng.gammavariate(4.0 if k in favourites else 0.15, 1.0) for k in range(len(TOPS))]
    total = sum(raw)
    return tuple(x / total for x in raw)


def make_customer(rng: random.Random, number: int, window: Window) -> Customer:
    """Invent customer number `number` (1-based) with hidden traits and CRM data."""
    arch = ARCHETYPES[bisect_right(_ARCHETYPE_CUM, rng.random() * _ARCHETYPE_CUM[-1])]
    country = _COUNTRIES[bisect_right(_COUNTRY_CUM, rng.random() * _COUNTRY_CUM[-1])]
    end_date = clock.to_date(window.end - 1)
    age = rng.triangular(18, 85, 34)
    birth = end_date - timedelta(days=int(age * 365.25))
    birth = min(date(2007, 12, 31), max(date(1940, 1, 1), birth))
    person = make_person(rng, country, birth.year)
    zone = US_CITY_ZONE.get(person.city, "US_EAST") if country == "US" else "CET"
    if country == "GB":
        zone = "UK"
    currency = _CURRENCY.get(country, "EUR")
    span = window.end - window.start

    # Signup: explorers joined recently, ~12% of the rest joined during the window,
    # everyone else up to five years before it.
    if arch.name == "new_explorer":
        lo = max(window.start, window.end - 150 * DAY)
        signup = rng.randrange(lo, max(lo + 1, window.end - 3 * DAY))
    elif rng.random() < 0.12 and arch.name != "lapsing":
        signup = rng.randrange(window.start, max(window.start + 1, window.end - 7 * DAY))
    else:
        signup = rng.randrange(window.start - 5 * YEAR, window.start)

    # Churn: lapsing customers mostly leave inside the window (some shortly after it);
    # others may leave during the simulated future year.
    churn: int | None = None
    if arch.name == "lapsing":
        lo = max(window.start + span // 5, signup + 30 * DAY)
        if rng.random() < 0.8 and lo < window.end - 7 * DAY:
            churn = _pick_day(rng, lo, window.end - 7 * DAY)
        else:
            churn = _pick_day(rng, window.end + DAY, window.end + 75 * DAY)
    elif rng.random() < arch.future_churn:
        churn = _pick_day(rng, window.end + DAY, window.future_end)

    last_change = min(window.end, churn or window.end) - 2 * DAY
    updated = rng.randrange(signup, max(signup + 1, last_change))

    lo_s, hi_s = arch.sensitivity
    sensitivity = min(1.0, max(0.0, rng.uniform(lo_s, hi_s) + rng.gauss(0.0, 0.05)))
    affinity = _affinity(rng, arch.favourites)
    device = rng.choices(DEVICES, weights=_DEVICE_PREFERENCE)[0]
    stay = 0.75  # share of sessions on the preferred device
    device_w = [stay if d == device else (1 - stay) / 2 for d in DEVICES]
    channels = tuple(w * rng.gammavariate(3.0, 1 / 3.0) for w in arch.channels)
    return Customer(
        number=number,
        customer_id=f"C{number:07d}",
        archetype=arch,
        person=person,
        birth_date=birth,
        zone=zone,
        currency=currency,
        fx=REFERENCE_FX_TO_EUR[currency],
        signup=signup,
        opt_in=rng.random() < arch.opt_in,
        updated=updated,
        churn=churn,
        price_sensitivity=sensitivity,
        temperament=rng.gauss(arch.temperament, 0.35),
        activity=rng.lognormvariate(0.0, ACTIVITY_SPREAD),
        affinity=affinity,
        affinity_cum=list(accumulate(affinity)),
        device=device,
        device_cum=list(accumulate(device_w)),
        channel_weights=channels,
        channel_cum=list(accumulate(channels)),
    )


def local_price(eur: float, fx: float) -> float:
    """EUR amount shown in a currency worth `fx` EUR per unit (2 decimals, never 0)."""
    return max(0.01, round(eur / fx, 2))
