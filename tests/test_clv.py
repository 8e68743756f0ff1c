"""CLV: BG/NBD and Gamma-Gamma on data simulated from known parameters (recovery, holdout
totals, P(alive) shape, edge customers), the RFM summary on hand-built events worked out
by hand, and the clv job end to end on a generated lake."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import math
import os
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pytest
from pyspark.sql import functions as F

from insight import columns as C
from insight import landing, tables
from insight.clv import models, schemas
from insight.clv.summary import holdout_purchases, rfm_summary

TRUE_BG = {"r": 0.5, "alpha": 20.0, "a": 0.8, "b": 2.5}  # CDNOW-like, alpha in days
HOLDOUT = 90.0


def simulate_bgnbd(n: int, r: float, alpha: float, a: float, b: float, seed: int):
    """(frequency, recency, T, holdout purchases) of n BG/NBD customers, the first
    purchase at 0, observed for T ~ U(60, 365) days and then HOLDOUT more days."""
    rng = np.random.default_rng(seed)
    lam, p = rng.gamma(r, 1 / alpha, n), rng.beta(a, b, n)
    big_t = rng.uniform(60, 365, n)
    x, tx, hold = np.zeros(n), np.zeros(n), np.zeros(n)
    for i in range(n):
        t = 0.0
        while True:
            t += rng.exponential(1 / lam[i])
            if t > big_t[i] + HOLDOUT:
                break
            if t <= big_t[i]:
                x[i], tx[i] = x[i] + 1, t
            else:
                hold[i] += 1
            if rng.random() < p[i]:  # drops out right after a purchase
                break
    return x, tx, big_t, hold


@pytest.fixture(scope="module")
def simulated():
    return simulate_bgnbd(3000, **TRUE_BG, seed=7)


# -- BG/NBD ------------------------------------------------------------------------------


def test_bgnbd_recovers_parameters_and_holdout_total(simulated):
    x, tx, big_t, hold = simulated
    bg = models.fit_bgnbd(x, tx, big_t)
    got = bg.params()
    for name, true in TRUE_BG.items():
        assert got[name] == pytest.approx(true, rel=0.3), (name, got)
    predicted = bg.expected_purchases(HOLDOUT, x, tx, big_t)
    assert abs(predicted.sum() - hold.sum()) / hold.sum() < 0.10
    # Per customer the prediction carries signal: more predicted, more bought.
    assert np.corrcoef(predicted, hold)[0, 1] > 0.4
    # The fit is at least as likely as the true parameters (up to the small penalty and the
    # optimiser's tolerance) and clearly more likely than a wrong model.
    ll = models.bgnbd_log_likelihood(*got.values(), x, tx, big_t).sum()
    assert ll > models.bgnbd_log_likelihood(*TRUE_BG.values(), x, tx, big_t).sum() - 1.0
    assert ll > models.bgnbd_log_likelihood(2.0, 5.0, 3.0, 1.0, x, tx, big_t).sum() + 100


def test_p_alive_is_one_without_repeats_and_falls_with_inactivity():
    bg = models.BGNBD(**TRUE_BG)
    assert bg.p_alive([0, 0], [0, 0], [1, 300]).tolist() == [1.0, 1.0]
    longer = bg.p_alive([3] * 4, [50] * 4, [50, 100, 200, 400])
    assert longer[0] == pytest.approx(1 / (1 + 0.8 / 4.5))  # bought on the cut-off day
    assert np.all(np.diff(longer) < 0) and np.all((longer > 0) & (longer <= 1))
    # More purchases in the same time span: silence weighs more.
    assert bg.p_alive(10, 50, 200) < bg.p_alive(2, 50, 200)


def test_expected_purchases_grow_with_horizon_and_vanish_at_zero():
    bg = models.BGNBD(**TRUE_BG)
    rfm = ([0, 2, 8], [0, 30, 150], [100, 200, 160])
    assert bg.expected_purchases(0, *rfm).tolist() == [0.0, 0.0, 0.0]
    horizons = [bg.expected_purchases(t, *rfm) for t in (1, 30, 90, 365, 3650)]
    assert all(np.all(b > a) for a, b in itertools.pairwise(horizons))
    # Recently active frequent buyer > one who went quiet > a one-off.
    assert horizons[3][2] > horizons[3][1] > 0 and horizons[3][0] > 0


def test_edge_customers_give_finite_values():
    # T = 0 (first purchase on as_of), huge frequency, bought on the cut-off day, long
    # silence, tiny/huge parameters and a = 1 (the removable singularity).
    x = np.array([0, 0, 1, 364, 364, 50, 1])
    tx = np.array([0, 0, 0, 364, 364, 10, 1e-9])
    big_t = np.array([0, 3650, 1, 364, 3650, 3650, 1e-9])
    for params in (TRUE_BG, {"r": 1e-4, "alpha": 1e-3, "a": 1.0, "b": 1e4},
                   {"r": 50.0, "alpha": 1e4, "a": 1e-3, "b": 1e-3}):  # fmt: skip
        bg = models.BGNBD(**params)
        for t in (1.0, 365.0):
            assert np.all(np.isfinite(bg.expected_purchases(t, x, tx, big_t))), params
        assert np.all(np.isfinite(bg.p_alive(x, tx, big_t))), params
        assert np.all(np.isfinite(models.bgnbd_log_likelihood(*params.values(), x, tx, big_t)))
    gg = models.GammaGamma(p=2.0, q=3.0, v=40.0)
    spend = gg.expected_spend([0, 1, 3, 2, 364], [0.0, -20.0, 0.0, 1e6, 1e-9])
    assert np.all(np.isfinite(spend))
    bad = models.clv(models.BGNBD(**TRUE_BG), gg, x, tx, big_t, np.zeros_like(x))
    assert np.all(np.isfinite(bad)) and np.all(bad >= 0)
    with pytest.raises(ValueError, match="finite"):
        models.BGNBD(**TRUE_BG).p_alive([np.nan], [0], [1])
    with pytest.raises(ValueError, match="recency cannot exceed T"):
        models.BGNBD(**TRUE_BG).p_alive([1], [5], [4])


def test_fit_refuses_data_without_repeat_purchases():
    with pytest.raises(ValueError, match="repeat purchase"):
        models.fit_bgnbd([0, 0, 0], [0, 0, 0], [10, 20, 30])
    with pytest.raises(ValueError, match="at least 2"):
        models.fit_gamma_gamma([0, 1, 2], [0.0, 10.0, -5.0])


# -- Gamma-Gamma and CLV -----------------------------------------------------------------


def test_gamma_gamma_recovers_mean_spend_and_falls_back_to_it():
    rng = np.random.default_rng(5)
    p, q, v, n = 6.0, 4.0, 15.0, 3000
    x = rng.integers(1, 10, n).astype(float)
    nu = rng.gamma(q, 1 / v, n)
    m = np.array([rng.gamma(p, 1 / nu[i], int(k)).mean() for i, k in enumerate(x)])
    # Customers the model must ignore: no repeat purchase, net spend <= 0.
    x_all, m_all = np.append(x, [0, 3, 2]), np.append(m, [0.0, -40.0, 0.0])
    gg = models.fit_gamma_gamma(x_all, m_all)
    assert gg.population_mean == pytest.approx(p * v / (q - 1), rel=0.05)  # 30
    assert gg.p == pytest.approx(p, rel=0.25) and gg.q == pytest.approx(q, rel=0.25)
    spend = gg.expected_spend([0, 3, 2, 5, 5], [0.0, -40.0, 0.0, 10.0, 90.0])
    assert spend[:3] == pytest.approx([gg.population_mean] * 3)
    # Shrunk from the customer's own mean towards the population mean.
    assert 10.0 < spend[3] < gg.population_mean < spend[4] < 90.0


def test_clv_is_purchases_times_spend_and_discounting_lowers_it():
    bg, gg = models.BGNBD(**TRUE_BG), models.GammaGamma(p=6.0, q=4.0, v=15.0)
    rfm, m = ([0, 2, 8], [0, 30, 150], [100, 200, 160]), [0.0, 25.0, 60.0]
    plain = models.clv(bg, gg, *rfm, m)
    expected = bg.expected_purchases(365, *rfm) * gg.expected_spend(rfm[0], m)
    assert plain == pytest.approx(expected)
    discounted = models.clv(bg, gg, *rfm, m, monthly_discount=0.01)
    assert np.all(discounted < plain) and np.all(discounted > plain / 1.01**12)


# -- RFM summary -------------------------------------------------------------------------

AS_OF = date(2025, 6, 30)
EVENTS = (
    f"{C.CUSTOMER_KEY} string, {C.EVENT_TYPE} string, {C.EVENT_TS} timestamp, "
    f"{C.EVENT_DATE} date, {C.AMOUNT} double"
)


def ev(cust: str | None, kind: str, day: date, amount: float | None, hour: int = 12):
    ts = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
    return (cust, kind, ts, day, amount)


def hand_events(spark):
    d = date
    rows = [
        # A: 3 purchase days (two orders on 6/1 count once), a return, one purchase late.
        ev("A", "purchase", d(2025, 6, 1), 20.0, 10),
        ev("A", "purchase", d(2025, 6, 1), 5.0, 15),
        ev("A", "view", d(2025, 6, 5), None),
        ev("A", "purchase", d(2025, 6, 11), 30.0),
        ev("A", "return", d(2025, 6, 12), 10.0),  # of the 6/1 order: lowers repeat value
        ev("A", "purchase", d(2025, 6, 21), 40.0),
        ev("A", "purchase", d(2025, 7, 1), 100.0, 0),  # after as_of: ignored
        ev("B", "purchase", d(2025, 6, 29), 12.0),  # one purchase day
        ev("B", "return", d(2025, 6, 30), 12.0),
        ev("C", "return", d(2025, 6, 10), 15.0),  # returns only: no row
        ev("D", "purchase", d(2025, 7, 2), 9.0),  # first purchase after as_of: no row
        ev("E", "add_to_cart", d(2025, 6, 3), 9.0),  # never bought: no row
        ev(None, "purchase", d(2025, 6, 3), 9.0),  # unknown customer: no row
        # F: repeat days whose returns exceed the purchases -> monetary_value < 0.
        ev("F", "purchase", d(2025, 5, 1), 50.0),
        ev("F", "purchase", d(2025, 5, 20), 10.0),
        ev("F", "return", d(2025, 5, 25), 50.0),
    ]
    return spark.createDataFrame(rows, EVENTS)


def rows(df) -> dict:
    return {r[C.CUSTOMER_KEY]: tuple(r)[1:] for r in df.collect()}


def test_rfm_summary_by_hand_ignores_later_events(spark):
    events = hand_events(spark)
    out = rfm_summary(events, AS_OF)
    assert [(f.name, f.dataType) for f in out.schema] == [
        (f.name, f.dataType) for f in schemas.SUMMARY_SCHEMA
    ]
    assert rows(out) == {
        # frequency, recency, T, monetary_value
        "A": (2, 20, 29, (30.0 - 10.0 + 40.0) / 2),
        "B": (0, 0, 1, 0.0),
        "F": (1, 19, 60, 10.0 - 50.0),
    }
    # Calibration ending 6/15: A's 6/21 purchase is not seen yet; F is unchanged.
    cal = rows(rfm_summary(events, AS_OF, calibration_end=date(2025, 6, 15)))
    assert cal == {"A": (1, 10, 14, 20.0), "F": (1, 19, 45, -40.0)}
    holdout = rows(holdout_purchases(events, date(2025, 6, 15), AS_OF))
    assert holdout == {"A": (1,), "B": (1,)}
    with pytest.raises(ValueError, match="after as_of"):
        rfm_summary(events, AS_OF, calibration_end=date(2025, 7, 1))


def test_rfm_summary_names_a_missing_column(spark):
    events = hand_events(spark).drop(C.AMOUNT)
    with pytest.raises(ValueError, match=C.AMOUNT):
        rfm_summary(events, AS_OF)


# -- the job -----------------------------------------------------------------------------


def customer_key(customer_id: str) -> str:
    """The silver key of a source id (HMAC-SHA256 with the test salt, as clean does)."""
    salt = os.environ["INSIGHT_PII_SALT"].encode()
    return hmac.new(salt, customer_id.encode(), hashlib.sha256).hexdigest()


@pytest.mark.integration
def test_clv_job_on_a_generated_lake(spark, lake, cleaned_copy):
    from insight.clv import job as clv_job

    # Nothing cleaned yet: names `insight run clean`, and the ledger says it failed.
    assert clv_job.main(["--lake", lake, "--as-of", "2025-12-31"]) == 2
    empty = tables.read(spark, tables.RUN_LEDGER, lake).where(F.col("job") == "clv")
    assert {r["status"] for r in empty.collect()} == {"failed"}
    lake = cleaned_copy  # a year of ingested and cleaned history (conftest)
    args = ["--lake", lake, "--as-of", "2025-12-31"]
    assert clv_job.main(args) == 0

    out = tables.read(spark, schemas.CUSTOMER_CLV, lake).where(F.col(C.AS_OF) == "2025-12-31")
    got = {r[C.CUSTOMER_KEY]: r.asDict() for r in out.collect()}
    buyers = (
        tables.read(spark, tables.silver(landing.EVENTS), lake)
        .where((F.col(C.EVENT_TYPE) == "purchase") & (F.col(C.EVENT_DATE) <= "2025-12-31"))
        .select(C.CUSTOMER_KEY)
        .distinct()
    )
    assert sorted(got) == sorted(r[0] for r in buyers.collect())
    for row in got.values():
        for name, value in row.items():
            assert value is not None, name
            if isinstance(value, float):
                assert math.isfinite(value), name
        assert 0 < row[schemas.P_ALIVE] <= 1 and row[schemas.EXPECTED_SPEND] > 0
    assert {k for k in next(iter(got.values()))[schemas.MODEL_PARAMS]} >= {"r", "alpha", "a", "b",
                                                                     "p", "q", "v"}  # fmt: skip
    schema = tables.read(spark, schemas.CUSTOMER_CLV, lake).schema
    assert schema.fieldNames() == schemas.CUSTOMER_CLV_SCHEMA.fieldNames()
    assert all(f.metadata.get("comment") for f in schema)

    ledger = tables.read(spark, tables.RUN_LEDGER, lake).where(F.col("job") == "clv")
    messages = {r["status"]: r["message"] for r in ledger.collect()}
    assert set(messages) == {"ok", "done"} and "relative error" in messages["ok"]
    print("\nclv ledger:", messages["ok"])

    # Re-run with a monthly discount: the as_of's rows are replaced, every CLV is lower.
    assert clv_job.main([*args, "--discount", "0.01"]) == 0
    again = tables.read(spark, schemas.CUSTOMER_CLV, lake).where(F.col(C.AS_OF) == "2025-12-31")
    rerun = {r[C.CUSTOMER_KEY]: r.asDict() for r in again.collect()}
    assert sorted(rerun) == sorted(got)
    assert all(
        rerun[k][schemas.CLV_12M] < got[k][schemas.CLV_12M]
        for k in got
        if got[k][schemas.CLV_12M] > 0
    )
    assert all(
        rerun[k][schemas.EXPECTED_PURCHASES_12M] == got[k][schemas.EXPECTED_PURCHASES_12M]
        for k in got
    )
    assert next(iter(rerun.values()))[schemas.MODEL_PARAMS]["monthly_discount"] == 0.01
    # The same discount as a config key gives the same rows; a flag's bad value is named.
    assert clv_job.main([*args, "--conf", "clv.monthly_discount=0.01"]) == 0
    by_conf = tables.read(spark, schemas.CUSTOMER_CLV, lake).where(F.col(C.AS_OF) == "2025-12-31")
    assert {r[C.CUSTOMER_KEY]: r[schemas.CLV_12M] for r in by_conf.collect()} == {
        k: v[schemas.CLV_12M] for k, v in rerun.items()
    }
    assert clv_job.main([*args, "--holdout-days", "0"]) == 2
    last = tables.read(spark, tables.RUN_LEDGER, lake).where(F.col("job") == "clv").collect()
    assert "clv.holdout_days must be >= 1" in max(last, key=lambda r: r["finished_at"])["message"]

    truth = [json.loads(line) for line in (Path(lake) / "truth" / "customers.jsonl").open()]
    future = {customer_key(t["customer_id"]): t["future_purchases_365d"] for t in truth}
    keys = sorted(got)
    assert set(keys) <= set(future)
    predicted = np.array([got[k][schemas.EXPECTED_PURCHASES_12M] for k in keys])
    actual = np.array([future[k] for k in keys], dtype=float)
    pearson = np.corrcoef(predicted, actual)[0, 1]
    ranks = np.corrcoef(np.argsort(np.argsort(predicted)), np.argsort(np.argsort(actual)))[0, 1]
    print(f"clv truth: {len(keys)} buyers, predicted 12m purchase days {predicted.sum():.1f} "
          f"vs true future orders {actual.sum():.0f}; pearson {pearson:.3f}, spearman "
          f"{ranks:.3f}")  # fmt: skip
    assert pearson > 0.2
