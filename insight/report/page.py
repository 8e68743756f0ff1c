"""The report page: panels of charts and small tables in one self-contained HTML file (inline
CSS, inline SVG, one inline script; nothing fetched from anywhere)."""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import pandas as pd

from insight.report.charts import Chart


@dataclass(frozen=True)
class Panel:
    """One section of the report.

    Args:
        title: heading.
        caption: what the panel shows and how it was computed.
        sources: tables (or stores) it reads, named in its footer.
        charts: charts, each with its own caption.
        tables: HTML tables (see `table`).
        missing: set when there is nothing to show: the message says what to run.
        failed: the panel could not be built (a bug or a broken input): `missing` says why.
    """

    key: str
    title: str
    caption: str = ""
    sources: tuple[str, ...] = ()
    charts: tuple[tuple[Chart, str], ...] = ()
    tables: tuple[str, ...] = ()
    missing: str | None = None
    failed: bool = False  # building it raised: `missing` holds the error
    notes: tuple[str, ...] = field(default_factory=tuple)


def no_data(key: str, title: str, tables: Sequence[str], job: str, *, lake: str, as_of: date,
            why: str = "not built yet") -> Panel:  # fmt: skip
    """A panel saying which table is missing and the command that builds it."""
    command = f"insight run {job} --lake {lake} --as-of {as_of}"
    return Panel(
        key=key, title=title, sources=tuple(tables),
        missing=f"No data yet: {', '.join(tables)} {why}. Run `{command}`.",
    )  # fmt: skip


def skipped(key: str, title: str, tables: Sequence[str], job: str, *, as_of: date,
            why: str) -> Panel:  # fmt: skip
    """A panel saying the job ran for this as_of but could not build its table, and why."""
    return Panel(
        key=key, title=title, sources=tuple(tables),
        missing=f"Skipped: `insight run {job}` ran for {as_of} but could not build "
        f"{', '.join(tables)}: {why}",
    )  # fmt: skip


Format = Callable[[object], str]


def table(df: pd.DataFrame, columns: Mapping[str, tuple[str, Format]], *, limit: int = 30) -> str:
    """An HTML table of `df`'s `columns` (name -> (header, format)), at most `limit` rows."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h, _ in columns.values())
    body = []
    for _, row in df.head(limit).iterrows():
        texts = [_cell(row[c], fmt) for c, (_, fmt) in columns.items()]
        # Long text (a list of metrics) wraps; numbers and ids stay on one line.
        cells = "".join(
            f'<td class="wrap">{html.escape(t)}</td>'
            if len(t) > 40
            else f"<td>{html.escape(t)}</td>"
            for t in texts
        )
        body.append(f"<tr>{cells}</tr>")
    more = f"<caption>first {limit} of {len(df)} rows</caption>" if len(df) > limit else ""
    rows = "".join(body)
    return f'<table class="data">{more}<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'


def _cell(value: object, fmt: Format) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    return fmt(value)


def text(v: object) -> str:
    return str(v)


def integer(v: object) -> str:
    return f"{int(v):,}"


def money(v: object) -> str:
    return f"{float(v):,.0f}"


def pct(v: object) -> str:
    return f"{float(v):.1%}"


def decimal(v: object) -> str:
    return f"{float(v):.3f}"


def render(
    *,
    as_of: date,
    lake: str,
    run_id: str,
    generated_at: datetime,
    kpis: Sequence[tuple[str, str]],
    panels: Sequence[Panel],
) -> str:
    """The whole page."""
    title = f"Customer insight report, as of {as_of}"
    cards = "".join(
        f'<div class="kpi"><div class="kpi-value">{html.escape(v)}</div>'
        f'<div class="kpi-label">{html.escape(k)}</div></div>'
        for k, v in kpis
    )
    toc = "".join(f'<a href="#{p.key}">{html.escape(p.title)}</a>' for p in panels)
    body = "\n".join(_panel(p, as_of, lake) for p in panels)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{CSS}</style>
</head>
<body data-as-of="{as_of}">
<header>
<h1>{html.escape(title)}</h1>
<p class="meta">Lake <code>{html.escape(lake)}</code> · business date {as_of} · run
<code>{html.escape(run_id)}</code> · generated {generated_at:%Y-%m-%d %H:%M} UTC.
Only pseudonymised, aggregated data: no customer appears by key or name.</p>
<div class="kpis">{cards}</div>
<nav>{toc}</nav>
</header>
<main>
{body}
</main>
<footer>Written by <code>insight run report</code>. Every number is computed from the lake's
tables for as_of {as_of}; nothing after that date is read.</footer>
<script>{SCRIPT}</script>
</body>
</html>
"""


