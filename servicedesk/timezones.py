"""Time-zone helpers with no Django model imports."""

from __future__ import annotations

import re
import zoneinfo
from datetime import datetime, timedelta
from functools import lru_cache

# The one rule for zone names, repeated word for word by the database's CHECK function
# (servicedesk migration 0001): "Area/Location" names and UTC, never POSIX strings such as
# "MSK-3", legacy aliases such as "W-SU" or "EST5EDT", or the machine-dependent "localtime".
ZONE_NAME_PATTERN = r"^(UTC|Etc/GMT[+-]([0-9]|1[0-4])|[A-Z][A-Za-z_]+(/[A-Z][A-Za-z_-]*){1,2})$"
_ZONE_NAME = re.compile(ZONE_NAME_PATTERN)


@lru_cache(maxsize=1024)
def is_valid_time_zone(name: str) -> bool:
    """True for an IANA "Area/Location" zone (or UTC) that the zone database knows."""
    if not isinstance(name, str) or not _ZONE_NAME.match(name):
        return False
    return name in zoneinfo.available_timezones()


def utc_offset_label(instant: datetime, zone: str) -> str:
    """``UTC+3`` / ``UTC+5:30`` for ``instant`` in ``zone``."""
    offset = instant.astimezone(zoneinfo.ZoneInfo(zone)).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")
