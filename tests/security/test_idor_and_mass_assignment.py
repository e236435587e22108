"""Attacks by guessing and by over-posting.

IDOR: as client A's manager and as partner P's manager, walk every id from 1 to the
resource's largest + 5 on every API URL that takes one. An id answers 2xx only when the rules
let the caller see the object (worked out here from the rows' own fields, not by asking the
code's selectors), and 404 otherwise, with the same body for "someone else's" as for "does
not exist". Ticket numbers and client references guessed through the list's filters never
bring back a foreign ticket.

Mass assignment: bodies that try to set what the caller may not (tenant, partner, status,
version, number, timestamps, organisation, role, membership, key hash) are refused with a 400
naming the field, or the field is ignored; either way the stored row keeps its values.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.db.models import Max, Min, Model, Q
from django.urls import reverse
from django.utils import timezone

from clients.models import Client, ClientContract, Equipment, Store
from integrations.models import WebhookDelivery, WebhookEndpoint
from partners.models import Certification, Coverage, Partner, PartnerContract
from servicedesk.models import ApiToken, Notification, NotificationPreference
from sla.models import SlaClock, SlaPolicy
from tests.conftest import api_client_for, build_world
from tests.security.authz import WEBHOOK_URL, extend_world
from tickets.models import Attachment, Comment, Offer, Ticket, TicketEvent, Visit

pytestmark = pytest.mark.django_db

ATTACKERS = ("client_manager_a", "partner_manager_p")
# Commercial terms are the client manager's; a partner's network data is its manager's.
NOTHING_TO_SEE = {
    "client_manager_a": {Coverage, Certification, PartnerContract},
    "partner_manager_p": {ClientContract, SlaPolicy},
}


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield extend_world(build_world())
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


# --- what each attacker may see, from the rows' own fields --------------------------------


def _tickets(w, who: str) -> Q:
    """Client A's manager: client A's tickets. Partner P's manager: the jobs P holds and the
    jobs offered to P right now."""
    if who == "client_manager_a":
        return Q(client_id=w.client_a.pk)
    offered = Offer.objects.filter(partner_id=w.partner_p.pk, status="offered")
    return Q(partner_id=w.partner_p.pk) | Q(pk__in=offered.values("ticket_id"))


def _ticket_ids(w, who: str) -> set[int]:
    return set(Ticket.objects.filter(_tickets(w, who)).values_list("pk", flat=True))


def _visible(w, who: str, model: type[Model]) -> set[int]:
    tickets = _ticket_ids(w, who)
    client = who == "client_manager_a"
    org_id = w.client_a.organisation_id if client else w.partner_p.organisation_id
    rules: dict[type[Model], Q] = {
        Ticket: Q(pk__in=tickets),
        Offer: Q(ticket_id__in=tickets) & (Q() if client else Q(partner_id=w.partner_p.pk)),
        Visit: Q(ticket_id__in=tickets) & (Q() if client else Q(partner_id=w.partner_p.pk)),
        Attachment: Q(ticket_id__in=tickets, is_internal=False),
        Store: Q(client_id=w.client_a.pk) if client else Q(tickets__pk__in=tickets),
        Equipment: (
            Q(store__client_id=w.client_a.pk) if client else Q(store__tickets__pk__in=tickets)
        ),
        Client: Q(pk=w.client_a.pk) if client else Q(tickets__pk__in=tickets),
        Partner: Q(tickets__client_id=w.client_a.pk) if client else Q(pk=w.partner_p.pk),
        ClientContract: Q(client_id=w.client_a.pk) if client else Q(pk__in=[]),
        SlaPolicy: Q(contract__client_id=w.client_a.pk) if client else Q(pk__in=[]),
        Coverage: Q(pk__in=[]) if client else Q(partner_id=w.partner_p.pk),
        Certification: Q(pk__in=[]) if client else Q(partner_id=w.partner_p.pk),
        PartnerContract: Q(pk__in=[]) if client else Q(partner_id=w.partner_p.pk),
        SlaClock: Q(ticket_id__in=tickets)
        & (
            Q(agreement="sla")
            if client
            else Q(agreement="sla") | Q(agreement="ola", partner_id=w.partner_p.pk)
        ),
        Notification: Q(recipient=w.users[who]),
        WebhookEndpoint: Q(organisation_id=org_id),
        WebhookDelivery: Q(endpoint__organisation_id=org_id),
        ApiToken: Q(
            membership__organisation_id=org_id,
            membership__user__username__startswith="integration-",
        ),
    }
    return set(model.objects.filter(rules[model]).values_list("pk", flat=True))


# --- the URLs that take an id ----------------------------------------------------------------

Body = Callable[[Any], dict[str, Any]] | None


# (URL name, its id kwarg, the model the id names, method, body)
ID_URLS: list[tuple[str, str, type[Model], str, Body]] = [
    ("api:ticket-detail", "pk", Ticket, "GET", None),
    ("api:ticket-comments", "ticket_pk", Ticket, "GET", None),
    ("api:ticket-events", "ticket_pk", Ticket, "GET", None),
    ("api:ticket-attachments", "ticket_pk", Ticket, "GET", None),
    ("api:ticket-offers", "ticket_pk", Ticket, "GET", None),
    ("api:ticket-visits", "ticket_pk", Ticket, "GET", None),
    ("api:ticket-detail", "pk", Ticket, "PATCH", lambda w: {"subject": "Guessed"}),
    ("api:ticket-comments", "ticket_pk", Ticket, "POST", lambda w: {"body": "Guessed"}),
    ("api:ticket-transition", "pk", Ticket, "POST", lambda w: {"status": "cancelled"}),
    ("api:ticket-priority", "pk", Ticket, "POST", lambda w: {"priority": "p1"}),
    ("api:ticket-ranking", "pk", Ticket, "GET", None),
    (
        "api:ticket-assign",
        "pk",
        Ticket,
        "POST",
        lambda w: {"partner": w.partner_p.pk, "engineer": w.users["engineer_p2"].pk},
    ),
    ("api:offer-detail", "pk", Offer, "GET", None),
    ("api:offer-decline", "pk", Offer, "POST", lambda w: {"reason": "Guessed"}),
    ("api:offer-withdraw", "pk", Offer, "POST", lambda w: {"reason": "Guessed"}),
    (
        "api:offer-accept",
        "pk",
        Offer,
        "POST",
        lambda w: {
            "engineer": w.users["engineer_p"].pk,
            "eta": (timezone.now() + timedelta(hours=3)).isoformat(),
        },
    ),
    ("api:visit-detail", "pk", Visit, "GET", None),
    ("api:visit-en-route", "pk", Visit, "POST", None),
    (
        "api:visit-eta",
        "pk",
        Visit,
        "POST",
        lambda w: {"eta": (timezone.now() + timedelta(hours=3)).isoformat()},
    ),
    (
        "api:visit-check-in",
        "pk",
        Visit,
        "POST",
        lambda w: {"latitude": "55.750000", "longitude": "37.610000"},
    ),
    ("api:visit-check-out", "pk", Visit, "POST", None),
    ("api:visit-report", "pk", Visit, "POST", lambda w: {"checklist": {}, "text": "Guessed"}),
    ("api:visit-sign-off", "pk", Visit, "POST", None),
    ("api:visit-resolve", "pk", Visit, "POST", None),
    ("api:attachment-download", "pk", Attachment, "GET", None),
    ("api:store-detail", "pk", Store, "GET", None),
    ("api:equipment-detail", "pk", Equipment, "GET", None),
    ("api:client-detail", "pk", Client, "GET", None),
    ("api:partner-detail", "pk", Partner, "GET", None),
    ("api:client-contract-detail", "pk", ClientContract, "GET", None),
    ("api:sla-policy-detail", "pk", SlaPolicy, "GET", None),
    ("api:coverage-detail", "pk", Coverage, "GET", None),
    ("api:certification-detail", "pk", Certification, "GET", None),
    ("api:partner-contract-detail", "pk", PartnerContract, "GET", None),
    ("api:sla-clock-detail", "pk", SlaClock, "GET", None),
    ("api:notification-detail", "pk", Notification, "GET", None),
    ("api:notification-read", "pk", Notification, "POST", None),
    ("api:webhook-detail", "pk", WebhookEndpoint, "GET", None),
    ("api:webhook-detail", "pk", WebhookEndpoint, "PATCH", lambda w: {"description": "G"}),
    ("api:webhook-detail", "pk", WebhookEndpoint, "DELETE", None),
    ("api:webhook-rotate-secret", "pk", WebhookEndpoint, "POST", None),
    ("api:webhook-deliveries", "endpoint_pk", WebhookEndpoint, "GET", None),
    ("api:webhook-delivery-detail", "pk", WebhookDelivery, "GET", None),
    ("api:webhook-delivery-replay", "pk", WebhookDelivery, "POST", None),
    ("api:integration-token-detail", "pk", ApiToken, "DELETE", None),
]


def _send(client, method: str, url: str, body: dict[str, Any] | None):
    if method in ("GET", "DELETE"):
        return getattr(client, method.lower())(url)
    return getattr(client, method.lower())(url, body or {}, format="json")


@pytest.mark.parametrize("who", ATTACKERS)
@pytest.mark.parametrize(
    ("name", "key", "model", "method", "body"),
    ID_URLS,
    ids=[f"{name}-{method}" for name, _k, _m, method, _b in ID_URLS],
)
def test_guessing_ids_finds_only_what_the_caller_may_see(
    world, who, name, key, model, method, body
):
    # Given every id of the resource, and some past the last
    api = api_client_for(world.users[who])
    visible = _visible(world, who, model)
    bounds = model.objects.aggregate(low=Min("pk"), high=Max("pk"))
    first, last = bounds["low"] or 1, bounds["high"] or 0
    missing_url = reverse(name, kwargs={key: last + 5})
    with transaction.atomic():
        missing = _send(api, method, missing_url, body(world) if body else None)
        transaction.set_rollback(True)
    assert missing.status_code == 404
    wrong = []
    # When the caller asks for each one
    # Every id from 1 to the last + 5; below this world's first row the ids are those of
    # rows other tests made and rolled back (sequences do not go back), so a window of five
    # stands for them.
    for pk in range(max(1, first - 5), last + 6):
        with transaction.atomic():
            response = _send(
                api, method, reverse(name, kwargs={key: pk}), body(world) if body else None
            )
            transaction.set_rollback(True)
        # Then a visible id is found (the action may still be refused: 403/409/400), and any
        # other answers exactly like one that does not exist
        if pk in visible:
            if response.status_code == 404:
                wrong.append(f"{pk}: visible but 404")
        elif response.status_code != 404:
            wrong.append(f"{pk}: not visible but {response.status_code}")
        elif response.content != missing.content:
            wrong.append(f"{pk}: its 404 differs from a missing id's")
    assert not wrong, f"{method} {name} as {who}: {wrong}"
    # (and the world gives the attacker something of its own to find, where it may see any)
    assert visible or model in NOTHING_TO_SEE[who]


# --- guessing ticket numbers and references -------------------------------------------------


def _listed(api, query: str) -> set[int]:
    response = api.get(f"{reverse('api:ticket-list')}?{query}")
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


@pytest.mark.parametrize("who", ATTACKERS)
def test_guessing_ticket_numbers_never_returns_a_foreign_ticket(world, who):
    # Given client B's tickets, with their numbers, references and client references
    api = api_client_for(world.users[who])
    own = _ticket_ids(world, who)
    Ticket.objects.filter(client=world.client_b).update(external_id=None)
    foreign = list(Ticket.objects.filter(client=world.client_b))
    for index, ticket in enumerate(foreign):
        Ticket.objects.filter(pk=ticket.pk).update(external_id=f"ERP-{index}")
    Ticket.objects.filter(pk=world.tickets["a1"].pk).update(external_id="ERP-0")
    guesses = []
    for index, ticket in enumerate(foreign):
        guesses += [
            f"number={ticket.number}",
            f"q={ticket.number}",
            f"q={ticket.reference}",
            f"q=BBB-{ticket.number}",
            f"external_id=ERP-{index}",
            f"q=ERP-{index}",
            f"external_id=ERP-{index}&client={world.client_b.pk}",
        ]
    guesses += [f"number={n}" for n in range(1, 12)] + [f"q=BBB-{n:06d}" for n in range(1, 12)]
    # When the attacker searches by each guess
    found = set()
    for query in guesses:
        found |= _listed(api, query)
    # Then only its own tickets ever come back (client A's ERP-0 for its manager)
    assert found <= own, f"foreign tickets returned: {found - own}"
    if who == "client_manager_a":
        assert _listed(api, "external_id=ERP-0") == {world.tickets["a1"].pk}


# --- mass assignment ---------------------------------------------------------------------------

TICKET_FIELDS = ("client_id", "store_id", "partner_id", "status", "version", "number", "created_at")


def _snapshot(row: Model, fields: tuple[str, ...]) -> dict[str, Any]:
    row.refresh_from_db()
    return {name: getattr(row, name) for name in fields}


def _refused_or_ignored(response, fields: set[str], ok: int) -> None:
    """A 400 must name at least one of the fields tried; otherwise the write went through
    with them ignored (checked in the database by the caller)."""
    if response.status_code == 400:
        named = set(response.json()["error"].get("fields") or {})
        assert named & fields, response.json()
    else:
        assert response.status_code == ok, response.content


def test_ticket_create_cannot_choose_its_tenant_partner_status_or_number(world):
    # Given client A's manager, and a body trying to plant the ticket at client B with Q
    api = api_client_for(world.users["client_manager_a"])
    past = "2001-01-01T00:00:00Z"
    tried = {
        "client": world.client_b.pk,
        "partner": world.partner_q.pk,
        "engineer": world.users["engineer_q"].pk,
        "status": "closed",
        "version": 99,
        "number": 424242,
        "created_at": past,
        "organisation": world.client_b.organisation_id,
    }
    before = Ticket.objects.count()
    # When it creates a ticket at its store with those fields
    response = api.post(
        reverse("api:ticket-list"),
        {"store": world.store_a1.pk, "subject": "Over-posted", **tried},
        format="json",
    )
    # Then the fields are refused by name or ignored: the row is client A's, new, unassigned
    _refused_or_ignored(response, set(tried), 201)
    if response.status_code == 400:
        assert Ticket.objects.count() == before
        return
    row = Ticket.objects.get(pk=response.json()["id"])
    assert row.client_id == world.client_a.pk and row.store_id == world.store_a1.pk
    assert row.partner_id is None and row.engineer_id is None
    assert row.status == "new" and row.version == 1 and row.number != 424242
    assert row.created_at.year != 2001


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("client", "client_b"),
        ("store", "store_b1"),
        ("partner", "partner_q"),
        ("status", "closed"),
        ("version", 99),
        ("number", 424242),
        ("created_at", "2001-01-01T00:00:00Z"),
        ("organisation", "client_b"),
    ],
)
def test_ticket_edit_refuses_each_read_only_field_by_name(world, field, value):
    # Given ticket A1 as its client's manager sees it
    api = api_client_for(world.users["client_manager_a"])
    ticket = world.tickets["a1"]
    if isinstance(value, str) and hasattr(world, value):
        value = getattr(world, value).pk
    before = _snapshot(ticket, (*TICKET_FIELDS, "subject"))
    # When it edits the subject and, alongside, a field it may not set
    response = api.patch(
        reverse("api:ticket-detail", kwargs={"pk": ticket.pk}),
        {"subject": "Over-posted", field: value},
        format="json",
    )
    # Then the field is named in a 400, and nothing changed
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
    assert _snapshot(ticket, (*TICKET_FIELDS, "subject")) == before


def test_comment_cannot_pick_its_ticket_author_time_or_visibility(world):
    # Given client A's manager commenting on A1, trying to move the comment elsewhere
    api = api_client_for(world.users["client_manager_a"])
    a1, b1 = world.tickets["a1"], world.tickets["b1"]
    tried = {
        "ticket": b1.pk,
        "author": world.users["dispatcher"].pk,
        "created_at": "2001-01-01T00:00:00Z",
        "is_internal": True,
    }
    b1_comments = Comment.objects.filter(ticket=b1).count()
    b1_events = TicketEvent.objects.filter(ticket=b1).count()
    # When it posts the comment
    response = api.post(
        reverse("api:ticket-comments", kwargs={"ticket_pk": a1.pk}),
        {"body": "Over-posted", **tried},
        format="json",
    )
    # Then an internal note is not the client's to write (403), any other field is refused
    # or ignored, and B1 got nothing
    assert Comment.objects.filter(ticket=b1).count() == b1_comments
    if response.status_code == 403:
        assert not Comment.objects.filter(body="Over-posted").exists()
        response = api.post(
            reverse("api:ticket-comments", kwargs={"ticket_pk": a1.pk}),
            {"body": "Over-posted", **{k: v for k, v in tried.items() if k != "is_internal"}},
            format="json",
        )
    _refused_or_ignored(response, set(tried), 201)
    for row in Comment.objects.filter(body="Over-posted"):
        assert row.ticket_id == a1.pk and not row.is_internal
        assert row.author_id == world.users["client_manager_a"].pk
        assert row.created_at.year != 2001
    assert TicketEvent.objects.filter(ticket=b1).count() == b1_events


def test_integration_token_cannot_pick_its_hash_membership_or_a_foreign_organisation(world):
    # Given client A's manager issuing a token, trying to choose its key and membership
    api = api_client_for(world.users["client_manager_a"])
    victim = ApiToken.objects.filter(membership__user=world.users["client_manager_b"]).first()
    victim_membership = world.users["client_manager_b"].memberships.get()
    tried = {
        "key_hash": "0" * 64,
        "prefix": "deadbeef",
        "membership": victim_membership.pk,
        "revoked_at": None,
    }
    before = set(ApiToken.objects.values_list("pk", flat=True))
    # When it posts the token with those fields
    response = api.post(
        reverse("api:integration-token-list"),
        {
            "organisation": world.client_a.organisation_id,
            "role": "client_manager",
            "name": "ERP",
            **tried,
        },
        format="json",
    )
    # Then they are refused or ignored: the new token is client A's, with a hash of its own
    _refused_or_ignored(response, set(tried), 201)
    for token in ApiToken.objects.exclude(pk__in=before).select_related("membership"):
        assert token.key_hash != "0" * 64 and token.prefix != "deadbeef"
        assert token.membership.organisation_id == world.client_a.organisation_id
        assert token.membership_id != victim_membership.pk
    # And naming client B as the organisation is refused, nothing written
    before = set(ApiToken.objects.values_list("pk", flat=True))
    response = api.post(
        reverse("api:integration-token-list"),
        {"organisation": world.client_b.organisation_id, "role": "client_manager", "name": "X"},
        format="json",
    )
    assert response.status_code in (400, 403, 404), response.content
    assert set(ApiToken.objects.values_list("pk", flat=True)) == before
    if victim is not None:
        assert ApiToken.objects.get(pk=victim.pk).key_hash == victim.key_hash


def test_webhook_cannot_be_planted_in_another_organisation(world):
    # Given client A's manager, trying to create and then move an endpoint to client B
    api = api_client_for(world.users["client_manager_a"])
    tried = {
        "organisation": world.client_b.organisation_id,
        "created_by": world.users["client_manager_b"].memberships.get().pk,
        "secret_sealed": "x",
        "created_at": "2001-01-01T00:00:00Z",
    }
    before = set(WebhookEndpoint.objects.values_list("pk", flat=True))
    response = api.post(
        reverse("api:webhook-list"),
        {"url": WEBHOOK_URL, "event_types": ["ticket.created"], **tried},
        format="json",
    )
    _refused_or_ignored(response, set(tried), 201)
    for endpoint in WebhookEndpoint.objects.exclude(pk__in=before):
        assert endpoint.organisation_id == world.client_a.organisation_id
        assert endpoint.secret_sealed != "x"
    # When it edits its own endpoint with the same fields
    own = world.objects["webhook_a"]
    sealed = own.secret_sealed
    response = api.patch(
        reverse("api:webhook-detail", kwargs={"pk": own.pk}),
        {"description": "Over-posted", **tried},
        format="json",
    )
    # Then they are refused or ignored, and the endpoint stays client A's
    _refused_or_ignored(response, set(tried), 200)
    own.refresh_from_db()
    assert own.organisation_id == world.client_a.organisation_id
    assert own.secret_sealed == sealed


def test_notification_preferences_are_only_ever_the_callers(world):
    # Given client A's manager, naming client B's manager as the owner of the preferences
    victim = world.users["client_manager_b"]
    victim_rows = list(NotificationPreference.objects.filter(user=victim).values())
    api = api_client_for(world.users["client_manager_a"])
    tried = {"user": victim.pk, "recipient": victim.pk, "on_duty": True}
    # When it saves its preferences with those fields
    response = api.put(
        reverse("api:notification-preferences"), {"email_sla": "off", **tried}, format="json"
    )
    # Then the victim's preferences are untouched, and a client's manager is not on duty
    _refused_or_ignored(response, set(tried), 200)
    assert list(NotificationPreference.objects.filter(user=victim).values()) == victim_rows
    mine = NotificationPreference.objects.filter(user=world.users["client_manager_a"]).first()
    assert mine is None or not mine.on_duty


# --- lists, feeds and exports ----------------------------------------------------------------

# What client B's side looks like in any body: its ticket references, its name, its partner,
# a ticket subject of its.
FOREIGN_MARKS = ("BBB-", "Client B", "Partner Q", "B1 net")
LISTS = [
    ("api:ticket-list", True),
    ("api:offer-list", True),
    ("api:sla-clock-list", True),
    ("api:event-feed", True),
    ("api:notification-list", True),
    ("api:client-list", True),
    ("api:store-list", True),
    ("api:equipment-list", True),
    ("api:partner-list", True),
    ("api:webhook-list", True),
    ("api:integration-token-list", True),
    ("api:export-tickets-csv", True),
    ("api:export-sla-csv", True),
    ("home", False),
    ("ticket_list", False),
    ("export_tickets_csv", False),
    ("export_sla_csv", False),
    ("webhooks", False),
]


@pytest.mark.parametrize("who", ATTACKERS)
@pytest.mark.parametrize(("name", "api"), LISTS, ids=[name for name, _api in LISTS])
def test_lists_feeds_and_exports_show_nothing_of_another_tenant(world, who, name, api):
    # Given client B's tickets with partner Q, and an attacker from client A's side
    user = world.users[who]
    if api:
        client = api_client_for(user)
    else:
        from django.test import Client as Browser

        client = Browser()
        client.force_login(user)
    # When it reads the list
    response = client.get(reverse(name))
    # Then it is there, and nothing in it belongs to client B or partner Q
    assert response.status_code == 200, response.content[:300]
    body = (
        b"".join(response.streaming_content) if response.streaming else response.content
    ).decode("utf-8", "replace")
    leaked = [mark for mark in FOREIGN_MARKS if mark in body]
    assert not leaked, f"{name} as {who} shows {leaked}"


def test_the_foreign_marks_are_how_client_b_shows(world):
    # Given provider staff, who see both clients
    body = api_client_for(world.users["dispatcher"]).get(reverse("api:ticket-list")).content
    # Then client B's tickets show with the marks the attackers must never see
    assert b"BBB-" in body and b"B1 net" in body
