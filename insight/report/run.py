"""The report job: gold and ops tables (and the MLflow registry) -> one self-contained HTML
report at <lake>/reports/<as_of>/index.html.

Each panel reads what it needs; a table that is missing, or has no rows for the as_of,
becomes a "no data yet" panel naming the job to run, so the report can be written at any
point of the DAG. The page is written with `insight.storage`: plain file I/O on a local
lake, the session's Hadoop FileSystem on a URI (dbfs:/, s3a://, abfss://, file:/...), so
the report lands where the tables are.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from insight import columns as C
from insight import landing as L
from insight import storage, tables
from insight.clv.schemas import CLV_12M, CUSTOMER_CLV, P_ALIVE
from insight.config import Config
from insight.errors import InsightError
from insight.features import columns as FC
from insight.features.schemas import CUSTOMER_FEATURES
from insight.nlp.schemas import KEYPHRASE_WEEKLY, PRODUCT_SENTIMENT_DAILY, SENTIMENT_ALERTS
from insight.ops.ledger import LEDGER_SCHEMA, OK, SKIPPED
from insight.propensity.dataset import TARGETS
from insight.propensity.schemas import CUSTOMER_SCORES
from insight.recommend.schemas import RECOMMENDATIONS
from insight.report import charts, summaries
from insight.report import page as P
from insight.report.page import Panel
from insight.runtime import JobRun, utc_now
from insight.segment.schemas import CUSTOMER_SEGMENTS, SEGMENT_SUMMARY

log = logging.getLogger(__name__)

REPORTS = "reports"
INDEX = "index.html"


def report_path(lake: str, as_of: date) -> str:
    """Where the as_of's report is written: <lake>/reports/<as_of>/index.html."""
    return f"{lake.rstrip('/')}/{REPORTS}/{as_of}/{INDEX}"


@dataclass
class Context:
    """What every panel builder reads: the session, lake, as_of and config."""

    spark: SparkSession
    cfg: Config
    as_of: date
    kpis: list[tuple[str, str]] = field(default_factory=list)

    @property
    def lake(self) -> str:
        return self.cfg.lake

    def table(self, table: tables.Table) -> DataFrame | None:
        return tables.read(self.spark, table, self.lake) if tables.exists(
            self.spark, table, self.lake
        ) else None  # fmt: skip

    def no_data(self, key: str, title: str, table: tables.Table, job: str,
                why: str = "not built yet") -> Panel:  # fmt: skip
        skipped = self.skip_reasons.get(job)
        if skipped is not None:  # it ran: "run it" would be the wrong advice
            return P.skipped(key, title, [table.qualified], job, as_of=self.as_of, why=skipped)
        return P.no_data(key, title, [table.qualified], job, lake=self.lake, as_of=self.as_of,
                         why=why)  # fmt: skip

    @cached_property
    def skip_reasons(self) -> dict[str, str]:
        """job -> why it could not build its table for this as_of, for each job whose latest
        table entry in ops.run_ledger is `skipped` (one ledger read for all panels)."""
        ledger = self.table(tables.RUN_LEDGER)
        if ledger is None:
            return {}
        latest = (
            ledger.where((F.col(C.AS_OF) == F.lit(self.as_of)) & F.col("table_name").isNotNull())
            .groupBy("job")
            .agg(F.max_by(F.struct("status", "message"), "finished_at").alias("last"))
            .collect()
        )
        return {r["job"]: r["last"]["message"] for r in latest if r["last"]["status"] == SKIPPED}


def build_report(
    spark: SparkSession, cfg: Config, as_of: date, run_id: str
) -> tuple[str, list[Panel]]:
    """The page (HTML) and its panels."""
    ctx = Context(spark, cfg, as_of)
    panels = []
    for key, title, builder in PANELS:
        t0 = time.monotonic()
        try:
            panels.append(builder(ctx))
            log.info("report: panel %s in %.1fs", key, time.monotonic() - t0)
        except Exception as exc:  # one broken panel must not cost the whole report
            log.exception("report: panel %r failed", title)
            panels.append(Panel(key=key, title=title, failed=True, missing=f"Could not build "
                                f"this panel: {type(exc).__name__}: {str(exc)[:300]}"))  # fmt: skip
    text = P.render(as_of=as_of, lake=cfg.lake, run_id=run_id, generated_at=utc_now(),
                    kpis=ctx.kpis, panels=panels)  # fmt: skip
    return text, panels


