"""The report job: gold and ops tables (and the MLflow registry) -> one self-contained HTML
report at <lake>/reports/<as_of>/index.html.

Each panel (insight.report.panels) reads what it needs; a table that is missing, or has
no rows for the as_of, becomes a "no data yet" panel naming the job to run, so the report
can be written at any point of the DAG. The page is written with `insight.storage`: plain
file I/O on a local lake, the session's Hadoop FileSystem on a URI (dbfs:/, s3a://,
abfss://, file:/...), so the report lands where the tables are.
"""

from __future__ import annotations

import logging
import time
from datetime import date

from pyspark.sql import SparkSession

from insight import storage, tables
from insight.config import Config
from insight.errors import InsightError
from insight.ops.ledger import LEDGER_SCHEMA, OK
from insight.report import page
from insight.report.context import Context, NoData
from insight.report.page import Panel
from insight.report.panels import PANELS
from insight.runtime import JobRun, utc_now

log = logging.getLogger(__name__)

REPORTS = "reports"
INDEX = "index.html"


def report_path(lake: str, as_of: date) -> str:
    """Where the as_of's report is written: <lake>/reports/<as_of>/index.html."""
    return f"{lake.rstrip('/')}/{REPORTS}/{as_of}/{INDEX}"


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
        except NoData as missing:
            log.info("report: panel %s: %s", key, missing)
            panels.append(ctx.no_data(key, title, missing.table, missing.job, missing.why))
        except Exception as exc:  # one broken panel must not cost the whole report
            log.exception("report: panel %r failed", title)
            panels.append(Panel(key=key, title=title, failed=True, missing=f"Could not build "
                                f"this panel: {type(exc).__name__}: {str(exc)[:300]}"))  # fmt: skip
    text = page.render(as_of=as_of, lake=cfg.lake, run_id=run_id, generated_at=utc_now(),
                    kpis=ctx.kpis, panels=panels)  # fmt: skip
    return text, panels


def report_all(run: JobRun) -> None:
    spark, lake = run.spark, run.lake
    step = run.step()
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
    run.record([step.entry(None, OK, message=message)])
