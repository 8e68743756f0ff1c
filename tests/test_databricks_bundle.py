"""The Databricks bundle in infra/databricks/ against the DAG in code (insight/dag.py).

No Spark and no workspace: the bundle's YAML is loaded as the Databricks CLI would (root
file + `include` globs), `${var.x}` is resolved with each target's variables, and every job
is checked to be Jobs-API-2.1-shaped and to run exactly the DAG. The negative tests break a
copy of the loaded bundle and assert the checks say what broke.
"""

from __future__ import annotations

import argparse
import copy
import importlib
import importlib.metadata
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from insight.dag import NAMES, RETRAINED, TASKS
from insight.dag import task as dag_task

ROOT = Path(__file__).resolve().parents[1]
BUNDLE_DIR = ROOT / "infra" / "databricks"
DAILY, WEEKLY = "daily", "weekly_retrain"
AS_OF_REF = "{{job.parameters.as_of}}"
# Jobs API 2.1: a task runs exactly one of these.
TASK_TYPES = {
    "notebook_task",
    "spark_jar_task",
    "spark_python_task",
    "spark_submit_task",
    "python_wheel_task",
    "pipeline_task",
    "sql_task",
    "dbt_task",
    "run_job_task",
    "condition_task",
    "for_each_task",
}
JOB_KEYS = {
    "name",
    "description",
    "tasks",
    "job_clusters",
    "parameters",
    "schedule",
    "trigger",
    "continuous",
    "email_notifications",
    "webhook_notifications",
    "notification_settings",
    "timeout_seconds",
    "max_concurrent_runs",
    "tags",
    "queue",
    "run_as",
    "permissions",
    "health",
    "environments",
    "git_source",
}
TASK_KEYS = TASK_TYPES | {
    "task_key",
    "description",
    "depends_on",
    "run_if",
    "job_cluster_key",
    "existing_cluster_id",
    "new_cluster",
    "environment_key",
    "libraries",
    "timeout_seconds",
    "max_retries",
    "min_retry_interval_millis",
    "retry_on_timeout",
    "email_notifications",
    "notification_settings",
    "webhook_notifications",
    "health",
}
LIBRARY_KINDS = {"whl", "jar", "egg", "pypi", "maven", "cran", "requirements"}
NOTIFY_KEYS = {
    "on_start",
    "on_success",
    "on_failure",
    "on_duration_warning_threshold_exceeded",
    "on_streaming_backlog_exceeded",
    "no_alert_for_skipped_runs",
}
TARGET_KEYS = {"mode", "default", "workspace", "variables"}
VAR_REF = re.compile(r"\$\{var\.([A-Za-z0-9_]+)\}")
JOB_PARAM_REF = re.compile(r"\{\{\s*job\.parameters\.([A-Za-z0-9_]+)\s*\}\}")
TASK_KEY = re.compile(r"^[\w\-.]{1,100}$")
CRON_FIELD = re.compile(r"^[\d*?/,\-LW#A-Z]+$")


# ---------------------------------------------------------------------------------------
# Reading the bundle


def load_bundle(bundle_dir: Path = BUNDLE_DIR) -> dict[str, Any]:
    """databricks.yml with every `include`d file merged in (resources by name)."""
    root = yaml.safe_load((bundle_dir / "databricks.yml").read_text())
    for pattern in root.get("include", []):
        files = sorted(bundle_dir.glob(pattern))
        assert files, f"include {pattern!r} matches no file under {bundle_dir}"
        for path in files:
            part = yaml.safe_load(path.read_text()) or {}
            for kind, items in part.get("resources", {}).items():
                known = root.setdefault("resources", {}).setdefault(kind, {})
                for name, item in items.items():
                    assert name not in known, f"{path.name}: resources.{kind}.{name} defined twice"
                    known[name] = {**item, "_file": path}
    return root


