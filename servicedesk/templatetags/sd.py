"""Template filters and tags of the HTML interface: local times and badges.

Times are stored in UTC; a page shows them in the zone of the place they concern (the
store) with the offset spelled out, so "14:05" is never ambiguous on a national desk.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime

from django import forms, template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _

from servicedesk.choices import PROVIDER_ROLES, Role
from servicedesk.timezones import is_valid_time_zone, utc_offset_label

register = template.Library()

_FORMAT = "%d.%m.%Y %H:%M"


def _zone(zone: str | None) -> str:
    return zone if zone and is_valid_time_zone(zone) else "UTC"


@register.filter
def local_time(value: datetime | None, zone: str | None = None) -> str:
    """``29.11.2026 14:05 (UTC+3)``: the UTC instant ``value`` as seen in ``zone``."""
    if not value:
        return ""
    zone = _zone(zone)
    local = value.astimezone(zoneinfo.ZoneInfo(zone))
    return f"{local.strftime(_FORMAT)} ({utc_offset_label(value, zone)})"


@register.filter
def local_short(value: datetime | None, zone: str | None = None) -> str:
    """``29.11 14:05 (UTC+3)``: ``local_time`` without the year, for narrow table cells."""
    if not value:
        return ""
    zone = _zone(zone)
    local = value.astimezone(zoneinfo.ZoneInfo(zone))
    return f"{local:%d.%m %H:%M} ({utc_offset_label(value, zone)})"


@register.filter
def local_clock(value: datetime | None, zone: str | None = None) -> str:
    """``14:05 (UTC+3)``: just the wall-clock time in ``zone``."""
    if not value:
        return ""
    zone = _zone(zone)
    local = value.astimezone(zoneinfo.ZoneInfo(zone))
    return f"{local:%H:%M} ({utc_offset_label(value, zone)})"


@register.filter
def offset_label(zone: str | None) -> str:
    """The zone's offset from UTC right now, e.g. ``UTC+12``."""
    return utc_offset_label(timezone.now(), _zone(zone))


@register.filter
def iso(value: datetime | None) -> str:
    """Machine-readable instant for ``<time datetime=…>``."""
    return value.astimezone(zoneinfo.ZoneInfo("UTC")).isoformat() if value else ""


@register.simple_tag
def status_badge(value: str, label: str) -> str:
    """A status as text in a coloured pill; the colour only repeats what the text says."""
    return format_html('<span class="badge badge--status-{}">{}</span>', value, label)


@register.simple_tag
def clock_badge(state: str, label: str) -> str:
    """An SLA clock's state as a pill with its word (running, at risk, overdue, paused…)."""
    return format_html('<span class="badge badge--clock badge--clock-{}">{}</span>', state, label)


