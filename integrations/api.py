"""REST API (DESIGN.md §6). Thin: parse, check permission, call a service, render."""

from __future__ import annotations

import zlib
from typing import Any

import orjson
from django.conf import settings
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from delivery import selectors as delivery_selectors
from delivery.services import event_emit
from integrations import selectors, services
from integrations.models import Integration


class _Perm(BasePermission):
    read_perm = "integrations.view_integration"
    write_perm = "integrations.change_integration"

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        needed = self.read_perm if request.method in SAFE_METHODS else self.write_perm
        return bool(user.has_perm(needed))


class IntegrationPermission(_Perm):
    """Read: view_integration. Write: change_integration (the admin role)."""


class AuditPermission(_Perm):
    read_perm = write_perm = "integrations.view_auditentry"


class IngestPermission(_Perm):
    read_perm = write_perm = "delivery.add_event"


def _limit(request: Request, default: int = 100, maximum: int = 1000) -> int:
    try:
        return max(1, min(maximum, int(request.query_params.get("limit", default))))
    except ValueError:
        raise exceptions.ValidationError({"limit": "must be an integer"}) from None


def _body(request: Request) -> dict[str, Any]:
    data = request.data
    if not isinstance(data, dict):
        raise exceptions.ValidationError({"body": "must be a JSON object"})
    return data


class IntegrationListView(APIView):
    permission_classes = [IntegrationPermission]

    @extend_schema(responses=OpenApiTypes.OBJECT, summary="List integrations (secrets never returned)")
    def get(self, request: Request) -> Response:
        pending = delivery_selectors.pending_counts()
        return Response([selectors.integration_public(i, pending=pending.get(str(i.pk), 0))
                         for i in selectors.integration_list().select_related("created_by")])

    @extend_schema(request=OpenApiTypes.OBJECT, responses={201: OpenApiTypes.OBJECT}, summary="Create an integration")
    def post(self, request: Request) -> Response:
        body = _body(request)
        unknown = set(body) - {"integration_type", "name", "config", "filters", "enabled"}
        if unknown:
            raise exceptions.ValidationError({k: "unknown field" for k in sorted(unknown)})
        integration = services.integration_create(
            actor=request.user, integration_type=body.get("integration_type"), name=body.get("name"),
            config=body.get("config"), filters=body.get("filters"), enabled=body.get("enabled", True),
        )
        return Response(selectors.integration_public(integration, pending=0), status=status.HTTP_201_CREATED)


