"""The Databricks bundle in infra/databricks/ against the DAG in code (insight/dag.py).

Its jobs (resources/daily.yml, weekly.yml) are generated from the DAG by `make bundle`
(insight/bundle.py): the committed files must equal what the generator writes, and what it
writes must run the DAG. No Spark and no workspace: the bundle is loaded as the Databricks
CLI would (root file + `include` globs), `${var.x}` resolved with each target's variables,
and every job read by the typed job model of `databricks-bundles`.
"""

from __future__ import annotations

import argparse
import copy
import importlib
import importlib.metadata
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from insight.bundle import render
from insight.dag import RETRAINED, TASKS, Task
from insight.dag import task as dag_task

ROOT = Path(__file__).resolve().parents[1]
BUNDLE_DIR = ROOT / "infra" / "databricks"
DAILY, WEEKLY = "daily", "weekly_retrain"
AS_OF_REF = "{{job.parameters.as_of}}"
TARGET_KEYS = {"mode", "default", "workspace", "variables"}
VAR_REF = re.compile(r"\$\{var\.([A-Za-z0-9_]+)\}")


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
# Tests


@pytest.fixture(scope="module")
def bundle() -> dict[str, Any]:
    return load_bundle()


def stale(tasks: tuple[Task, ...]) -> list[str]:
    """The committed job files that differ from what `make bundle` writes for these tasks."""
    resources = BUNDLE_DIR / "resources"
    return [name for name, text in render(tasks).items() if (resources / name).read_text() != text]


def test_committed_jobs_are_generated_from_the_dag():
    assert stale(TASKS) == [], "they differ from insight/dag.py: run `make bundle` and commit them"


def test_a_dag_change_without_make_bundle_is_caught():
    publish = Task("publish", ("report",), "a new job", "insight.report.run:report_all")
    assert stale((*TASKS, publish)) == ["daily.yml"]
    retrain_clv = tuple(replace(t, retrain_flags=()) if t.name == "clv" else t for t in TASKS)
    assert stale(retrain_clv) == ["weekly.yml"]


def test_a_task_on_an_unknown_cluster_or_library_set_is_refused():
    propensity = dag_task("propensity")
    with pytest.raises(ValueError, match="task propensity: cluster 'tpu' is not one of"):
        render((replace(propensity, cluster="tpu"),))
    with pytest.raises(ValueError, match="task propensity: libraries 'rapids' is not one of"):
        render((replace(propensity, libraries="rapids"),))


def test_jobs_run_the_dag(bundle):
    """daily: every task with the DAG's edges; weekly: the retrained tasks with their retrain
    flags and the edges among them; each on its cluster, with its timeout."""
    jobs = resolved_jobs(bundle, "prod")
    for job, tasks, retrain in ((DAILY, TASKS, False), (WEEKLY, RETRAINED, True)):
        names = {t.name for t in tasks}
        expected = {
            t.name: (set(t.depends_on) & names, t.name,
                     list(t.retrain_flags or ()) if retrain else [], t.cluster,
                     3600 * ((t.retrain_hours or t.hours) if retrain else t.hours))
            for t in tasks
        }  # fmt: skip
        actual = {}
        for task in jobs[job]["tasks"]:
            name, _, flags = split_parameters(task["python_wheel_task"]["parameters"])
            depends_on = {d["task_key"] for d in task.get("depends_on", [])}
            cluster, timeout = task["job_cluster_key"], task["timeout_seconds"]
            actual[task["task_key"]] = (depends_on, name, flags, cluster, timeout)
        assert actual == expected, job


def undeclared_variables(bundle: dict[str, Any], target: str) -> set[str]:
    """`${var.x}` the jobs use that databricks.yml does not declare (left after resolving)."""
    return set(VAR_REF.findall(str(resolved_jobs(bundle, target))))


@pytest.mark.parametrize("target", ["dev", "prod"])
def test_jobs_use_only_declared_variables(bundle, target):
    assert undeclared_variables(bundle, target) == set()


def test_an_undeclared_variable_is_caught(bundle):
    broken = copy.deepcopy(bundle)
    broken["resources"]["jobs"][DAILY]["tasks"][0]["python_wheel_task"]["parameters"][5] = (
        "${var.lake}"
    )
    assert undeclared_variables(broken, "dev") == {"lake"}


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
    artifact's output; the runtimes have Spark 3.5."""
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
            if dag_task(task["task_key"]).libraries == "nlp":
                assert {"maven": {"coordinates": nlp_jar}} in libs, where
                assert {"pypi": {"package": f"spark-nlp=={nlp_jar.rsplit(':', 1)[1]}"}} in libs
                # The review model's lexicon features run in a pandas UDF on the cluster.
                packages = [lib["pypi"]["package"].lower() for lib in libs if "pypi" in lib]
                assert any(p.startswith("vadersentiment==") for p in packages), where
    assert seen == {"maven"}
    for cluster in ("cpu_cluster", "gpu_cluster"):
        runtime = target_variables(bundle, "prod")[cluster]["spark_version"]
        assert re.fullmatch(r"1[5-6]\.\d+\.x-(cpu|gpu)-ml-scala2\.12", runtime), (
            f"{cluster}: {runtime} is not a Spark 3.5 ML runtime (15.x / 16.x ML, Scala 2.12)"
        )


def test_entry_point_is_the_insight_console_script(bundle):
    """Databricks looks the entry point up in the distribution's metadata by name."""
    dist = importlib.metadata.distribution("customer-insight-lakehouse")
    scripts = {ep.name: ep.value for ep in dist.entry_points if ep.group == "console_scripts"}
    assert scripts.get("insight", "").startswith("insight.cli:")


def test_task_parameters_parse_with_the_real_job_parsers(bundle):
    """Every task's flags are accepted by `insight run` and by its job's own parser."""
    from insight.cli import build_parser
    from insight.flags import add_common_args

    lake = target_variables(bundle, "prod")["lake_path"]
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
            wanted = (task["task_key"], "databricks", lake, AS_OF_REF)
            assert (args.job, parsed.env, parsed.lake, parsed.as_of) == wanted, where


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
    task = broken["resources"]["jobs"][DAILY]["tasks"][1]
    task["max_retrys"] = task.pop("max_retries")
    assert any("max_retrys" in e for e in schema_errors(broken, "dev"))


# Import name of each heavy package a task may install (PyPI name) or get from its runtime.
HEAVY = {"spark-nlp": "sparknlp", "vaderSentiment": "vaderSentiment", "petastorm": "petastorm",
         "tensorflow": "tensorflow", "horovod": "horovod", "torch": "torch"}  # fmt: skip
# What the GPU ML runtime brings to a task on the GPU cluster (insight/bundle.py says so).
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
