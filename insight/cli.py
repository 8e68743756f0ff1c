"""`insight` command line: generate a lake, run jobs of the DAG."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from insight import __version__, dag, storage
from insight.audit import command as audit_command
from insight.erase import command as erase_command
from insight.imports import job as import_command

log = logging.getLogger("insight")

JOBS = (*dag.NAMES, "all")

DESCRIPTION = """\
Customer Insight Lakehouse: Spark jobs that turn raw customer event and review lakes into
validated Delta tables (bronze -> silver, quarantine, ops ledger) and insight tables
(review sentiment, customer features, segments, lifetime value, recommendations, purchase and
churn propensity, one customer_profile row per customer) and an HTML insight report.

  insight generate --lake DIR --customers 2000 --seed 7     write a realistic raw landing zone
  insight import --mapping online_retail --source FILE --lake DIR   or land your own export
  insight run all --lake DIR --as-of 2025-12-31             run the whole DAG on it
  insight run clean --help                                  flags of one job

Tables live at DIR/<layer>/<table> and are registered as bronze.*, silver.*,
quarantine.*, gold.*, ops.* in the Spark catalog; models in MLflow under DIR/_mlflow.
"""


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _rate(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 0.5:
        raise argparse.ArgumentTypeError(f"must be between 0 and 0.5, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="insight", description=DESCRIPTION, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"insight {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    gen = sub.add_parser(
        "generate",
        help="write a realistic raw landing zone (with dirty records) under DIR/landing",
        description="Write customers (CRM CSV with PII), products, events and reviews (JSON "
        "lines) under DIR/landing, and the hidden truth used for evaluation under DIR/truth. "
        "Deterministic for a seed. A development tool: needs the lakegen package, which "
        "`make setup` installs and the production wheel does not contain.",
    )
    gen.add_argument("--env", default="local", help="environment config (default: local)")
    gen.add_argument(
        "--lake", help="lake folder to create landing/ and truth/ in (default: the env's lake)"
    )
    gen.add_argument("--customers", type=_positive_int, required=True, help="number of customers")
    gen.add_argument("--seed", type=int, required=True, help="random seed (same seed, same files)")
    gen.add_argument("--days", type=_positive_int, default=365, help="days of history (365)")
    gen.add_argument(
        "--dirty-rate",
        type=_rate,
        default=0.02,
        help="share of injected bad records per entity, 0 to 0.5 (0.02)",
    )
    gen.add_argument(
        "--end-date",
        type=date.fromisoformat,
        default=None,
        help="last day of history, YYYY-MM-DD (default: yesterday, UTC: a live shop, so "
        "`insight run all` without --as-of has today's data to work on; pin it to make "
        "a lake reproducible)",
    )
    gen.add_argument(
        "--review-factor",
        type=float,
        default=1.0,
        help="multiplies each customer's chance to review a purchased item, for load tests "
        "with more reviews per customer (1.0: the calibrated shop, ~1 review per customer)",
    )
    gen.add_argument(
        "--languages",
        default=None,
        metavar="CODE[=SHARE],...",
        help="languages of the review texts and their shares: en (English), zh (Chinese); "
        "`en,zh` writes them in equal shares, `en=0.7,zh=0.3` in those shares (summing to "
        "1). A mixed shop has the events and ratings of the English one of the same seed. "
        "Default: en, English only",
    )
    gen.add_argument("--workers", type=_positive_int, default=None, help="parallel processes")

    tasks = "\n".join(f"  {t.name:<11} {t.summary}" for t in dag.TASKS)
    run = sub.add_parser(
        "run",
        help=f"run one job ({', '.join(dag.NAMES)}) or the whole DAG (all)",
        description=f"Run one job of the DAG, or all of them in order:\n{tasks}\n"
        "  all         the DAG for one as_of; resumes after a failure (--only, --from, --force)\n\n"
        "Flags after JOB: --env, --lake, --as-of, --conf KEY=VALUE, --log-format, and the\n"
        "job's own; see `insight run JOB --help`.",
        formatter_class=argparse.RawTextHelpFormatter,
    )
    run.add_argument("job", choices=JOBS, metavar="JOB", help=f"one of: {', '.join(JOBS)}")
    run.add_argument("job_args", nargs=argparse.REMAINDER, help="the job's flags")

    sub.add_parser(
        "submit-args",
        help="print the spark-submit flags (jars) an env needs: spark-submit $(insight "
        "submit-args --env cluster) jobs/all.py ...",
        description="Print the --packages / --exclude-packages flags for spark-submit, from the "
        "same config the jobs load (spark-submit starts the JVM before the job can add jars).",
    ).add_argument("--env", default="local", help="environment config (default: local)")
    import_command.add_parser(sub)
    audit_command.add_parser(sub)
    erase_command.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "generate":
        return _generate(args)
    if args.command == "submit-args":
        return _submit_args(args.env)
    commands = {"import": import_command, "audit": audit_command, "erase": erase_command}
    if args.command in commands:
        return commands[args.command].main(args)
    entry = "jobs.all" if args.job == "all" else dag.task(args.job).module
    module = importlib.import_module(entry)
    return module.main(args.job_args)


def _submit_args(env: str) -> int:
    import shlex

    from insight.config import ConfigError, load_config
    from insight.spark import submit_args

    try:
        cfg = load_config(env, lake="/unused")
    except ConfigError as exc:
        print(f"insight submit-args: {exc}", file=sys.stderr)
        return 2
    print(shlex.join(submit_args(cfg)))
    return 0


def yesterday_utc() -> date:
    """The last complete day, UTC: where a live shop's history ends."""
    return datetime.now(UTC).date() - timedelta(days=1)


