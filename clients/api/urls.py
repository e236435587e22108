from __future__ import annotations

from rest_framework.routers import SimpleRouter

from clients.api import views

router = SimpleRouter(use_regex_path=False)
router.register("clients", views.ClientViewSet, basename="client")
router.register("regions", views.RegionViewSet, basename="region")
router.register("stores", views.StoreViewSet, basename="store")
router.register("equipment", views.EquipmentViewSet, basename="equipment")
router.register("client-contracts", views.ClientContractViewSet, basename="client-contract")

urlpatterns = router.urls
