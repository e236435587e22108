"""The preset calendars every installation starts with (see calendars.services.PRESETS)."""

from django.db import migrations


def create_presets(apps, schema_editor):
    from calendars.services import calendar_presets_ensure

    calendar_presets_ensure(
        apps.get_model("calendars", "BusinessCalendar"),
        apps.get_model("calendars", "WorkingInterval"),
    )


class Migration(migrations.Migration):
    dependencies = [("calendars", "0001_initial")]
    operations = [migrations.RunPython(create_presets, migrations.RunPython.noop)]
