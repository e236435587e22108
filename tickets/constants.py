"""The ticket state machine, as data."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from servicedesk.choices import Role
from tickets.choices import TicketStatus as S

OPEN_STATUSES = frozenset({S.NEW, S.ASSIGNED, S.ACCEPTED, S.EN_ROUTE, S.ON_SITE, S.WAITING_CLIENT})
FINAL_STATUSES = frozenset({S.CLOSED, S.CANCELLED})

ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.NEW: frozenset({S.ASSIGNED, S.WAITING_CLIENT, S.RESOLVED, S.CANCELLED}),
    S.ASSIGNED: frozenset({S.ACCEPTED, S.NEW, S.WAITING_CLIENT, S.RESOLVED, S.CANCELLED}),
    S.ACCEPTED: frozenset(
        {S.EN_ROUTE, S.ON_SITE, S.NEW, S.WAITING_CLIENT, S.RESOLVED, S.CANCELLED}
    ),
    S.EN_ROUTE: frozenset({S.ON_SITE, S.ACCEPTED, S.NEW, S.WAITING_CLIENT, S.CANCELLED}),
    S.ON_SITE: frozenset({S.RESOLVED, S.WAITING_CLIENT}),
    S.WAITING_CLIENT: frozenset(
        {S.NEW, S.ASSIGNED, S.ACCEPTED, S.EN_ROUTE, S.ON_SITE, S.RESOLVED, S.CANCELLED}
    ),
    S.RESOLVED: frozenset({S.CLOSED, S.NEW}),
    S.CLOSED: frozenset(),
    S.CANCELLED: frozenset(),
}

# Which (from, to) moves each role may make. Provider staff may make every allowed move.
# A client may cancel what nobody works on yet, confirm or reopen a resolution, and answer
# a question (leaving waiting_client back to where the ticket was, checked in the service).
_CLIENT_MOVES = frozenset(
    {
        (S.NEW, S.CANCELLED),
        (S.RESOLVED, S.CLOSED),
        (S.RESOLVED, S.NEW),
    }
)
_PARTNER_FIELD_MOVES = frozenset(
    {
        (S.ACCEPTED, S.EN_ROUTE),
        (S.ACCEPTED, S.ON_SITE),
        (S.EN_ROUTE, S.ON_SITE),
        (S.EN_ROUTE, S.ACCEPTED),
        (S.ON_SITE, S.RESOLVED),
        (S.ACCEPTED, S.RESOLVED),
    }
)
ROLE_MOVES: dict[str, frozenset[tuple[str, str]]] = {
    Role.CLIENT_MANAGER: _CLIENT_MOVES,
    Role.STORE_STAFF: _CLIENT_MOVES,
    # Accepting or handing back a job is the partner manager's call, not an engineer's.
    Role.PARTNER_MANAGER: _PARTNER_FIELD_MOVES | {(S.ASSIGNED, S.ACCEPTED), (S.ASSIGNED, S.NEW)},
    Role.PARTNER_ENGINEER: _PARTNER_FIELD_MOVES,
}

# Leaving these statuses for NEW means the partner is taken off the job.
UNASSIGNING_FROM = frozenset({S.ASSIGNED, S.ACCEPTED, S.EN_ROUTE})

# --- field dispatch -------------------------------------------------------------------------

# A partner's concurrent jobs: tickets it holds in these statuses (a live offer holds its
# ticket in ``assigned``: making an offer assigns the job).
ACTIVE_JOB_STATUSES = frozenset({S.ASSIGNED, S.ACCEPTED, S.EN_ROUTE, S.ON_SITE})
# A job can be offered while nobody works on it yet.
DISPATCHABLE_STATUSES = frozenset({S.NEW, S.ASSIGNED})
# The partner can be taken off the job (withdrawn) until its engineer is on site.
WITHDRAWABLE_STATUSES = frozenset({S.ASSIGNED, S.ACCEPTED, S.EN_ROUTE})

# Ranking weights; see ``tickets.dispatch.partners_rank`` for the formula. They sum to 1, so
# a score lies between 0 and 1.
RANK_WEIGHT_COMPLIANCE = 0.5
RANK_WEIGHT_LOAD = 0.3
RANK_WEIGHT_PRICE = 0.2
# OLA compliance counts the clocks stopped in this many days before now…
COMPLIANCE_WINDOW_DAYS = 90
# …smoothed by a prior worth this many clocks met out of this many (70 %), so that a partner
# with three clocks met is not ranked above one with 95 of 100.
COMPLIANCE_PRIOR_MET = 7
COMPLIANCE_PRIOR_TOTAL = 10

# A check-in farther than this from the store's coordinates is flagged for the dispatcher.
CHECK_IN_FAR_METRES = 500

_ = gettext_lazy
# The work report's checklist per equipment kind (clients.choices.EquipmentKind values):
# (key, question). Every key must be answered true or false.
VISIT_CHECKLISTS: dict[str, tuple[tuple[str, str], ...]] = {
    "cash_register": (
        ("power", _("Powers on and boots")),
        ("fiscal_drive", _("Fiscal drive registered and readable")),
        ("receipt_printer", _("Prints a receipt")),
        ("network", _("Sends data to the fiscal data operator")),
    ),
    "fiscal_printer": (
        ("power", _("Powers on")),
        ("fiscal_drive", _("Fiscal drive registered and readable")),
        ("test_receipt", _("Prints a test receipt")),
    ),
    "cctv": (
        ("power", _("Cameras and recorder power on")),
        ("image", _("Every camera shows a clear image")),
        ("recording", _("The recorder records and plays back")),
        ("network", _("Remote viewing works")),
    ),
    "self_checkout": (
        ("power", _("Powers on and boots")),
        ("scanner", _("Scanner reads a barcode")),
        ("scales", _("Bagging scale within tolerance")),
        ("payment", _("Card payment goes through")),
        ("receipt_printer", _("Prints a receipt")),
    ),
    "network": (
        ("power", _("Device powers on")),
        ("link", _("Links up on every port in use")),
        ("internet", _("The store reaches the internet and the head office")),
    ),
    "pos_terminal": (
        ("power", _("Powers on")),
        ("payment", _("A test payment goes through")),
        ("reconciliation", _("End-of-day reconciliation works")),
    ),
    "scales": (
        ("power", _("Powers on")),
        ("calibration", _("Weighs a reference weight within tolerance")),
        ("label_printer", _("Prints a label")),
    ),
    "other": (
        ("works", _("The equipment works as expected")),
        ("tested_with_staff", _("Tested together with the store staff")),
    ),
}

# The outbox topic (and Celery task name) of a ticket's escalation after new thresholds.
ESCALATE_TOPIC = "tickets.escalate"
