"""Model history for the report, read from the MLflow registry: every registered version of
the suite's models with its validation metrics, and the propensity calibration tables."""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

log = logging.getLogger(__name__)

MODEL, VERSION, CREATED, CHAMPION = "model", "version", "created", "champion"
METRIC, VALUE = "metric", "value"
CALIBRATION_FILE = "calibration.json"  # logged by insight.propensity.train.register


def model_history(client: Any, metrics: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """Each registered version of each model with the named run metrics.

    Args:
        client: an MlflowClient on the suite's store.
        metrics: model name -> run metrics to report (missing ones are skipped).

    Returns:
        model, version (int), created (UTC), champion (bool), metric, value; one row per
        metric per version, oldest version first. Models not registered yet have no rows.
    """
    from mlflow.exceptions import MlflowException

    rows = []
    for name, wanted in metrics.items():
        try:
            versions = client.search_model_versions(f"name = '{name}'")
        except MlflowException as exc:
            log.info("report: no versions of %s (%s)", name, exc)
            continue
        champion = _champion_version(client, name)
        for mv in versions:
            run_metrics = client.get_run(mv.run_id).data.metrics if mv.run_id else {}
            created = datetime.fromtimestamp(mv.creation_timestamp / 1000, UTC).replace(tzinfo=None)
            is_champion = str(mv.version) == champion
            for metric in wanted:
                if metric in run_metrics:
                    rows.append((name, int(mv.version), created, is_champion, metric,
                                 float(run_metrics[metric])))  # fmt: skip
    pdf = pd.DataFrame(rows, columns=[MODEL, VERSION, CREATED, CHAMPION, METRIC, VALUE])
    return pdf.sort_values([MODEL, VERSION, METRIC], ignore_index=True)


def _champion_version(client: Any, name: str) -> str | None:
    # Searches do not fill in aliases on every store: ask for the alias itself.
    from mlflow.exceptions import MlflowException

    try:
        return str(client.get_model_version_by_alias(name, "champion").version)
    except MlflowException:
        return None


@dataclass(frozen=True)
class Calibration:
    """Per-decile predicted vs actual rate of a propensity model on its validation snapshot."""

    model: str  # name/version
    candidate: str  # the model kind that was registered (tf, gbt, ...)
    validation_snapshot: str  # features as of this date, labels from the window after it
    table: pd.DataFrame  # decile, rows, predicted, actual


def calibration(client: Any, label: str) -> Calibration | None:
    """The calibration table logged with the run of registered version `label`
    (`name/version`, as in a model_version column); None if it has none."""
    from mlflow.exceptions import MlflowException

    name, _, version = label.rpartition("/")
    try:
        mv = client.get_model_version(name, version)
        run = client.get_run(mv.run_id)
        with tempfile.TemporaryDirectory() as tmp:
            path = client.download_artifacts(mv.run_id, CALIBRATION_FILE, tmp)
            tables = json.loads(Path(path).read_text())
    except (MlflowException, OSError) as exc:
        log.warning("report: no calibration for %s: %s", label, exc)
        return None
    candidate = run.data.params.get("candidate", "")
    if candidate not in tables:
        log.warning("report: %s has no calibration for its candidate %r", label, candidate)
        return None
    return Calibration(
        model=label,
        candidate=candidate,
        validation_snapshot=run.data.params.get("validation_snapshot", "?"),
        table=pd.DataFrame(tables[candidate]),
    )
