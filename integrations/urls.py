"""Page URLs: login, Settings → SIEM, the audit trail (the REST API lives in api_urls.py)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from integrations import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("settings/siem/", views.integration_list, name="siem-list"),
    path("settings/siem/new/", views.integration_new, name="siem-new"),
    path("settings/siem/new/preview", views.preview_new, name="siem-preview"),
    path("settings/siem/audit/", views.audit_trail, name="siem-audit"),
    path("settings/siem/filters/check", views.filter_check, name="siem-filter-check"),
    path("settings/siem/<uuid:pk>/", views.integration_detail, name="siem-detail"),
    path("settings/siem/<uuid:pk>/edit/", views.integration_edit, name="siem-edit"),
    path("settings/siem/<uuid:pk>/delete/", views.integration_delete, name="siem-delete"),
    path("settings/siem/<uuid:pk>/test", views.integration_test, name="siem-test"),
    path("settings/siem/<uuid:pk>/enabled", views.integration_enable, name="siem-enable"),
    path("settings/siem/<uuid:pk>/replay", views.dead_letters_replay, name="siem-replay"),
    path("settings/siem/<uuid:pk>/preview", views.preview_existing, name="siem-preview-existing"),
]
