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
