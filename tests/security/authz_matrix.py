"""Who may do what: one entry per named URL, decided from the rules, not read off the code.

The rules (DESIGN.md "Actors and tenancy"): provider staff see both clients' objects; a
client's people see their own client's (store staff: their stores' only); a partner sees the
jobs it holds or is being offered (an engineer: the jobs given to them). Out of scope answers
404, never 403; a role that sees the object but may not act gets 403. Anonymous API callers
get 401; anonymous browsers are sent to the login page (302).

"own" is client A's side (store A1, partner P, engineer P): it is in scope for every role
probed. "other" is client B's side (store B1, partner Q), out of scope for all but the
provider. Role-only pages (dispatch board, partner portal, engineer's field pages, audit)
answer 404 to the roles they are not for: the page does not exist for them. A role barred
from an endpoint altogether (calendar and SLA-policy writes for all but the provider's
administrator, integration tokens for dispatchers, store staff and engineers) gets 403 for
every id alike, before any lookup, so that answer tells nothing about what exists.

Where a valid body cannot make the write succeed for the authorized role (a state the world's
objects are not in), that role's status is the 409/400 of the state check, noted per entry;
the forbidden roles still get 403/404.
"""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

from django.utils import timezone

from tests.security.authz import Probe, expect, png

# --- targets ---------------------------------------------------------------------------


def _side(which: str) -> str:
    return "a" if which == "own" else "b"


def ticket(own: str, other: str = "b1", key: str = "pk"):
    return lambda w, which: {key: w.tickets[own if which == "own" else other].pk}


def obj(kind: str, key: str = "pk", own: str = "a", other: str = "b"):
    return lambda w, which: {key: w.objects[f"{kind}_{own if which == 'own' else other}"].pk}


def notification(key: str = "pk"):
    """The caller's own notification, or client B's manager's (another user's)."""

    def target(w, which, role):
        user = role if which == "own" and role != "anonymous" else "client_manager_b"
        return {key: w.objects["notifications"][user].pk}

    return target


def store(w, which):
    return {"pk": (w.store_a1 if which == "own" else w.store_b1).pk}


def equipment(w, which):
    return {"pk": (w.store_a1 if which == "own" else w.store_b1).equipment.get().pk}


def client(w, which):
    return {"pk": (w.client_a if which == "own" else w.client_b).pk}


def partner(w, which):
    return {"pk": (w.partner_p if which == "own" else w.partner_q).pk}


def partner_owned(relation: str):
    def target(w, which):
        owner = w.partner_p if which == "own" else w.partner_q
        return {"pk": getattr(owner, relation).first().pk}

    return target


def calendar(w, which):
    return {"pk": w.objects["calendar"].pk}


def calendar_exception(w, which):
    return {"pk": w.objects["calendar"].pk, "exception_id": w.objects["calendar_exception"].pk}


# --- bodies ----------------------------------------------------------------------------


def _soon() -> str:
    return (timezone.now() + timedelta(hours=3)).isoformat()


def _csv(*rows: list[str]) -> io.BytesIO:
    text = "\n".join(",".join(row) for row in rows) + "\n"
    upload = io.BytesIO(text.encode())
    upload.name = "import.csv"
    return upload


def _local_soon() -> str:
    """A ``datetime-local`` value a day ahead in Moscow (store A1's zone)."""
    from zoneinfo import ZoneInfo

    moment = timezone.now().astimezone(ZoneInfo("Europe/Moscow")) + timedelta(days=1)
    return moment.strftime("%Y-%m-%dT%H:%M")


def _prefixed(w, **fields: Any) -> dict[str, Any]:
    """The partner portal's forms are prefixed with the offer ("o<id>-")."""
    return {f"o{w.objects['offer_a'].pk}-{key}": value for key, value in fields.items()}


def store_import(w) -> dict[str, Any]:
    header = ["code", "name", "address", "region", "time_zone", "latitude", "longitude"]
    line = ["Z9", "Store Z9", "Lenina 1", w.store_a1.region.code, "", "55.75", "37.61"]
    return {"file": _csv(header, line), "client": w.client_a.pk, "dry_run": "true"}


def equipment_import(w) -> dict[str, Any]:
    header = ["store", "kind", "model", "serial"]
    return {
        "file": _csv(header, [w.store_a1.code, "printer", "HP", "SN-Z9"]),
        "client": w.client_a.pk,
        "dry_run": "true",
    }


