"""The declared column mapping of a transaction export: which source column feeds which
landing field, and the few facts the export does not carry (currency, time zone, what a
cancellation looks like, country names). Read from YAML (conf/imports/<name>.yaml ships
examples) and validated up front, so a typo fails before Spark reads a line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from insight import landing
from insight.errors import ConfigError, MappingError
from insight.shipped import shipped_dir
from insight.typed import build, read_yaml

FORMATS = ("csv", "parquet", "delta", "json")
ISO2 = re.compile(r"^[A-Z]{2}$")


@dataclass(frozen=True)
class Source:
    """How Spark reads the export: `format` and reader options (csv: header, sep, ...)."""

    format: str = "csv"
    options: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Columns:
    """Landing field <- source column. The first five are required; the rest optional."""

    customer_id: str
    product_id: str
    ts: str
    quantity: str
    price: str
    order_id: str | None = None  # none: one order per customer and timestamp
    description: str | None = None  # the product name
    category: str | None = None  # a category path "A > B > C"; none: default_category
    country: str | None = None  # a country name (see `countries`) or an ISO-2 code
    return_flag: str | None = None  # true/1/yes marks a returned or cancelled line


@dataclass(frozen=True)
class Returns:
    """Which lines are returns or cancellations (event type `return`, quantity made
    positive). A negative quantity on a line that is none of these stays as sent, and clean
    quarantines it (quantity_in_range): it is a stock correction, not a sale."""

    order_id_prefix: str | None = None  # e.g. "C": a cancelled invoice C536379
    negative_quantity: bool = False  # true: every negative quantity is a return


@dataclass(frozen=True)
class Mapping:
    """A validated import mapping (see conf/imports/online_retail.yaml)."""

    name: str
    source: Source
    columns: Columns
    currency: str
    default_category: str
    timestamp_format: str = "yyyy-MM-dd HH:mm:ss"
    timezone: str = "UTC"  # the zone the export's local times are in
    channel: str | None = None  # a constant channel for every event, if the shop has one
    device: str | None = None
    returns: Returns = field(default_factory=Returns)
    # A product sold within this many days before the export's last line is available
    # (recommendable); others are unknown. None: availability unknown for every product.
    available_days: int | None = None
    # Source country name -> ISO-2 code; null: a known name with no single code.
    countries: dict[str, str | None] = field(default_factory=dict)
    # Product ids that are not goods (postage, fees, discounts, manual adjustments): their
    # lines stay events like any other, the product is NOT_GOODS_CATEGORY and never
    # available, so it is never recommended nor counted as a product anyone likes.
    not_goods: tuple[str, ...] = ()

    def source_columns(self) -> dict[str, str]:
        """Landing field -> source column, for the fields this mapping fills."""
        return {
            f.name: getattr(self.columns, f.name)
            for f in fields(Columns)
            if getattr(self.columns, f.name) is not None
        }


def shipped_mappings() -> dict[str, Path]:
    """The example mappings that ship with the package, by name."""
    folder = shipped_dir("conf") / "imports"
    return {p.stem: p for p in sorted(folder.glob("*.yaml"))} if folder.is_dir() else {}


def mapping_path(name_or_path: str) -> Path:
    """A mapping file: a path, or the name of a shipped one (`online_retail`)."""
    path = Path(name_or_path).expanduser()
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise MappingError(f"mapping file not found: {path}")
        return path
    shipped = shipped_mappings()
    if name_or_path in shipped:
        return shipped[name_or_path]
    known = ", ".join(shipped) or "none"
    raise MappingError(
        f"no mapping {name_or_path!r}: give a YAML file or a shipped mapping ({known})"
    )


def load_mapping(name_or_path: str) -> Mapping:
    """Read and validate a mapping; errors name the file and the key.

    Example::

        mapping = load_mapping("online_retail")  # conf/imports/online_retail.yaml
        mapping = load_mapping("exports/shop.yaml")
    """
    path = mapping_path(name_or_path)
    try:
        data = read_yaml(path)
        data.setdefault("name", path.stem)
        mapping = build(Mapping, data, prefix="")
    except ConfigError as exc:
        raise MappingError(f"mapping {path}: {exc}") from None
    problems = _problems(mapping)
    if problems:
        raise MappingError(f"mapping {path}: " + "; ".join(problems))
    return mapping


def _problems(m: Mapping) -> list[str]:
    out = []
    if not re.fullmatch(r"[A-Za-z0-9_-]+", m.name):
        out.append(f"name {m.name!r}: use letters, digits, _ or - (it names the landing files)")
    if m.source.format not in FORMATS:
        out.append(f"source.format {m.source.format!r}: one of {', '.join(FORMATS)}")
    if m.currency.upper() not in landing.CURRENCIES:
        out.append(f"currency {m.currency!r}: one of {', '.join(landing.CURRENCIES)}")
    if m.channel is not None and m.channel not in landing.CHANNELS:
        out.append(f"channel {m.channel!r}: one of {', '.join(landing.CHANNELS)} or none")
    if m.device is not None and m.device not in landing.DEVICES:
        out.append(f"device {m.device!r}: one of {', '.join(landing.DEVICES)} or none")
    if not m.default_category.strip():
        out.append("default_category: must not be empty (products need a category_path)")
    try:
        ZoneInfo(m.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        out.append(f"timezone {m.timezone!r}: not an IANA time zone (e.g. Europe/London)")
    if m.available_days is not None and m.available_days < 0:
        out.append(f"available_days {m.available_days}: a number of days, 0 or more")
    bad = sorted(k for k, v in m.countries.items() if v is not None and not ISO2.match(v))
    if bad:
        out.append(f"countries: {', '.join(bad)} must map to an ISO-2 code (two capitals) or null")
    return out


def check_columns(m: Mapping, available: list[str], *, where: str) -> None:
    """Every source column the mapping names must be in the export.

    Raises:
        MappingError: naming each missing column, the field it feeds and what is there.
    """
    missing = [f"{col!r} (for {fld})" for fld, col in m.source_columns().items()
               if col not in available]  # fmt: skip
    if missing:
        raise MappingError(
            f"mapping {m.name!r}: column {', '.join(missing)} not found in {where}; "
            f"its columns are: {', '.join(available)}"
        )