def target_variables(bundle: dict[str, Any], target: str) -> dict[str, Any]:
    """Each variable's value for a target: the target's, else the default; ${var.x} resolved."""
    declared = bundle.get("variables", {})
    given = bundle["targets"][target].get("variables") or {}
    unknown = set(given) - set(declared)
    assert not unknown, f"target {target} sets undeclared variables {sorted(unknown)}"
    values = {}
    for name, spec in declared.items():
        if name in given:
            values[name] = given[name]
        elif "default" in spec:
            values[name] = spec["default"]
        else:
            raise AssertionError(f"variable {name} has no default and target {target} sets none")
    # Variables may name other variables (the cluster specs name the node types).
    for _ in range(5):
        values = {k: substitute(v, values) for k, v in values.items()}
    return values


def substitute(value: Any, variables: dict[str, Any]) -> Any:
    """${var.x} replaced: a whole-string reference keeps the value's type (int, map, list)."""
    if isinstance(value, dict):
        return {k: substitute(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, variables) for v in value]
    if not isinstance(value, str):
        return value
    whole = VAR_REF.fullmatch(value)
    if whole and whole.group(1) in variables:
        return variables[whole.group(1)]
    return VAR_REF.sub(
        lambda m: str(variables[m.group(1)]) if m.group(1) in variables else m.group(0), value
    )


def resolved_jobs(bundle: dict[str, Any], target: str) -> dict[str, dict[str, Any]]:
    variables = target_variables(bundle, target)
    return {
        name: substitute(job, variables)
        for name, job in bundle.get("resources", {}).get("jobs", {}).items()
    }


def task_graph(job: dict[str, Any]) -> dict[str, set[str]]:
    return {t["task_key"]: {d["task_key"] for d in t.get("depends_on") or []} for t in job["tasks"]}


def split_parameters(params: list[str]) -> tuple[str | None, dict[str, list[str]], list[str]]:
    """`run JOB --opt value ... --flag` -> (JOB, {option: [values]}, [flags])."""
    job = params[1] if len(params) > 1 and params[0] == "run" else None
    options: dict[str, list[str]] = {}
    flags: list[str] = []
    rest = list(params[2:])
    while rest:
        token = rest.pop(0)
        if token in ("--env", "--lake", "--as-of", "--conf"):
            options.setdefault(token, []).append(rest.pop(0) if rest else "")
        else:
            flags.append(token)
    return job, options, flags


# ---------------------------------------------------------------------------------------
# The checks: each returns the problems it found, worded to name the job and task


def _notify_errors(where: str, notify: Any) -> list[str]:
    if not isinstance(notify, dict):
        return [f"{where}: email_notifications is not a mapping"]
    errors = [f"{where}: email_notifications.{k} is unknown" for k in set(notify) - NOTIFY_KEYS]
    if not notify.get("on_failure"):
        errors.append(f"{where}: no email_notifications.on_failure")
    for key, addresses in notify.items():
        if key.startswith("on_") and not (
            isinstance(addresses, list) and all(isinstance(a, str) and "@" in a for a in addresses)
        ):
            errors.append(f"{where}: email_notifications.{key} is not a list of addresses")
    return errors


def _cron_errors(where: str, schedule: Any) -> list[str]:
    if not isinstance(schedule, dict):
        return [f"{where}: schedule is not a mapping"]
    errors = []
    cron = schedule.get("quartz_cron_expression", "")
    fields = cron.split() if isinstance(cron, str) else []
    # Quartz: sec min hour day-of-month month day-of-week [year]; one of the two days is ?
    if not (
        len(fields) in (6, 7)
        and all(CRON_FIELD.match(f) for f in fields)
        and all(re.fullmatch(r"[\d,\-/*]+", f) for f in fields[:3])
        and (fields[3] == "?") != (fields[5] == "?")
    ):
        errors.append(f"{where}: quartz_cron_expression {cron!r} is not a Quartz cron")
    if not schedule.get("timezone_id"):
        errors.append(f"{where}: schedule has no timezone_id")
    if schedule.get("pause_status", "UNPAUSED") not in ("PAUSED", "UNPAUSED"):
        errors.append(f"{where}: pause_status {schedule.get('pause_status')!r}")
    return errors


