"""Customer panels: segments and their value, the RFM grid, lifetime value."""

from __future__ import annotations

from insight.clv.schemas import CLV_12M, CUSTOMER_CLV, P_ALIVE
from insight.features import columns as FC
from insight.features.schemas import CUSTOMER_FEATURES
from insight.report import charts, page, summaries
from insight.report.context import Context, NoData
from insight.report.page import Panel
from insight.segment.schemas import CUSTOMER_SEGMENTS, SEGMENT_SUMMARY


def segments(ctx: Context) -> Panel:
    key, title = "segments", "Segments: size and value"
    segments = ctx.require(CUSTOMER_SEGMENTS, "segment")
    features, clv = ctx.table(CUSTOMER_FEATURES), ctx.table(CUSTOMER_CLV)
    seg = summaries.segment_value(segments, features, clv, ctx.as_of)
    if not len(seg):
        raise NoData(CUSTOMER_SEGMENTS, "segment", f"has no rows for {ctx.as_of}")
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
            tables_.append(page.table(clusters, {
                "segment": ("behavioural cluster", page.text),
                "customers": ("customers", page.integer), "share": ("share", page.pct),
                "mean_recency_days": ("mean recency (days)", page.money),
                "mean_frequency": ("mean orders", page.decimal),
                "mean_monetary": ("mean net spend", page.money),
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


def rfm(ctx: Context) -> Panel:
    key, title = "rfm", "RFM grid"
    features = ctx.require(CUSTOMER_FEATURES, "features")
    cells = summaries.rfm_cells(features, ctx.as_of)
    if not len(cells):
        raise NoData(CUSTOMER_FEATURES, "features", f"has no rows for {ctx.as_of}")
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


def clv(ctx: Context) -> Panel:
    key, title = "clv", "Customer lifetime value"
    clv = ctx.require(CUSTOMER_CLV, "clv")
    rows = summaries.at(clv, ctx.as_of)
    q = summaries.describe(rows, CLV_12M, [0.5, 0.9, 0.99])
    if not q["count"]:
        raise NoData(CUSTOMER_CLV, "clv", f"has no rows for {ctx.as_of}")
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
