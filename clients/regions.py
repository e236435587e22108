"""Load the region reference list (``clients.regions_data.REGIONS``) into the database."""

from __future__ import annotations

from django.db import transaction

from clients.models import Region
from clients.regions_data import REGIONS


@transaction.atomic
def regions_load() -> int:
    """Upsert every row of ``REGIONS`` by its ISO code; returns how many rows were written.

    Existing regions keep their id and get the reference names and zone; nothing is deleted.
    """
    for row in REGIONS:
        Region.objects.update_or_create(
            code=row.code,
            defaults={
                "name_ru": row.name_ru,
                "name_en": row.name_en,
                "country": row.country,
                "time_zone": row.time_zone,
            },
        )
    return len(REGIONS)
