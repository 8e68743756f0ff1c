"""Find the data folders that ship with the code: conf/ and expectations/."""

from __future__ import annotations

import functools
import importlib.resources
import tempfile
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def shipped_dir(name: str) -> Path:
    """`name` (conf or expectations): beside the package in a source checkout, inside it
    (insight/<name>, see setup.py) in an installed wheel, or extracted from the zip or wheel
    the package is imported from (spark-submit --py-files)."""
    for candidate in (_PACKAGE.parent / name, _PACKAGE / name):
        if candidate.is_dir():
            return candidate
    packaged = importlib.resources.files("insight") / name
    if packaged.is_dir():
        return _extracted(name)
    raise FileNotFoundError(f"{name}/ not found beside or inside {_PACKAGE}")


@functools.cache
def _extracted(name: str) -> Path:
    """A temporary copy of a folder inside a zipped package (once per process)."""
    target = Path(tempfile.mkdtemp(prefix=f"insight-{name}-"))
    todo = [((importlib.resources.files("insight") / name), target)]
    while todo:  # with subfolders: conf/imports/ holds the example import mappings
        folder, into = todo.pop()
        for item in folder.iterdir():
            if item.is_file():
                (into / item.name).write_bytes(item.read_bytes())
            elif item.is_dir() and item.name != "__pycache__":
                (into / item.name).mkdir()
                todo.append((item, into / item.name))
    return target
