from django.db import models
from django.utils.translation import gettext_lazy as _


class EquipmentKind(models.TextChoices):
    CASH_REGISTER = "cash_register", _("Cash register")
    FISCAL_PRINTER = "fiscal_printer", _("Fiscal printer")
    CCTV = "cctv", _("CCTV")
    SELF_CHECKOUT = "self_checkout", _("Self-checkout kiosk")
    NETWORK = "network", _("Network equipment")
    POS_TERMINAL = "pos_terminal", _("Card payment terminal")
    SCALES = "scales", _("Scales")
    OTHER = "other", _("Other")
