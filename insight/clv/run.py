"""The clv job: silver.events -> gold.customer_clv for one as_of, plus a holdout check.

The RFM summary is aggregated in Spark (one row per purchasing customer) and collected to
the driver, where BG/NBD and Gamma-Gamma are fitted with scipy: the models have 4 + 3
parameters and need every customer at once, and one row per customer fits in driver memory
at this shop's scale (millions of rows would call for sampling the fit).

Validation: the same models are fitted on a calibration period ending `holdout_days`
before as_of and predict each calibration customer's purchase days in the holdout
(calibration end, as_of]; MAE and the aggregate relative error are logged and recorded in
the ledger message. Customers whose first purchase falls in the holdout are not scored
(BG/NBD predicts repeat purchases of known customers).

Idempotent: the as_of's rows are replaced in one commit (`replaceWhere`).
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import chain

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from insight import columns as C
from insight import landing, tables
from insight.clv import models, schemas
from insight.clv.summary import EVENT_COLUMNS, holdout_purchases, rfm_summary
from insight.config import ClvConfig
from insight.errors import InsightError
from insight.landing import PURCHASE, RETURN
from insight.ops.ledger import LEDGER_SCHEMA, OK, SKIPPED
from insight.runtime import JobRun

log = logging.getLogger(__name__)


def clv_settings(run: JobRun) -> ClvConfig:
    """The clv.* config, with the job's flags (--holdout-days etc.) taking precedence."""
    given = {k: v for k, v in dataclasses.asdict(run.flags).items() if v is not None}
    return dataclasses.replace(run.cfg.clv, **given)  # re-validated by ClvConfig


@dataclass(frozen=True)
class Fitted:
    bgnbd: models.BGNBD
    gamma_gamma: models.GammaGamma


@dataclass(frozen=True)
class Validation:
    calibration_end: date
    customers: int
    actual: float
    predicted: float
    mae: float

    @property
    def relative_error(self) -> float:
        """(predicted - actual) / actual over all calibration customers; 0 if both are 0."""
        if self.actual == 0:
            return 0.0 if self.predicted == 0 else float("inf")
        return (self.predicted - self.actual) / self.actual

    def describe(self) -> str:
        return (
            f"holdout ({self.calibration_end}, as_of]: {self.customers} customers, "
            f"{self.actual:.0f} purchase days actual vs {self.predicted:.1f} predicted "
            f"(relative error {self.relative_error:+.1%}), MAE {self.mae:.3f}"
        )


def _collect(summary: DataFrame) -> pd.DataFrame:
    """The summary on the driver, sorted so the fit is the same on every run."""
    pdf = summary.toPandas().sort_values(C.CUSTOMER_KEY, ignore_index=True)
    return pdf


