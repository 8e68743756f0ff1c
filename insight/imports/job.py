"""`insight import`: the command line around insight.imports.run (imports stay light)."""

from __future__ import annotations

import argparse
import logging

from insight.flags import add_command

log = logging.getLogger("insight")

HELP = "map a transaction export (CSV, CSV.gz, Parquet, JSON, Delta) onto DIR/landing"
DESCRIPTION = """\
Bring your own transactions: map a plain export (one line per sold or returned item:
customer, product, time, quantity, price; optional invoice, description, category, country)
onto the landing zone through a declared column mapping in YAML, then run the DAG on it:

  insight import --mapping online_retail --source online_retail.csv.gz --lake DIR
  insight run all --lake DIR --as-of 2011-12-10

Writes, under DIR/landing/: one event per export line (a cancellation is a `return`), the
customers and products the lines name (ids only: no name, email or address is invented),
and landing/_imports/<name>.json with the counts. Every line is landed; clean judges them
with the same GX rules, quarantine and audit as any landing file. Lines without a customer
id are sales that cannot be attributed: clean quarantines them as customer_id_not_null.

--mapping is a YAML file or the name of a shipped example (conf/imports/: online_retail,
the UCI Online Retail set, documents every key). Exit status: 0 landed, 2 bad input (a
mapping key or a mapped column the export lacks, named; an unreadable export; files of the
same --name already landed), 1 anything else."""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "import", HELP, DESCRIPTION, as_of_help=None)
    p.add_argument(
        "--mapping",
        required=True,
        metavar="YAML|NAME",
        help="the column mapping: a YAML file or a shipped name (online_retail)",
    )
    p.add_argument(
        "--source",
        required=True,
        metavar="PATH",
        help="the export: a file (.csv, .csv.gz, .parquet, ...) or a folder of them",
    )
    p.add_argument("--name", help="names the landed files and the manifest (default: the "
                   "mapping's name); a second export needs its own")  # fmt: skip


def main(args: argparse.Namespace) -> int:
    from insight.config import load_config
    from insight.errors import InsightError
    from insight.imports.mapping import load_mapping
    from insight.imports.run import check_source, import_export
    from insight.ops.logs import setup_logging
    from insight.spark import build_spark

    setup_logging()
    try:
        cfg = load_config(args.env, lake=args.lake, overrides=args.conf)
        setup_logging(cfg.log.level, args.log_format or cfg.log.format)
        mapping = load_mapping(args.mapping)
        check_source(args.source)
        if mapping.currency.upper() not in cfg.clean.fx_to_base:
            raise InsightError(
                f"mapping {mapping.name!r}: currency {mapping.currency} has no rate in "
                f"clean.fx_to_base ({', '.join(cfg.clean.fx_to_base)}); add one with "
                f"--conf clean.fx_to_base.{mapping.currency.upper()}=RATE"
            )
        summary = import_export(
            build_spark(cfg), source=args.source, mapping=mapping, lake=cfg.lake, name=args.name
        )
    except InsightError as exc:
        log.error("import: %s", exc)
        return 2
    p, w = summary.profile, summary.written
    log.info(
        "import %s: read %d lines from %s; wrote %d events, %d customers, %d products under "
        "%s/landing; skipped %d lines (%.1fs)",
        summary.name, summary.lines, summary.source, w["events"], w["customers"],
        w["products"], cfg.lake, summary.skipped, summary.seconds,
    )  # fmt: skip
    print(f"Imported {summary.source} with mapping {mapping.name!r} into {cfg.lake}/landing")
    print(
        f"  {summary.lines:>12,} lines read ({summary.first_ts} to {summary.last_ts}), "
        f"{summary.skipped:,} skipped"
    )
    for entity, n in w.items():
        print(f"  {entity:<10} {n:>12,} records  ({', '.join(summary.files[entity])})")
    print("  what clean will see:")
    notes = {
        "returns": "returns / cancellations (event type return)",
        "without_customer": "without a customer id (quarantined as customer_id_not_null)",
        "negative_quantity_not_return": "negative quantity, not a return (quantity_in_range)",
        "zero_price": "at price zero (kept)",
        "negative_price": "at a negative price (price_in_range)",
        "unreadable_ts": "with a time the mapping's format cannot read (ts_is_timestamp)",
        "unreadable_quantity": "with a quantity that is not a whole number",
        "unreadable_price": "with a price that is not a number",
        "unknown_country": "with a country that has no ISO-2 code (country left unknown)",
    }
    for key, text in notes.items():
        if p.get(key):
            print(f"  {p[key]:>12,} lines {text}")
    if summary.unknown_country_names:
        log.warning(
            "import %s: countries with no ISO-2 code in the mapping (left unknown): %s",
            summary.name, ", ".join(summary.unknown_country_names),
        )  # fmt: skip
        print(f"  unknown countries: {', '.join(summary.unknown_country_names)}")
    # The clean rules accept times before the end of the as_of day: the last line's day.
    as_of = (summary.last_ts or "YYYY-MM-DD")[:10]
    print(f"Next: insight run all --lake {cfg.lake} --as-of {as_of}")
    return 0