def _library_errors(where: str, libraries: Any) -> list[str]:
    if not isinstance(libraries, list):
        return [f"{where}: libraries is not a list"]
    errors = []
    for lib in libraries:
        kinds = set(lib) & LIBRARY_KINDS if isinstance(lib, dict) else set()
        if not isinstance(lib, dict) or len(lib) != 1 or len(kinds) != 1:
            errors.append(f"{where}: library {lib!r} is not exactly one of {sorted(LIBRARY_KINDS)}")
            continue
        (kind,) = kinds
        spec = lib[kind]
        if kind == "pypi" and not (isinstance(spec, dict) and isinstance(spec.get("package"), str)):
            errors.append(f"{where}: pypi library {spec!r} has no package")
        elif kind == "maven" and not (
            isinstance(spec, dict)
            and isinstance(spec.get("coordinates"), str)
            and len(spec["coordinates"].split(":")) == 3
        ):
            errors.append(f"{where}: maven library {spec!r} has no group:artifact:version")
        elif kind == "whl" and not (isinstance(spec, str) and spec.endswith(".whl")):
            errors.append(f"{where}: whl library {spec!r} is not a .whl path")
    return errors


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def job_shape_errors(name: str, job: dict[str, Any]) -> list[str]:
    """Is this a job the Jobs API 2.1 would accept (the fields we use, typed)?"""
    errors = [f"job {name}: unknown key {k}" for k in set(job) - JOB_KEYS - {"_file"}]
    if not isinstance(job.get("name"), str) or not job.get("name"):
        errors.append(f"job {name}: no name")
    for key in ("timeout_seconds", "max_concurrent_runs"):
        if key in job and not (_is_int(job[key]) and job[key] >= 0):
            errors.append(f"job {name}: {key} {job[key]!r} is not a non-negative int")
    if "schedule" in job:
        errors += _cron_errors(f"job {name}", job["schedule"])
    errors += _notify_errors(f"job {name}", job.get("email_notifications"))

    params = job.get("parameters") or []
    param_names = [p.get("name") for p in params if isinstance(p, dict)]
    if len(param_names) != len(params) or len(set(param_names)) != len(params):
        errors.append(f"job {name}: parameters are not unique {{name, default}} entries")
    for p in params:
        if not isinstance(p, dict) or not isinstance(p.get("default"), str):
            errors.append(f"job {name}: parameter {p!r} has no string default")

    clusters: dict[str, Any] = {}
    for c in job.get("job_clusters") or []:
        key = c.get("job_cluster_key")
        if key in clusters:
            errors.append(f"job {name}: job_cluster_key {key} defined twice")
        spec = c.get("new_cluster")
        if not (
            isinstance(spec, dict)
            and isinstance(spec.get("spark_version"), str)
            and isinstance(spec.get("node_type_id"), str)
            and (_is_int(spec.get("num_workers")) or isinstance(spec.get("autoscale"), dict))
        ):
            errors.append(
                f"job {name}: job cluster {key} needs new_cluster with spark_version, "
                f"node_type_id and num_workers (int) or autoscale, got {spec!r}"
            )
        clusters[key] = spec

    tasks = job.get("tasks")
    if not isinstance(tasks, list) or not tasks:
        return [*errors, f"job {name}: tasks is not a non-empty list"]
    keys = [t.get("task_key") for t in tasks]
    for key in {k for k in keys if keys.count(k) > 1}:
        errors.append(f"job {name}: task_key {key} is not unique")
    for task in tasks:
        key = task.get("task_key")
        where = f"job {name} task {key}"
        if not isinstance(key, str) or not TASK_KEY.match(key):
            errors.append(f"{where}: task_key is not 1-100 word characters")
        errors += [f"{where}: unknown key {k}" for k in set(task) - TASK_KEYS]
        types = set(task) & TASK_TYPES
        if len(types) != 1:
            errors.append(f"{where}: has {len(types)} task types {sorted(types)}, needs exactly 1")
        for dep in task.get("depends_on") or []:
            if not isinstance(dep, dict) or dep.get("task_key") not in keys:
                errors.append(f"{where}: depends_on {dep!r} names no task of the job")
            elif dep["task_key"] == key:
                errors.append(f"{where}: depends on itself")
        compute = {"job_cluster_key", "existing_cluster_id", "new_cluster"} & set(task)
        if len(compute) != 1:
            errors.append(f"{where}: needs exactly one cluster reference, has {sorted(compute)}")
        elif "job_cluster_key" in task and task["job_cluster_key"] not in clusters:
            errors.append(
                f"{where}: job_cluster_key {task['job_cluster_key']} is not in job_clusters"
            )
        errors += _library_errors(where, task.get("libraries", []))
        if "email_notifications" in task:
            errors += _notify_errors(where, task["email_notifications"])
        for key_name in ("max_retries", "min_retry_interval_millis", "timeout_seconds"):
            if key_name in task and not (_is_int(task[key_name]) and task[key_name] >= -1):
                errors.append(f"{where}: {key_name} {task[key_name]!r} is not an int")
        if "retry_on_timeout" in task and not isinstance(task["retry_on_timeout"], bool):
            errors.append(f"{where}: retry_on_timeout is not a bool")
        wheel = task.get("python_wheel_task")
        if wheel is not None and not (
            isinstance(wheel.get("package_name"), str)
            and isinstance(wheel.get("entry_point"), str)
            and isinstance(wheel.get("parameters"), list)
            and all(isinstance(p, str) for p in wheel["parameters"])
            and "named_parameters" not in wheel
        ):
            errors.append(f"{where}: python_wheel_task needs package_name, entry_point, parameters")
        for ref in JOB_PARAM_REF.findall(str(task)):
            if ref not in param_names:
                errors.append(f"{where}: references job parameter {ref}, which the job lacks")
    errors += _cycle_errors(name, task_graph(job))
    return errors


