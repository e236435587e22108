"""The tables the audit trigger watches (audit/migrations), as the page's filter offers them."""

from django.utils.translation import gettext_lazy as _

WATCHED_TABLES = {
    "tickets_ticket": _("Tickets"),
    "clients_clientcontract": _("Client contracts"),
    "partners_partnercontract": _("Partner contracts"),
    "partners_certification": _("Partner certifications"),
    "sla_slapolicy": _("SLA policies"),
    "calendars_businesscalendar": _("Business calendars"),
    "calendars_workinginterval": _("Working hours"),
    "calendars_calendarexception": _("Calendar exceptions"),
    "servicedesk_membership": _("Memberships"),
    "servicedesk_apitoken": _("API tokens"),
    "servicedesk_user": _("Users"),
}