# --- expectations shorthands -------------------------------------------------------------

API_ANON = 401
HTML_ANON = 302
# Read an object of ticket scope: everyone on client A's side sees "own", nobody "other".
READ = expect(anonymous=API_ANON, provider=200, client=(200, 404), partner=(200, 404))
HTML_READ = expect(anonymous=HTML_ANON, provider=200, client=(200, 404), partner=(200, 404))
# A list: every signed-in role gets 200 (what is in it is the IDOR test's business).
LIST = expect(anonymous=API_ANON, provider=200, client=200, partner=200)
HTML_LIST = expect(anonymous=HTML_ANON, provider=200, client=200, partner=200)
# Provider staff only (no tenant object): the others are told no.
PROVIDER_ONLY = expect(anonymous=API_ANON, provider=200, client=403, partner=403)
ADMIN_ONLY_WRITE = expect(
    anonymous=API_ANON, provider=403, client=403, partner=403, provider_admin=200
)
# Pages that exist only for some roles answer 404 to the rest.
BOARD = expect(anonymous=HTML_ANON, provider=200, client=404, partner=404)
FIELD = expect(anonymous=HTML_ANON, provider=404, client=404, partner=200)
PUBLIC = expect(anonymous=200, provider=200, client=200, partner=200)

MATRIX: dict[str, list[Probe]] = {
    # --- infrastructure and documentation ---------------------------------------------
    "healthz": [Probe("GET", PUBLIC, api=False)],
    "readyz": [Probe("GET", PUBLIC, api=False)],
    # Metrics are for the scraper on the internal network, whoever signs the request; from
    # a public address the endpoint does not exist.
    "metrics": [
        Probe("GET", PUBLIC, api=False),
        Probe(
            "GET",
            expect(anonymous=404, provider=404, client=404, partner=404),
            api=False,
            headers={"REMOTE_ADDR": "93.184.215.14"},
        ),
    ],
    "set_language": [
        Probe(
            "POST",
            expect(anonymous=302, provider=302, client=302, partner=302),
            body=lambda w: {"language": "en", "next": "/"},
            api=False,
        )
    ],
    # The API's map and its documentation are public: they hold no tenant's data.
    "api:root": [Probe("GET", PUBLIC)],
    "api:schema": [Probe("GET", PUBLIC)],
    "api:docs": [Probe("GET", PUBLIC)],
    "api:redoc": [Probe("GET", PUBLIC)],
    # A wrong password is a 400 for everybody: the endpoint is how one signs in.
    "api:auth-token": [
        Probe(
            "POST",
            expect(anonymous=400, provider=400, client=400, partner=400),
            body=lambda w: {"username": "client_manager_a", "password": "wrong"},
        )
    ],
    # --- accounts and settings pages --------------------------------------------------
    "login": [
        Probe("GET", expect(anonymous=200, provider=302, client=302, partner=302), api=False)
    ],
    "login_verify": [
        Probe("GET", expect(anonymous=302, provider=302, client=302, partner=302), api=False)
    ],
    "logout": [
        Probe("POST", expect(anonymous=302, provider=302, client=302, partner=302), api=False)
    ],
    "two_factor": [Probe("GET", HTML_LIST, api=False)],
    "organisation_switch": [Probe("GET", HTML_LIST, api=False)],
    "notification_settings": [Probe("GET", HTML_LIST, api=False)],
    # --- reference data and the network -----------------------------------------------
    "api:client-list": [Probe("GET", LIST)],
    "api:client-detail": [Probe("GET", READ, target=client)],
    "api:region-list": [Probe("GET", LIST)],
    "api:region-detail": [
        Probe("GET", LIST, target=lambda w, which: {"code": w.store_a1.region.code})
    ],
    "api:store-list": [Probe("GET", LIST)],
    "api:store-detail": [Probe("GET", READ, target=store)],
    "api:equipment-list": [Probe("GET", LIST)],
    "api:equipment-detail": [Probe("GET", READ, target=equipment)],
    "api:client-contract-list": [Probe("GET", LIST)],
    # Commercial terms: the client's manager only, not its store staff, not partners.
    "api:client-contract-detail": [
        Probe(
            "GET",
            expect(
                anonymous=API_ANON, provider=200, client=(200, 404), partner=404, store_staff_a1=404
            ),
            target=obj("contract"),
        )
    ],
    "api:partner-list": [Probe("GET", LIST)],
    "api:partner-detail": [Probe("GET", READ, target=partner)],
    "api:coverage-list": [Probe("GET", LIST)],
    "api:certification-list": [Probe("GET", LIST)],
    "api:partner-contract-list": [Probe("GET", LIST)],
    # A partner's own network data: the provider and that partner's manager.
    **{
        name: [
            Probe(
                "GET",
                expect(
                    anonymous=API_ANON,
                    provider=200,
                    client=404,
                    partner=(200, 404),
                    engineer_p=404,
                ),
                target=partner_owned(relation),
            )
        ]
        for name, relation in (
            ("api:coverage-detail", "coverages"),
            ("api:certification-detail", "certifications"),
            ("api:partner-contract-detail", "contracts"),
        )
    },
    # --- tickets (API) --------------------------------------------------------------------
    "api:ticket-list": [
        Probe("GET", LIST),
        # Partners do not open tickets.
        Probe(
            "POST",
            expect(anonymous=API_ANON, provider=201, client=201, partner=403),
            body=lambda w: {"store": w.store_a1.pk, "subject": "Printer jammed"},
        ),
    ],
    "api:ticket-detail": [
        Probe("GET", READ, target=ticket("a1")),
        # Details are the provider's and the client's to edit, not a partner's.
        Probe(
            "PATCH",
            expect(anonymous=API_ANON, provider=200, client=(200, 404), partner=(403, 404)),
            target=ticket("a1"),
            body=lambda w: {"subject": "Till 3 does not boot"},
        ),
    ],
    # P names its other engineer on its own job; dispatchers may assign anyone.
    "api:ticket-assign": [
        Probe(
            "POST",
            expect(
                anonymous=API_ANON,
                provider=200,
                client=(403, 404),
                partner=(200, 404),
                engineer_p=(403, 404),
            ),
            target=ticket("a1"),
            body=lambda w: {"partner": w.partner_p.pk, "engineer": w.users["engineer_p2"].pk},
        )
    ],
    "api:ticket-priority": [
        Probe(
            "POST",
            expect(anonymous=API_ANON, provider=200, client=(403, 404), partner=(403, 404)),
            target=ticket("a1"),
            body=lambda w: {"priority": "p2"},
        )
    ],
    "api:ticket-ranking": [
        Probe(
            "GET",
            expect(anonymous=API_ANON, provider=200, client=(403, 404), partner=(403, 404)),
            target=ticket("a1"),
        )
    ],
    # assigned → accepted is the partner manager's call (and the provider's).
    "api:ticket-transition": [
        Probe(
            "POST",
            expect(
                anonymous=API_ANON,
                provider=200,
                client=(403, 404),
                partner=(200, 404),
                engineer_p=(403, 404),
            ),
            target=ticket("a1"),
            body=lambda w: {"status": "accepted"},
        )
    ],
    "api:ticket-comments": [
        Probe("GET", READ, target=ticket("a1", key="ticket_pk")),
        Probe(
            "POST",
            expect(anonymous=API_ANON, provider=201, client=(201, 404), partner=(201, 404)),
            target=ticket("a1", key="ticket_pk"),
            body=lambda w: {"body": "On my way"},
        ),
    ],
    "api:ticket-events": [Probe("GET", READ, target=ticket("a1", key="ticket_pk"))],
    "api:ticket-attachments": [
        Probe("GET", READ, target=ticket("a1", key="ticket_pk")),
        Probe(
            "POST",
            expect(anonymous=API_ANON, provider=201, client=(201, 404), partner=(201, 404)),
            target=ticket("a1", key="ticket_pk"),
            body=lambda w: {"file": png()},
            multipart=True,
        ),
    ],
    "api:ticket-offers": [
        Probe("GET", READ, target=ticket("a3", "b3", key="ticket_pk")),
        # Offering a job is the dispatcher's: A5 (store A1, not offered to anyone) is the
        # client's to see (403) and no partner's (404).
        Probe(
            "POST",
            expect(anonymous=API_ANON, provider=201, client=(403, 404), partner=404),
            target=ticket("a5", "b5", key="ticket_pk"),
            body=lambda w: {"partner": w.partner_p.pk},
        ),
    ],
    "api:ticket-visits": [Probe("GET", READ, target=ticket("a3", "b3", key="ticket_pk"))],
    "api:attachment-download": [Probe("GET", READ, target=obj("attachment"))],
    # --- offers and visits (API) ----------------------------------------------------------
    "api:offer-list": [Probe("GET", LIST)],
    # The live offer on A4 (store A1) to P: its engineer is not named yet (404 for them).
    "api:offer-detail": [
        Probe(
            "GET",
            expect(
                anonymous=API_ANON,
                provider=200,
                client=(200, 404),
                partner=(200, 404),
                engineer_p=404,
            ),
            target=obj("offer"),
        )
    ],
    "api:offer-accept": [
        Probe(
            "POST",
            expect(
                anonymous=API_ANON,
                provider=403,
                client=(403, 404),
                partner=(200, 404),
                engineer_p=404,
            ),
            target=obj("offer"),
            body=lambda w: {"engineer": w.users["engineer_p"].pk, "eta": _soon()},
        )
    ],
    "api:offer-decline": [
        Probe(
            "POST",
            expect(
                anonymous=API_ANON,
                provider=403,
                client=(403, 404),
                partner=(200, 404),
                engineer_p=404,
            ),
            target=obj("offer"),
            body=lambda w: {"reason": "No engineer free"},
        )
    ],
    "api:offer-withdraw": [
        Probe(
            "POST",
            expect(
                anonymous=API_ANON,
                provider=200,
                client=(403, 404),
                partner=(403, 404),
                engineer_p=404,
            ),
            target=obj("offer"),
            body=lambda w: {"reason": "Client cancelled"},
        )
    ],
    "api:visit-detail": [Probe("GET", READ, target=obj("visit"))],
    # The visit is the partner's: its engineer and manager act, nobody else.
    "api:visit-eta": [
        Probe(
            "POST",
            expect(anonymous=API_ANON, provider=403, client=(403, 404), partner=(200, 404)),
            target=obj("visit"),
            body=lambda w: {"eta": _soon()},
        )
    ],
    "api:visit-en-route": [
        Probe(
            "POST",
            expect(anonymous=API_ANON, provider=403, client=(403, 404), partner=(200, 404)),
            target=obj("visit"),
        )
    ],
    "api:visit-check-in": [
        Probe(
            "POST",
            expect(anonymous=API_ANON, provider=403, client=(403, 404), partner=(200, 404)),
            target=obj("visit"),
            body=lambda w: {"latitude": "55.750000", "longitude": "37.610000"},
        )
    ],
    # Not checked in yet: the partner's own check-out is a state conflict (409).
    "api:visit-check-out": [
        Probe(
            "POST",
            expect(anonymous=API_ANON, provider=403, client=(403, 404), partner=(409, 404)),
            target=obj("visit"),
        )
    ],
    "api:visit-report": [
        Probe(
            "POST",
            expect(anonymous=API_ANON, provider=403, client=(403, 404), partner=(409, 404)),
            target=obj("visit"),
            body=lambda w: {"checklist": {}, "text": "Replaced the PSU"},
        )
    ],
    "api:visit-photo": [
        Probe(
            "POST",
            expect(anonymous=API_ANON, provider=403, client=(403, 404), partner=(201, 404)),
            target=obj("visit"),
            body=lambda w: {"file": png()},
            multipart=True,
        )
    ],
    # Sign-off is the client's (the store's people confirm the work); before a report it
    # is a state conflict for them.
    "api:visit-sign-off": [
        Probe(
            "POST",
            expect(anonymous=API_ANON, provider=403, client=(409, 404), partner=(403, 404)),
            target=obj("visit"),
        )
    ],
    "api:visit-resolve": [
        Probe(
            "POST",
            expect(anonymous=API_ANON, provider=403, client=(403, 404), partner=(409, 404)),
            target=obj("visit"),
        )
    ],
    # --- calendars and SLA ----------------------------------------------------------------
    "api:calendar-list": [
        Probe("GET", LIST),
        Probe(
            "POST",
            expect(anonymous=API_ANON, provider=403, client=403, partner=403, provider_admin=201),
            body=lambda w: {"code": "night-shift", "name": "Night shift"},
        ),
    ],
    "api:calendar-detail": [
        Probe("GET", LIST, target=calendar),
        Probe("PATCH", ADMIN_ONLY_WRITE, target=calendar, body=lambda w: {"name": "Always"}),
    ],
    "api:calendar-exceptions": [
        Probe(
            "POST",
            expect(anonymous=API_ANON, provider=403, client=403, partner=403, provider_admin=201),
            target=calendar,
            body=lambda w: {"day": "2027-02-23", "kind": "day_off", "note": "Holiday"},
        )
    ],
    "api:calendar-exception-detail": [
        Probe(
            "DELETE",
            expect(anonymous=API_ANON, provider=403, client=403, partner=403, provider_admin=204),
            target=calendar_exception,
        )
    ],
    "api:sla-policy-list": [
        Probe("GET", LIST),
        Probe(
            "POST",
            expect(anonymous=API_ANON, provider=403, client=403, partner=403, provider_admin=201),
            body=lambda w: {
                "contract": w.objects["contract_a"].pk,
                "priority": "p1",
                "category": "network",
                "response_seconds": 1800,
                "resolution_seconds": 7200,
                "calendar": w.objects["calendar"].pk,
            },
        ),
    ],
    # The client's SLA terms: its manager reads them; store staff and partners do not.
    "api:sla-policy-detail": [
        Probe(
            "GET",
            expect(
                anonymous=API_ANON, provider=200, client=(200, 404), partner=404, store_staff_a1=404
            ),
            target=obj("policy"),
        ),
        Probe(
            "PATCH",
            expect(anonymous=API_ANON, provider=403, client=403, partner=403, provider_admin=200),
            target=obj("policy"),
            body=lambda w: {"response_seconds": 2400},
        ),
        Probe(
            "DELETE",
            expect(anonymous=API_ANON, provider=403, client=403, partner=403, provider_admin=204),
            target=obj("policy"),
        ),
    ],
    "api:sla-clock-list": [Probe("GET", LIST)],
    "api:sla-clock-detail": [Probe("GET", READ, target=obj("clock"))],
    # "When will you be there?" reveals the client's SLA: not for partners.
    "api:sla-preview": [
        Probe(
            "POST",
            expect(anonymous=API_ANON, provider=200, client=200, partner=403),
            body=lambda w: {
                "store": w.store_a1.pk,
                "priority": "p1",
                "start": timezone.now().isoformat(),
            },
        )
    ],
    "api:sla-recompute": [
        Probe(
            "POST",
            expect(anonymous=API_ANON, provider=403, client=403, partner=403, provider_admin=200),
            body=lambda w: {"tickets": [w.tickets["a3"].pk]},
        )
    ],
    # --- integration tokens, notifications, webhooks --------------------------------------
    "api:integration-token-list": [
        Probe(
            "GET",
            expect(
                anonymous=API_ANON,
                provider=200,
                client=200,
                partner=200,
                dispatcher=403,
                store_staff_a1=403,
                engineer_p=403,
            ),
        ),
        # A client-manager token for client A: its manager and the provider's admin may
        # issue it; a partner's manager may not grant a client role (403 role_too_high).
        Probe(
            "POST",
            expect(
                anonymous=API_ANON,
                provider=201,
                client=201,
                partner=403,
                dispatcher=403,
                store_staff_a1=403,
                engineer_p=403,
            ),
            body=lambda w: {
                "organisation": w.client_a.organisation.pk,
                "role": "client_manager",
                "name": "ERP",
            },
        ),
    ],
    "api:integration-token-detail": [
        Probe(
            "DELETE",
            expect(
                anonymous=API_ANON,
                provider=204,
                client=(204, 404),
                partner=404,
                dispatcher=403,
                store_staff_a1=403,
                engineer_p=403,
            ),
            target=obj("token"),
        ),
        Probe(
            "DELETE",
            expect(
                anonymous=API_ANON,
                provider=204,
                client=404,
                partner=(204, 404),
                dispatcher=403,
                store_staff_a1=403,
                engineer_p=403,
            ),
            target=obj("token", own="p", other="q"),
        ),
    ],
    "api:notification-list": [Probe("GET", LIST)],
    "api:notification-read-all": [
        Probe("POST", expect(anonymous=API_ANON, provider=200, client=200, partner=200))
    ],
    "api:notification-detail": [
        Probe(
            "GET",
            expect(anonymous=API_ANON, provider=(200, 404), client=(200, 404), partner=(200, 404)),
            target=notification(),
            per_user=True,
        )
    ],
    "api:notification-read": [
        Probe(
            "POST",
            expect(anonymous=API_ANON, provider=(200, 404), client=(200, 404), partner=(200, 404)),
            target=notification(),
            per_user=True,
        )
    ],
    "api:notification-preferences": [
        Probe("GET", LIST),
        Probe("PUT", LIST, body=lambda w: {"email_enabled": False}),
    ],
    "api:event-feed": [Probe("GET", LIST)],
    "api:webhook-list": [
        Probe("GET", LIST),
        Probe(
            "POST",
            expect(
                anonymous=API_ANON,
                provider=201,
                client=201,
                partner=201,
                store_staff_a1=403,
                engineer_p=403,
            ),
            body=lambda w: {
                "url": "https://93.184.215.14/hooks/x",
                "event_types": ["ticket.created"],
            },
        ),
    ],
}