def _cycle_errors(name: str, graph: dict[str, set[str]]) -> list[str]:
    done: set[str] = set()
    while len(done) < len(graph):
        ready = {
            k for k, deps in graph.items() if k not in done and deps <= done | (deps - set(graph))
        }
        if not ready:
            return [f"job {name}: depends_on has a cycle among {sorted(set(graph) - done)}"]
        done |= ready
    return []


def dag_graph(tasks: tuple = TASKS) -> dict[str, set[str]]:
    """The DAG's task graph, restricted to `tasks` (the weekly job's edges among its tasks)."""
    names = {t.name for t in tasks}
    return {t.name: set(t.depends_on) & names for t in tasks}


def graph_errors(name: str, job: dict[str, Any], expected: dict[str, set[str]]) -> list[str]:
    graph = task_graph(job)
    errors = [f"job {name}: task {k} is not in insight/dag.py" for k in set(graph) - set(expected)]
    errors += [f"job {name}: DAG task {k} is missing" for k in set(expected) - set(graph)]
    for key in set(graph) & set(expected):
        if graph[key] != expected[key]:
            errors.append(
                f"job {name}: task {key} depends on {sorted(graph[key])}, "
                f"the DAG says {sorted(expected[key])}"
            )
    return errors


def task_call_errors(
    name: str, job: dict[str, Any], variables: dict[str, Any], retrain: bool
) -> list[str]:
    """Each task runs `insight run <its job> --env databricks --lake <lake> --as-of <as_of>`
    plus the job's retrain flags in the weekly run (none daily), and nothing else."""
    errors = []
    params_by_name = {p["name"]: p["default"] for p in job.get("parameters") or []}
    if params_by_name.get("as_of") != "{{job.start_time.iso_date}}":
        errors.append(
            f"job {name}: as_of must default to the run's date {{{{job.start_time.iso_date}}}}"
        )
    flags_of = {t.name: list(t.retrain_flags or ()) for t in TASKS}
    for task in job["tasks"]:
        key = task["task_key"]
        where = f"job {name} task {key}"
        wheel = task.get("python_wheel_task") or {}
        if (wheel.get("package_name"), wheel.get("entry_point")) != (
            "customer-insight-lakehouse",
            "insight",
        ):
            errors.append(f"{where}: does not run the `insight` entry point of the insight wheel")
            continue
        job_name, options, flags = split_parameters(wheel.get("parameters", []))
        if job_name not in NAMES or job_name != key:
            errors.append(f"{where}: runs {job_name!r}, not its own DAG job ({', '.join(NAMES)})")
        if options.get("--env") != ["databricks"]:
            errors.append(f"{where}: --env is {options.get('--env')}, not [databricks]")
        if options.get("--as-of") != [AS_OF_REF]:
            errors.append(f"{where}: --as-of is {options.get('--as-of')}, not [{AS_OF_REF}]")
        if options.get("--lake") != [variables["lake_path"]]:
            errors.append(f"{where}: --lake is {options.get('--lake')}, not the target's lake")
        wanted = flags_of.get(key, []) if retrain else []
        if flags != wanted:
            errors.append(f"{where}: flags {flags}, expected {wanted}")
    return errors