@register.filter
def countdown(seconds: int | None) -> str:
    """``3:07:05``: hours (any number), minutes and seconds, as the live countdown shows."""
    if seconds is None:
        return ""
    hours, rest = divmod(max(int(seconds), 0), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


@register.filter
def duration(seconds: int | None) -> str:
    """A length of (working) time for people: ``4 h``, ``1 h 30 min``, ``45 min``, ``20 s``."""
    if seconds is None:
        return ""
    seconds = max(int(seconds), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours and minutes:
        return _("%(h)s h %(m)s min") % {"h": hours, "m": minutes}
    if hours:
        return _("%(h)s h") % {"h": hours}
    if minutes:
        return _("%(m)s min") % {"m": minutes}
    return _("%(s)s s") % {"s": secs}


@register.simple_tag
def priority_badge(value: str, label: str, short: bool = False) -> str:
    """A priority pill; ``short`` shows ``P1`` with the full label for screen readers."""
    if short:
        return format_html(
            '<span class="badge badge--{}" title="{}">{}<span class="visually-hidden"> {}'
            "</span></span>",
            value,
            label,
            value.upper(),
            label,
        )
    return format_html('<span class="badge badge--{}">{}</span>', value, label)


@register.filter
def person(user) -> str:
    """A user's display name (full name, else username); empty for none."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


@register.filter
def role_label(role: str) -> str:
    """A role's human name in the current language."""
    return str(Role(role).label) if role in Role.values else role


@register.simple_tag
def nav_items(actor, path: str) -> list[dict[str, object]]:
    """The main menu for ``actor``'s role; the entry ``path`` is under is marked current.

    Only what exists and what the role may use: provider staff and clients open tickets,
    partners see their jobs, the provider administrator also gets the admin site.
    """
    if not actor:
        return []
    tickets = reverse("ticket_list")
    items = [(reverse("home"), _("Overview"))]
    if actor.role == Role.STORE_STAFF:
        items.append((tickets, _("My store's tickets")))
    elif actor.role == Role.PARTNER_MANAGER:
        items.append((tickets + "?is_open=true", _("Jobs")))
    elif actor.role == Role.PARTNER_ENGINEER:
        items.append((tickets + "?is_open=true", _("My jobs")))
    else:
        items.append((tickets, _("Tickets")))
    if actor.role in PROVIDER_ROLES or actor.is_client:
        items.append((reverse("ticket_create"), _("New ticket")))
    # The field screens (tickets.board_views, portal_views, engineer_views).
    if actor.role in (Role.DISPATCHER, Role.PROVIDER_ADMIN):
        items.append((reverse("dispatch_board"), _("Dispatch")))
    elif actor.role == Role.PARTNER_MANAGER:
        items.append((reverse("portal"), _("Portal")))
    elif actor.role == Role.PARTNER_ENGINEER:
        items.append((reverse("field_jobs"), _("Field")))
    # Loading stores and equipment (integrations.transfer_views) and the files out.
    if actor.role in PROVIDER_ROLES or actor.role == Role.CLIENT_MANAGER:
        items.append((reverse("imports"), _("Import")))
    if actor.role in PROVIDER_ROLES or actor.role in (Role.CLIENT_MANAGER, Role.PARTNER_MANAGER):
        items.append((reverse("exports"), _("Export")))
    if actor.role == Role.PROVIDER_ADMIN:
        items.append((reverse("audit_list"), _("Audit")))
        items.append((reverse("admin:index"), _("Administration")))
    # The longest matching prefix wins, so /tickets/new/ is not also "Tickets".
    paths = [url.split("?")[0] for url, _label in items]
    matches = [p for p in paths if path == p or (p != "/" and path.startswith(p))]
    current = max(matches, key=len, default=None)
    return [
        {"url": url, "label": label, "active": url.split("?")[0] == current} for url, label in items
    ]


@register.simple_tag
def settings_items(actor) -> list[dict[str, str]]:
    """The user menu's settings pages: everyone's own, then the organisation's integration
    settings for the roles that manage them (the services check again)."""
    items = [
        {"url": reverse("notification_settings"), "label": _("Notification settings")},
        {"url": reverse("two_factor"), "label": _("Two-factor sign-in")},
    ]
    if actor and actor.role in (Role.PROVIDER_ADMIN, Role.CLIENT_MANAGER, Role.PARTNER_MANAGER):
        items.append({"url": reverse("integration_tokens"), "label": _("Integration tokens")})
    if actor and actor.role != Role.STORE_STAFF and actor.role != Role.PARTNER_ENGINEER:
        items.append({"url": reverse("webhooks"), "label": _("Webhooks")})
    return items


@register.filter
def is_checkbox(bound_field) -> bool:
    return isinstance(bound_field.field.widget, forms.CheckboxInput)


@register.filter
def a11y(bound_field) -> str:
    """The field's control, described by its help text and its errors (read out on focus)."""
    described = []
    if bound_field.help_text:
        described.append(f"{bound_field.auto_id}_helptext")
    attrs: dict[str, str] = {}
    if bound_field.errors:
        described.append(f"{bound_field.auto_id}_error")
        attrs["aria-invalid"] = "true"
    if described:
        attrs["aria-describedby"] = " ".join(described)
    return bound_field.as_widget(attrs=attrs)


@register.filter
def initials(user) -> str:
    """Up to two letters for a compact user button (phones)."""
    if user is None:
        return ""
    parts = [user.first_name, user.last_name] if user.first_name else [user.get_username()]
    return "".join(p[:1] for p in parts if p).upper()[:2]
