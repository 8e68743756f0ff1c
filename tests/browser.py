"""Headless Chromium for the report tests: a real browser loads the page, runs its chart
check and dumps the DOM or a screenshot (`make browser` installs it)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest


def chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        pytest.fail("chromium not found: `make browser` installs the Debian package")
    return found


def browse(tmp_path: Path, url: str, *args: str) -> str:
    """Chromium's stdout for `url` (e.g. the DOM with --dump-dom) after the page's scripts ran."""
    cmd = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           "--force-device-scale-factor=1", f"--user-data-dir={tmp_path / 'profile'}",
           "--virtual-time-budget=5000", *args, url]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def sections(page: str) -> dict[str, str]:
    """section id -> its opening tag."""
    found = re.finditer(r'(<section class="panel[^"]*" id="([^"]+)"[^>]*>)', page)
    return {m.group(2): m.group(1) for m in found}


def figures(dom: str) -> dict[str, dict[str, str]]:
    """chart id -> its data-* attributes, as the page's check left them in the DOM."""
    found = re.findall(r'<figure class="chart" id="([^"]+)"([^>]*)>', dom)
    return {chart: dict(re.findall(r'data-([\w-]+)="([^"]*)"', attrs)) for chart, attrs in found}
