"""One FilterSet per list, shared by the API and the HTML pages.

The SLA filters (``breached``, ``at_risk``) and the HTML list's "due soonest" order read the
client SLA clocks through correlated subqueries, so a page of tickets stays one query
however many clocks each ticket has.
"""

from __future__ import annotations

import re

import django_filters
from django import forms
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext_lazy as _
from django_filters.widgets import BooleanWidget

from sla.choices import Agreement, ClockState
from sla.models import ACTIVE_STATES, SlaClock
from tickets.choices import Category, OfferStatus, Priority, TicketKind, TicketStatus
from tickets.models import Offer, Ticket


class IdFilter(django_filters.NumberFilter):
    """An integer id (NumberFilter would accept and document a decimal)."""

    field_class = forms.IntegerField


class CheckboxBooleanWidget(BooleanWidget):
    """``true``/``false`` as the API documents them, and ``on``: what an HTML checkbox sends."""

    def value_from_datadict(self, data, files, name):
        value = data.get(name)
        if isinstance(value, str) and value.lower() == "on":
            return True
        return super().value_from_datadict(data, files, name)


def _sla_clocks() -> QuerySet[SlaClock]:
    """The client SLA clocks of the ticket in the outer query."""
    return SlaClock.objects.filter(ticket_id=OuterRef("pk"), agreement=Agreement.SLA)


def _running_due() -> QuerySet[SlaClock]:
    """The running client SLA clocks with a due instant, of the ticket in the outer query."""
    return _sla_clocks().filter(state=ClockState.RUNNING, due_at__isnull=False)


def sla_breached_q() -> Q:
    """Tickets with a client SLA clock whose breach is recorded (running, paused or stopped)."""
    breached = _sla_clocks().filter(Q(breached_at__isnull=False) | Q(state=ClockState.BREACHED))
    return Q(Exists(breached))


def sla_at_risk_q() -> Q:
    """Tickets with a live client SLA clock past its warning point and not yet breached."""
    warned = _sla_clocks().filter(
        state__in=ACTIVE_STATES, warned_at__isnull=False, breached_at__isnull=True
    )
    return Q(Exists(warned))


def with_sla_due(queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """Annotate what the list's "due" column shows, from the nearest running SLA clock:
    ``sla_due_at`` (its due), ``sla_due_warned_at`` (its warning, if reached),
    ``sla_paused`` (clocks stopped by a pause) and ``sla_breached``. Subqueries in the same
    SELECT: no query per row."""
    nearest = (
        _sla_clocks().filter(state=ClockState.RUNNING, due_at__isnull=False).order_by("due_at")
    )
    paused = _sla_clocks().filter(state=ClockState.PAUSED)
    return queryset.annotate(
        sla_due_at=Subquery(nearest.values("due_at")[:1]),
        sla_due_warned_at=Subquery(nearest.values("warned_at")[:1]),
        sla_paused=Exists(paused),
        sla_breached=sla_breached_q(),
    )


# The HTML list's sort orders (the API's keyset paginator has its own ``ordering``).
LIST_ORDERINGS = {
    "": ("-created_at", "-id"),
    "due": (F("sla_due_at").asc(nulls_last=True), "-created_at", "-id"),
}


def order_ticket_list(queryset: QuerySet[Ticket], ordering: str | None) -> QuerySet[Ticket]:
    """``with_sla_due`` rows in one of ``LIST_ORDERINGS`` ("due": soonest running SLA due
    first, tickets without one last); an unknown value keeps the default order."""
    fields = LIST_ORDERINGS.get(ordering or "", LIST_ORDERINGS[""])
    return with_sla_due(queryset).order_by(*fields)


_REFERENCE = re.compile(r"^(?P<code>[A-Za-z]{2,5})-?(?P<number>\d{1,9})$")


class TicketFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=TicketStatus.choices)
    priority = django_filters.MultipleChoiceFilter(choices=Priority.choices)
    category = django_filters.MultipleChoiceFilter(choices=Category.choices)
    kind = django_filters.ChoiceFilter(choices=TicketKind.choices)
    client = IdFilter(field_name="client_id")
    store = IdFilter(field_name="store_id")
    region = django_filters.CharFilter(field_name="store__region__code", label=_("Region code"))
    partner = IdFilter(field_name="partner_id")
    needs_visit = django_filters.BooleanFilter()
    is_open = django_filters.BooleanFilter(
        method="filter_is_open", label=_("Open"), widget=CheckboxBooleanWidget
    )
    breached = django_filters.BooleanFilter(
        method="filter_breached",
        label=_("A client SLA clock is breached"),
        widget=CheckboxBooleanWidget,
    )
    at_risk = django_filters.BooleanFilter(
        method="filter_at_risk",
        label=_("A client SLA clock passed its warning point and is not breached"),
        widget=CheckboxBooleanWidget,
    )
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    due_after = django_filters.IsoDateTimeFilter(
        method="filter_due_after",
        label=_("The nearest running client SLA due is at or after this instant"),
    )
    due_before = django_filters.IsoDateTimeFilter(
        method="filter_due_before",
        label=_("The nearest running client SLA due is before this instant"),
    )
    external_id = django_filters.CharFilter(
        label=_("The client's own reference (unique per client; add client= as provider)")
    )
    q = django_filters.CharFilter(method="filter_search", label=_("Search"))

    class Meta:
        model = Ticket
        fields: list[str] = []

    def filter_is_open(self, queryset, name, value):
        from tickets.constants import OPEN_STATUSES

        if value is None:
            return queryset
        return (
            queryset.filter(status__in=OPEN_STATUSES)
            if value
            else queryset.exclude(status__in=OPEN_STATUSES)
        )

    def filter_breached(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(sla_breached_q() if value else ~sla_breached_q())

    def filter_at_risk(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(sla_at_risk_q() if value else ~sla_at_risk_q())

    def filter_due_before(self, queryset, name, value):
        # The nearest due is before ``value`` exactly when some running due is.
        if value is None:
            return queryset
        return queryset.filter(Exists(_running_due().filter(due_at__lt=value)))

    def filter_due_after(self, queryset, name, value):
        # The nearest due is at or after ``value``: a running due exists and none is earlier.
        if value is None:
            return queryset
        running = _running_due()
        return queryset.filter(
            Exists(running.filter(due_at__gte=value)), ~Exists(running.filter(due_at__lt=value))
        )

    def filter_search(self, queryset, name, value: str):
        value = value.strip()
        if not value:
            return queryset
        match = _REFERENCE.match(value)
        if match:
            return queryset.filter(client__code=match["code"].upper(), number=int(match["number"]))
        if value.isdigit():
            return queryset.filter(Q(number=int(value)) | Q(subject__icontains=value))
        return queryset.filter(Q(subject__icontains=value) | Q(store__code__iexact=value))


class OfferFilterSet(django_filters.FilterSet):
    """``/offers/``: provider staff narrow every offer; a partner's list is its live ones."""

    status = django_filters.MultipleChoiceFilter(choices=OfferStatus.choices)
    partner = IdFilter(field_name="partner_id")
    ticket = IdFilter(field_name="ticket_id")

    class Meta:
        model = Offer
        fields: list[str] = []