def report_all(run: JobRun) -> None:
    spark, lake = run.spark, run.lake
    started, t0 = utc_now(), time.monotonic()
    tables.create_if_missing(spark, tables.RUN_LEDGER, lake, LEDGER_SCHEMA)
    text, panels = build_report(spark, run.cfg, run.as_of, run.run_id)
    path = report_path(lake, run.as_of)
    storage.write_text(spark, path, text)
    empty = [p.title for p in panels if p.missing is not None and not p.failed]
    failed = [p.title for p in panels if p.failed]
    message = (f"report written to {path}: {len(panels) - len(empty) - len(failed)} of "
               f"{len(panels)} panels with data"
               + (f"; no data yet: {', '.join(empty)}" if empty else "")
               + (f"; FAILED (see the log): {', '.join(failed)}" if failed else ""))  # fmt: skip
    if failed:
        # The page is written (failed panels marked), but a report missing panels it should
        # have is not a success: the job fails with what broke, the DAG and ledger say so.
        raise InsightError(f"{message} ({len(text.encode()) // 1024} KiB)")
    log.info("report: %s (%d KiB)", message, len(text.encode()) // 1024)
    run.record([run.entry(None, OK, started_at=started, seconds=time.monotonic() - t0,
                          message=message)])  # fmt: skip


# ---------------------------------------------------------------------------------------
# Panels


def _segments(ctx: Context) -> Panel:
    key, title = "segments", "Segments: size and value"
    segments = ctx.table(CUSTOMER_SEGMENTS)
    if segments is None:
        return ctx.no_data(key, title, CUSTOMER_SEGMENTS, "segment")
    features, clv = ctx.table(CUSTOMER_FEATURES), ctx.table(CUSTOMER_CLV)
    seg = summaries.segment_value(segments, features, clv, ctx.as_of)
    if not len(seg):
        return ctx.no_data(key, title, CUSTOMER_SEGMENTS, "segment", f"has no rows for {ctx.as_of}")
    labels = [f"{s} ({share:.0%})" for s, share in zip(seg["segment"], seg["share"], strict=True)]
    sizes = charts.hbar("chart-segment-size", labels, seg["customers"].tolist(),
                        xlabel="customers")  # fmt: skip
    series = {}
    if features is not None:
        series["net spend to date"] = seg[summaries.NET_SPEND].tolist()
    if clv is not None:
        series["expected CLV, next 12 months"] = seg[CLV_12M].tolist()
    figures = [(sizes, f"Customers per RFM segment on {ctx.as_of} (share of all segmented).")]
    if series:
        value = charts.grouped_hbar("chart-segment-value", seg["segment"].tolist(), series,
                                    xlabel="base currency")  # fmt: skip
        figures.append((value, "Segment value: net spend (purchases - returns) up to as_of and "
                               "the sum of 12-month CLV (BG/NBD + Gamma-Gamma; 0 for customers "
                               "without a purchase)."))  # fmt: skip
    tables_ = []
    summary = ctx.table(SEGMENT_SUMMARY)
    if summary is not None:
        clusters = summaries.cluster_sizes(summary, ctx.as_of)
        if len(clusters):
            tables_.append(P.table(clusters, {
                "segment": ("behavioural cluster", P.text), "customers": ("customers", P.integer),
                "share": ("share", P.pct), "mean_recency_days": ("mean recency (days)", P.money),
                "mean_frequency": ("mean orders", P.decimal),
                "mean_monetary": ("mean net spend", P.money),
            }))  # fmt: skip
    ctx.kpis.append(("customers segmented", f"{int(seg['customers'].sum()):,}"))
    if clv is not None:
        ctx.kpis.append(("expected CLV, 12 months", f"{seg[CLV_12M].sum():,.0f}"))
    return Panel(
        key=key, title=title, charts=tuple(figures), tables=tuple(tables_),
        caption="RFM segments (first matching rule on the 1-5 scores) and behavioural "
        "clusters (KMeans on the customer features).",
        sources=tuple(t.qualified for t in (CUSTOMER_SEGMENTS, CUSTOMER_FEATURES, CUSTOMER_CLV,
                                            SEGMENT_SUMMARY)),
    )  # fmt: skip


def _rfm(ctx: Context) -> Panel:
    key, title = "rfm", "RFM grid"
    features = ctx.table(CUSTOMER_FEATURES)
    if features is None:
        return ctx.no_data(key, title, CUSTOMER_FEATURES, "features")
    cells = summaries.rfm_cells(features, ctx.as_of)
    if not len(cells):
        return ctx.no_data(
            key, title, CUSTOMER_FEATURES, "features", f"has no rows for {ctx.as_of}"
        )
    grid = summaries.rfm_grid(cells)
    everyone, buyers = summaries.buyers(cells)
    counts = grid.pivot(index=FC.RECENCY_SCORE, columns=FC.FREQUENCY_SCORE, values="customers")
    spend = grid.pivot(index=FC.RECENCY_SCORE, columns=FC.FREQUENCY_SCORE, values=FC.MONETARY)
    chart = charts.heatmap(
        "chart-rfm", counts, note=spend, xlabel="frequency score (5 = most orders)",
        ylabel="recency score (5 = most recent)",
    )  # fmt: skip
    ctx.kpis.append(("buyers / customers", f"{buyers:,} / {everyone:,}"))
    return Panel(
        key=key, title=title, sources=(CUSTOMER_FEATURES.qualified,),
        caption=f"{buyers:,} buyers of {everyone:,} customers on {ctx.as_of} by recency and "
        f"frequency score (quintiles among buyers); each cell: buyers and their average net "
        f"spend. {everyone - buyers:,} customers without a purchase are not in the grid.",
        charts=((chart, "Top right: recent, frequent buyers (Champions); bottom right: "
                        "frequent buyers who stopped (At risk)."),),
    )  # fmt: skip


def _clv(ctx: Context) -> Panel:
    key, title = "clv", "Customer lifetime value"
    clv = ctx.table(CUSTOMER_CLV)
    if clv is None:
        return ctx.no_data(key, title, CUSTOMER_CLV, "clv")
    rows = summaries.at(clv, ctx.as_of)
    q = summaries.describe(rows, CLV_12M, [0.5, 0.9, 0.99])
    if not q["count"]:
        return ctx.no_data(key, title, CUSTOMER_CLV, "clv", f"has no rows for {ctx.as_of}")
    # Up to the 99th percentile: a few very valuable buyers would squash every other bar.
    bins = summaries.histogram(rows, CLV_12M, bins=30, lo=min(0.0, q["min"]), hi=q["p99"])
    value = charts.histogram(
        "chart-clv", bins, xlabel="expected CLV, next 12 months (base currency)",
        ylabel="buyers", xfmt=lambda v, _: charts.money(v),
        markers={f"median {q['p50']:,.0f}": q["p50"], f"p90 {q['p90']:,.0f}": q["p90"]},
    )  # fmt: skip
    alive = charts.histogram("chart-p-alive", summaries.histogram(rows, P_ALIVE, bins=20, lo=0.0,
                             hi=1.0), xlabel="P(alive) at as_of", ylabel="buyers",
                             color=charts.GOOD)  # fmt: skip
    return Panel(
        key=key, title=title, sources=(CUSTOMER_CLV.qualified,),
        caption=f"BG/NBD + Gamma-Gamma per buyer fitted on purchases up to {ctx.as_of}.",
        charts=(
            (value, f"12-month CLV per buyer; the last bar also holds the 1% above the 99th "
                    f"percentile ({q['p99']:,.0f}; max {q['max']:,.0f})."),
            (alive, "Probability each buyer is still active (1 for one-time buyers: BG/NBD "
                    "drops customers only after a repeat purchase)."),
        ),
    )  # fmt: skip


def _sentiment(ctx: Context) -> Panel:
    key, title = "sentiment", "Review sentiment per brand"
    daily = ctx.table(PRODUCT_SENTIMENT_DAILY)
    if daily is None:
        return ctx.no_data(key, title, PRODUCT_SENTIMENT_DAILY, "nlp")
    trend = summaries.sentiment_trend(daily, ctx.as_of)
    if not len(trend):
        return ctx.no_data(key, title, PRODUCT_SENTIMENT_DAILY, "nlp",
                           f"has no reviews in the 26 weeks up to {ctx.as_of}")  # fmt: skip
    alerts_df = ctx.table(SENTIMENT_ALERTS)
    notes, tables_ = [], []
    fired = pd.DataFrame()
    if alerts_df is None:
        notes.append(f"{SENTIMENT_ALERTS} not built yet: run `insight run nlp`.")
    else:
        fired = summaries.alerts(alerts_df, ctx.as_of)
        if len(fired):
            notes.append(f"Alert rule: {fired['rule'].iloc[0]}.")
            tables_.append(P.table(fired, {
                C.LEVEL: ("level", P.text), C.ENTITY_ID: ("product / brand", P.text),
                "recent_reviews": ("recent reviews", P.integer),
                "recent_negative_share": ("recent negative share", P.pct),
                "baseline_reviews": ("baseline reviews", P.integer),
                "baseline_negative_share": ("baseline negative share", P.pct),
            }))  # fmt: skip
        else:
            notes.append(f"No sentiment alert fired for {ctx.as_of}.")
    flagged = fired[fired[C.LEVEL] == "brand"][C.ENTITY_ID].tolist() if len(fired) else []
    smooth = summaries.trailing_share(trend, weeks=4)
    chart = charts.lines("chart-sentiment", smooth, x=C.WEEK_START, y=summaries.NEGATIVE_SHARE,
                         group=C.BRAND, ylabel="negative review share", flagged=flagged,
                         yfmt=lambda v, _: f"{v:.0%}", ylim=(0, 1.02))  # fmt: skip
    ctx.kpis.append(("sentiment alerts", f"{len(fired)}"))
    return Panel(
        key=key, title=title, notes=tuple(notes), tables=tuple(tables_),
        sources=(PRODUCT_SENTIMENT_DAILY.qualified, SENTIMENT_ALERTS.qualified),
        caption=f"Share of reviews scored negative for the {trend[C.BRAND].nunique()} most "
        f"reviewed brands, 26 weeks up to {ctx.as_of}; brands with an alert on that date are "
        "drawn thick and ringed.",
        charts=((chart, "Each point: the 4 weeks ending that week (Monday), all the brand's "
                 "products pooled; a brand's first weeks pool fewer."),),
    )  # fmt: skip


def _keyphrases(ctx: Context) -> Panel:
    key, title = "keyphrases", "What customers praise and complain about"
    weekly = ctx.table(KEYPHRASE_WEEKLY)
    if weekly is None:
        return ctx.no_data(key, title, KEYPHRASE_WEEKLY, "nlp")
    top = summaries.top_keyphrases(weekly, ctx.as_of)
    if not len(top):
        return ctx.no_data(key, title, KEYPHRASE_WEEKLY, "nlp",
                           f"has no keyphrases in the 12 weeks up to {ctx.as_of}")  # fmt: skip
    figures = []
    for kind, col, color, what in (
        ("praised", summaries.POSITIVE_MENTIONS, charts.GOOD, "positive"),
        ("complained", summaries.NEGATIVE_MENTIONS, charts.BAD, "negative"),
    ):
        part = top[top["kind"] == kind]
        if len(part):
            chart = charts.hbar(f"chart-keyphrases-{kind}", part[summaries.KEYPHRASE].tolist(),
                                part[col].tolist(), xlabel=f"{what} reviews mentioning it",
                                color=color)  # fmt: skip
            figures.append((chart, f"Most {kind} keyphrases: {what} reviews mentioning each."))
    return Panel(
        key=key, title=title, sources=(KEYPHRASE_WEEKLY.qualified,), charts=tuple(figures),
        caption=f"YAKE keyphrases of reviews in the 12 weeks up to {ctx.as_of}, all products.",
    )  # fmt: skip


def _propensity(ctx: Context) -> Panel:
    key, title = "propensity", "Purchase and churn propensity"
    scores = ctx.table(CUSTOMER_SCORES)
    if scores is None:
        return ctx.no_data(key, title, CUSTOMER_SCORES, "propensity")
    rows = summaries.at(scores, ctx.as_of)
    dists, figures, notes = {}, [], []
    client = _mlflow_client(ctx.cfg)
    for target in TARGETS:
        prob = f"{target}_probability"
        today = summaries.score_deciles(scores, target, ctx.as_of)
        if not len(today):
            notes.append(f"No {target} score for {ctx.as_of} (no {target} model serves yet, "
                         f"or the job has not run for this date).")  # fmt: skip
            continue
        dists[target] = summaries.histogram(rows, prob, bins=20, lo=0.0, hi=1.0)
        mean = (today["customers"] * today["mean_probability"]).sum() / today["customers"].sum()
        ctx.kpis.append((f"mean {target} probability", f"{mean:.1%}"))
        label = summaries.served_version(scores, target, ctx.as_of)
        calib = None if client is None or label is None else _calibration(client, label)
        if calib is None:
            notes.append(f"{target}: no validation calibration logged for {label} in MLflow.")
            continue
        chart = charts.deciles(f"chart-deciles-{target}", calib.table, today=today, title=target)
        window = (ctx.cfg.propensity.purchase_window_days if target == "purchase"
                  else ctx.cfg.propensity.churn_window_days)  # fmt: skip
        figures.append((chart, (
            f"{calib.model} ({calib.candidate}) on its validation snapshot "
            f"{calib.validation_snapshot}: bars = actual {target} rate in the {window} days "
            f"after it, red = mean predicted probability, per score decile "
            f"({int(calib.table['rows'].sum()):,} customers; logged in MLflow at training). "
            f"Dashed: mean score per decile on {ctx.as_of}, whose outcomes are not known yet."
        )))  # fmt: skip
    if not dists:
        return ctx.no_data(key, title, CUSTOMER_SCORES, "propensity",
                           f"has no scores for {ctx.as_of}")  # fmt: skip
    if dists:
        hist = charts.histograms("chart-propensity-dist", dists, xlabel="probability")
        figures.insert(0, (hist, f"Distribution of calibrated probabilities on {ctx.as_of}."))
    return Panel(
        key=key, title=title, charts=tuple(figures), notes=tuple(notes),
        sources=(CUSTOMER_SCORES.qualified, "MLflow registry"),
        caption="Scores of the champion models; actual rates can only be known for a past "
        "snapshot, so the deciles compare predictions with outcomes on each model's "
        "validation snapshot.",
    )  # fmt: skip


def _recommendations(ctx: Context) -> Panel:
    key, title = "recommendations", "Recommendation coverage"
    recs = ctx.table(RECOMMENDATIONS)
    if recs is None:
        return ctx.no_data(key, title, RECOMMENDATIONS, "recommend")
    # The population: customers with features on as_of (those who existed then).
    features = ctx.table(CUSTOMER_FEATURES)
    if features is not None:
        population, who = summaries.at(features, ctx.as_of), f"{CUSTOMER_FEATURES} on {ctx.as_of}"
    else:
        population, who = summaries.at(recs, ctx.as_of), "customers recommended to"
    cov = summaries.recommendation_coverage(recs, population, ctx.as_of)
    if not (cov["source"] != summaries.NO_RECOMMENDATIONS).any():
        return ctx.no_data(key, title, RECOMMENDATIONS, "recommend", f"has no rows for {ctx.as_of}")
    colors = [charts.GOOD if s == "als" else charts.BAD if s == summaries.NO_RECOMMENDATIONS
              else charts.NEUTRAL for s in cov["source"]]  # fmt: skip
    chart = charts.hbar("chart-rec-sources", [f"{s} ({v:.0%})" for s, v in
                        zip(cov["source"], cov["share"], strict=True)],
                        cov["customers"].tolist(), xlabel="customers", colors=colors)  # fmt: skip
    notes = []
    products = ctx.table(tables.silver(L.PRODUCTS))
    if products is not None:
        recommended, available = summaries.catalog_coverage(recs, products, ctx.as_of)
        notes.append(f"Catalog coverage: {recommended:,} of {available:,} available products "
                     f"are recommended to someone.")  # fmt: skip
    covered = cov[cov["source"] != summaries.NO_RECOMMENDATIONS]["share"].sum()
    ctx.kpis.append(("customers with recommendations", f"{covered:.0%}"))
    return Panel(
        key=key, title=title, sources=(RECOMMENDATIONS.qualified, who), notes=tuple(notes),
        caption=f"Customers ({who}) by where their recommendations on {ctx.as_of} come from: "
        "als = their own history (ALS), popular_* = cold start, none = no recommendation.",
        charts=((chart, "Source of each customer's top recommendation."),),
    )  # fmt: skip


def _models(ctx: Context) -> Panel:
    key, title = "models", "Model metrics over versions"
    client = _mlflow_client(ctx.cfg)
    store = "MLflow registry"
    if client is None:
        return Panel(key=key, title=title, sources=(store,),
                     missing="No data yet: no MLflow store with registered models. Run "
                     f"`insight run all --lake {ctx.lake} --as-of {ctx.as_of}`.")  # fmt: skip
    from insight.report import models

    k = ctx.cfg.recommend.eval_k
    wanted = {
        ctx.cfg.nlp.model_name: ("macro_f1", "accuracy"),
        ctx.cfg.recommend.model_name: (f"ndcg_at_{k}", f"precision_at_{k}",
                                       f"popularity_ndcg_at_{k}"),
        **{_propensity_model(ctx.cfg, t): ("auc", "pr_auc") for t in TARGETS},
    }  # fmt: skip
    history = models.model_history(client, wanted)
    if not len(history):
        return Panel(key=key, title=title, sources=(store,),
                     missing="No data yet: no model registered. Run `insight run nlp`, "
                     "`insight run recommend` and `insight run propensity`.")  # fmt: skip
    chart = charts.metric_history("chart-model-history", history)
    keys = ["model", "version", "created", "champion"]
    listed = (
        history.assign(metrics=history["metric"] + " " + history["value"].map("{:.3f}".format))
        .groupby(keys, as_index=False)["metrics"].agg(" · ".join)
        .sort_values(["model", "version"], ascending=[True, False])
    )  # fmt: skip
    table = P.table(listed, {"model": ("model", P.text), "version": ("version", P.integer),
                             "created": ("registered (UTC)", lambda v: f"{v:%Y-%m-%d %H:%M}"),
                             "champion": ("champion", lambda v: "yes" if v else ""),
                             "metrics": ("validation metrics", P.text)})  # fmt: skip
    return Panel(
        key=key, title=title, sources=(store,), charts=((chart, "Star: the champion version "
        "(serving). Validation metrics logged at training; popularity_* is the baseline."),),
        tables=(table,),
        caption="Every registered version of the suite's models with its validation metrics "
        "(review model: macro F1 on held-out reviews; ALS: ranking metrics on the days before "
        "the cut-off; propensity: AUC on the validation snapshot). Versions are those in the "
        "store when the report was written.",
    )  # fmt: skip


def _quality(ctx: Context) -> Panel:
    key, title = "quality", "Data quality per run"
    dq = ctx.table(tables.DQ_RESULTS)
    quarantined = {e: df for e in L.ENTITIES
                   if (df := ctx.table(tables.quarantine(e))) is not None}  # fmt: skip
    ledger = ctx.table(tables.RUN_LEDGER)
    if dq is None and not quarantined:  # the ledger alone says nothing about quality
        return P.no_data(key, title, [tables.DQ_RESULTS.qualified, "quarantine.*",
                                      tables.RUN_LEDGER.qualified], "clean", lake=ctx.lake,
                         as_of=ctx.as_of)  # fmt: skip
    figures, tables_, notes = [], [], []
    by_rule = summaries.quarantine_by_rule(quarantined, ctx.as_of)
    if len(by_rule):
        labels = [f"{e}: {r}" for e, r in zip(by_rule["entity"], by_rule["rule"], strict=True)]
        chart = charts.hbar("chart-quarantine", labels, by_rule["rows"].tolist(),
                            xlabel="rows quarantined", color=charts.BAD)  # fmt: skip
        figures.append(
            (
                chart,
                f"Rows routed to quarantine.* by entity and failed rule, every "
                f"run up to {ctx.as_of} (a row failing two rules counts twice).",
            )
        )
        ctx.kpis.append(("rows quarantined", f"{int(by_rule['rows'].sum()):,}"))
    elif quarantined:
        notes.append(f"No row quarantined up to {ctx.as_of}.")
    else:
        notes.append("No quarantine.* table yet: run `insight run clean`.")
    if dq is not None:
        runs = summaries.dq_runs(dq, ctx.as_of)
        tables_.append(P.table(runs, {
            "run_id": ("run", P.text), "table_name": ("table", P.text),
            "expectations": ("expectations", P.integer), "failed": ("failed", P.integer),
            "unexpected": ("unexpected rows", P.integer), "quarantined": ("quarantined", P.integer),
        }))  # fmt: skip
    else:
        notes.append(f"{tables.DQ_RESULTS} not built yet: run `insight run clean`.")
    if ledger is not None:
        jobs = summaries.ledger_runs(ledger, ctx.as_of)
        if len(jobs):
            tables_.append(P.table(jobs, {
                "job": ("job", P.text), "run_id": ("run", P.text), "status": ("status", P.text),
                "rows_in": ("rows in", P.integer), "rows_written": ("rows written", P.integer),
                "rows_quarantined": ("quarantined", P.integer),
                "seconds": ("seconds", lambda v: f"{float(v):.1f}"),
            }))  # fmt: skip
    return Panel(
        key=key, title=title, charts=tuple(figures), tables=tuple(tables_), notes=tuple(notes),
        sources=(tables.DQ_RESULTS.qualified, "quarantine.*", tables.RUN_LEDGER.qualified),
        caption="Great Expectations results per clean run (newest first) and the jobs run for "
        f"{ctx.as_of} (ops.run_ledger; status failed > skipped > nothing_new > ok).",
    )  # fmt: skip


PANELS: tuple[tuple[str, str, Callable[[Context], Panel]], ...] = (
    ("segments", "Segments: size and value", _segments),
    ("rfm", "RFM grid", _rfm),
    ("clv", "Customer lifetime value", _clv),
    ("sentiment", "Review sentiment per brand", _sentiment),
    ("keyphrases", "What customers praise and complain about", _keyphrases),
    ("propensity", "Purchase and churn propensity", _propensity),
    ("recommendations", "Recommendation coverage", _recommendations),
    ("models", "Model metrics over versions", _models),
    ("quality", "Data quality per run", _quality),
)


def _propensity_model(cfg: Config, target: str) -> str:
    # Same as insight.propensity.train.model_name, which would import TensorFlow.
    return f"{cfg.propensity.model_prefix}-{target}"


def _mlflow_client(cfg: Config) -> Any:
    """A client on the suite's MLflow store, or None when there is none (no mlflow, or a
    local store that does not exist: opening it would create an empty one in the lake)."""
    try:
        from insight.models import registry
    except ImportError:
        log.warning("report: mlflow is not installed: no model panels")
        return None
    uri = registry.tracking_uri(cfg)
    if uri.startswith("sqlite:///") and not Path(uri.removeprefix("sqlite:///")).is_file():
        return None
    return registry.use_tracking(cfg)


def _calibration(client: Any, label: str) -> Any:
    from insight.report import models

    return models.calibration(client, label)
