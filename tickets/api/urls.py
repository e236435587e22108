from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from tickets.api import views

router = SimpleRouter(use_regex_path=False)
router.register("tickets", views.TicketViewSet, basename="ticket")
router.register("offers", views.OfferViewSet, basename="offer")
router.register("visits", views.VisitViewSet, basename="visit")

_list_create = {"get": "list", "post": "create"}

urlpatterns = [
    *router.urls,
    path(
        "tickets/<int:ticket_pk>/comments/",
        views.TicketCommentViewSet.as_view(_list_create),
        name="ticket-comments",
    ),
    path(
        "tickets/<int:ticket_pk>/events/",
        views.TicketEventViewSet.as_view({"get": "list"}),
        name="ticket-events",
    ),
    path(
        "tickets/<int:ticket_pk>/attachments/",
        views.TicketAttachmentViewSet.as_view(_list_create),
        name="ticket-attachments",
    ),
    path(
        "tickets/<int:ticket_pk>/offers/",
        views.TicketOfferViewSet.as_view(_list_create),
        name="ticket-offers",
    ),
    path(
        "tickets/<int:ticket_pk>/visits/",
        views.TicketVisitViewSet.as_view({"get": "list"}),
        name="ticket-visits",
    ),
    path(
        "attachments/<int:pk>/download/",
        views.AttachmentDownloadView.as_view(),
        name="attachment-download",
    ),
]
