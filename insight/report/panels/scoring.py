"""Model panels: propensity scores against their calibration, recommendation coverage,
and every registered model version's validation metrics (MLflow)."""

from __future__ import annotations

from typing import Any

from insight import landing, tables
from insight.config import Config
from insight.features.schemas import CUSTOMER_FEATURES
from insight.propensity.dataset import PURCHASE_TARGET, TARGETS
from insight.propensity.schemas import CUSTOMER_SCORES
from insight.recommend.schemas import RECOMMENDATIONS
from insight.report import charts, page, summaries
from insight.report.context import Context, NoData, mlflow_client
from insight.report.page import Panel


def propensity(ctx: Context) -> Panel:
    key, title = "propensity", "Purchase and churn propensity"
    scores = ctx.require(CUSTOMER_SCORES, "propensity")
    rows = summaries.at(scores, ctx.as_of)
    dists, figures, notes = {}, [], []
    client = mlflow_client(ctx.cfg)
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
        calib = None if client is None or label is None else calibration(client, label)
        if calib is None:
            notes.append(f"{target}: no validation calibration logged for {label} in MLflow.")
            continue
        chart = charts.deciles(f"chart-deciles-{target}", calib.table, today=today, title=target)
        window = (ctx.cfg.propensity.purchase_window_days if target == PURCHASE_TARGET
                  else ctx.cfg.propensity.churn_window_days)  # fmt: skip
        figures.append((chart, (
            f"{calib.model} ({calib.candidate}) on its validation snapshot "
            f"{calib.validation_snapshot}: bars = actual {target} rate in the {window} days "
            f"after it, red = mean predicted probability, per score decile "
            f"({int(calib.table['rows'].sum()):,} customers; logged in MLflow at training). "
            f"Dashed: mean score per decile on {ctx.as_of}, whose outcomes are not known yet."
        )))  # fmt: skip
    if not dists:
        raise NoData(CUSTOMER_SCORES, "propensity", f"has no scores for {ctx.as_of}")
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


def recommendations(ctx: Context) -> Panel:
    key, title = "recommendations", "Recommendation coverage"
    recs = ctx.require(RECOMMENDATIONS, "recommend")
    # The population: customers with features on as_of (those who existed then).
    features = ctx.table(CUSTOMER_FEATURES)
    if features is not None:
        population, who = summaries.at(features, ctx.as_of), f"{CUSTOMER_FEATURES} on {ctx.as_of}"
    else:
        population, who = summaries.at(recs, ctx.as_of), "customers recommended to"
    cov = summaries.recommendation_coverage(recs, population, ctx.as_of)
    if not (cov["source"] != summaries.NO_RECOMMENDATIONS).any():
        raise NoData(RECOMMENDATIONS, "recommend", f"has no rows for {ctx.as_of}")
    colors = [charts.GOOD if s == "als" else charts.BAD if s == summaries.NO_RECOMMENDATIONS
              else charts.NEUTRAL for s in cov["source"]]  # fmt: skip
    chart = charts.hbar("chart-rec-sources", [f"{s} ({v:.0%})" for s, v in
                        zip(cov["source"], cov["share"], strict=True)],
                        cov["customers"].tolist(), xlabel="customers", colors=colors)  # fmt: skip
    notes = []
    products = ctx.table(tables.silver(landing.PRODUCTS))
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


def model_versions(ctx: Context) -> Panel:
    key, title = "models", "Model metrics over versions"
    client = mlflow_client(ctx.cfg)
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
        **{propensity_model(ctx.cfg, t): ("auc", "pr_auc") for t in TARGETS},
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
    table = page.table(listed, {"model": ("model", page.text), "version": ("version", page.integer),
                             "created": ("registered (UTC)", lambda v: f"{v:%Y-%m-%d %H:%M}"),
                             "champion": ("champion", lambda v: "yes" if v else ""),
                             "metrics": ("validation metrics", page.text)})  # fmt: skip
    return Panel(
        key=key, title=title, sources=(store,), charts=((chart, "Star: the champion version "
        "(serving). Validation metrics logged at training; popularity_* is the baseline."),),
        tables=(table,),
        caption="Every registered version of the suite's models with its validation metrics "
        "(review model: macro F1 on held-out reviews; ALS: ranking metrics on the days before "
        "the cut-off; propensity: AUC on the validation snapshot). Versions are those in the "
        "store when the report was written.",
    )  # fmt: skip


def propensity_model(cfg: Config, target: str) -> str:
    # Same as insight.propensity.train.model_name, which would import TensorFlow.
    return f"{cfg.propensity.model_prefix}-{target}"


def calibration(client: Any, label: str) -> Any:
    from insight.report import models

    return models.calibration(client, label)
