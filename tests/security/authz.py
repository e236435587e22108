"""The authorization matrix's machinery: every named URL of the project, probed by every role
against an object of its own tenant and one of another tenant.

The expectations live in ``tests/security/authz_matrix.py``; this module walks the URL
configuration, builds the requests and reads the answers. A case runs inside a savepoint
that is rolled back, so a write allowed for one role does not change what the next sees.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

# Who probes: every role (one user each, from the ``world`` of tests/conftest.py) and nobody.
ROLES = (
    "anonymous",
    "provider_admin",
    "dispatcher",
    "client_manager_a",
    "store_staff_a1",
    "partner_manager_p",
    "engineer_p",
)
PROVIDER = ("provider_admin", "dispatcher")
CLIENT = ("client_manager_a", "store_staff_a1")
PARTNER = ("partner_manager_p", "engineer_p")
SIGNED_IN = PROVIDER + CLIENT + PARTNER

# URL names outside the matrix, each with the reason. Django's admin is one application with
# its own permission system (is_staff), checked by its own test.
EXEMPT_PREFIXES = {"admin:": "Django admin: is_staff only, tests/test_admin.py"}


def url_names() -> set[str]:
    """Every named URL pattern, as ``namespace:name``, walking nested includes."""
    names: set[str] = set()

    def walk(patterns: list, namespace: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                walk(entry.url_patterns, inner)
            elif isinstance(entry, URLPattern) and entry.name:
                names.add(f"{namespace}{entry.name}")

    walk(get_resolver().url_patterns, "")
    return {n for n in names if not any(n.startswith(p) for p in EXEMPT_PREFIXES)}


# ``target(world, which)``, or ``target(world, which, role)`` for a probe marked ``per_user``
# (a notification, an alert: "own" is the caller's own row).
Kwargs = Callable[..., dict[str, Any]]
Body = Callable[[Any], dict[str, Any]]


@dataclass(frozen=True)
class Probe:
    """One request shape for a URL and what each role must get.

    ``target(world, which)`` gives the URL kwargs for ``which`` in ("own", "other"); without a
    target the URL takes no kwargs and only "own" is probed. ``expect`` maps a role to the
    status for its own object and, where there is a target, for the other tenant's.
    """

    method: str
    expect: dict[str, tuple[int, int | None]]
    target: Kwargs | None = None
    body: Body | None = None
    api: bool = True
    query: str = ""
    multipart: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    per_user: bool = False

    def cases(self) -> Iterator[tuple[str, str, int]]:
        for role in ROLES:
            own, other = self.expect[role]
            yield role, "own", own
            if self.target is not None and other is not None:
                yield role, "other", other


def expect(
    *,
    anonymous: int,
    provider: int | tuple[int, int],
    client: int | tuple[int, int],
    partner: int | tuple[int, int],
    **overrides: int | tuple[int, int],
) -> dict[str, tuple[int, int | None]]:
    """Statuses per group, as ``(own, other)`` or one status for both; ``overrides`` name a
    single role (e.g. ``store_staff_a1=403``)."""

    def pair(value: int | tuple[int, int]) -> tuple[int, int]:
        return value if isinstance(value, tuple) else (value, value)

    table = {"anonymous": pair(anonymous)}
    for roles, value in ((PROVIDER, provider), (CLIENT, client), (PARTNER, partner)):
        for role in roles:
            table[role] = pair(value)
    for role, value in overrides.items():
        table[role] = pair(value)
    return table


def client_for(world: Any, role: str, *, api: bool):
    """A client acting as ``role``: the API with a real token, HTML with a session."""
    from tests.conftest import api_client_for

    if role == "anonymous":
        if api:
            from rest_framework.test import APIClient

            return APIClient()
        return Client()
    user = world.users[role]
    if api:
        return api_client_for(user)
    browser = Client()
    browser.force_login(user)
    return browser


def call_checked(world: Any, name: str, probe: Probe, role: str, which: str) -> tuple[int, bool]:
    """Make the probe's request as ``role`` on the ``which`` object; return the status and
    whether a refused write (4xx) changed anything anyway."""
    if probe.target is None:
        kwargs = {}
    elif probe.per_user:
        kwargs = probe.target(world, which, role)
    else:
        kwargs = probe.target(world, which)
    url = reverse(name, kwargs=kwargs) + (f"?{probe.query}" if probe.query else "")
    client = client_for(world, role, api=probe.api)
    data = probe.body(world) if probe.body else None
    method = getattr(client, probe.method.lower())
    writes = probe.method not in ("GET", "HEAD", "OPTIONS")
    before = written_fingerprint() if writes else None
    if probe.method in ("GET", "DELETE", "HEAD", "OPTIONS"):
        response = method(url, **probe.headers)
    elif probe.multipart and probe.api:
        response = method(url, data or {}, format="multipart", **probe.headers)
    elif probe.multipart:
        response = method(url, data or {}, **probe.headers)
    elif probe.api:
        response = method(url, data or {}, format="json", **probe.headers)
    else:
        response = method(url, data or {}, **probe.headers)
    refused = response.status_code >= 400
    return response.status_code, refused and writes and written_fingerprint() != before


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(256))
WEBHOOK_URL = "https://93.184.215.14/hooks/desk"  # a public address: no DNS needed


def png(name: str = "photo.png"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, PNG, "image/png")


def extend_world(w: Any) -> Any:
    """Give every kind of object an "own" and an "other" instance, made through the services.

    ``w.objects`` names them. Client A's side is "own" for every role of the matrix (client
    A's people, partner P and its engineer); client B's (partner Q) is "other". Tickets:
    a3 — store A1, offered to P and accepted with engineer P (visit_a, clock_a); a4 — store
    A1 with a live offer to P (offer_a); a5 — store A1, a field job offered to nobody yet;
    b3, b4 and b5 the same for client B and partner Q.
    """
    from datetime import date, timedelta

    from django.utils import timezone

    from calendars.services import calendar_exception_add, calendar_presets_ensure
    from integrations.models import WebhookDelivery
    from integrations.services import webhook_endpoint_create
    from servicedesk.models import ApiToken, Notification
    from servicedesk.notifications import notify
    from servicedesk.services import integration_token_create
    from sla.models import SlaClock, SlaPolicy
    from tests.factories import ClientContractFactory
    from tickets import dispatch
    from tickets import services as ticket_services
    from tickets.models import TicketEvent

    presets = calendar_presets_ensure()
    objects: dict[str, Any] = {"calendar": presets["24x7"]}
    objects["calendar_exception"] = calendar_exception_add(
        calendar=presets["24x7"], day=date(2027, 1, 7), kind="day_off", note="holiday"
    )
    for side, client in (("a", w.client_a), ("b", w.client_b)):
        contract = ClientContractFactory(client=client, starts_on="2025-01-01")
        objects[f"contract_{side}"] = contract
        for priority in ("p1", "p2", "p3", "p4"):
            policy = SlaPolicy.objects.create(
                contract=contract,
                priority=priority,
                response_seconds=3600,
                arrival_seconds=4 * 3600,
                resolution_seconds=8 * 3600,
                calendar=presets["24x7"],
            )
        objects[f"policy_{side}"] = policy

    dispatcher = w.actor("dispatcher")
    competency_id = w.partner_p.certifications.first().competency_id
    eta = timezone.now() + timedelta(hours=2)
    sides = (
        ("a", w.store_a1, w.partner_p, "partner_manager_p", "engineer_p"),
        ("b", w.store_b1, w.partner_q, "partner_manager_q", "engineer_q"),
    )
    for side, store, partner, manager, engineer in sides:
        job = ticket_services.ticket_create(
            actor=dispatcher,
            store_id=store.pk,
            subject=f"{side} field job",
            priority="p1",
            needs_visit=True,
            competency_id=competency_id,
        )
        offer = dispatch.offer_make(actor=dispatcher, ticket_id=job.pk, partner_id=partner.pk)
        dispatch.offer_accept(
            actor=w.actor(manager), offer_id=offer.pk, engineer_id=w.users[engineer].pk, eta=eta
        )
        job.refresh_from_db()
        w.tickets[f"{side}3"] = job
        objects[f"visit_{side}"] = job.visits.get()
        objects[f"clock_{side}"] = SlaClock.objects.filter(
            ticket_id=job.pk, agreement="sla"
        ).first()
        offered = ticket_services.ticket_create(
            actor=dispatcher,
            store_id=store.pk,
            subject=f"{side} offered job",
            priority="p2",
            needs_visit=True,
            competency_id=competency_id,
        )
        objects[f"offer_{side}"] = dispatch.offer_make(
            actor=dispatcher, ticket_id=offered.pk, partner_id=partner.pk
        )
        offered.refresh_from_db()
        w.tickets[f"{side}4"] = offered
        w.tickets[f"{side}5"] = ticket_services.ticket_create(
            actor=dispatcher,
            store_id=store.pk,
            subject=f"{side} job to dispatch",
            priority="p3",
            needs_visit=True,
            competency_id=competency_id,
        )
        objects[f"attachment_{side}"] = ticket_services.ticket_attach(
            actor=dispatcher, ticket_id=w.tickets[f"{side}1"].pk, uploaded_file=png()
        )

    for side, manager, org in (
        ("a", "client_manager_a", w.client_a.organisation),
        ("b", "client_manager_b", w.client_b.organisation),
        ("p", "partner_manager_p", w.partner_p.organisation),
        ("q", "partner_manager_q", w.partner_q.organisation),
    ):
        actor = w.actor(manager)
        endpoint, _secret = webhook_endpoint_create(
            actor=actor, url=WEBHOOK_URL, event_types=["ticket.created"]
        )
        objects[f"webhook_{side}"] = endpoint
        objects[f"delivery_{side}"] = WebhookDelivery.objects.create(
            endpoint=endpoint,
            event=TicketEvent.objects.filter(ticket=w.tickets["a1"]).first(),
            event_type="ticket.created",
            payload={},
        )
        token, _raw = integration_token_create(
            actor=actor, organisation_id=org.pk, role=actor.role, name=f"erp {side}"
        )
        objects[f"token_{side}"] = ApiToken.objects.get(pk=token.pk)

    for name, user in w.users.items():
        notify(
            recipients=[user],
            kind="sla_warning",
            title=f"For {name}",
            ticket_id=w.tickets["a1"].pk,
            dedupe_key=f"authz:{name}",
        )
    objects["notifications"] = {
        n.recipient.username: n for n in Notification.objects.select_related("recipient")
    }
    w.objects = objects
    return w


def written_fingerprint() -> tuple:
    """A summary of every row a matrix write could touch: a refused write must leave it as
    it was (nothing written, not even half)."""
    from django.db.models import Count, Max, Q, Sum

    from calendars.models import BusinessCalendar, CalendarException
    from integrations.models import WebhookDelivery, WebhookEndpoint
    from servicedesk.models import ApiToken, Notification, NotificationPreference
    from sla.models import SlaPolicy
    from tickets.models import Attachment, Comment, Offer, Ticket, TicketEvent, Visit

    return (
        Ticket.objects.aggregate(n=Count("pk"), v=Sum("version"), u=Max("updated_at")),
        Offer.objects.aggregate(n=Count("pk"), live=Count("pk", filter=Q(status="offered"))),
        Visit.objects.aggregate(
            n=Count("pk"),
            eta=Max("eta"),
            route=Count("en_route_at"),
            inn=Count("checked_in_at"),
            out=Count("checked_out_at"),
            rep=Count("reported_at"),
        ),
        WebhookEndpoint.objects.aggregate(n=Count("pk"), u=Max("updated_at")),
        WebhookDelivery.objects.aggregate(
            n=Count("pk"),
            pending=Count("pk", filter=Q(status="pending")),
            at=Max("next_attempt_at"),
        ),
        ApiToken.objects.aggregate(revoked=Count("revoked_at")),
        Notification.objects.aggregate(read=Count("read_at")),
        NotificationPreference.objects.aggregate(n=Count("pk"), u=Max("updated_at")),
        SlaPolicy.objects.aggregate(n=Count("pk"), r=Sum("response_seconds")),
        CalendarException.objects.count(),
        BusinessCalendar.objects.aggregate(n=Count("pk"), u=Max("updated_at")),
        TicketEvent.objects.count(),
        Comment.objects.count(),
        Attachment.objects.count(),
    )
