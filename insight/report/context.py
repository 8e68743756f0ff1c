"""What every panel builder reads: the session, lake, as_of and config, the tables, why a
job skipped, and the MLflow store."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from insight import columns as C
from insight import tables
from insight.config import Config
from insight.ops.ledger import SKIPPED
from insight.report import page
from insight.report.page import Panel

log = logging.getLogger(__name__)


class NoData(Exception):
    """A panel's table is missing, or has nothing for the as_of: the page shows a panel that
    says so and names the job to run (or why it was skipped)."""

    def __init__(self, table: tables.Table, job: str, why: str = "not built yet") -> None:
        super().__init__(f"{table.qualified} {why}")
        self.table, self.job, self.why = table, job, why


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

    def require(self, table: tables.Table, job: str) -> DataFrame:
        """The table a panel is about; NoData (the page says which job to run) without it."""
        found = self.table(table)
        if found is None:
            raise NoData(table, job)
        return found

    def table(self, table: tables.Table) -> DataFrame | None:
        return tables.read(self.spark, table, self.lake) if tables.exists(
            self.spark, table, self.lake
        ) else None  # fmt: skip

    def no_data(self, key: str, title: str, table: tables.Table, job: str,
                why: str = "not built yet") -> Panel:  # fmt: skip
        skipped = self.skip_reasons.get(job)
        if skipped is not None:  # it ran: "run it" would be the wrong advice
            return page.skipped(key, title, [table.qualified], job, as_of=self.as_of, why=skipped)
        return page.no_data(key, title, [table.qualified], job, lake=self.lake, as_of=self.as_of,
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


def mlflow_client(cfg: Config) -> Any:
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
