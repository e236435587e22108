"""Field types shared by every app."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from servicedesk.timezones import is_valid_time_zone

# Database function created by servicedesk's first migration; CHECK constraints call it so
# that a time zone PostgreSQL does not know can never be stored, whatever writes the row.
VALID_TIME_ZONE_SQL_FUNCTION = "sd_is_valid_time_zone"


def validate_time_zone(value: str) -> None:
    if not is_valid_time_zone(value):
        raise ValidationError(
            _("“%(value)s” is not an IANA time zone (e.g. Europe/Moscow)."),
            code="invalid_time_zone",
            params={"value": value},
        )


class TimeZoneField(models.CharField):
    """An IANA time zone name, validated in Python and (with a CHECK) in the database."""

    default_validators = [validate_time_zone]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 64)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if kwargs.get("max_length") == 64:
            del kwargs["max_length"]
        return name, path, args, kwargs


def valid_time_zone_check(field: str, name: str) -> models.CheckConstraint:
    """A CHECK constraint keeping ``field`` a zone that PostgreSQL's tz database knows."""
    return models.CheckConstraint(
        condition=models.Q(
            models.Func(
                models.F(field),
                function=VALID_TIME_ZONE_SQL_FUNCTION,
                output_field=models.BooleanField(),
            )
        ),
        name=name,
        violation_error_message=_("Unknown time zone."),
    )
