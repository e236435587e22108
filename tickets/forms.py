"""HTML forms for tickets. They parse and re-display input; the rules live in the services.

A service's ``ApplicationError`` goes back onto the form with
``servicedesk.forms.add_service_error``, so a refusal is shown next to the field it concerns
and everything typed stays on the page.
"""

from __future__ import annotations

from collections.abc import Iterable

from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from clients.models import Equipment, Store
from partners.models import Partner
from tickets.choices import Category, Priority, TicketStatus

_ANY = [("", _("Any"))]
_YES_NO = [("", _("Any")), ("true", _("Yes")), ("false", _("No"))]


class TicketFilterForm(forms.Form):
    """The list's filter bar. Its field names are ``TicketFilterSet``'s, so the URL it builds
    is the one the selector (and the API) understands; it is never validated here."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Number, subject or store code")}
        ),
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=_ANY + list(TicketStatus.choices)
    )
    priority = forms.ChoiceField(
        label=_("Priority"), required=False, choices=_ANY + list(Priority.choices)
    )
    needs_visit = forms.ChoiceField(label=_("Field visit"), required=False, choices=_YES_NO)
    is_open = forms.BooleanField(label=_("Open only"), required=False)

    # Parameters the bar does not show but must keep when it is submitted.
    KEPT = ("category", "kind", "client", "store", "region", "partner")


class TicketCreateForm(forms.Form):
    """A new ticket. The store list is the actor's (``clients.selectors.store_list``)."""

    store = forms.TypedChoiceField(
        label=_("Store"),
        coerce=int,
        # With JavaScript, choosing a store reloads its equipment list.
        widget=forms.Select(
            attrs={
                "hx-get": reverse_lazy("equipment_options"),
                "hx-target": "#id_equipment",
                "hx-swap": "innerHTML",
            }
        ),
    )
    subject = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("What happened, since when, what has been tried already."),
    )
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices, initial="p3")
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices)
    needs_visit = forms.BooleanField(label=_("An engineer must come to the store"), required=False)
    equipment = forms.TypedChoiceField(
        label=_("Equipment"), coerce=int, required=False, empty_value=None
    )

    def __init__(
        self,
        *args,
        stores: Iterable[Store],
        equipment: Iterable[Equipment] = (),
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["store"].choices = [("", _("Choose a store…")), *_grouped_stores(stores)]
        self.fields["equipment"].choices = equipment_choices(equipment)


def _grouped_stores(stores: Iterable[Store]) -> list[tuple[str, list[tuple[int, str]]]]:
    """Stores grouped by client, each as "code · city, address"."""
    groups: dict[str, list[tuple[int, str]]] = {}
    for store in stores:
        label = f"{store.code} · {store.city}, {store.address}"
        groups.setdefault(store.client.name, []).append((store.pk, label))
    return list(groups.items())


def equipment_choices(equipment: Iterable[Equipment]) -> list[tuple[str | int, str]]:
    return [("", _("Not specified")), *((item.pk, str(item)) for item in equipment)]


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Comment"),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("The comment is empty.")},
    )
    is_internal = forms.BooleanField(
        label=_("Internal note (only provider staff see it)"), required=False
    )

    def __init__(self, *args, allow_internal: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not allow_internal:
            del self.fields["is_internal"]


class VersionedForm(forms.Form):
    """A write based on what the page showed: the service refuses it if the ticket moved on."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class StatusForm(VersionedForm):
    to_status = forms.ChoiceField(choices=TicketStatus.choices)


class AssignForm(VersionedForm):
    partner = forms.TypedChoiceField(
        label=_("Partner"),
        coerce=int,
        # With JavaScript, choosing a partner reloads the list of its engineers.
        widget=forms.Select(
            attrs={
                "hx-get": reverse_lazy("people_options"),
                "hx-target": "#id_engineer",
                "hx-swap": "innerHTML",
            }
        ),
    )
    engineer = forms.TypedChoiceField(
        label=_("Engineer"), coerce=int, required=False, empty_value=None
    )

    def __init__(
        self,
        *args,
        partners: Iterable[Partner],
        people: Iterable[tuple[int, str]],
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["partner"].choices = [("", _("Choose a partner…"))] + [
            (p.pk, p.name) for p in partners
        ]
        self.fields["engineer"].choices = people_choices(people)


def people_choices(people: Iterable[tuple[int, str]]) -> list[tuple[str | int, str]]:
    return [("", _("Not named yet")), *people]


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("File"))
    is_internal = forms.BooleanField(label=_("Internal (provider staff only)"), required=False)

    def __init__(self, *args, allow_internal: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not allow_internal:
            del self.fields["is_internal"]
