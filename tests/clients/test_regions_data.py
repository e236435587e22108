"""Checks for the static region reference data (no database needed)."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from clients.regions_data import REGIONS

BY_CODE = {row.code: row for row in REGIONS}
WINTER_2026 = datetime(2026, 1, 15, 12, 0)


def _utc_offset(code: str) -> timedelta:
    return WINTER_2026.replace(tzinfo=ZoneInfo(BY_CODE[code].time_zone)).utcoffset()


def test_83_russian_federal_subjects():
    russian = [row for row in REGIONS if row.country == "RU"]
    assert len(russian) == 83
    assert all(row.code.startswith("RU-") for row in russian)


def test_codes_are_unique():
    codes = [row.code for row in REGIONS]
    assert len(codes) == len(set(codes))


def test_codes_match_iso_3166_2_shape():
    pattern = re.compile(r"^[A-Z]{2}-[A-Z0-9]{2,3}$")
    bad = [row.code for row in REGIONS if not pattern.fullmatch(row.code)]
    assert bad == []


def test_country_matches_code_prefix():
    assert all(row.code.split("-")[0] == row.country for row in REGIONS)


def test_names_are_filled():
    assert all(row.name_ru.strip() and row.name_en.strip() for row in REGIONS)


@pytest.mark.parametrize("time_zone", sorted({row.time_zone for row in REGIONS}))
def test_every_zone_loads(time_zone):
    assert ZoneInfo(time_zone).utcoffset(WINTER_2026) is not None


@pytest.mark.parametrize(
    ("code", "hours"),
    [
        ("RU-KGD", 2),
        ("RU-MOW", 3),
        ("RU-SAM", 4),
        ("RU-SVE", 5),
        ("RU-NVS", 7),
        ("RU-KAM", 12),
        ("RU-CHU", 12),
        ("BY-HM", 3),
    ],
)
def test_winter_2026_offsets(code, hours):
    assert _utc_offset(code) == timedelta(hours=hours)


def test_tatarstan_is_on_moscow_time():
    row = BY_CODE["RU-TA"]
    assert row.time_zone == "Europe/Moscow"
    assert row.name_ru == "Республика Татарстан"


def test_cis_capitals_present():
    assert {"BY-HM", "KZ-75", "KZ-71", "UZ-TK", "KG-GB", "AM-ER"} <= BY_CODE.keys()
