"""Choices the SLA engine and the ticket layer share (tickets.choices re-exports them)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Priority(models.TextChoices):
    P1 = "p1", _("P1 · critical")
    P2 = "p2", _("P2 · high")
    P3 = "p3", _("P3 · normal")
    P4 = "p4", _("P4 · low")


class Category(models.TextChoices):
    HARDWARE = "hardware", _("Hardware")
    SOFTWARE = "software", _("Software")
    NETWORK = "network", _("Network")
    FISCAL = "fiscal", _("Fiscal equipment")
    CCTV = "cctv", _("CCTV")
    SECURITY = "security", _("Information security")
    ACCESS = "access", _("Accounts and access")
    OTHER = "other", _("Other")


class Agreement(models.TextChoices):
    SLA = "sla", _("Client SLA")
    OLA = "ola", _("Partner OLA")


class Metric(models.TextChoices):
    RESPONSE = "response", _("Response")
    ACCEPTANCE = "acceptance", _("Offer acceptance")
    ARRIVAL = "arrival", _("Arrival on site")
    RESOLUTION = "resolution", _("Resolution")


class ClockState(models.TextChoices):
    RUNNING = "running", _("Running")
    PAUSED = "paused", _("Paused")
    MET = "met", _("Met")
    BREACHED = "breached", _("Breached")
    CANCELLED = "cancelled", _("Cancelled")


class ThresholdKind(models.TextChoices):
    WARNING = "warning", _("Warning")
    BREACH = "breach", _("Breach")
