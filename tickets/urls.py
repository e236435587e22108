"""HTML routes for the desk: the home page, the ticket list, the ticket page and its actions."""

from django.urls import path

from tickets import views

urlpatterns = [
    path("", views.home, name="home"),
    path("tickets/", views.ticket_list, name="ticket_list"),
    path("tickets/new/", views.ticket_create, name="ticket_create"),
    path("tickets/new/equipment/", views.equipment_options, name="equipment_options"),
    path("tickets/people/", views.people_options, name="people_options"),
    path("tickets/<int:ticket_id>/", views.ticket_detail, name="ticket_detail"),
    path("tickets/<int:ticket_id>/clocks/", views.ticket_clocks, name="ticket_clocks"),
    path("tickets/<int:ticket_id>/comments/", views.ticket_comment, name="ticket_comment"),
    path("tickets/<int:ticket_id>/status/", views.ticket_transition, name="ticket_transition"),
    path("tickets/<int:ticket_id>/assign/", views.ticket_assign, name="ticket_assign"),
    path("tickets/<int:ticket_id>/files/", views.ticket_attach, name="ticket_attach"),
    path("files/<int:attachment_id>/", views.attachment_download, name="attachment_download"),
]

# --- field dispatch: the dispatcher's board, the partner portal, the engineer's screens -----
from tickets import board_views, engineer_views, portal_views  # noqa: E402

urlpatterns += [
    path("dispatch/", board_views.board, name="dispatch_board"),
    path("dispatch/tickets/<int:ticket_id>/", board_views.ranking, name="dispatch_ranking"),
    path("dispatch/tickets/<int:ticket_id>/offer/", board_views.offer, name="dispatch_offer"),
    path("dispatch/alerts/read/", board_views.alert_read, name="dispatch_alerts_read"),
    path(
        "dispatch/alerts/<int:alert_id>/read/", board_views.alert_read, name="dispatch_alert_read"
    ),
    path("portal/", portal_views.portal, name="portal"),
    path(
        "portal/offers/<int:offer_id>/accept/",
        portal_views.offer_accept,
        name="portal_offer_accept",
    ),
    path(
        "portal/offers/<int:offer_id>/decline/",
        portal_views.offer_decline,
        name="portal_offer_decline",
    ),
    path("field/", engineer_views.my_jobs, name="field_jobs"),
    path("field/<int:ticket_id>/", engineer_views.job, name="field_job"),
    path("field/<int:ticket_id>/eta/", engineer_views.set_eta, name="field_eta"),
    path("field/<int:ticket_id>/en-route/", engineer_views.en_route, name="field_en_route"),
    path("field/<int:ticket_id>/check-in/", engineer_views.check_in, name="field_check_in"),
    path("field/<int:ticket_id>/check-out/", engineer_views.check_out, name="field_check_out"),
    path("field/<int:ticket_id>/report/", engineer_views.report, name="field_report"),
    path("field/<int:ticket_id>/photo/", engineer_views.photo, name="field_photo"),
    path("field/<int:ticket_id>/sign-off/", engineer_views.sign_off, name="field_sign_off"),
    path("field/<int:ticket_id>/resolve/", engineer_views.resolve, name="field_resolve"),
]
