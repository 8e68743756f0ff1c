"""Find the data folders that ship with the code: conf/ and expectations/."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def shipped_dir(name: str) -> Path:
    """`name` (conf or expectations): beside the package in a source checkout, inside it
    (insight/<name>, see setup.py) in an installed wheel."""
    for candidate in (_PACKAGE.parent / name, _PACKAGE / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"{name}/ not found beside or inside {_PACKAGE}")
