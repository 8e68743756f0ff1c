"""`insight audit`: the command line around insight.audit.run (imports stay light)."""

from __future__ import annotations

import argparse
import logging

from insight.flags import add_command

log = logging.getLogger("insight")

HELP = "reconcile the lake end to end (landing = bronze = silver + quarantine + ...)"
DESCRIPTION = """\
Reconcile a lake: landing records = bronze rows (+ lines of erased customers dropped at
ingest + rows erased); bronze = silver + quarantine + collapsed duplicates (+ re-sends
updated in place + rows erased), per entity, against ops.run_ledger; every silver review
has one gold.review_insights row; every silver customer has one gold.customer_profile row;
gold.customer_features has one row per known customer; erased customers are gone; GX
agrees with the rows routed to quarantine; every DAG job is done for the as_of.

Prints one line per check (ok, GAP or skipped: a table not produced yet is a skip, never a
pass). Exit status: 0 all balance, 1 a gap (each named, with what to run), 2 bad input (no
ledger, an as_of with no run, unknown env or config key), 3 nothing checked (every check
skipped: the lake is not shown to balance)."""


def add_parser(sub: argparse._SubParsersAction) -> None:
    as_of_help = "YYYY-MM-DD to audit (default: the latest in the ledger)"
    add_command(sub, "audit", HELP, DESCRIPTION, as_of_help=as_of_help)


def main(args: argparse.Namespace) -> int:
    from datetime import date

    from insight.audit import checks
    from insight.audit.run import audit
    from insight.config import load_config
    from insight.errors import InsightError
    from insight.ops.logs import setup_logging
    from insight.spark import build_spark

    setup_logging()
    try:
        as_of = None
        if args.as_of is not None:
            try:
                as_of = date.fromisoformat(args.as_of)
            except ValueError:
                raise InsightError(f"--as-of {args.as_of!r} is not a date YYYY-MM-DD") from None
        cfg = load_config(args.env, lake=args.lake, overrides=args.conf)
        setup_logging(cfg.log.level, args.log_format or cfg.log.format)
        as_of, found = audit(build_spark(cfg), cfg.lake, as_of)
    except InsightError as exc:
        log.error("audit: %s", exc)
        return 2
    print(checks.render(found, lake=cfg.lake, as_of=as_of))
    return checks.exit_code(found)
