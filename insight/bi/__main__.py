"""`python -m insight.bi register|submit-args --lake DIR`: the steps infra/bi/thrift-server.sh
runs before it starts the Spark Thrift Server."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from insight.bi.catalog import DEFAULT_LAYERS, bi_config, delta_tables, register_tables
from insight.config import Config
from insight.errors import InsightError

log = logging.getLogger("insight.bi")

# What embedded Derby says when another JVM (a job, a running Thrift Server) holds the
# lake's metastore.
DERBY_LOCKED = "Another instance of Derby may have already booted the database"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m insight.bi",
        description="Prepare a lake for the Spark Thrift Server (infra/bi/thrift-server.sh).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    reg = sub.add_parser(
        "register",
        help="register every Delta table of the lake's layers in the lake's catalog, then exit",
        description="Register every Delta table found at LAKE/<layer>/<name> as layer.name in "
        "the lake's own catalog (Derby metastore under LAKE/_catalog) and exit, releasing the "
        "metastore for the Thrift Server. Idempotent; entries that point at another folder "
        "(a copied lake) are repointed.",
    )
    args = sub.add_parser(
        "submit-args",
        help="print the Thrift Server's spark-submit flags, one per line",
        description="Print --conf flags (one argument per line) that give the Thrift Server "
        "the Delta extension and the lake's catalog, from the same config the jobs load.",
    )
    for p in (reg, args):
        p.add_argument("--lake", required=True, help="lake folder (holds gold/, silver/, ...)")
        p.add_argument("--env", default="local", help="environment config (default: local)")
        p.add_argument("--master", default="local[2]", help="Spark master (default: local[2])")
        p.add_argument("--driver-memory", default="1g", help="driver memory (default: 1g)")
        p.add_argument(
            "--conf",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="config override, as for `insight run` (repeatable)",
        )
    for p in (reg, args):
        p.add_argument(
            "--jars-file",
            help="register: write the resolved Delta jar files here (one a line); "
            "submit-args: put the jars listed there on the server's class path",
        )
    reg.add_argument(
        "--layers",
        default=",".join(DEFAULT_LAYERS),
        help=f"comma-separated layers to register (default: {','.join(DEFAULT_LAYERS)})",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from insight.ops.logs import setup_logging

    args = build_parser().parse_args(argv)
    setup_logging()
    try:
        cfg = bi_config(
            args.lake,
            env=args.env,
            master=args.master,
            driver_memory=args.driver_memory,
            overrides=args.conf,
        )
        if args.command == "submit-args":
            from insight.bi.catalog import server_submit_args

            print("\n".join(server_submit_args(cfg, _read_jars(args.jars_file))))
            return 0
        layers = [x.strip() for x in args.layers.split(",") if x.strip()]
        return _register(cfg, layers, args.jars_file)
    except InsightError as exc:
        log.error("%s: %s", args.command, exc)
        return 2


def _read_jars(path: str | None) -> list[str]:
    if path is None:
        return []
    try:
        return [line for line in Path(path).read_text().splitlines() if line]
    except FileNotFoundError:
        msg = f"no jars file {path}: run `register --jars-file {path}` first"
        raise InsightError(msg) from None


def _register(cfg: Config, layers: list[str], jars_file: str | None) -> int:
    from insight.bi.catalog import session_jars
    from insight.spark import build_spark, catalog_dir

    found = delta_tables(cfg.lake, layers)
    if not found:
        raise InsightError(
            f"no Delta tables under {cfg.lake}/{{{','.join(layers)}}}: run the jobs first "
            "(`insight run all --lake DIR`)"
        )
    try:
        spark = build_spark(cfg)
        try:
            register_tables(spark, cfg.lake, found)
            if jars_file:
                Path(jars_file).write_text("".join(f"{j}\n" for j in session_jars(spark)))
        finally:
            spark.stop()
    except Exception as exc:  # the lock error arrives wrapped in JVM exceptions
        if DERBY_LOCKED in _chain_text(exc):
            raise InsightError(
                f"the catalog {catalog_dir(cfg.lake)} is in use by another process (a job or "
                "a Thrift Server on this lake; embedded Derby admits one): stop it first"
            ) from None
        raise
    log.info(
        "registered %d tables in %s: %s",
        len(found),
        catalog_dir(cfg.lake),
        ", ".join(t.qualified for t in found),
    )
    return 0


def _chain_text(exc: BaseException) -> str:
    """The messages of an exception and its causes (py4j errors carry the JVM's)."""
    parts = []
    while exc is not None:
        parts.append(str(exc))
        exc = exc.__cause__ or exc.__context__
    return "\n".join(parts)


if __name__ == "__main__":
    sys.exit(main())
