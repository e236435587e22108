"""What a webhook says: the event type of a timeline entry, its JSON body and signature.

Signature (Stripe style; README "Integrating"): the receiver takes the raw body bytes and
the ``Webhook-Timestamp`` header (Unix seconds) and computes
``hex(HMAC-SHA256(key=secret as UTF-8, msg=f"{timestamp}.".encode() + body))``; the
``Webhook-Signature`` header is ``v1=<that hex>``. It should compare in constant time and
refuse timestamps more than a few minutes old (replayed captures). ``Webhook-Id`` is the
same on every attempt and replay of one delivery: receivers dedupe on it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from integrations.choices import WebhookEventType as T
from tickets.choices import EventKind as K
from tickets.models import TicketEvent

_BY_KIND: dict[str, str] = {
    K.CREATED: T.TICKET_CREATED,
    K.STATUS_CHANGED: T.TICKET_STATUS_CHANGED,
    K.REOPENED: T.TICKET_STATUS_CHANGED,
    K.ASSIGNED: T.TICKET_ASSIGNED,
    K.UNASSIGNED: T.TICKET_UNASSIGNED,
    K.PRIORITY_CHANGED: T.TICKET_PRIORITY_CHANGED,
    K.COMMENTED: T.TICKET_COMMENT_ADDED,
    K.ATTACHED: T.TICKET_ATTACHMENT_ADDED,
    K.ESCALATED: T.TICKET_ESCALATED,
    K.OFFER_MADE: T.OFFER_MADE,
    K.OFFER_ACCEPTED: T.OFFER_ACCEPTED,
    K.OFFER_DECLINED: T.OFFER_DECLINED,
    K.OFFER_EXPIRED: T.OFFER_EXPIRED,
    K.OFFER_WITHDRAWN: T.OFFER_WITHDRAWN,
}
_SLA_CHANGES = {"warning": T.SLA_WARNING, "breach": T.SLA_BREACHED}


def webhook_event_type(event: TicketEvent) -> str | None:
    """The webhook type of a timeline entry; ``None`` for entries no webhook carries (clock
    starts and pauses, category edits)."""
    if event.kind == K.SLA:
        return _SLA_CHANGES.get((event.data or {}).get("change"))
    if event.kind == K.VISIT_UPDATED:
        step = (event.data or {}).get("step")
        return T.VISIT_CHECKED_IN if step == "checked_in" else T.VISIT_UPDATED
    return _BY_KIND.get(event.kind)


def webhook_payload(event: TicketEvent, event_type: str) -> dict[str, Any]:
    """The body of the webhook for ``event``, frozen at fan-out: the entry as the timeline
    shows it and a snapshot of its ticket (fields every viewer of the ticket may see).
    ``event`` needs ``ticket__client`` and ``ticket__store`` loaded."""
    ticket = event.ticket
    return {
        "id": f"evt_{event.pk}",
        "type": event_type,
        "created_at": event.created_at.isoformat(),
        "data": {
            "event": {
                "id": event.pk,
                "kind": event.kind,
                "actor_role": event.actor_role,
                "is_internal": event.is_internal,
                "data": event.data,
                "created_at": event.created_at.isoformat(),
            },
            "ticket": {
                "id": ticket.pk,
                "reference": ticket.reference,
                "subject": ticket.subject,
                "status": ticket.status,
                "priority": ticket.priority,
                "category": ticket.category,
                "needs_visit": ticket.needs_visit,
                "external_id": ticket.external_id,
                "store": {"id": ticket.store_id, "code": ticket.store.code},
                "created_at": ticket.created_at.isoformat(),
            },
        },
    }


def payload_body(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Webhook-Signature`` header value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"v1={mac.hexdigest()}"
