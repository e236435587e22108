from django.db import models
from django.utils.translation import gettext_lazy as _


class PartnerKind(models.TextChoices):
    OPERATIONAL = "operational", _("Operational (field visits)")
    SPECIALIST = "specialist", _("Specialist")
    STRATEGIC = "strategic", _("Strategic")
