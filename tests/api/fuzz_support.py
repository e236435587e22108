"""What the contract fuzz needs beyond schemathesis: tenant markers, real ids, the leak check.

``seed_markers`` gives every tenant of the ``world`` fixture some text no other tenant may
ever read (a ticket subject, a comment, a store name, an equipment serial, an organisation
name), each with a unique ``LEAK-…`` tag. ``leak_check`` fails a response of an actor that
contains a tag it must not see. ``id_pools`` lists the real keys behind every path parameter
of the live schema, so the fuzzer also asks for existing objects, its own and other tenants'.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.apps import apps
from django.db import models
from hypothesis import strategies as st

from clients.models import Equipment, Store
from servicedesk.actors import Actor
from tickets import services as ticket_services

# The roles the fuzz runs as, and which marker groups each must never read. A group names
# data of one tenant (or of one slice of a tenant) that the role has no business seeing.
ROLE_FORBIDDEN: dict[str, tuple[str, ...]] = {
    "provider_admin": (),
    "dispatcher": (),
    "client_manager_a": ("client_b", "partner_q", "internal"),
    "store_staff_a1": ("client_b", "partner_q", "internal", "store_a2"),
    "partner_manager_p": ("client_b", "partner_q", "internal", "store_a2"),
}


@dataclass
class Markers:
    """Tag strings per group; ``forbidden_for(role)`` is what that role must never read."""

    groups: dict[str, list[str]] = field(default_factory=dict)

    def add(self, group: str, text: str) -> str:
        self.groups.setdefault(group, []).append(text)
        return text

    def forbidden_for(self, role: str) -> list[str]:
        return [text for group in ROLE_FORBIDDEN[role] for text in self.groups.get(group, [])]


def _tag(group: str) -> str:
    return f"LEAK-{group.upper().replace('_', '-')}-{uuid.uuid4().hex[:12]}"


def seed_markers(world) -> Markers:
    """Plant tagged data for every tenant of ``world`` (tests/conftest.py).

    Client B: a ticket at store B1 held by partner Q, with a public comment; store B1's name
    and address, its equipment's serial, the client's name and the ticket's number.
    Partner Q: its name. Store A2 (client A's other store, no partner): a ticket with a
    comment. Internal: a provider-only note on client A's ticket A1 held by partner P.
    """
    markers = Markers()
    dispatcher = world.actor("dispatcher")

    client_b = world.client_b
    client_b.name = markers.add("client_b", _tag("client_b"))
    client_b.save(update_fields=["name"])
    organisation = client_b.organisation
    organisation.name = client_b.name
    organisation.save(update_fields=["name"])
    _tag_store(world.store_b1, "client_b", markers)

    partner_q = world.partner_q
    partner_q.name = markers.add("partner_q", _tag("partner_q"))
    partner_q.save(update_fields=["name"])
    partner_q.organisation.name = partner_q.name
    partner_q.organisation.save(update_fields=["name"])

    b_ticket = _tagged_ticket(dispatcher, world.store_b1, "client_b", markers)
    ticket_services.ticket_assign(
        actor=dispatcher,
        ticket_id=b_ticket.pk,
        partner_id=partner_q.pk,
        engineer_id=world.users["engineer_q"].pk,
    )
    _tag_store(world.store_a2, "store_a2", markers)
    _tagged_ticket(dispatcher, world.store_a2, "store_a2", markers)
    ticket_services.ticket_comment(
        actor=dispatcher,
        ticket_id=world.tickets["a1"].pk,
        body=markers.add("internal", _tag("internal")),
        is_internal=True,
    )
    return markers


def _tag_store(store: Store, group: str, markers: Markers) -> None:
    store.name = markers.add(group, _tag(group))
    store.address = markers.add(group, _tag(group))
    store.save(update_fields=["name", "address"])
    for equipment in Equipment.objects.filter(store=store):
        equipment.serial_number = markers.add(group, _tag(group)[:40])
        equipment.save(update_fields=["serial_number"])


def _tagged_ticket(actor: Actor, store: Store, group: str, markers: Markers):
    ticket = ticket_services.ticket_create(
        actor=actor, store_id=store.pk, subject=markers.add(group, _tag(group))
    )
    ticket_services.ticket_comment(actor=actor, ticket_id=ticket.pk, body=_tag(group))
    markers.add(group, ticket.comments.get().body)
    ticket.refresh_from_db()
    markers.add(group, ticket.reference)
    return ticket


def leaked(text: str, forbidden: Iterable[str]) -> list[str]:
    """The forbidden tags that occur in ``text``."""
    return [tag for tag in forbidden if tag in text]


# --- real keys for path parameters -------------------------------------------------------

_PARAM = re.compile(r"\{([^}]+)\}")


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _singular(word: str) -> str:
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _model_for(segment: str, param: str) -> type[models.Model] | None:
    """The model a path parameter names: ``{ticket_pk}`` → Ticket, ``stores/{id}`` → Store,
    ``calendars/{id}`` → BusinessCalendar (a model whose name ends so), ``regions/{code}``
    → Region (a field of the segment's model)."""
    stem = re.sub(r"_(pk|id)$", "", param)
    candidates = [_norm(_singular(segment))]
    if stem != param and stem not in ("id", "pk"):
        candidates.insert(0, _norm(stem))
    ours = sorted(
        (m for m in apps.get_models() if m._meta.app_label not in _FRAMEWORK_APPS),
        key=lambda m: (m._meta.app_label, m._meta.model_name),
    )
    for exact in (True, False):
        for candidate in candidates:
            for model in ours:
                name = model._meta.model_name
                if name == candidate or (not exact and name.endswith(candidate)):
                    return model
    return None


_FRAMEWORK_APPS = {"admin", "auth", "contenttypes", "sessions", "messages", "staticfiles"}


def id_pools(paths: Iterable[str], *, limit: int = 30) -> dict[tuple[str, str], list]:
    """``{(path, param): [real values]}`` for every path parameter whose model is found.

    The values are the parameter's field when the model has one (``regions/{code}``),
    else primary keys; every tenant's rows are included, so foreign ids are asked for too.
    """
    pools: dict[tuple[str, str], list] = {}
    for path in paths:
        segments = path.strip("/").split("/")
        for index, segment in enumerate(segments):
            match = _PARAM.fullmatch(segment)
            if not match or index == 0:
                continue
            param = match.group(1)
            model = _model_for(segments[index - 1], param)
            if model is None:
                continue
            names = {f.name for f in model._meta.get_fields()}
            column = param if param in names and param not in ("id", "pk") else "pk"
            values = list(
                model._default_manager.order_by("pk").values_list(column, flat=True)[:limit]
            )
            if values:
                pools[(path, param)] = values
    return pools


def path_parameters_strategy(
    path: str, generated: dict, pools: dict[tuple[str, str], list]
) -> st.SearchStrategy[dict]:
    """Keep the generated values, or swap each for a real one (own or another tenant's)."""
    if not generated:
        return st.just(generated)
    real = {
        name: st.sampled_from(pools[(path, name)])
        for name in generated
        if (path, name) in pools and not _is_odd(generated[name])
    }
    if not real:
        return st.just(generated)
    swapped = st.fixed_dictionaries(
        {name: real.get(name, st.just(value)) for name, value in generated.items()}
    )
    return st.one_of(st.just(generated), swapped, swapped)


def _is_odd(value: object) -> bool:
    """Values the fuzzer made on purpose to break things stay as they are."""
    return not isinstance(value, int | str) or isinstance(value, bool)