def gpu_errors(name: str, job: dict[str, Any]) -> list[str]:
    """The GPU cluster is propensity's alone, on a GPU ML runtime, one Horovod process per GPU."""
    errors = []
    clusters = {c["job_cluster_key"]: c["new_cluster"] for c in job.get("job_clusters") or []}
    gpu_keys = {k for k, c in clusters.items() if "gpu" in c["spark_version"]}
    for key, cluster in clusters.items():
        if not re.match(r"^1[5-6]\.\d+\.x-(cpu|gpu)-ml-scala2\.12$", cluster["spark_version"]):
            errors.append(f"job {name}: cluster {key} runtime {cluster['spark_version']} is not a "
                          "Spark 3.5 ML runtime (15.x / 16.x ML, Scala 2.12)")  # fmt: skip
    for task in job["tasks"]:
        on_gpu = task.get("job_cluster_key") in gpu_keys
        key = task["task_key"]
        if on_gpu != (key == "propensity"):
            errors.append(f"job {name} task {key}: {'on' if on_gpu else 'off'} the GPU cluster")
        if key == "propensity":
            _, options, _ = split_parameters(task["python_wheel_task"]["parameters"])
            conf = options.get("--conf", [])
            workers = clusters.get(task.get("job_cluster_key"), {}).get("num_workers")
            if "propensity.gpu=true" not in conf or f"propensity.num_proc={workers}" not in conf:
                errors.append(
                    f"job {name} task propensity: needs --conf propensity.gpu=true and "
                    f"propensity.num_proc={workers} (one process per GPU worker), got {conf}"
                )
    return errors


def bundle_errors(bundle: dict[str, Any], target: str) -> list[str]:
    """Everything this file checks about one target of the bundle."""
    variables = target_variables(bundle, target)
    jobs = resolved_jobs(bundle, target)
    errors = []
    for name, job in jobs.items():
        errors += job_shape_errors(name, job)
        leftover = VAR_REF.findall(str(job))
        if leftover:
            errors.append(f"job {name}: undeclared variables {sorted(set(leftover))}")
        for task in job.get("tasks", []):
            if "max_retries" not in task or not task.get("email_notifications"):
                errors.append(f"job {name} task {task.get('task_key')}: no retries or no alert")
    if errors:
        return errors  # the DAG checks below assume the shape
    if DAILY not in jobs or WEEKLY not in jobs:
        return [f"bundle: needs jobs {DAILY} and {WEEKLY}, has {sorted(jobs)}"]
    errors += graph_errors(DAILY, jobs[DAILY], dag_graph())
    errors += graph_errors(WEEKLY, jobs[WEEKLY], dag_graph(RETRAINED))
    errors += task_call_errors(DAILY, jobs[DAILY], variables, retrain=False)
    errors += task_call_errors(WEEKLY, jobs[WEEKLY], variables, retrain=True)
    for name, job in jobs.items():
        errors += gpu_errors(name, job)
    return errors


# ---------------------------------------------------------------------------------------
# Tests


@pytest.fixture(scope="module")
def bundle() -> dict[str, Any]:
    return load_bundle()


@pytest.mark.parametrize("target", ["dev", "prod"])
def test_bundle_is_valid_and_runs_the_dag(bundle, target):
    assert bundle_errors(bundle, target) == []


