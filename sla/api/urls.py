from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from sla.api import views

router = SimpleRouter(use_regex_path=False)
router.register("sla-policies", views.SlaPolicyViewSet, basename="sla-policy")
router.register("sla-clocks", views.SlaClockViewSet, basename="sla-clock")

urlpatterns = [
    *router.urls,
    path("sla/preview/", views.SlaPreviewView.as_view(), name="sla-preview"),
    path("sla/recompute/", views.SlaRecomputeView.as_view(), name="sla-recompute"),
]
