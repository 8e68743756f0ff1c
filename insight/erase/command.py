"""`insight erase`: the command line around insight.erase.run (imports stay light)."""

from __future__ import annotations

import argparse
import logging

from insight.flags import add_command

log = logging.getLogger("insight")

HELP = "right to be forgotten: remove customers from every table, suppress re-ingestion"
DESCRIPTION = """\
Remove customers (by their source id, as in the CRM extract) from every table of the lake:
bronze raw lines (any line naming the id), silver, gold and quarantine rows (by the salted
HMAC key); GX samples of raw CRM fields in ops.dq_results are redacted. Then every touched
table is VACUUMed with zero retention so the old files are gone, the keys are added to
ops.suppressed_customers (ingest drops their re-sent records) and one row per customer goes
to ops.erasures (key, time, rows removed per table; no PII). landing/ is the source
system's drop zone and is left as it is.

Run it when no job is writing to the lake, after clean has processed what was ingested.
The PII salt must be the one the lake was built with (env var, see conf pii.salt_env).
Exit status: 0 done, 2 bad input (no id, no tables, unknown env), 1 anything else."""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "erase", HELP, DESCRIPTION, as_of_help=None)
    p.add_argument("--customer", action="append", required=True, metavar="ID",
                   help="source customer id to erase (repeatable)")  # fmt: skip


def main(args: argparse.Namespace) -> int:
    from insight.config import load_config
    from insight.erase.run import erase_customers
    from insight.errors import InsightError
    from insight.ops.logs import setup_logging
    from insight.pii import load_salt
    from insight.spark import build_spark

    setup_logging()
    try:
        cfg = load_config(args.env, lake=args.lake, overrides=args.conf)
        setup_logging(cfg.log.level, args.log_format or cfg.log.format)
        salt = load_salt(cfg.pii.salt_env, allow_dev_salt=cfg.pii.allow_dev_salt)
        erasure = erase_customers(build_spark(cfg), cfg.lake, args.customer, salt, env=cfg.env)
    except (InsightError, ValueError) as exc:
        log.error("erase: %s", exc)
        return 2
    print(f"Erasure {erasure.erasure_id}: {len(erasure.keys)} customer(s)")
    for table in erasure.tables_touched:
        print(f"  {table:<32} {erasure.total(table):>8,} rows removed")
    print(f"  vacuumed: {', '.join(erasure.vacuumed) or 'nothing'}")
    print("  audit row in ops.erasures; keys added to ops.suppressed_customers")
    return 0