def test_daily_and_weekly_graphs_are_the_dags(bundle):
    jobs = resolved_jobs(bundle, "prod")
    assert task_graph(jobs[DAILY]) == {t.name: set(t.depends_on) for t in TASKS}
    retrained = {t.name for t in RETRAINED}
    assert task_graph(jobs[WEEKLY]) == {t.name: set(t.depends_on) & retrained for t in RETRAINED}


def test_targets_differ_only_in_variables(bundle):
    targets = bundle["targets"]
    assert set(targets) == {"dev", "prod"}
    assert targets["dev"]["mode"] == "development" and targets["prod"]["mode"] == "production"
    assert [n for n, t in targets.items() if t.get("default")] == ["dev"]
    required = {n for n, spec in bundle["variables"].items() if "default" not in spec}
    for name, target in targets.items():
        assert set(target) <= TARGET_KEYS, f"target {name} overrides {set(target) - TARGET_KEYS}"
        # The host cannot be a variable (the CLI does not interpolate auth fields).
        assert set(target.get("workspace", {})) <= {"host"}, f"target {name} workspace"
        assert set(target["variables"]) == required, f"target {name} variables"
    dev, prod = (target_variables(bundle, t) for t in ("dev", "prod"))
    assert dev["schedule_pause_status"] == "PAUSED" and prod["schedule_pause_status"] == "UNPAUSED"
    # Every difference between the resolved dev and prod jobs sits where a variable is used.
    raw = bundle["resources"]["jobs"]
    differ = _differences(resolved_jobs(bundle, "dev"), resolved_jobs(bundle, "prod"))
    assert differ, "dev and prod resolve to the same jobs: the variables are not used"
    for path in differ:
        assert VAR_REF.search(str(_at(raw, path))), f"{path} differs without a variable"


def _differences(a: Any, b: Any, path: tuple = ()) -> list[tuple]:
    if isinstance(a, dict) and isinstance(b, dict) and set(a) == set(b):
        return [p for k in a for p in _differences(a[k], b[k], (*path, k))]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [
            p
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for p in _differences(x, y, (*path, i))
        ]
    return [] if a == b else [path]


def _at(tree: Any, path: tuple) -> Any:
    for step in path:
        if isinstance(tree, str):  # a whole-variable value (a cluster spec) replaced this
            return tree
        tree = tree[step]
    return tree


