from __future__ import annotations

from rest_framework.routers import SimpleRouter

from partners.api import views

router = SimpleRouter(use_regex_path=False)
router.register("partners", views.PartnerViewSet, basename="partner")

urlpatterns = router.urls
