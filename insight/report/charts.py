"""Charts as inline SVG, drawn with matplotlib's SVG backend (no browser library, no fonts
to fetch: text stays SVG text in the page's sans-serif).

Every data mark (bar, cell, line, point) carries the id `<chart id>-mark-<n>` so a check in
the browser can count what was drawn; `Chart.marks` says how many there are.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure

PALETTE = ("#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3",
           "#8C8C8C")  # fmt: skip
GOOD, BAD, NEUTRAL = "#55A868", "#C44E52", "#4C72B0"
STYLE = {
    "svg.fonttype": "none",  # text as <text>, rendered in the page's font
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#888888",
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.grid": True,
    "grid.color": "#e6e6e6",
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
    "legend.frameon": False,
}
WIDE, TALL = (6.4, 3.2), (6.4, 4.2)


@dataclass(frozen=True)
class Chart:
    """An inline SVG and the number of data marks in it."""

    id: str
    svg: str
    marks: int


class _Marks:
    """Hands out mark ids for one chart."""

    def __init__(self, chart_id: str) -> None:
        self.chart_id, self.n = chart_id, 0

    def tag(self, artist: Artist) -> None:
        artist.set_gid(f"{self.chart_id}-mark-{self.n}")
        self.n += 1


def _render(chart_id: str, size: tuple[float, float], draw: Callable[[Figure, _Marks], None],
            label: str) -> Chart:  # fmt: skip
    """Draw into a fresh Figure (no pyplot, no global backend) and return its SVG."""
    marks = _Marks(chart_id)
    # A per-chart hash salt: deterministic output, and clip-path ids unique within the page.
    with matplotlib.rc_context({**STYLE, "svg.hashsalt": chart_id}):
        fig = Figure(figsize=size, layout="constrained")
        draw(fig, marks)
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None})
    return Chart(chart_id, _inline(buf.getvalue(), chart_id, label), marks.n)


def _inline(svg: str, chart_id: str, label: str) -> str:
    """The SVG document as an element for an HTML page: no prolog, no metadata, scalable,
    and without matplotlib's generic ids (`figure_1`, ...), which repeat in every chart."""
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    svg = re.sub(rf' id="(?!{re.escape(chart_id)}-mark-)[A-Za-z][\w.]*_\d+"', "", svg)
    head = re.match(r"<svg[^>]*>", svg).group(0)
    new = re.sub(r' (width|height)="[^"]*"', "", head)
    new = new.replace("<svg", f'<svg class="chart-svg" role="img" aria-label="{_esc(label)}"', 1)
    return svg.replace(head, new, 1)


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def money(x: float) -> str:
    if abs(x) >= 1e6:
        return f"{x / 1e6:.1f}M"
    if abs(x) >= 1e3:
        return f"{x / 1e3:.1f}k"
    return f"{x:.0f}"


def _label(ax: Axes, bar: Artist, text: str, size: int) -> None:
    """`text` just right of a horizontal bar's end."""
    end = (bar.get_width(), bar.get_y() + bar.get_height() / 2)
    ax.annotate(text, end, xytext=(3, 0), textcoords="offset points", va="center", fontsize=size)


def _label_bars(ax: Axes, marks: _Marks, bars: Iterable[Artist], values: Sequence[float],
               fmt: Callable[[float], str], size: int) -> None:  # fmt: skip
    """Each bar tagged (its tooltip) and labelled with its value at its end."""
    for bar, value in zip(bars, values, strict=True):
        marks.tag(bar)
        _label(ax, bar, fmt(value), size)


def _hbar_frame(ax: Axes, y: np.ndarray, labels: Sequence[str], xlabel: str) -> None:
    """The axes of horizontal bars: first label on top, no grid across the bars, room on
    the right for the values written there."""
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.grid(axis="y", visible=False)
    ax.margins(x=0.15)


def hbar(chart_id: str, labels: Sequence[str], values: Sequence[float], *, xlabel: str,
         fmt: Callable[[float], str] = lambda v: f"{v:,.0f}", color: str = NEUTRAL,
         colors: Sequence[str] | None = None) -> Chart:  # fmt: skip
    """Horizontal bars, first label on top, each with its value written at its end."""

    def draw(fig: Figure, marks: _Marks) -> None:
        ax = fig.subplots()
        y = np.arange(len(labels))
        bars = ax.barh(y, values, color=colors or color, height=0.65)
        _label_bars(ax, marks, bars, values, fmt, 8)
        _hbar_frame(ax, y, labels, xlabel)

    height = max(2.0, 0.3 * len(labels) + 1.0)
    return _render(chart_id, (WIDE[0], height), draw, xlabel)