def test_libraries_match_the_pinned_stack(bundle):
    """Spark NLP's jar is conf/base.yaml's; PyPI pins are constraints.txt's; the wheel is the
    artifact's output."""
    base = yaml.safe_load((ROOT / "conf" / "base.yaml").read_text())
    nlp_jar = next(p for p in base["spark"]["packages"] if ":spark-nlp_" in p)
    pins = dict(
        line.strip().lower().split("==", 1)
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    artifact = bundle["artifacts"]["insight_wheel"]
    dist = (BUNDLE_DIR / artifact["path"] / "dist").resolve()
    assert (dist.parent / "setup.py").exists()
    seen = set()
    for name, job in resolved_jobs(bundle, "prod").items():
        for task in job["tasks"]:
            where = f"{name}.{task['task_key']}"
            libs = task["libraries"]
            whl = [lib["whl"] for lib in libs if "whl" in lib]
            assert len(whl) == 1, f"{where}: the insight wheel once"
            assert (job["_file"].parent / whl[0]).resolve().parent == dist, where
            for lib in libs:
                if "maven" in lib:
                    assert lib["maven"]["coordinates"] == nlp_jar, where
                    seen.add("maven")
                if "pypi" in lib:
                    package, version = lib["pypi"]["package"].lower().split("==")
                    assert pins.get(package) == version, f"{where}: {package} {version}"
            if task["task_key"] == "nlp":
                assert {"maven": {"coordinates": nlp_jar}} in libs, where
                assert {"pypi": {"package": f"spark-nlp=={nlp_jar.rsplit(':', 1)[1]}"}} in libs
                # The review model's lexicon features run in a pandas UDF on the cluster.
                packages = [lib["pypi"]["package"].lower() for lib in libs if "pypi" in lib]
                assert any(p.startswith("vadersentiment==") for p in packages), where
    assert seen == {"maven"}


def test_entry_point_is_the_insight_console_script(bundle):
    """Databricks looks the entry point up in the distribution's metadata by name."""
    dist = importlib.metadata.distribution("customer-insight-lakehouse")
    scripts = {ep.name: ep.value for ep in dist.entry_points if ep.group == "console_scripts"}
    assert scripts.get("insight", "").startswith("insight.cli:")


def test_task_parameters_parse_with_the_real_job_parsers(bundle):
    """Every task's flags are accepted by `insight run` and by its job's own parser."""
    from insight.cli import build_parser
    from insight.config import add_common_args

    for name, job in resolved_jobs(bundle, "prod").items():
        for task in job["tasks"]:
            where = f"{name}.{task['task_key']}"
            params = task["python_wheel_task"]["parameters"]
            try:
                args = build_parser().parse_args(params)
                module = importlib.import_module(dag_task(args.job).module)
                parser = argparse.ArgumentParser(prog=f"insight run {args.job}")
                add_common_args(parser)
                if hasattr(module, "add_args"):
                    module.add_args(parser)
                parsed = parser.parse_args(args.job_args)
            except (SystemExit, ImportError) as exc:
                pytest.fail(f"{where}: `insight {' '.join(params)}` does not parse ({exc!r})")
            assert parsed.env == "databricks" and parsed.as_of == AS_OF_REF, where


def schema_errors(bundle: dict[str, Any], target: str) -> list[str]:
    """The jobs read by `databricks-bundles`, the typed model Databricks generates from the
    bundle schema: it refuses unknown fields and wrong types."""
    jobs_model = pytest.importorskip("databricks.bundles.jobs", reason="databricks-bundles")
    errors = []
    for name, job in resolved_jobs(bundle, target).items():
        plain = {k: v for k, v in job.items() if k != "_file"}
        try:
            typed = jobs_model.Job.from_dict(plain).as_dict()
        except (ValueError, TypeError) as exc:
            errors.append(f"job {name}: {exc}")
            continue
        if typed != plain:
            errors.append(f"job {name}: the typed model reads it differently")
    return errors


@pytest.mark.parametrize("target", ["dev", "prod"])
def test_jobs_fit_the_bundle_schema(bundle, target):
    assert schema_errors(bundle, target) == []


def test_schema_check_reports_a_misspelt_field(bundle):
    broken = copy.deepcopy(bundle)
    task = _task(broken, DAILY, "clean")
    task["max_retrys"] = task.pop("max_retries")
    assert any("max_retrys" in e for e in schema_errors(broken, "dev"))


# --- the checks can fail ---------------------------------------------------------------


def _task(bundle, job, key):
    return next(t for t in bundle["resources"]["jobs"][job]["tasks"] if t["task_key"] == key)


def _drop_dependency(b):
    _task(b, DAILY, "profile")["depends_on"].pop()


def _unknown_task(b):
    extra = copy.deepcopy(_task(b, DAILY, "report"))
    extra["task_key"] = "publish"
    extra["python_wheel_task"]["parameters"][1] = "publish"
    b["resources"]["jobs"][DAILY]["tasks"].append(extra)


def _dangling_dependency(b):
    _task(b, DAILY, "clean")["depends_on"] = [{"task_key": "ingets"}]


def _two_task_types(b):
    _task(b, DAILY, "clv")["spark_python_task"] = {"python_file": "jobs/clv.py"}


def _missing_cluster(b):
    _task(b, DAILY, "segment")["job_cluster_key"] = "big"


def _bad_cron(b):
    b["resources"]["jobs"][WEEKLY]["schedule"]["quartz_cron_expression"] = "0 8 * * SUN"


def _gpu_for_nlp(b):
    _task(b, DAILY, "nlp")["job_cluster_key"] = "gpu"


def _lost_retrain_flag(b):
    _task(b, WEEKLY, "nlp")["python_wheel_task"]["parameters"].remove("--retrain")


def _wrong_env(b):
    params = _task(b, DAILY, "features")["python_wheel_task"]["parameters"]
    params[params.index("databricks")] = "local"


def _no_retries(b):
    del _task(b, DAILY, "ingest")["max_retries"]


def _string_retries(b):
    _task(b, DAILY, "ingest")["max_retries"] = "2"


def _bad_maven(b):
    _task(b, DAILY, "nlp")["libraries"][2] = {"maven": {"coordinates": "spark-nlp_2.12"}}


def _undeclared_variable(b):
    _task(b, DAILY, "report")["python_wheel_task"]["parameters"][5] = "${var.lake}"


def _cycle(b):
    _task(b, DAILY, "ingest")["depends_on"] = [{"task_key": "report"}]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (_drop_dependency, "task profile depends on"),
        (_unknown_task, "task publish is not in insight/dag.py"),
        (_dangling_dependency, "names no task of the job"),
        (_two_task_types, "has 2 task types"),
        (_missing_cluster, "job_cluster_key big is not in job_clusters"),
        (_bad_cron, "is not a Quartz cron"),
        (_gpu_for_nlp, "task nlp: on the GPU cluster"),
        (_lost_retrain_flag, "task nlp: flags [], expected ['--retrain']"),
        (_wrong_env, "--env is ['local']"),
        (_no_retries, "task ingest: no retries"),
        (_string_retries, "max_retries '2' is not an int"),
        (_bad_maven, "has no group:artifact:version"),
        (_undeclared_variable, "undeclared variables ['lake']"),
        (_cycle, "depends_on has a cycle"),
    ],
)
def test_checks_report_a_broken_bundle(bundle, mutate, message):
    broken = copy.deepcopy(bundle)
    mutate(broken)
    errors = bundle_errors(broken, "dev")
    assert any(message in e for e in errors), errors


