"""Review panels: negative share per brand with its alerts, praised and complained-about
keyphrases, and the reviews of each language."""

from __future__ import annotations

import pandas as pd

from insight import columns as C
from insight.nlp.schemas import (
    KEYPHRASE_WEEKLY,
    PRODUCT_SENTIMENT_DAILY,
    REVIEW_INSIGHTS,
    SENTIMENT_ALERTS,
)
from insight.report import charts, page, summaries
from insight.report.context import Context, NoData
from insight.report.page import Panel


def sentiment(ctx: Context) -> Panel:
    key, title = "sentiment", "Review sentiment per brand"
    daily = ctx.require(PRODUCT_SENTIMENT_DAILY, "nlp")
    trend = summaries.sentiment_trend(daily, ctx.as_of)
    if not len(trend):
        raise NoData(
            PRODUCT_SENTIMENT_DAILY, "nlp", f"has no reviews in the 26 weeks up to {ctx.as_of}"
        )
    alerts_df = ctx.table(SENTIMENT_ALERTS)
    notes, tables_ = [], []
    fired = pd.DataFrame()
    if alerts_df is None:
        notes.append(f"{SENTIMENT_ALERTS} not built yet: run `insight run nlp`.")
    else:
        fired = summaries.alerts(alerts_df, ctx.as_of)
        if len(fired):
            notes.append(f"Alert rule: {fired['rule'].iloc[0]}.")
            tables_.append(page.table(fired, {
                C.LEVEL: ("level", page.text), C.ENTITY_ID: ("product / brand", page.text),
                "recent_reviews": ("recent reviews", page.integer),
                "recent_negative_share": ("recent negative share", page.pct),
                "baseline_reviews": ("baseline reviews", page.integer),
                "baseline_negative_share": ("baseline negative share", page.pct),
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


def keyphrases(ctx: Context) -> Panel:
    key, title = "keyphrases", "What customers praise and complain about"
    weekly = ctx.require(KEYPHRASE_WEEKLY, "nlp")
    top = summaries.top_keyphrases(weekly, ctx.as_of)
    if not len(top):
        raise NoData(
            KEYPHRASE_WEEKLY, "nlp", f"has no keyphrases in the 12 weeks up to {ctx.as_of}"
        )
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
    # Per language: a mixed shop's Chinese reviews have their own words and their own model.
    insights = ctx.table(REVIEW_INSIGHTS)
    languages = () if insights is None else (page.table(
        summaries.by_language(insights, ctx.as_of), {
            C.LANGUAGE: ("language", page.text), summaries.REVIEWS: ("reviews", page.integer),
            "unknown": ("no usable text", page.integer),
            "positive_share": ("positive", page.pct),
            summaries.NEGATIVE_SHARE: ("negative", page.pct),
            summaries.MEAN_SENTIMENT: ("mean score", page.decimal),
            "praised": ("most praised", page.text),
            "complained": ("most complained about", page.text),
        }),)  # fmt: skip
    return Panel(
        key=key, title=title, charts=tuple(figures), tables=languages,
        sources=(KEYPHRASE_WEEKLY.qualified, REVIEW_INSIGHTS.qualified),
        caption=f"Keyphrases of reviews in the 12 weeks up to {ctx.as_of}, all products "
        "(English: YAKE; Chinese: jieba's nouns and adjectives by TF-IDF); the table splits "
        "them by language.",
    )  # fmt: skip
