from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from integrations import api

urlpatterns = [
    path("settings/siem", api.IntegrationListView.as_view(), name="api-integrations"),
    path("settings/siem/dead-letters", api.DeadLetterListView.as_view(), name="api-dead-letters"),
    path("settings/siem/dead-letters/replay", api.DeadLetterReplayView.as_view(), name="api-dead-letters-replay"),
    path("settings/siem/<uuid:pk>", api.IntegrationDetailView.as_view(), name="api-integration"),
    path("settings/siem/<uuid:pk>/test", api.IntegrationTestView.as_view(), name="api-integration-test"),
    path("settings/siem/<uuid:pk>/deliveries", api.IntegrationDeliveriesView.as_view(), name="api-integration-deliveries"),
    path("events", api.EventIngestView.as_view(), name="api-events"),
    path("audit", api.AuditListView.as_view(), name="api-audit"),
    path("schema", SpectacularAPIView.as_view(), name="api-schema"),
]