def grouped_hbar(chart_id: str, labels: Sequence[str], series: Mapping[str, Sequence[float]], *,
                 xlabel: str) -> Chart:  # fmt: skip
    """Horizontal bars, one group per label, one bar per series (legend)."""

    def draw(fig: Figure, marks: _Marks) -> None:
        ax = fig.subplots()
        y = np.arange(len(labels))
        h = 0.8 / max(1, len(series))
        for i, (name, values) in enumerate(series.items()):
            bars = ax.barh(y - 0.4 + h * (i + 0.5), values, height=h * 0.95, label=name,
                           color=PALETTE[i % len(PALETTE)])  # fmt: skip
            _label_bars(ax, marks, bars, values, money, 7)
        _hbar_frame(ax, y, labels, xlabel)
        ax.xaxis.set_major_formatter(lambda v, _: money(v))
        ax.legend(loc="lower right")

    height = max(2.4, 0.45 * len(labels) + 1.0)
    return _render(chart_id, (WIDE[0], height), draw, xlabel)


def heatmap(chart_id: str, counts: pd.DataFrame, *, xlabel: str, ylabel: str,
            note: pd.DataFrame | None = None) -> Chart:  # fmt: skip
    """Cells of `counts` (index = rows bottom-up, columns left to right) shaded by value,
    each with its count (and `note`'s value below it, if given)."""
    from matplotlib.patches import Rectangle

    def draw(fig: Figure, marks: _Marks) -> None:
        ax = fig.subplots()
        cmap = matplotlib.colormaps["Blues"]
        top = max(1, counts.to_numpy().max())
        for i, row in enumerate(counts.index):
            for j, col in enumerate(counts.columns):
                value = counts.loc[row, col]
                shade = 0.08 + 0.85 * value / top
                cell = Rectangle((j, i), 0.96, 0.96, facecolor=cmap(shade), edgecolor="white")
                ax.add_patch(cell)
                marks.tag(cell)
                ink = "white" if shade > 0.55 else "#222222"
                ax.text(j + 0.48, i + 0.58, f"{value:,}", ha="center", va="center", color=ink,
                        fontsize=10, fontweight="bold")  # fmt: skip
                if note is not None and value:
                    ax.text(j + 0.48, i + 0.28, f"avg {money(note.loc[row, col])}",
                            ha="center", va="center", color=ink, fontsize=7)  # fmt: skip
        ax.set_xlim(0, len(counts.columns))
        ax.set_ylim(0, len(counts.index))
        ax.set_xticks(np.arange(len(counts.columns)) + 0.48, counts.columns)
        ax.set_yticks(np.arange(len(counts.index)) + 0.48, counts.index)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(False)
        ax.tick_params(length=0)
        for side in ("left", "bottom"):
            ax.spines[side].set_visible(False)

    return _render(chart_id, (5.2, 4.2), draw, f"{ylabel} x {xlabel}")


def _bars(ax: Axes, bins: pd.DataFrame, marks: _Marks, color: str) -> None:
    widths = bins["bin_end"] - bins["bin_start"]
    widths = widths.where(widths > 0, 1.0)
    for start, width, count in zip(bins["bin_start"], widths, bins["count"], strict=True):
        if count:
            (bar,) = ax.bar(start, count, width=width * 0.96, align="edge", color=color)
            marks.tag(bar)


def histogram(chart_id: str, bins: pd.DataFrame, *, xlabel: str, ylabel: str = "customers",
              color: str = NEUTRAL, xfmt: Callable[[float, int], str] | None = None,
              markers: Mapping[str, float] | None = None) -> Chart:  # fmt: skip
    """Bars of a `summaries.histogram` frame; `markers` draws labelled vertical lines."""

    def draw(fig: Figure, marks: _Marks) -> None:
        ax = fig.subplots()
        _bars(ax, bins, marks, color)
        for k, (name, x) in enumerate((markers or {}).items()):
            ax.axvline(x, color="#333333", linestyle="--", linewidth=0.8)
            ax.annotate(name, (x, 1), xycoords=("data", "axes fraction"), xytext=(3, -10 - 10 * k),
                        textcoords="offset points", fontsize=7)  # fmt: skip
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if xfmt is not None:
            ax.xaxis.set_major_formatter(xfmt)

    return _render(chart_id, WIDE, draw, xlabel)


def histograms(chart_id: str, panels: Mapping[str, pd.DataFrame], *, xlabel: str,
               ylabel: str = "customers") -> Chart:  # fmt: skip
    """Side-by-side histograms, one per entry of `panels` (title -> bins)."""

    def draw(fig: Figure, marks: _Marks) -> None:
        axes = fig.subplots(1, len(panels), sharey=True, squeeze=False)[0]
        for k, (ax, (title, bins)) in enumerate(zip(axes, panels.items(), strict=True)):
            _bars(ax, bins, marks, PALETTE[k % len(PALETTE)])
            ax.set_title(title)
            ax.set_xlabel(xlabel)
        axes[0].set_ylabel(ylabel)

    return _render(chart_id, WIDE, draw, xlabel)