# Import name of each heavy package a task may install (PyPI name) or get from its runtime.
HEAVY = {"spark-nlp": "sparknlp", "vaderSentiment": "vaderSentiment", "petastorm": "petastorm",
         "tensorflow": "tensorflow", "horovod": "horovod", "torch": "torch"}  # fmt: skip
# What the GPU ML runtime brings for the propensity task (daily.yml says so next to it).
GPU_RUNTIME = {"tensorflow", "horovod"}


# Importing a blocked package raises ImportError naming it (a finder, not a None in
# sys.modules: libraries such as scipy look there for packages already imported).
BLOCKING_PROBE = """
import importlib.abc, sys
class Undeclared(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {blocked!r}:
            raise ImportError(f"{{name}} is imported but not declared for this task")
sys.meta_path.insert(0, Undeclared())
from insight.cli import main
sys.exit(main(["run", {job!r}, "--help"]))
"""


def declared(task: dict[str, Any]) -> set[str]:
    """PyPI packages a task installs, plus what its GPU runtime brings."""
    pypi = {lib["pypi"]["package"].split("==")[0] for lib in task.get("libraries") or []
            if "pypi" in lib}  # fmt: skip
    return pypi | (GPU_RUNTIME if task.get("job_cluster_key") == "gpu" else set())


def test_each_task_starts_with_only_the_libraries_it_declares(bundle):
    """Each task's command (`insight run JOB --help`: the CLI, the job's entry and body
    imported, no Spark started) with every heavy package it does not declare made
    unimportable; a leak fails naming the task and the import."""
    failures = []
    for job_name, job in resolved_jobs(bundle, "dev").items():
        for task in job["tasks"]:
            name, _, _ = split_parameters(task["python_wheel_task"]["parameters"])
            blocked = sorted(HEAVY[p] for p in HEAVY if p not in declared(task))
            probe = BLOCKING_PROBE.format(blocked=blocked, job=name)
            done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                                  cwd=ROOT, timeout=300)  # fmt: skip
            if done.returncode != 0 or "usage: insight run" not in done.stdout:
                failures.append(f"{job_name}/{task['task_key']} (blocked {blocked}): "
                                f"{done.stderr.strip().splitlines()[-1:]}")  # fmt: skip
    assert failures == []