def _rfm(pdf: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (
        pdf[schemas.FREQUENCY].to_numpy(np.float64),
        pdf[schemas.RECENCY].to_numpy(np.float64),
        pdf[schemas.T_DAYS].to_numpy(np.float64),
    )


class TooLittleHistoryError(InsightError):
    """The purchase history cannot support the models yet."""


def fit(pdf: pd.DataFrame, settings: ClvConfig) -> Fitted:
    """Both models on one summary; InsightError if the data cannot support them."""
    x, tx, big_t = _rfm(pdf)
    try:
        bg = models.fit_bgnbd(x, tx, big_t, penalizer=settings.penalizer)
        gg = models.fit_gamma_gamma(
            x, pdf[schemas.MONETARY_VALUE].to_numpy(np.float64), penalizer=settings.penalizer
        )
    except ValueError as exc:
        raise TooLittleHistoryError(
            f"too little purchase history to fit the models ({len(pdf)} buyers): {exc}"
        ) from exc
    return Fitted(bg, gg)


def score(pdf: pd.DataFrame, fitted: Fitted, settings: ClvConfig) -> pd.DataFrame:
    """The summary with expected purchases, P(alive), expected spend and CLV added."""
    x, tx, big_t = _rfm(pdf)
    m = pdf[schemas.MONETARY_VALUE].to_numpy(np.float64)
    bg, gg = fitted.bgnbd, fitted.gamma_gamma
    out = pdf.copy()
    out[schemas.EXPECTED_PURCHASES_12M] = bg.expected_purchases(settings.horizon_days, x, tx, big_t)
    out[schemas.P_ALIVE] = bg.p_alive(x, tx, big_t)
    out[schemas.EXPECTED_SPEND] = gg.expected_spend(x, m)
    out[schemas.CLV_12M] = models.clv(
        bg, gg, x, tx, big_t, m,
        t_days=settings.horizon_days, monthly_discount=settings.monthly_discount,
    )  # fmt: skip
    return out


def validate(
    events: DataFrame, as_of: date, settings: ClvConfig
) -> tuple[Validation, Fitted] | None:
    """Fit on the calibration period, compare predicted and actual holdout purchase days;
    None (logged) if the calibration period has too little history to fit."""
    cal_end = as_of - timedelta(days=settings.holdout_days)
    cal = _collect(rfm_summary(events, as_of, calibration_end=cal_end))
    try:
        fitted = fit(cal, settings)
    except InsightError as exc:
        log.warning("clv: no validation: %s", exc)
        return None
    actual = holdout_purchases(events, cal_end, as_of).toPandas()
    joined = cal.merge(actual, on=C.CUSTOMER_KEY, how="left")
    observed = joined[schemas.HOLDOUT_PURCHASES].fillna(0).to_numpy(np.float64)
    predicted = fitted.bgnbd.expected_purchases(settings.holdout_days, *_rfm(joined))
    result = Validation(
        calibration_end=cal_end,
        customers=len(joined),
        actual=float(observed.sum()),
        predicted=float(predicted.sum()),
        mae=float(np.abs(predicted - observed).mean()) if len(joined) else 0.0,
    )
    return result, fitted


def _params(fitted: Fitted, settings: ClvConfig) -> dict[str, float]:
    return {
        **fitted.bgnbd.params(),
        **fitted.gamma_gamma.params(),
        "horizon_days": float(settings.horizon_days),
        "monthly_discount": float(settings.monthly_discount),
    }


def to_frame(run: JobRun, scored: pd.DataFrame, params: dict[str, float]) -> DataFrame:
    """Scored rows as a Spark frame in the table's schema (params as one map literal)."""
    schema = schemas.CUSTOMER_CLV_SCHEMA
    names = [f.name for f in schema if f.name not in (C.AS_OF, schemas.MODEL_PARAMS)]
    # numpy scalars -> Python values, which createDataFrame checks against the schema.
    rows = [tuple(v.item() if hasattr(v, "item") else v for v in row)
            for row in scored[names].itertuples(index=False, name=None)]  # fmt: skip
    body = run.spark.createDataFrame(rows, T.StructType([schema[n] for n in names]))
    pairs = chain.from_iterable((F.lit(k), F.lit(v)) for k, v in params.items())
    return body.select(
        *names,
        F.lit(run.as_of).alias(C.AS_OF),
        F.create_map(*pairs).alias(schemas.MODEL_PARAMS),
    ).select(*schema.fieldNames())


def clv_all(run: JobRun) -> None:
    spark, lake = run.spark, run.lake
    step = run.step()
    settings = clv_settings(run)
    tables.create_if_missing(spark, tables.RUN_LEDGER, lake, LEDGER_SCHEMA)
    events = tables.read_required(spark, tables.silver(landing.EVENTS), lake, "clean")
    # Both summaries and the holdout read the orders: read them from storage once.
    orders = events.where(F.col(C.EVENT_TYPE).isin(PURCHASE, RETURN)).select(*EVENT_COLUMNS)
    orders = orders.cache()
    try:
        pdf = _collect(rfm_summary(orders, run.as_of))
        try:
            fitted = fit(pdf, settings)
        except TooLittleHistoryError as exc:
            # A young lake: say so and let the DAG go on (profile leaves CLV null).
            log.warning("clv skipped: %s", exc)
            run.record([step.entry(schemas.CUSTOMER_CLV.qualified, SKIPPED, message=str(exc))])
            return
        params = _params(fitted, settings)
        log.info("clv: fitted on %d customers: %s", len(pdf),
                 ", ".join(f"{k}={v:.4g}" for k, v in params.items()))  # fmt: skip
        checked = validate(orders, run.as_of, settings)
    finally:
        orders.unpersist()
    scored = score(pdf, fitted, settings)
    tables.create_if_missing(
        spark, schemas.CUSTOMER_CLV, lake, schemas.CUSTOMER_CLV_SCHEMA,
        partition_by=[C.AS_OF], comment=schemas.TABLE_COMMENT,
    )  # fmt: skip
    written = tables.overwrite(
        to_frame(run, scored, params), schemas.CUSTOMER_CLV, lake,
        replace_where=f"{C.AS_OF} = '{run.as_of}'",
    )  # fmt: skip
    if checked:
        log.info("clv: calibration fit: %s", ", ".join(
            f"{k}={v:.4g}" for k, v in _params(checked[1], settings).items()))  # fmt: skip
    validation = checked[0].describe() if checked else "validation skipped (too little history)"
    log.info("clv: %s", validation)
    log.info("clv: %d customers as of %s -> %s", written, run.as_of, schemas.CUSTOMER_CLV)
    run.record([
        step.entry(
            schemas.CUSTOMER_CLV.qualified, OK, rows_in=len(pdf), rows_written=written,
            message=f"as_of {run.as_of}: {written} customers; "
            f"params {', '.join(f'{k}={v:.4g}' for k, v in params.items())}; {validation}",
        )
    ])  # fmt: skip
