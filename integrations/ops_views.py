"""``/healthz`` (liveness + database readiness) and ``/metrics`` (Prometheus text format)."""

from __future__ import annotations

from django.db import connection
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from delivery.models import DeadLetter, Delivery, Sender
from integrations.models import Integration


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return JsonResponse({"status": "ok", "database": "ok"})
    except Exception:
        return JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    integrations = list(Integration.objects.all())
    pending = {r["integration_id"]: r["n"] for r in Delivery.objects.values("integration_id").annotate(n=Count("id"))}
    dead = {
        r["integration_id"]: r["n"]
        for r in DeadLetter.objects.filter(replayed_at__isnull=True).values("integration_id").annotate(n=Count("id"))
    }
    senders = {s.integration_id: s for s in Sender.objects.all()}
    series: dict[str, tuple[str, str, list[str]]] = {
        "siemhub_pending_events": ("gauge", "Events waiting for delivery", []),
        "siemhub_dead_letters": ("gauge", "Dead letters not yet replayed", []),
        "siemhub_delivered_events_total": ("counter", "Events delivered", []),
        "siemhub_dead_lettered_events_total": ("counter", "Events moved to the dead letter store", []),
        "siemhub_retried_events_total": ("counter", "Event deliveries that failed and were retried", []),
        "siemhub_requests_total": ("counter", "Requests sent to destinations", []),
        "siemhub_integration_error_count": ("gauge", "Consecutive failed deliveries", []),
        "siemhub_integration_healthy": ("gauge", "1 unless the integration's status is error", []),
        "siemhub_integration_enabled": ("gauge", "1 when the integration is enabled", []),
    }
    for integ in integrations:
        labels = f'integration="{integ.pk}",name="{_label(integ.name)}",type="{_label(integ.integration_type)}"'
        sender = senders.get(integ.pk)
        values = {
            "siemhub_pending_events": pending.get(integ.pk, 0),
            "siemhub_dead_letters": dead.get(integ.pk, 0),
            "siemhub_delivered_events_total": sender.delivered_total if sender else 0,
            "siemhub_dead_lettered_events_total": sender.dead_total if sender else 0,
            "siemhub_retried_events_total": sender.failed_total if sender else 0,
            "siemhub_requests_total": sender.requests_total if sender else 0,
            "siemhub_integration_error_count": integ.error_count,
            "siemhub_integration_healthy": 0 if integ.status == "error" else 1,
            "siemhub_integration_enabled": 1 if integ.enabled else 0,
        }
        for name, value in values.items():
            series[name][2].append(f"{name}{{{labels}}} {value}")
    lines = []
    for name, (kind, help_text, samples) in series.items():
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", *samples]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; version=0.0.4; charset=utf-8")