def _webhook_probes(method: str, ok: int, key: str = "pk", kind: str = "webhook", **extra):
    """An organisation's endpoints exist for its own managers only: client A's for client
    A's manager, P's for P's manager; everyone else (the provider too) finds nothing."""
    return [
        Probe(
            method,
            expect(
                anonymous=API_ANON,
                provider=404,
                client=404,
                partner=404,
                client_manager_a=(ok, 404),
            ),
            target=obj(kind, key=key),
            **extra,
        ),
        Probe(
            method,
            expect(
                anonymous=API_ANON,
                provider=404,
                client=404,
                partner=404,
                partner_manager_p=(ok, 404),
            ),
            target=obj(kind, key=key, own="p", other="q"),
            **extra,
        ),
    ]


MATRIX.update(
    {
        "api:webhook-detail": [
            *_webhook_probes("GET", 200),
            *_webhook_probes("PATCH", 200, body=lambda w: {"description": "ERP"}),
            *_webhook_probes("DELETE", 204),
        ],
        "api:webhook-rotate-secret": _webhook_probes("POST", 200),
        "api:webhook-deliveries": _webhook_probes("GET", 200, key="endpoint_pk"),
        "api:webhook-delivery-detail": _webhook_probes("GET", 200, kind="delivery"),
        "api:webhook-delivery-replay": _webhook_probes("POST", 202, kind="delivery"),
        # --- imports, exports, audit (API) -----------------------------------------------
        "api:store-import": [
            Probe(
                "POST",
                expect(
                    anonymous=API_ANON, provider=200, client=200, partner=403, store_staff_a1=403
                ),
                body=store_import,
                multipart=True,
            )
        ],
        "api:equipment-import": [
            Probe(
                "POST",
                expect(
                    anonymous=API_ANON, provider=200, client=200, partner=403, store_staff_a1=403
                ),
                body=equipment_import,
                multipart=True,
            )
        ],
        "api:export-tickets-csv": [Probe("GET", LIST)],
        "api:export-tickets-xlsx": [Probe("GET", LIST)],
        "api:export-sla-csv": [Probe("GET", LIST)],
        "api:export-sla-xlsx": [Probe("GET", LIST)],
        # The trail is the provider administrator's; other staff are told no, the rest
        # find nothing.
        "api-audit-list": [
            Probe(
                "GET",
                expect(
                    anonymous=API_ANON, provider=403, client=404, partner=404, provider_admin=200
                ),
            )
        ],
        "audit_list": [
            Probe(
                "GET",
                expect(
                    anonymous=HTML_ANON, provider=403, client=404, partner=404, provider_admin=200
                ),
                api=False,
            )
        ],
        "audit_export": [
            Probe(
                "GET",
                expect(
                    anonymous=HTML_ANON, provider=403, client=404, partner=404, provider_admin=200
                ),
                api=False,
            )
        ],
        # --- tickets (HTML) --------------------------------------------------------------
        "home": [Probe("GET", HTML_LIST, api=False)],
        "ticket_list": [Probe("GET", HTML_LIST, api=False)],
        "ticket_create": [
            Probe(
                "GET", expect(anonymous=HTML_ANON, provider=200, client=200, partner=403), api=False
            ),
            Probe(
                "POST",
                expect(anonymous=HTML_ANON, provider=302, client=302, partner=403),
                body=lambda w: {
                    "store": w.store_a1.pk,
                    "subject": "Printer jammed",
                    "priority": "p3",
                    "category": "hardware",
                },
                api=False,
            ),
        ],
        "equipment_options": [Probe("GET", HTML_LIST, query="store=0", api=False)],
        "people_options": [Probe("GET", HTML_LIST, api=False)],
        "ticket_detail": [Probe("GET", HTML_READ, target=ticket("a1", key="ticket_id"), api=False)],
        "ticket_clocks": [
            Probe("GET", HTML_READ, target=ticket("a3", "b3", key="ticket_id"), api=False)
        ],
        "ticket_comment": [
            Probe(
                "POST",
                expect(anonymous=HTML_ANON, provider=302, client=(302, 404), partner=(302, 404)),
                target=ticket("a1", key="ticket_id"),
                body=lambda w: {"body": "On my way"},
                api=False,
            )
        ],
        "ticket_transition": [
            Probe(
                "POST",
                expect(
                    anonymous=HTML_ANON,
                    provider=302,
                    client=(403, 404),
                    partner=(302, 404),
                    engineer_p=(403, 404),
                ),
                target=ticket("a1", key="ticket_id"),
                body=lambda w: {"to_status": "accepted", "version": w.tickets["a1"].version},
                api=False,
            )
        ],
        "ticket_assign": [
            Probe(
                "POST",
                expect(
                    anonymous=HTML_ANON,
                    provider=302,
                    client=(403, 404),
                    partner=(302, 404),
                    engineer_p=(403, 404),
                ),
                target=ticket("a1", key="ticket_id"),
                body=lambda w: {
                    "partner": w.partner_p.pk,
                    "engineer": w.users["engineer_p2"].pk,
                    "version": w.tickets["a1"].version,
                },
                api=False,
            )
        ],
        "ticket_attach": [
            Probe(
                "POST",
                expect(anonymous=HTML_ANON, provider=302, client=(302, 404), partner=(302, 404)),
                target=ticket("a1", key="ticket_id"),
                body=lambda w: {"file": png()},
                multipart=True,
                api=False,
            )
        ],
        "attachment_download": [
            Probe("GET", HTML_READ, target=obj("attachment", key="attachment_id"), api=False)
        ],
        # --- dispatcher's board ----------------------------------------------------------
        "dispatch_board": [Probe("GET", BOARD, api=False)],
        "dispatch_ranking": [
            Probe("GET", BOARD, target=ticket("a5", "b5", key="ticket_id"), api=False)
        ],
        "dispatch_offer": [
            Probe(
                "POST",
                expect(anonymous=HTML_ANON, provider=302, client=404, partner=404),
                target=ticket("a5", "b5", key="ticket_id"),
                body=lambda w: {"partner": w.partner_p.pk},
                api=False,
            )
        ],
        "dispatch_alerts_read": [
            Probe(
                "POST",
                expect(anonymous=HTML_ANON, provider=302, client=404, partner=404),
                api=False,
            )
        ],
        "dispatch_alert_read": [
            Probe(
                "POST",
                expect(anonymous=HTML_ANON, provider=(302, 404), client=404, partner=404),
                target=notification(key="alert_id"),
                per_user=True,
                api=False,
            )
        ],
        # --- partner portal --------------------------------------------------------------
        "portal": [
            Probe(
                "GET",
                expect(anonymous=HTML_ANON, provider=404, client=404, partner=200, engineer_p=404),
                api=False,
            )
        ],
        "portal_offer_accept": [
            Probe(
                "POST",
                expect(
                    anonymous=HTML_ANON,
                    provider=404,
                    client=404,
                    partner=(302, 404),
                    engineer_p=404,
                ),
                target=obj("offer", key="offer_id"),
                body=lambda w: _prefixed(w, engineer=w.users["engineer_p"].pk, eta=_local_soon()),
                api=False,
            )
        ],
        "portal_offer_decline": [
            Probe(
                "POST",
                expect(
                    anonymous=HTML_ANON,
                    provider=404,
                    client=404,
                    partner=(302, 404),
                    engineer_p=404,
                ),
                target=obj("offer", key="offer_id"),
                body=lambda w: _prefixed(w, reason="No engineer free"),
                api=False,
            )
        ],
        # --- engineer's field pages (ticket A3: engineer P's visit) ----------------------
        "field_jobs": [Probe("GET", FIELD, api=False)],
        "field_job": [
            Probe(
                "GET",
                expect(anonymous=HTML_ANON, provider=404, client=404, partner=(200, 404)),
                target=ticket("a3", "b3", key="ticket_id"),
                api=False,
            )
        ],
    }
)


