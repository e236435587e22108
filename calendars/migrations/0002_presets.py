"""The preset calendars every installation starts with (see calendars.services.PRESETS)."""

from django.db import migrations


def create_presets(apps, schema_editor):
    from calendars.services import PRESETS

    BusinessCalendar = apps.get_model("calendars", "BusinessCalendar")
    WorkingInterval = apps.get_model("calendars", "WorkingInterval")
    for code, (name, zone, always_open, production, weekly) in PRESETS.items():
        calendar, created = BusinessCalendar.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "time_zone": zone,
                "always_open": always_open,
                "production_calendar": production,
            },
        )
        if created:
            WorkingInterval.objects.bulk_create(
                WorkingInterval(calendar=calendar, weekday=d, opens=o, closes=c)
                for d, o, c in weekly
            )


class Migration(migrations.Migration):
    dependencies = [("calendars", "0001_initial")]
    operations = [migrations.RunPython(create_presets, migrations.RunPython.noop)]
