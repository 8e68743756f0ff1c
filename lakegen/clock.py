"""Time helpers: epoch seconds, home time zones with daylight saving, fast ISO 8601 text.

The generator keeps every instant as integer seconds since 1970-01-01 UTC and only turns
it into text when a record is written; formatting goes through small caches because it
runs for every event.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache, lru_cache

DAY = 86_400
HOUR = 3_600
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()

# Home zones: (standard offset in minutes, daylight-saving rule). "EU": last Sunday of
# March to last Sunday of October at 01:00 UTC; "US": second Sunday of March to first
# Sunday of November at 02:00 local time.
ZONES: dict[str, tuple[int, str]] = {
    "CET": (60, "EU"),
    "UK": (0, "EU"),
    "US_EAST": (-300, "US"),
    "US_CENTRAL": (-360, "US"),
    "US_MOUNTAIN": (-420, "US"),
    "US_PACIFIC": (-480, "US"),
}


def day_start(d: date) -> int:
    """Epoch seconds of 00:00 UTC on `d`."""
    return (d.toordinal() - _EPOCH_ORDINAL) * DAY


def to_date(t: int) -> date:
    """UTC calendar date of epoch seconds `t`."""
    return date.fromordinal(_EPOCH_ORDINAL + t // DAY)


def weekday(t: int) -> int:
    """Monday = 0 ... Sunday = 6 for the UTC day of `t`."""
    return (t // DAY + 3) % 7  # 1970-01-01 was a Thursday


def day_of_year(t: int) -> int:
    return to_date(t).timetuple().tm_yday


def _nth_sunday(year: int, month: int, n: int) -> date:
    first = date(year, month, 1)
    first_sunday = first + timedelta(days=(6 - first.weekday()) % 7)
    return first_sunday + timedelta(weeks=n - 1)


def _last_sunday(year: int, month: int) -> date:
    nxt = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    last = nxt - timedelta(days=1)
    return last - timedelta(days=(last.weekday() + 1) % 7)


@cache
def _dst_bounds(rule: str, standard: int, year: int) -> tuple[int, int]:
    """UTC epoch seconds when daylight saving starts and ends in `year`."""
    if rule == "EU":
        return (
            day_start(_last_sunday(year, 3)) + HOUR,
            day_start(_last_sunday(year, 10)) + HOUR,
        )
    # US switches at 02:00 local standard time (start) / 02:00 local daylight time (end).
    start = day_start(_nth_sunday(year, 3, 2)) + 2 * HOUR - standard * 60
    end = day_start(_nth_sunday(year, 11, 1)) + 2 * HOUR - (standard + 60) * 60
    return start, end


def offset_minutes(zone: str, t: int) -> int:
    """UTC offset in minutes of home zone `zone` at instant `t`."""
    standard, rule = ZONES[zone]
    start, end = _dst_bounds(rule, standard, to_date(t).year)
    return standard + 60 if start <= t < end else standard


@lru_cache(maxsize=4096)
def _date_text(day: int) -> str:
    return date.fromordinal(_EPOCH_ORDINAL + day).isoformat()


@lru_cache(maxsize=64)
def offset_text(minutes: int, zulu: bool = False) -> str:
    """'+02:00', '-05:00', and for zero either 'Z' or '+00:00'."""
    if minutes == 0 and zulu:
        return "Z"
    sign = "+" if minutes >= 0 else "-"
    h, m = divmod(abs(minutes), 60)
    return f"{sign}{h:02d}:{m:02d}"


def iso(t: int, offset: int = 0, zulu: bool = False) -> str:
    """ISO 8601 text of instant `t` shown at UTC offset `offset` (minutes)."""
    local = t + offset * 60
    day, sec = divmod(local, DAY)
    h, rem = divmod(sec, HOUR)
    m, s = divmod(rem, 60)
    return f"{_date_text(day)}T{h:02d}:{m:02d}:{s:02d}{offset_text(offset, zulu)}"


def iso_ms(t_ms: int) -> str:
    """ISO 8601 UTC text with milliseconds, as a server stamps `sent_at`."""
    t, ms = divmod(t_ms, 1000)
    day, sec = divmod(t, DAY)
    h, rem = divmod(sec, HOUR)
    m, s = divmod(rem, 60)
    return f"{_date_text(day)}T{h:02d}:{m:02d}:{s:02d}.{ms:03d}Z"