def _field_step(ok: int, body=None, multipart: bool = False) -> list[Probe]:
    return [
        Probe(
            "POST",
            expect(anonymous=HTML_ANON, provider=404, client=404, partner=(ok, 404)),
            target=ticket("a3", "b3", key="ticket_id"),
            body=body,
            multipart=multipart,
            api=False,
        )
    ]


MATRIX.update(
    {
        "field_eta": _field_step(
            302,
            body=lambda w: {"eta": _local_soon()},
        ),
        "field_en_route": _field_step(302),
        "field_check_in": _field_step(
            302, body=lambda w: {"latitude": "55.75", "longitude": "37.61"}
        ),
        # Not checked in: the partner's own step is a state conflict (409). The report and
        # sign-off forms (a checklist per equipment kind; a store employee's credentials)
        # are refused as forms (400) for the partner; the roles without the page get 404.
        "field_check_out": _field_step(409),
        "field_report": _field_step(400, body=lambda w: {"text": "Replaced the PSU"}),
        "field_photo": _field_step(302, body=lambda w: {"file": png()}, multipart=True),
        "field_sign_off": _field_step(400),
        "field_resolve": _field_step(409),
        # --- settings pages --------------------------------------------------------------
        "integration_tokens": [
            Probe(
                "GET",
                expect(
                    anonymous=HTML_ANON,
                    provider=200,
                    client=200,
                    partner=200,
                    dispatcher=403,
                    store_staff_a1=403,
                    engineer_p=403,
                ),
                api=False,
            )
        ],
        "integration_token_revoke": [
            Probe(
                "POST",
                expect(
                    anonymous=HTML_ANON,
                    provider=302,
                    client=(302, 404),
                    partner=404,
                    dispatcher=403,
                    store_staff_a1=403,
                    engineer_p=403,
                ),
                target=obj("token", key="token_id"),
                api=False,
            )
        ],
        "webhooks": [
            Probe(
                "GET",
                expect(
                    anonymous=HTML_ANON,
                    provider=200,
                    client=200,
                    partner=200,
                    store_staff_a1=403,
                    engineer_p=403,
                ),
                api=False,
            )
        ],
        "webhook_rotate_secret": [],
        "webhook_toggle": [],
        "webhook_delete": [],
        "webhook_delivery_replay": [],
        "imports": [
            Probe(
                "GET",
                expect(
                    anonymous=HTML_ANON, provider=200, client=200, partner=403, store_staff_a1=403
                ),
                api=False,
            )
        ],
        "exports": [Probe("GET", HTML_LIST, api=False)],
        "export_tickets_csv": [Probe("GET", HTML_LIST, api=False)],
        "export_tickets_xlsx": [Probe("GET", HTML_LIST, api=False)],
        "export_sla_csv": [Probe("GET", HTML_LIST, api=False)],
        "export_sla_xlsx": [Probe("GET", HTML_LIST, api=False)],
    }
)

# The webhook pages refuse the roles that manage no webhooks (store staff, engineers) for
# any id alike, so nothing leaks; the toggle looks the endpoint up first (404), the others
# ask the service, which refuses the role first (403).
for _name, _kind, _key, _ok, _barred in (
    ("webhook_rotate_secret", "webhook", "endpoint_id", 200, 403),
    ("webhook_toggle", "webhook", "endpoint_id", 302, 404),
    ("webhook_delete", "webhook", "endpoint_id", 302, 403),
    ("webhook_delivery_replay", "delivery", "delivery_id", 302, 403),
):
    MATRIX[_name] = [
        Probe(
            "POST",
            expect(
                anonymous=HTML_ANON,
                provider=404,
                client=404,
                partner=404,
                client_manager_a=(_ok, 404),
                store_staff_a1=_barred,
                engineer_p=_barred,
            ),
            target=obj(_kind, key=_key),
            api=False,
        ),
        Probe(
            "POST",
            expect(
                anonymous=HTML_ANON,
                provider=404,
                client=404,
                partner=404,
                partner_manager_p=(_ok, 404),
                store_staff_a1=_barred,
                engineer_p=_barred,
            ),
            target=obj(_kind, key=_key, own="p", other="q"),
            api=False,
        ),
    ]