def lines(chart_id: str, df: pd.DataFrame, *, x: str, y: str, group: str, ylabel: str,
          flagged: Sequence[str] = (), yfmt: Callable[[float, int], str] | None = None,
          ylim: tuple[float, float] | None = None,
          size: tuple[float, float] = TALL) -> Chart:  # fmt: skip
    """One line per `group` (gaps where y is NaN); groups in `flagged` drawn thick,
    red-ringed at their last point and marked '(alert)' in the legend below the plot."""

    def draw(fig: Figure, marks: _Marks) -> None:
        ax = fig.subplots()
        for k, (name, part) in enumerate(df.groupby(group, sort=True)):
            part = part.sort_values(x)
            alert = name in flagged
            (line,) = ax.plot(part[x], part[y], marker="o", markersize=2.5,
                              linewidth=2.6 if alert else 1.3, color=PALETTE[k % len(PALETTE)],
                              label=f"{name} (alert)" if alert else str(name))  # fmt: skip
            marks.tag(line)
            last = part[part[y].notna()].iloc[-1:]
            if alert and len(last):
                (ring,) = ax.plot(last[x], last[y], marker="o", markersize=10,
                                  fillstyle="none", color=BAD, linestyle="none",
                                  markeredgewidth=1.8)  # fmt: skip
                marks.tag(ring)
        ax.set_ylabel(ylabel)
        if ylim is not None:
            ax.set_ylim(*ylim)
        if yfmt is not None:
            ax.yaxis.set_major_formatter(yfmt)
        fig.legend(loc="outside lower center", fontsize=7, ncols=4)
        for label in ax.get_xticklabels():
            label.set_rotation(30)
            label.set_horizontalalignment("right")

    return _render(chart_id, size, draw, ylabel)


def deciles(chart_id: str, table: pd.DataFrame, *, today: pd.DataFrame | None = None,
            title: str = "") -> Chart:  # fmt: skip
    """Actual rate per decile (bars) against the mean predicted probability (line) of a
    calibration table (decile, predicted, actual); `today` (decile, mean_probability) adds
    the mean score per decile of the report's as_of as a second line."""

    def draw(fig: Figure, marks: _Marks) -> None:
        ax = fig.subplots()
        bars = ax.bar(table["decile"], table["actual"], color="#a9c4e4", label="actual rate "
                      "(validation)", width=0.7)  # fmt: skip
        for bar, v in zip(bars, table["actual"], strict=True):
            if v > 0:
                marks.tag(bar)
        (pred,) = ax.plot(table["decile"], table["predicted"], marker="o", color=BAD,
                          label="mean predicted (validation)")  # fmt: skip
        marks.tag(pred)
        if today is not None and len(today):
            (now,) = ax.plot(today["decile"], today["mean_probability"], marker="s",
                             linestyle="--", color="#333333", markersize=4,
                             label="mean score, this as_of")  # fmt: skip
            marks.tag(now)
        ax.set_xticks(range(1, 11))
        ax.set_xlabel("score decile (1 = lowest scores)")
        ax.set_ylabel("rate / probability")
        ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
        ax.set_ylim(0, None)
        ax.set_title(title)
        ax.legend(loc="upper left", fontsize=7)

    return _render(chart_id, (5.2, 3.4), draw, f"deciles {title}")


def metric_history(chart_id: str, history: pd.DataFrame) -> Chart:
    """Small multiples, one per model: each metric over versions; champion versions starred."""
    models = sorted(history["model"].unique())

    def draw(fig: Figure, marks: _Marks) -> None:
        cols = min(2, len(models))
        rows = -(-len(models) // cols)
        axes = fig.subplots(rows, cols, squeeze=False).ravel()
        for ax, model in zip(axes, models, strict=False):
            part = history[history["model"] == model]
            for k, (metric, m) in enumerate(part.groupby("metric", sort=True)):
                m = m.sort_values("version")
                (line,) = ax.plot(m["version"], m["value"], marker="o", markersize=4,
                                  color=PALETTE[k % len(PALETTE)], label=metric)  # fmt: skip
                marks.tag(line)
                champ = m[m["champion"]]
                if len(champ):
                    (star,) = ax.plot(champ["version"], champ["value"], marker="*",
                                      markersize=13, color=PALETTE[k % len(PALETTE)],
                                      linestyle="none", markeredgecolor="#222222",
                                      markeredgewidth=0.6)  # fmt: skip
                    marks.tag(star)
            versions = sorted(part["version"].unique())
            ax.set_xticks(versions)
            ax.set_xlim(versions[0] - 0.5, versions[-1] + 0.5)
            ax.set_title(model)
            ax.set_xlabel("registered version")
            ax.legend(loc="best", fontsize=7)
            ax.margins(y=0.25)
        for ax in axes[len(models) :]:
            ax.set_visible(False)

    height = 2.6 * -(-len(models) // 2) + 0.4
    return _render(chart_id, (6.8, height), draw, "model metrics over versions")
