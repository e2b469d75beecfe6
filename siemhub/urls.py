from django.contrib import admin
from django.urls import include, path

from integrations import ops_views

urlpatterns = [
    path("v1/", include("integrations.api_urls")),
    path("healthz", ops_views.healthz, name="healthz"),
    path("metrics", ops_views.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("", include("integrations.urls")),  # pages: login/logout, / → Settings → SIEM
]