# The generator is a development tool with its own distribution (lakegen/ in the repository),
# not part of the production wheel: on a cluster `insight generate` says so, no traceback.
GENERATOR_MISSING = (
    "generate: the lake generator (package lakegen) is a development tool, not part of the "
    "production wheel; from a checkout of the repository install it with "
    "`pip install --no-deps -e ./lakegen` (`make setup` does)"
)


def _generate(args: argparse.Namespace) -> int:
    from insight.config import ConfigError, load_config
    from insight.ops.logs import setup_logging

    setup_logging()
    try:
        from lakegen import generate_lake, parse_languages
    except ModuleNotFoundError as exc:
        if exc.name != "lakegen":  # the generator is there but broken: show where
            raise
        log.error(GENERATOR_MISSING)
        return 2
    try:
        lake = load_config(args.env, lake=args.lake).lake
    except ConfigError as exc:
        log.error("generate: %s", exc)
        return 2
    if not storage.is_local(lake):
        log.error("generate: writes to a local folder; %s is not one (use --lake DIR)", lake)
        return 2
    try:
        languages = parse_languages(args.languages) if args.languages is not None else None
        summary = generate_lake(
            lake,
            customers=args.customers,
            seed=args.seed,
            days=args.days,
            dirty_rate=args.dirty_rate,
            end_date=args.end_date or yesterday_utc(),
            workers=args.workers,
            review_factor=args.review_factor,
            languages=languages,
        )
    except (ValueError, FileExistsError) as exc:
        log.error("generate: %s", exc)
        return 2
    dirty = sum(summary.dirty.values())
    print(f"Landing zone: {summary.landing}   (hidden truth for evaluation: {summary.truth})")
    for entity, n in summary.records.items():
        print(f"  {entity:<10} {n:>12,} records")
    kinds = len(summary.dirty)
    print(f"  {dirty:,} injected bad records of {kinds} kinds; written in {summary.seconds:.1f}s")
    return 0


def console(argv: Sequence[str] | None = None) -> None:
    """The `insight` console script: a failed job fails the process (Databricks'
    python_wheel_task calls the entry point and ignores what it returns)."""
    code = main(argv)
    if code:
        raise SystemExit(code)


if __name__ == "__main__":
    sys.exit(main())
