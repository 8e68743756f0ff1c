"""BG/NBD and Gamma-Gamma customer lifetime value models: pure numpy/scipy, no Spark.

BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way"): while alive a
customer buys at a Poisson rate lambda ~ Gamma(r, alpha); after each purchase they drop out
with probability p ~ Beta(a, b). Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV"): the
mean spend per repeat purchase of a customer is Gamma-distributed around a value
nu ~ Gamma(q, v), with shape p, independent of the purchase process.

Inputs follow the lifetimes convention (see `insight.clv.summary`): `frequency` = repeat
purchase days, `recency` = days from the first to the last purchase day, `T` = days from the
first purchase day to the cut-off, `monetary` = mean spend per repeat purchase day. Time is
in days, so `alpha` is in days and `t` of a prediction is a number of days.

Everything is computed in log space (gammaln, betaln, logaddexp) and every public function
returns finite values or raises.

Example::

    bg = fit_bgnbd(frequency, recency, T)
    n12 = bg.expected_purchases(365, frequency, recency, T)
    gg = fit_gamma_gamma(frequency, monetary)
    value = clv(bg, gg, frequency, recency, T, monetary, t_days=365, monthly_discount=0.01)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special

log = logging.getLogger(__name__)

Array = NDArray[np.float64]

# Log-parameters are kept inside [-LOG_BOUND, LOG_BOUND] (params in ~[6e-6, 1.6e5]): the
# likelihood can drift towards a boundary (a, b -> infinity when nobody seems to drop out),
# and a bounded search returns finite parameters instead of overflowing.
LOG_BOUND = 12.0
# A weak L2 penalty on the log-parameters (as lifetimes' penalizer_coef, but on logs so
# that it does not depend on the time unit of alpha): it only matters when the data
# cannot pin a parameter down.
DEFAULT_PENALIZER = 1e-3
DAYS_PER_MONTH = 365.0 / 12.0


def _arrays(*values: ArrayLike) -> list[Array]:
    """Float arrays of one shape; raises ValueError on NaN, infinity or negatives."""
    out = [np.asarray(v, dtype=np.float64) for v in values]
    out = list(np.broadcast_arrays(*out))
    for a in out:
        if not np.all(np.isfinite(a)):
            raise ValueError("inputs must be finite (no NaN or infinity)")
    return out


def _check_rfm(frequency: Array, recency: Array, T: Array) -> None:
    if np.any(frequency < 0) or np.any(recency < 0) or np.any(T < 0):
        raise ValueError("frequency, recency and T must be >= 0")
    if np.any(recency > T):
        raise ValueError("recency cannot exceed T (last purchase after the cut-off)")
    if np.any((frequency == 0) & (recency != 0)):
        raise ValueError("recency must be 0 when frequency is 0")


def _finite(values: Array, what: str) -> Array:
    # A model output that is not finite is a bug here, never something to write.
    if not np.all(np.isfinite(values)):
        raise FloatingPointError(f"{what}: non-finite values from the model")
    return values


def _minimise(nll, x0: Array) -> Array:
    """argmin of nll over log-parameters (L-BFGS-B, bounded); raises if it cannot move."""
    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(x0)
    result = optimize.minimize(nll, x0, method="L-BFGS-B", bounds=bounds)
    if not np.all(np.isfinite(result.x)) or not np.isfinite(result.fun):
        raise FloatingPointError(f"optimiser ended on non-finite values: {result.message}")
    return result.x


# -- BG/NBD ------------------------------------------------------------------------------


def bgnbd_log_likelihood(
    r: float, alpha: float, a: float, b: float, frequency: Array, recency: Array, T: Array
) -> Array:
    """Per-customer log-likelihood of (frequency, recency, T) under BG/NBD (FHL 2005, eq. 6).

    L = B(a, b+x)/B(a, b) * G(r+x)/G(r) * alpha^r
        * [ (alpha+T)^-(r+x) + [x>0] a/(b+x-1) * (alpha+t_x)^-(r+x) ]
    The two terms of the bracket are added with log-sum-exp.
    """
    x, tx = frequency, recency
    a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    a2 = special.betaln(a, b + x) - special.betaln(a, b)
    a3 = -(r + x) * np.log(alpha + T)
    # b + x - 1 with x >= 1 only: for x = 0 the term is dropped (weight 0 below).
    a4 = np.log(a) - np.log(b + np.maximum(x, 1) - 1) - (r + x) * np.log(alpha + tx)
    return a1 + a2 + np.where(x > 0, np.logaddexp(a3, a4), a3)


@dataclass(frozen=True)
class BGNBD:
    """Fitted BG/NBD parameters (alpha in days)."""

    r: float
    alpha: float
    a: float
    b: float

    def params(self) -> dict[str, float]:
        return {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b}

    def _log_dropout_odds(self, frequency: Array, recency: Array, T: Array) -> Array:
        """log of [x>0] a/(b+x-1) * ((alpha+T)/(alpha+t_x))^(r+x); -inf when x = 0.

        P(alive) = 1 / (1 + exp(this)).
        """
        x = frequency
        odds = (
            np.log(self.a)
            - np.log(self.b + np.maximum(x, 1) - 1)
            + (self.r + x) * (np.log(self.alpha + T) - np.log(self.alpha + recency))
        )
        return np.where(x > 0, odds, -np.inf)

    def p_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> Array:
        """P(still active at T | x, t_x, T) (FHL 2005 eq. 11 / the 2008 note).

        In BG/NBD a customer can only drop out right after a repeat purchase, so one
        with no repeat purchase (frequency 0) is alive with probability 1; for x > 0 it
        falls as T - t_x (time since the last purchase) grows.
        """
        x, tx, t = _arrays(frequency, recency, T)
        _check_rfm(x, tx, t)
        # 1/(1+e^z) = expit(-z): no overflow for large z, exactly 1 for z = -inf.
        return _finite(special.expit(-self._log_dropout_odds(x, tx, t)), "p_alive")

    def expected_purchases(
        self, t: float, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> Array:
        """E[purchases in (T, T+t] | x, t_x, T] (FHL 2005 eq. 10), t in days.

        E = (a+b+x-1)/(a-1) * [1 - ((alpha+T)/(alpha+T+t))^(r+x) * 2F1(r+x, b+x; a+b+x-1; z)]
            / (1 + [x>0] a/(b+x-1) * ((alpha+T)/(alpha+t_x))^(r+x)),  z = t/(alpha+T+t)
        """
        x, tx, big_t = _arrays(frequency, recency, T)
        _check_rfm(x, tx, big_t)
        if t < 0:
            raise ValueError(f"t must be >= 0, got {t}")
        if t == 0:
            return np.zeros_like(x)
        r, alpha, b = self.r, self.alpha, self.b
        # The formula has a removable singularity at a = 1: step just off it.
        a = self.a if abs(self.a - 1.0) > 1e-6 else 1.0 + 1e-6
        c1, c2, c3 = r + x, b + x, a + b + x - 1
        z = t / (alpha + big_t + t)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            log_hyp = np.log(special.hyp2f1(c1, c2, c3, z))
            # Euler's transformation 2F1(a,b;c;z) = (1-z)^(c-a-b) 2F1(c-a,c-b;c;z): the same
            # value where the direct series overflows (large x, z near 1).
            alt = np.log(special.hyp2f1(c3 - c1, c3 - c2, c3, z)) + (c3 - c1 - c2) * np.log1p(-z)
        log_hyp = np.where(np.isfinite(log_hyp), log_hyp, alt)
        log_ratio = c1 * (np.log(alpha + big_t) - np.log(alpha + big_t + t))
        # 1 - exp(u) with u = log_ratio + log_hyp, accurate for u near 0 (small t).
        second = -np.expm1(log_ratio + log_hyp)
        first = (a + b + x - 1) / (a - 1)
        # / (1 + e^odds) = * expit(-odds), stable for large odds.
        alive = special.expit(-self._log_dropout_odds(x, tx, big_t))
        expected = first * second * alive
        failed = ~np.isfinite(expected)
        if np.any(failed):
            # scipy's hyp2f1 gives NaN in both forms for extreme parameters (b ~ 1e4 with z
            # near 1). There the model expects almost no dropout within t, so use
            # P(alive) x posterior mean rate x t (no dropout in the horizon: an upper bound).
            log.warning(
                "BG/NBD: 2F1 not computable for %d customers (r=%.3g alpha=%.3g a=%.3g "
                "b=%.3g): no-dropout approximation used", failed.sum(), r, alpha, a, b,
            )  # fmt: skip
            approx = alive * (r + x) / (alpha + big_t) * t
            expected = np.where(failed, approx, expected)
        # Rounding can leave a tiny negative number for t -> 0; counts are >= 0.
        return _finite(np.maximum(expected, 0.0), "expected_purchases")


def fit_bgnbd(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    *,
    penalizer: float = DEFAULT_PENALIZER,
) -> BGNBD:
    """Maximum likelihood BG/NBD on per-customer (frequency, recency, T) in days.

    Optimises the log-parameters (so r, alpha, a, b stay > 0) with L-BFGS-B on the mean
    negative log-likelihood plus `penalizer` * sum(log-params^2).
    """
    x, tx, big_t = _arrays(frequency, recency, T)
    _check_rfm(x, tx, big_t)
    if x.size == 0:
        raise ValueError("BG/NBD needs at least one customer")
    if not np.any(x > 0):
        raise ValueError("BG/NBD needs at least one customer with a repeat purchase")

    def nll(theta: Array) -> float:
        r, alpha, a, b = np.exp(theta)
        ll = bgnbd_log_likelihood(r, alpha, a, b, x, tx, big_t)
        return float(-ll.mean() + penalizer * np.sum(theta**2))

    # Start from rate ~ mean repeat rate (alpha = r / rate) and a mild dropout.
    rate = max(float(x.sum() / max(big_t.sum(), 1.0)), 1e-4)
    x0 = np.log(np.array([1.0, 1.0 / rate, 1.0, 3.0]))
    r, alpha, a, b = np.exp(_minimise(nll, x0))
    return BGNBD(r=float(r), alpha=float(alpha), a=float(a), b=float(b))


# -- Gamma-Gamma -------------------------------------------------------------------------


def gamma_gamma_log_likelihood(
    p: float, q: float, v: float, frequency: Array, monetary: Array
) -> Array:
    """Per-customer log-likelihood of the mean spend m over x repeat purchases (x, m > 0).

    m_bar ~ Gamma(p x, nu x) given nu, nu ~ Gamma(q, v), integrated over nu (FHL 2005b).
    """
    x, m = frequency, monetary
    px = p * x
    return (
        special.gammaln(px + q)
        - special.gammaln(px)
        - special.gammaln(q)
        + q * np.log(v)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(x * m + v)
    )


@dataclass(frozen=True)
class GammaGamma:
    """Fitted Gamma-Gamma parameters (q > 1, so the population mean spend is finite)."""

    p: float
    q: float
    v: float

    def params(self) -> dict[str, float]:
        return {"p": self.p, "q": self.q, "v": self.v}

    @property
    def population_mean(self) -> float:
        """E[spend per purchase] over the population: p v / (q - 1)."""
        return self.p * self.v / (self.q - 1)

    def expected_spend(self, frequency: ArrayLike, monetary: ArrayLike) -> Array:
        """E[spend per purchase | x, m] = w * population mean + (1 - w) * m,
        w = (q - 1) / (p x + q - 1) (FHL 2005b eq. 5).

        Customers with no repeat purchase (x = 0) get the population mean (w = 1). Customers
        whose mean net spend is not positive (returns cancel their purchases) are outside
        the model (Gamma spend is > 0): they also get the population mean, a neutral
        guess rather than a negative or zero future value.
        """
        x, m = _arrays(frequency, monetary)
        if np.any(x < 0):
            raise ValueError("frequency must be >= 0")
        usable = (x > 0) & (m > 0)
        px = self.p * np.where(usable, x, 0.0)
        w = (self.q - 1) / (px + self.q - 1)
        spend = w * self.population_mean + (1 - w) * np.where(usable, m, 0.0)
        return _finite(spend, "expected_spend")


def fit_gamma_gamma(
    frequency: ArrayLike,
    monetary: ArrayLike,
    *,
    penalizer: float = DEFAULT_PENALIZER,
) -> GammaGamma:
    """Maximum likelihood Gamma-Gamma on customers with frequency > 0 and monetary > 0
    (the others are ignored: see `GammaGamma.expected_spend`).

    q is parametrised as 1 + exp(theta) so the population mean p v / (q - 1) exists.
    """
    x, m = _arrays(frequency, monetary)
    keep = (x > 0) & (m > 0)
    x, m = x[keep], m[keep]
    if x.size < 2:
        raise ValueError(
            f"Gamma-Gamma needs at least 2 customers with a repeat purchase and positive "
            f"mean spend, got {x.size}"
        )

    def unpack(theta: Array) -> tuple[float, float, float]:
        p, q_minus_1, v = np.exp(theta)
        return p, 1.0 + q_minus_1, v

    def nll(theta: Array) -> float:
        p, q, v = unpack(theta)
        ll = gamma_gamma_log_likelihood(p, q, v, x, m)
        return float(-ll.mean() + penalizer * np.sum(theta**2))

    # Start where the population mean p v / (q - 1) equals the observed mean spend.
    x0 = np.log(np.array([1.0, 1.0, float(m.mean())]))
    p, q, v = unpack(_minimise(nll, x0))
    return GammaGamma(p=float(p), q=float(q), v=float(v))


# -- CLV ---------------------------------------------------------------------------------


def clv(
    bgnbd: BGNBD,
    gamma_gamma: GammaGamma,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    monetary: ArrayLike,
    *,
    t_days: float = 365.0,
    monthly_discount: float = 0.0,
) -> Array:
    """Expected net spend over the next `t_days`: expected purchases x expected spend.

    With `monthly_discount` d > 0 the horizon is cut into months of 365/12 days and the
    purchases expected in month k are discounted by (1 + d)^-k, as lifetimes'
    `customer_lifetime_value` does (a last partial month is discounted as a full one).
    With d = 0 this is exactly E[purchases in t_days] x E[spend].
    """
    if monthly_discount < 0:
        raise ValueError(f"monthly_discount must be >= 0, got {monthly_discount}")
    spend = gamma_gamma.expected_spend(frequency, monetary)
    if monthly_discount == 0:
        return _finite(bgnbd.expected_purchases(t_days, frequency, recency, T) * spend, "clv")
    months = max(1, int(np.ceil(t_days / DAYS_PER_MONTH - 1e-9)))
    ends = np.minimum(DAYS_PER_MONTH * np.arange(1, months + 1), t_days)
    total, before = np.zeros_like(spend), np.zeros_like(spend)
    for k, end in enumerate(ends, start=1):
        upto = bgnbd.expected_purchases(float(end), frequency, recency, T)
        total += (upto - before) / (1 + monthly_discount) ** k
        before = upto
    return _finite(total * spend, "clv")
