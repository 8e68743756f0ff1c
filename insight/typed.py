"""Parsed YAML into frozen dataclasses, by their type hints: an unknown key, a missing one
or a value of the wrong type is a ConfigError that names the key (insight.config's loader).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from insight.errors import ConfigError


def read_yaml(path: Path) -> dict[str, Any]:
    """The mapping at the top of a YAML file."""
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError as exc:
        raise ConfigError(f"config file not found: {path}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping at the top level")
    return data


def parse_override(item: str) -> tuple[str, Any]:
    """`a.b=value` -> ("a.b", value parsed as YAML)."""
    key, sep, raw = item.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--conf {item!r}: expected key=value, e.g. spark.shuffle_partitions=8")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError as exc:
        raise ConfigError(f"--conf {item!r}: value is not valid YAML: {exc}") from exc
    return key.strip(), value


def nest(dotted: str, value: Any) -> dict[str, Any]:
    """("a.b", v) -> {"a": {"b": v}}."""
    out: Any = value
    for part in reversed(dotted.split(".")):
        out = {part: out}
    return out


def deep_merge(base: dict[str, Any], update: Mapping[str, Any], *, origin: str) -> None:
    """`update` into `base` in place, mappings merged key by key."""
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            deep_merge(base[key], value, origin=origin)
        else:
            base[key] = value


def build(cls: type, data: Any, *, prefix: str) -> Any:
    """Dataclass `cls` from mapping `data`; `prefix` is its dotted key in error messages."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{prefix.rstrip('.') or 'config'}: expected a mapping, got {data!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(
            f"unknown config key '{prefix}{unknown[0]}'; known keys at this level: "
            f"{', '.join(sorted(fields))}"
        )
    values = {}
    for name, f in fields.items():
        key = f"{prefix}{name}"
        if name not in data:
            if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING:
                continue
            raise ConfigError(f"missing config key {key!r}")
        values[name] = coerce(hints[name], data[name], key)
    return cls(**values)


def coerce(hint: Any, value: Any, key: str) -> Any:
    """`value` as type `hint` (dataclass, optional, tuple, dict, bool, int, float, str)."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if dataclasses.is_dataclass(hint):
        return build(hint, value, prefix=f"{key}.")
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return coerce(inner, value, key)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key}: expected a list, got {value!r}")
        return tuple(coerce(args[0], v, f"{key}[{i}]") for i, v in enumerate(value))
    if origin is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{key}: expected a mapping, got {value!r}")
        return {str(k): coerce(args[1], v, f"{key}.{k}") for k, v in value.items()}
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true or false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: expected a whole number, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{key}: expected a number, got {value!r}")
        return float(value)
    if hint is str:
        if isinstance(value, (dict, list)) or value is None:
            raise ConfigError(f"{key}: expected text, got {value!r}")
        return str(value)
    raise ConfigError(f"{key}: unsupported type {hint!r}")  # pragma: no cover - programming error
