"""The calling user's own notifications and notification preferences.

Rows belong to a person, not to an organisation: every query is the request user's
(``servicedesk.selectors.notification_list``), so another user's notification is a 404.
Writes go through ``servicedesk.notifications``, the same functions the HTML pages call.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from servicedesk.api.serializers import (
    MarkedReadSerializer,
    NotificationPreferenceSerializer,
    NotificationSerializer,
)
from servicedesk.api.viewsets import ScopedViewSetMixin
from servicedesk.models import Notification, NotificationPreference, User
from servicedesk.notifications import (
    PREFERENCE_FIELDS,
    notification_preferences_set,
    notifications_mark_read,
    preference_of,
)
from servicedesk.selectors import notification_list


class NotificationFilterSet(django_filters.FilterSet):
    unread = django_filters.BooleanFilter(
        field_name="read_at", lookup_expr="isnull", label=_("Unread only (true) or read (false)")
    )
    kind = django_filters.CharFilter(label=_("Kind, e.g. sla_breach"))
    urgent = django_filters.BooleanFilter()
    ticket = django_filters.NumberFilter(field_name="ticket_id", label=_("Ticket id"))

    class Meta:
        model = Notification
        fields: list[str] = []


@extend_schema_view(
    list=extend_schema(summary="Your notifications, newest first"),
    retrieve=extend_schema(summary="One of your notifications"),
)
class NotificationViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """In-app notifications of the calling user (SLA warnings and breaches, offers…)."""

    serializer_class = NotificationSerializer
    filterset_class = NotificationFilterSet
    ordering_fields = ["created_at", "id"]

    def get_queryset(self) -> QuerySet[Notification]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no caller
            return Notification.objects.none()
        return notification_list(user=self.request.user)

    @extend_schema(
        summary="Mark one notification read",
        description=_("Idempotent: a notification already read keeps its first read time."),
        request=None,
        responses={200: NotificationSerializer},
    )
    @action(detail=True, methods=["post"], url_path="read")
    def read(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        notification = self.get_object()
        notifications_mark_read(user=request.user, notification_id=notification.pk)
        notification.refresh_from_db(fields=["read_at"])
        return Response(NotificationSerializer(notification).data)

    @extend_schema(
        summary="Mark all your notifications read",
        request=None,
        responses={200: MarkedReadSerializer},
    )
    @action(detail=False, methods=["post"], url_path="read-all", filterset_class=None)
    def read_all(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        marked = notifications_mark_read(user=request.user)
        return Response(MarkedReadSerializer({"marked": marked}).data)


def _preferences_body(user: User, preference: NotificationPreference) -> dict:
    values = {name: getattr(preference, name) for name in PREFERENCE_FIELDS}
    return NotificationPreferenceSerializer({**values, "time_zone": user.time_zone}).data


class NotificationPreferencesView(APIView):
    """The calling user's notification preferences: what also comes by e-mail, quiet hours
    and (provider staff) being on duty. In-app notifications always arrive."""

    @extend_schema(
        summary="Your notification preferences",
        responses={200: NotificationPreferenceSerializer},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(_preferences_body(request.user, preference_of(request.user)))

    @extend_schema(
        summary="Change your notification preferences",
        description=_(
            "Fields left out keep their value. Quiet hours need both ends (or both null); "
            "`on_duty` is for provider staff only. Refusals are 400 with field messages, "
            "and nothing is saved."
        ),
        request=NotificationPreferenceSerializer,
        responses={200: NotificationPreferenceSerializer},
    )
    def put(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        given = NotificationPreferenceSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        preference = notification_preferences_set(user=request.user, **given.validated_data)
        return Response(_preferences_body(request.user, preference))
