"""Time-zone helpers with no Django model imports."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta
from functools import lru_cache


@lru_cache(maxsize=1024)
def is_valid_time_zone(name: str) -> bool:
    """True for an IANA zone name the zone database knows (``UTC`` included)."""
    if not name or name != name.strip() or name.startswith("/") or ".." in name:
        return False
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, IsADirectoryError):
        return False
    return True


def utc_offset_label(instant: datetime, zone: str) -> str:
    """``UTC+3`` / ``UTC+5:30`` for ``instant`` in ``zone``."""
    offset = instant.astimezone(zoneinfo.ZoneInfo(zone)).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")
