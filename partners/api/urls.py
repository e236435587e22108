from __future__ import annotations

from rest_framework.routers import SimpleRouter

from partners.api import views

router = SimpleRouter(use_regex_path=False)
router.register("partners", views.PartnerViewSet, basename="partner")
router.register("coverage", views.CoverageViewSet, basename="coverage")
router.register("certifications", views.CertificationViewSet, basename="certification")
router.register("partner-contracts", views.PartnerContractViewSet, basename="partner-contract")

urlpatterns = router.urls