class IntegrationDetailView(APIView):
    permission_classes = [IntegrationPermission]

    def _get(self, pk: Any) -> Integration:
        return get_object_or_404(Integration, pk=pk)

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, pk: Any) -> Response:
        integration = self._get(pk)
        return Response(selectors.integration_public(integration, pending=delivery_selectors.pending_count(pk)))

    @extend_schema(request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT)
    def put(self, request: Request, pk: Any) -> Response:
        return self._update(request, pk, partial=False)

    @extend_schema(request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT)
    def patch(self, request: Request, pk: Any) -> Response:
        return self._update(request, pk, partial=True)

    def _update(self, request: Request, pk: Any, *, partial: bool) -> Response:
        integration = services.integration_update(
            actor=request.user, integration=self._get(pk), data=_body(request), partial=partial
        )
        return Response(selectors.integration_public(integration, pending=delivery_selectors.pending_count(pk)))

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: Any) -> Response:
        services.integration_delete(actor=request.user, integration=self._get(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class IntegrationTestView(APIView):
    permission_classes = [IntegrationPermission]

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT, summary="Send a real test event now")
    def post(self, request: Request, pk: Any) -> Response:
        integration = get_object_or_404(Integration, pk=pk)
        success, message = services.integration_test(actor=request.user, integration=integration)
        integration.refresh_from_db()
        return Response({"success": success, "message": message, "status": integration.status,
                         "error_count": integration.error_count})


class IntegrationDeliveriesView(APIView):
    permission_classes = [IntegrationPermission]

    @extend_schema(responses=OpenApiTypes.OBJECT, summary="Delivery attempt log, newest first")
    def get(self, request: Request, pk: Any) -> Response:
        get_object_or_404(Integration, pk=pk)
        rows = delivery_selectors.attempts_for_integration(pk, limit=_limit(request))
        return Response([
            {"id": a.pk, "time": a.created_at, "duration_ms": a.duration_ms, "status_code": a.status_code,
             "outcome": a.outcome, "events": a.events, "delivered": a.delivered, "dead": a.dead,
             "bytes": a.bytes, "error": a.error, "test": a.is_test}
            for a in rows
        ])


def dead_letter_public(dead: Any) -> dict[str, Any]:
    return {
        "id": dead.pk, "integration_id": str(dead.integration_id) if dead.integration_id else None,
        "connector": dead.connector, "error": dead.error, "attempts": dead.attempts,
        "created_at": dead.created_at, "replayed_at": dead.replayed_at, "replay_count": dead.replay_count,
        "event": dead.event.as_dict(),
    }


class DeadLetterListView(APIView):
    permission_classes = [IntegrationPermission]

    @extend_schema(responses=OpenApiTypes.OBJECT, summary="Dead letters (?integration_id=, ?include_replayed=true)")
    def get(self, request: Request) -> Response:
        integration_id = request.query_params.get("integration_id") or None
        if integration_id:
            get_object_or_404(Integration, pk=integration_id)
        include = request.query_params.get("include_replayed", "").lower() in ("1", "true", "yes")
        rows = delivery_selectors.dead_letters(integration_id=integration_id, include_replayed=include)
        return Response([dead_letter_public(d) for d in rows[: _limit(request)]])


class DeadLetterReplayView(APIView):
    permission_classes = [IntegrationPermission]

    @extend_schema(request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT,
                   summary="Replay {ids: [...]}, {integration_id}, or all")
    def post(self, request: Request) -> Response:
        body = request.data if request.data else {}
        if not isinstance(body, dict):
            raise exceptions.ValidationError({"body": "must be a JSON object"})
        ids = body.get("ids")
        if ids is not None and (not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids)):
            raise exceptions.ValidationError({"ids": "must be a list of dead letter ids (integers)"})
        integration_id = body.get("integration_id")
        if integration_id is not None:
            get_object_or_404(Integration, pk=integration_id)
            integration_id = str(integration_id)
        count = services.dead_letters_replay(actor=request.user, ids=ids, integration_id=integration_id)
        return Response({"replayed": count})


class AuditListView(APIView):
    permission_classes = [AuditPermission]

    @extend_schema(responses=OpenApiTypes.OBJECT, summary="Audit trail, newest first")
    def get(self, request: Request) -> Response:
        rows = selectors.audit_list(target_id=request.query_params.get("target_id"),
                                    action=request.query_params.get("action"))
        return Response([selectors.audit_public(e) for e in rows[: _limit(request)]])


class EventIngestView(APIView):
    """POST one event or an array; JSON or gzip JSON. 202 only after the events are committed."""

    permission_classes = [IngestPermission]
    parser_classes: list[Any] = []

    @extend_schema(request=OpenApiTypes.OBJECT, responses={202: OpenApiTypes.OBJECT, 413: OpenApiTypes.OBJECT})
    def post(self, request: Request) -> Response:
        limit = settings.SIEMHUB_INGEST_MAX_BYTES
        too_big = Response({"error": f"request body over {limit} bytes; send smaller batches"},
                           status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > limit:
            return too_big
        raw = request._request.read(limit + 1)
        if len(raw) > limit:
            return too_big
        encoding = request.META.get("HTTP_CONTENT_ENCODING", "").strip().lower()
        if encoding in ("gzip", "x-gzip"):
            inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            try:
                raw = inflater.decompress(raw, limit + 1)
            except zlib.error:
                raise exceptions.ParseError("body is not valid gzip") from None
            if len(raw) > limit or inflater.unconsumed_tail:
                return too_big
        elif encoding not in ("", "identity"):
            return Response({"error": f"unsupported Content-Encoding {encoding!r}; use gzip or none"},
                            status=status.HTTP_415_UNSUPPORTED_MEDIA_TYPE)
        try:
            payload = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise exceptions.ParseError(f"malformed JSON: {exc}") from None
        events = payload if isinstance(payload, list) else [payload]
        if not events:
            raise exceptions.ValidationError({"events": "the array is empty"})
        if len(events) > settings.SIEMHUB_INGEST_MAX_EVENTS:
            return Response({"error": f"more than {settings.SIEMHUB_INGEST_MAX_EVENTS} events in one request"},
                            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        ids = event_emit(events)
        return Response({"accepted": len(ids), "ids": ids}, status=status.HTTP_202_ACCEPTED)

