"""MLflow tracking and model registry shared by every model of the suite.

Locally the tracking store is a SQLite database under <lake>/_mlflow (the registry needs
a database store); on a cluster or Databricks `mlflow.tracking_uri` names the server.
The model a job serves is the registered version holding the `champion` alias.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import mlflow
from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException

from insight.config import Config

log = logging.getLogger(__name__)

CHAMPION = "champion"


@dataclass(frozen=True)
class Served:
    """A registered model version: what a job loads and records next to its output."""

    name: str
    version: str
    run_id: str

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"

    @property
    def label(self) -> str:
        """`name/version`, the value written to `model_version` columns."""
        return f"{self.name}/{self.version}"


def tracking_uri(cfg: Config) -> str:
    if cfg.mlflow.tracking_uri:
        return cfg.mlflow.tracking_uri
    return f"sqlite:///{Path(cfg.lake) / '_mlflow' / 'mlflow.db'}"


def use_tracking(cfg: Config) -> MlflowClient:
    """Point MLflow (tracking and registry) at this config's store."""
    uri = tracking_uri(cfg)
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def experiment(cfg: Config, name: str) -> str:
    """Id of the experiment `<prefix>-<name>`, created (artifacts under the lake) if new."""
    client = use_tracking(cfg)
    full = f"{cfg.mlflow.experiment_prefix}-{name}"
    found = client.get_experiment_by_name(full)
    if found is not None:
        return found.experiment_id
    location = None
    if not cfg.mlflow.tracking_uri:
        location = (Path(cfg.lake) / "_mlflow" / "artifacts").as_uri()
    return client.create_experiment(full, artifact_location=location)


def champion(cfg: Config, name: str) -> Served | None:
    """The version holding the `champion` alias, or None if the model has none yet."""
    client = use_tracking(cfg)
    try:
        mv = client.get_model_version_by_alias(name, CHAMPION)
    except MlflowException as exc:
        if exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            return None
        raise
    return _served(mv)


def make_champion(cfg: Config, name: str, version: str) -> Served:
    """Give `version` the champion alias (the previous champion loses it)."""
    client = use_tracking(cfg)
    client.set_registered_model_alias(name, CHAMPION, version)
    log.info("model %s version %s is now %s", name, version, CHAMPION)
    return _served(client.get_model_version(name, version))


def promote_if_not_worse(
    cfg: Config,
    name: str,
    version: str,
    metric: str,
    *,
    higher_is_better: bool = True,
    champion_value: float | None = None,
    same_data: str = "",
) -> tuple[bool, str]:
    """The promotion gate: `version` becomes champion only if its validation `metric` is
    not worse than the current champion's. Returns (promoted, reason), reason logged.

    Like with like: `champion_value` is the champion measured on the candidate's own
    validation data (`same_data` says how); it is logged to the candidate's run as
    `champion_<metric>`. With `same_data` but no value, the champion could not be measured
    there (it reads other inputs) and the candidate is promoted, saying so. Without either,
    the figure the champion's run logged is used, which only compares like with like when
    every run validates on the same data."""
    client = use_tracking(cfg)
    run_id = client.get_model_version(name, version).run_id
    new = client.get_run(run_id).data.metrics[metric]
    current = champion(cfg, name)
    if current is None:
        reason = f"no champion yet; version {version} ({metric}={new:.4f}) promoted"
    elif same_data and champion_value is None:
        reason = (
            f"version {version} promoted ({metric}={new:.4f}): champion version "
            f"{current.version} reads other inputs, it cannot be measured on {same_data}"
        )
    else:
        if champion_value is not None:
            old = champion_value
            client.log_metric(run_id, f"champion_{metric}", champion_value)
        else:
            old = client.get_run(current.run_id).data.metrics.get(metric)
        measured = f"; champion measured on {same_data}" if same_data else ""
        worse = old is not None and (new < old if higher_is_better else new > old)
        if worse:
            reason = (
                f"version {version} not promoted: {metric}={new:.4f} is worse than champion "
                f"version {current.version} ({old:.4f}{measured})"
            )
            log.info(reason)
            return False, reason
        shown = "unknown" if old is None else f"{old:.4f}"
        reason = (
            f"version {version} promoted: {metric}={new:.4f} vs champion version "
            f"{current.version} ({shown}{measured})"
        )
    make_champion(cfg, name, version)
    log.info(reason)
    return True, reason


def pinned(*distributions: str) -> list[str]:
    """`name==version` of installed distributions: a logged model's pip requirements, named
    so MLflow skips its slow (and here offline) inference of them."""
    from importlib import metadata

    return [f"{d}=={metadata.version(d)}" for d in distributions]


def _served(mv: ModelVersion) -> Served:
    return Served(name=mv.name, version=str(mv.version), run_id=mv.run_id)
