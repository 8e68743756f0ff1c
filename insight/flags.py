"""The command-line flags every command shares (--env, --lake, --as-of, --log-format,
--conf); they feed insight.config.load_config. Imports nothing heavy: --help stays fast."""

from __future__ import annotations

import argparse

from insight.config import ENVS

AS_OF_HELP = "business date YYYY-MM-DD the run is for (default: today, UTC)"


def add_common_args(
    parser: argparse.ArgumentParser, *, as_of_help: str | None = AS_OF_HELP
) -> None:
    """--env, --lake, --as-of, --log-format and --conf, the same for every command
    (`as_of_help=None`: a command without --as-of)."""
    parser.add_argument(
        "--env",
        default="local",
        help=f"environment config to load: {', '.join(ENVS)} (default: local)",
    )
    parser.add_argument(
        "--lake",
        help="lake folder or URI holding landing/, bronze/, silver/, ... (default: from config)",
    )
    if as_of_help is not None:
        parser.add_argument("--as-of", dest="as_of", help=as_of_help)
    parser.add_argument(
        "--log-format",
        dest="log_format",
        choices=("text", "json"),
        help="text for people, json for one JSON object per event (default: config log.format)",
    )
    parser.add_argument(
        "--conf",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value, e.g. --conf spark.shuffle_partitions=8 (repeatable)",
    )


def add_command(
    sub: argparse._SubParsersAction, name: str, help: str, description: str,
    *, as_of_help: str | None,
) -> argparse.ArgumentParser:  # fmt: skip
    """A top-level command's parser (audit, erase, import): its description printed as
    written, and the common flags."""
    parser = sub.add_parser(
        name, help=help, description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    add_common_args(parser, as_of_help=as_of_help)
    return parser