def _panel(p: Panel, as_of: date, lake: str) -> str:
    src = ", ".join(p.sources)
    where = f"Source: {src} · as of {as_of} · lake {lake}"
    footer = f'<p class="source">{html.escape(where)}</p>'
    if p.missing is not None:
        flag = ' data-failed="true"' if p.failed else ""
        return (f'<section class="panel missing" id="{p.key}" data-missing="true"{flag}>'
                f'<h2>{html.escape(p.title)}</h2><p class="no-data">{_code(p.missing)}</p>'
                f"{footer}</section>")  # fmt: skip
    figures = "".join(
        f'<figure class="chart" id="{c.id}" data-expected-marks="{c.marks}">{c.svg}'
        f"<figcaption>{html.escape(cap)}</figcaption></figure>"
        for c, cap in p.charts
    )
    notes = "".join(f'<p class="note">{html.escape(n)}</p>' for n in p.notes)
    tables = "".join(f'<div class="table-wrap">{t}</div>' for t in p.tables)
    return (f'<section class="panel" id="{p.key}"><h2>{html.escape(p.title)}</h2>'
            f'<p class="caption">{html.escape(p.caption)}</p>'
            f'<div class="figures">{figures}</div>{notes}{tables}{footer}</section>')  # fmt: skip


def _code(message: str) -> str:
    """Escape, then show `backticked` parts as code."""
    parts = html.escape(message).split("`")
    return "".join(f"<code>{s}</code>" if i % 2 else s for i, s in enumerate(parts))


# Latin text in DejaVu Sans or a look-alike; Chinese (keyphrases and texts of a mixed shop)
# in the first CJK family the viewer has: Noto Sans CJK or WenQuanYi on Linux (`make
# browser` installs fonts-wqy-microhei), PingFang on macOS, Microsoft YaHei on Windows.
FONT_FAMILIES = ("DejaVu Sans", "Liberation Sans", "Arial", "Noto Sans CJK SC",
                 "WenQuanYi Micro Hei", "PingFang SC", "Microsoft YaHei")  # fmt: skip
FONTS = ", ".join(f'"{f}"' for f in FONT_FAMILIES) + ", sans-serif"

CSS = """
:root { --ink: #222; --muted: #666; --line: #e3e3e3; --accent: #4C72B0; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 FONTS;
  color: var(--ink); background: #f6f7f9; }
header { background: #fff; border-bottom: 1px solid var(--line); padding: 18px 28px 10px; }
h1 { margin: 0 0 4px; font-size: 22px; }
h2 { margin: 0 0 6px; font-size: 17px; }
.meta { color: var(--muted); margin: 0 0 12px; }
code { font: 12px "DejaVu Sans Mono", monospace; background: #f0f1f4; padding: 1px 4px;
  border-radius: 3px; }
.kpis { display: flex; flex-wrap: wrap; gap: 10px; margin-bottom: 12px; }
.kpi { background: #f6f7f9; border: 1px solid var(--line); border-radius: 6px;
  padding: 8px 14px; min-width: 130px; }
.kpi-value { font-size: 19px; font-weight: bold; color: var(--accent); }
.kpi-label { color: var(--muted); font-size: 12px; }
nav { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 13px; }
nav a { color: var(--accent); text-decoration: none; }
main { padding: 16px 28px; display: grid; gap: 16px;
  grid-template-columns: repeat(auto-fill, minmax(600px, 1fr)); }
.panel { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 14px 18px; }
.caption, .note { color: #444; margin: 0 0 8px; }
.source { color: var(--muted); font-size: 11px; margin: 8px 0 0; }
.figures { display: flex; flex-wrap: wrap; gap: 8px; }
figure.chart { margin: 0; flex: 1 1 460px; }
figure.chart svg { width: 100%; height: auto; display: block; }
figcaption { color: var(--muted); font-size: 12px; margin-top: 2px; }
.missing { background: #fffaf0; border-color: #f1d9a6; }
.no-data { color: #8a5a00; font-weight: bold; }
.table-wrap { overflow-x: auto; }
table.data { border-collapse: collapse; font-size: 12px; margin-top: 8px; width: 100%; }
table.data th, table.data td { border-bottom: 1px solid var(--line); padding: 3px 8px;
  text-align: right; white-space: nowrap; }
table.data th:first-child, table.data td:first-child { text-align: left; }
table.data td.wrap { white-space: normal; text-align: left; min-width: 220px; }
table.data caption { caption-side: bottom; color: var(--muted); text-align: left; }
footer { color: var(--muted); font-size: 12px; padding: 0 28px 24px; }
""".replace("FONTS", FONTS)

# After load, each chart records what the browser drew: how many data marks have a
# non-empty box, and where the chart is on the page (for screenshots and checks).
SCRIPT = """
window.addEventListener('load', function () {
  document.querySelectorAll('figure.chart').forEach(function (fig) {
    var svg = fig.querySelector('svg');
    var marks = svg ? svg.querySelectorAll('[id^="' + fig.id + '-mark-"]') : [];
    var drawn = 0;
    marks.forEach(function (m) {
      var b = m.getBBox();
      if (b.width > 0 || b.height > 0) { drawn += 1; }
    });
    var r = svg ? svg.getBoundingClientRect() : {left: 0, top: 0, width: 0, height: 0};
    fig.setAttribute('data-marks', String(marks.length));
    fig.setAttribute('data-drawn', String(drawn));
    fig.setAttribute('data-bbox', [r.left + window.scrollX, r.top + window.scrollY,
      r.width, r.height].map(Math.round).join(','));
  });
  document.body.setAttribute('data-height', String(document.documentElement.scrollHeight));
  document.body.setAttribute('data-charts-checked', 'true');
});
"""
