"""Shopping behaviour of one customer: sessions, views, carts, orders, returns, reviews.

Sessions follow a non-homogeneous Poisson process (weekly and yearly seasonality, growth
for new customers, fading activity before churn). Within a session the customer searches,
views products from favourite categories, fills a cart and maybe checks out. The same
process runs on for a year after the window to produce the hidden future figures; those
sessions are simulated but never written.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import accumulate

from .catalog import TOPS, Catalog, Product, return_probability
from .clock import DAY, HOUR, to_date
from .customers import YEAR, Customer, Window, local_price
from .languages import ReviewLanguages
from .text import review_text, search_query

# Monday..Sunday: people shop more at the weekend.
WEEKDAY_WEIGHT = (0.9, 0.88, 0.9, 0.95, 1.05, 1.3, 1.25)
# Local hour of day: quiet nights, a lunch bump and a strong evening peak.
HOUR_WEIGHT = (1.0, 0.6, 0.35, 0.25, 0.25, 0.4, 1.0, 2.0, 2.8, 3.0, 3.2, 3.4,
               4.0, 3.8, 3.4, 3.3, 3.4, 3.8, 4.6, 5.8, 6.5, 6.0, 4.4, 2.4)  # fmt: skip
_HOUR_CUM = list(accumulate(HOUR_WEIGHT))
_MAX_WEIGHT = max(WEEKDAY_WEIGHT) * 1.26  # upper bound of weekday x season x trend

# Calibrates session rates so an average customer makes ~40 events per 365 days.
ACTIVITY_SCALE = 0.45

DISCOUNTS = (0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)
PROMO_CHANNELS = frozenset(("email", "affiliate", "social"))
_QTY = list(accumulate((85, 10, 3, 1, 1)))
_QTY_GROCERY = list(accumulate((50, 20, 12, 8, 4, 4, 2)))
_GROCERY = TOPS.index("Grocery")

# One written event before id assignment:
# (t, seq, type, session_id, product_id, order_id, query, price, quantity, device,
#  channel, offset_minutes, sent_lag_ms)
EventRow = tuple
# One review: (t, seq, product_id, rating, title, text, offset_minutes, sent_lag_ms)
ReviewRow = tuple


@lru_cache(maxsize=8192)
def season(day: int) -> float:
    """Mild yearly seasonality: Christmas peak, summer dip, a Black Friday bump."""
    doy = to_date(day * DAY).timetuple().tm_yday
    factor = 1.0 + 0.1 * math.cos(2 * math.pi * (doy - 350) / 365.25)
    if 326 <= doy <= 333:
        factor += 0.15
    return factor


@lru_cache(maxsize=8192)
def gift_season(day: int) -> bool:
    """November and December, when gift buyers shop."""
    return to_date(day * DAY).month >= 11


def poisson(rng: random.Random, lam: float) -> int:
    """Poisson draw (Knuth for small means, normal approximation for large)."""
    if lam <= 0:
        return 0
    if lam > 40:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, prod = math.exp(-lam), 0, rng.random()
    while prod > limit:
        k += 1
        prod *= rng.random()
    return k


class Ids:
    """Session and order ids of one partition (the partition index keeps them unique)."""

    def __init__(self, partition: int) -> None:
        self.partition = partition
        self.sessions = 0
        self.orders = 0

    def session(self) -> str:
        self.sessions += 1
        return f"S{self.partition:03d}{self.sessions:08d}"

    def order(self) -> str:
        self.orders += 1
        return f"O{self.partition:03d}{self.orders:07d}"


@dataclass(slots=True)
class Activity:
    """Everything one customer did in the window, plus hidden future figures."""

    events: list[EventRow] = field(default_factory=list)
    reviews: list[ReviewRow] = field(default_factory=list)
    orders: int = 0
    spend_eur: float = 0.0
    future_orders_30d: int = 0
    future_orders_90d: int = 0
    future_orders_365d: int = 0
    future_spend_365d: float = 0.0

    def truth(self) -> dict[str, object]:
        return {
            "orders_in_window": self.orders,
            "spend_in_window_eur": round(self.spend_eur, 2),
            "future_purchases_30d": self.future_orders_30d,
            "future_purchases_90d": self.future_orders_90d,
            "future_purchases_365d": self.future_orders_365d,
            "future_spend_365d": round(self.future_spend_365d, 2),
        }


class Shopper:
    """Simulates customers one at a time with the partition's behaviour RNG."""

    def __init__(
        self,
        rng: random.Random,
        catalog: Catalog,
        window: Window,
        ids: Ids,
        review_factor: float = 1.0,
        languages: ReviewLanguages | None = None,
    ) -> None:
        self.rng = rng
        self.review_factor = review_factor
        self.languages = languages  # None: every review in English
        self.catalog = catalog
        self.window = window
        self.ids = ids
        self._seq = 0

    def simulate(self, c: Customer) -> Activity:
        """Activity of `c`: written events/reviews (sorted by time) and future figures."""
        w = self.window
        act = Activity()
        gone = c.churn if c.churn is not None else w.future_end
        past_end = min(w.end, gone)
        for t0, off in self._session_starts(c, max(w.start, c.signup), past_end):
            self._session(c, t0, off, past_end, act, record=True)
        for t0, off in self._session_starts(c, w.end, min(w.future_end, gone)):
            self._session(c, t0, off, w.future_end, act, record=False)
        act.events.sort()
        act.reviews.sort()
        return act

    # -- timing ----------------------------------------------------------------------

    def _session_starts(self, c: Customer, lo: int, hi: int) -> list[tuple[int, int]]:
        """Sorted (start, home offset) of sessions in [lo, hi), by thinning."""
        if hi <= lo:
            return []
        rng = self.rng
        a = c.archetype
        rate = a.sessions_per_year * ACTIVITY_SCALE * c.activity / YEAR
        growing = a.name == "new_explorer"
        starts = []
        for _ in range(poisson(rng, rate * (hi - lo) * _MAX_WEIGHT)):
            t = rng.randrange(lo, hi)
            day = t // DAY
            weight = WEEKDAY_WEIGHT[(day + 3) % 7] * season(day)
            if not gift_season(day):
                weight *= a.off_season
            if growing:  # new customers warm up over their first three months
                weight *= min(1.0, 0.25 + (t - c.signup) / (90 * DAY))
            if c.churn is not None:  # interest fades over the four months before churn
                weight *= 1.0 - 0.65 * max(0.0, 1.0 - (c.churn - t) / (120 * DAY))
            if rng.random() * _MAX_WEIGHT >= weight:
                continue
            off = c.offset(t)
            hour = bisect_right(_HOUR_CUM, rng.random() * _HOUR_CUM[-1])
            start = day * DAY - off * 60 + hour * HOUR + rng.randrange(HOUR)
            if lo <= start < hi:
                starts.append((start, off))
        starts.sort()
        return starts

    def _lag_ms(self, channel: str) -> int:
        """How long after the event the source system sent it."""
        rng = self.rng
        if channel == "app":
            if rng.random() < 0.03:  # phone was offline; the app sends a batch later
                return rng.randrange(60_000, 6 * 3_600_000)
            return 300 + int(rng.expovariate(1 / 15_000))
        return 80 + int(rng.expovariate(1 / 1_500))

    # -- one session -----------------------------------------------------------------

    def _session(
        self, c: Customer, t: int, off: int, limit: int, act: Activity, record: bool
    ) -> None:
        rng = self.rng
        a = c.archetype
        cat = self.catalog
        sens = c.price_sensitivity
        out = act.events
        device = c.pick_device(rng)
        channel = c.pick_channel(rng)
        sid = self.ids.session() if record else None
        promo = a.promo * (1.8 if channel in PROMO_CHANNELS else 1.0)
        focus = c.pick_top(rng)
        expo = rng.expovariate  # gaps between clicks: a few seconds to a few minutes

        # Only called when recording: the simulated future is never written.
        def emit(etype, product, order, query, price, qty):
            if t < limit:
                self._seq += 1
                pid = product.product_id if product is not None else None
                out.append(
                    (t, self._seq, etype, sid, pid, order, query, price, qty, device,
                     channel, off, self._lag_ms(channel))
                )  # fmt: skip

        if rng.random() < a.p_search:
            for _ in range(1 + (rng.random() < 0.3)):
                if record:
                    wanted = cat.pick(rng, focus, sens)
                    emit("search", None, None, search_query(rng, wanted, sens > 0.65), None, None)
                t += 6 + int(expo(1 / 40))

        cart: list[tuple[Product, float, float, int]] = []  # product, local, eur, qty
        n_views = min(30, 1 + int(rng.expovariate(1 / (a.views_per_session - 0.5))))
        for _ in range(n_views):
            top = focus if rng.random() < 0.6 else c.pick_top(rng)
            p = cat.pick(rng, top, sens)
            disc = DISCOUNTS[rng.randrange(len(DISCOUNTS))] if rng.random() < promo else 0.0
            eur = p.price_eur * (1.0 - disc)
            price = local_price(eur, c.fx) if record else 0.0
            if record:
                emit("view", p, None, None, price, None)
                t += 6 + int(expo(1 / 40))
            # Quality appeals to everyone; cheapness and discounts to the price sensitive.
            appeal = (
                a.p_cart
                * p.appeal
                * (p.median_eur / eur) ** (0.8 * sens)
                * (1.0 + 3.0 * disc * sens)
            )
            if rng.random() < min(0.9, appeal) and all(item[0] is not p for item in cart):
                qcum = _QTY_GROCERY if p.top == _GROCERY else _QTY
                qty = 1 + bisect_right(qcum, rng.random() * qcum[-1])
                cart.append((p, price, eur, qty))
                if record:
                    emit("add_to_cart", p, None, None, price, qty)
                    t += 6 + int(expo(1 / 40))

        for item in list(cart):
            if rng.random() < 0.1:
                cart.remove(item)
                if record:
                    emit("remove_from_cart", item[0], None, None, item[1], item[3])
                    t += 6 + int(expo(1 / 40))
        if not cart:
            return
        discounted = any(eur < p.price_eur for p, _, eur, _ in cart)
        if rng.random() >= min(0.97, a.p_checkout * (1.0 + 0.6 * sens * discounted)):
            return  # abandoned cart
        t += 20 + rng.randrange(240)
        if t >= limit:
            return
        order = self.ids.order() if record else None
        total = 0.0
        for p, price, eur, qty in cart:
            total += eur * qty
            if record:
                emit("purchase", p, order, None, price, qty)
                self._after_purchase(c, act, t, p, order, price, qty, limit)
                t += 1 + rng.randrange(3)
        self._tally(act, t, total, record)

    def _tally(self, act: Activity, t: int, total: float, record: bool) -> None:
        if record:
            act.orders += 1
            act.spend_eur += total
            return
        act.future_orders_365d += 1
        act.future_spend_365d += total
        if t < self.window.end + 90 * DAY:
            act.future_orders_90d += 1
        if t < self.window.end + 30 * DAY:
            act.future_orders_30d += 1

    def _after_purchase(
        self,
        c: Customer,
        act: Activity,
        t: int,
        p: Product,
        order: str | None,
        price: float,
        qty: int,
        limit: int,
    ) -> None:
        """Maybe a return (worse products come back more) and maybe a review later."""
        rng = self.rng
        returned = False
        if rng.random() < min(0.9, return_probability(p) * c.archetype.returns):
            tr = t + rng.randrange(2 * DAY, 30 * DAY)
            if tr < limit:
                returned = True
                back = qty if qty == 1 or rng.random() < 0.7 else rng.randint(1, qty - 1)
                device = c.pick_device(rng)
                channel = "app" if device == "mobile" and rng.random() < 0.5 else "web"
                self._seq += 1
                act.events.append(
                    (tr, self._seq, "return", self.ids.session(), p.product_id, order, None,
                     price, back, device, channel, c.offset(tr), self._lag_ms(channel))
                )  # fmt: skip
        p_review = c.archetype.p_review * self.review_factor * (1.6 if returned else 1.0)
        if rng.random() < p_review:
            tv = t + rng.randrange(2 * DAY, 40 * DAY)
            if tv < limit:
                rating = self.rating(c, p, returned)
                title, text = review_text(rng, rating, p)
                if self.languages is not None:
                    title, text = self.languages.write(rating, p, (title, text))
                self._seq += 1
                act.reviews.append(
                    (tv, self._seq, p.product_id, rating, title, text, c.offset(tv),
                     self._lag_ms("web"))
                )  # fmt: skip

    def rating(self, c: Customer, p: Product, returned: bool) -> int:
        """Stars from product quality, the customer's temperament and noise (J-shaped)."""
        z = 0.9 * p.quality + c.temperament + self.rng.gauss(0.0, 0.8) - 0.8 * returned
        if z > 0.0:
            return 5
        if z > -0.6:
            return 4
        if z > -1.05:
            return 3
        if z > -1.4:
            return 2
        return 1
