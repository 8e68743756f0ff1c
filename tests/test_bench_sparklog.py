"""bench.sparklog: a window's profile from Spark event-log lines (the format Spark writes)."""

import json
from datetime import datetime

from bench import sparklog

T0 = 1_800_000_000_000  # ms since the epoch


def _job(job: int, stage: int, start: int, end: int, tasks: list[tuple[int, int]], desc=""):
    """Event-log lines of one job with one stage: (run ms, cpu ms) per task."""
    lines = [{"Event": "SparkListenerJobStart", "Job ID": job, "Submission Time": T0 + start,
              "Stage IDs": [stage], "Properties": {"spark.job.description": desc}}]  # fmt: skip
    for run_ms, cpu_ms in tasks:
        lines.append({"Event": "SparkListenerTaskEnd", "Stage ID": stage,
                      "Task Metrics": {"Executor Run Time": run_ms,
                                       "Executor CPU Time": cpu_ms * 1_000_000}})  # fmt: skip
    lines.append({"Event": "SparkListenerJobEnd", "Job ID": job, "Completion Time": T0 + end})
    return [json.dumps(line) for line in lines]


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp((T0 + ms) / 1000)


def test_a_window_counts_its_jobs_once_where_they_overlap():
    lines = [
        *_job(0, 0, 1_000, 3_000, [(1_500, 1_000), (1_800, 900)]),
        *_job(1, 1, 2_000, 4_000, [(1_000, 500)], desc="Delta: Compute snapshot"),
        *_job(2, 2, 9_000, 9_500, [(400, 100)]),  # after the window
    ]
    jobs = sparklog.read_jobs(lines)
    assert len(jobs) == 3
    w = sparklog.window(jobs, _at(0), _at(8_000))
    assert w.spark_jobs == 2
    assert w.in_spark_jobs_s == 3.0  # 1 s to 4 s, not 2 s + 2 s
    assert w.outside_spark_jobs_s == 5.0
    assert w.task_s == 4.3 and w.task_cpu_s == 2.4
    assert w.delta_jobs == 1


def test_a_job_running_past_the_window_counts_only_up_to_its_end():
    jobs = sparklog.read_jobs(_job(0, 0, 1_000, 10_000, [(9_000, 9_000)]))
    w = sparklog.window(jobs, _at(0), _at(4_000))
    assert (w.in_spark_jobs_s, w.outside_spark_jobs_s) == (3.0, 1.0)


def test_the_conf_value_is_a_yaml_mapping_the_config_loader_merges(tmp_path):
    from insight.config import load_config

    cfg = load_config("local", overrides=[sparklog.conf(tmp_path / "log")])
    assert cfg.spark.extra["spark.eventLog.enabled"] == "true"
    assert cfg.spark.extra["spark.eventLog.dir"] == f"file://{tmp_path / 'log'}"
