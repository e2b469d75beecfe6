"""JSON error bodies for every API failure: ``{"error": "...", "errors"?: {...}}``; never a 500 page."""

from __future__ import annotations

import logging
from typing import Any

from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_handler

from delivery.normalize import EventValidationError
from integrations.validation import IntegrationValidationError

logger = logging.getLogger(__name__)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, IntegrationValidationError):
        return Response({"error": "invalid integration", "errors": exc.errors}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, EventValidationError):
        return Response({"error": "invalid events", "problems": exc.problems}, status=status.HTTP_400_BAD_REQUEST)
    response = drf_handler(exc, context)
    if response is None:
        logger.exception("unhandled API error")
        return Response({"error": "internal error"}, status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"error": "invalid request", "errors": response.data}
    elif isinstance(response.data, dict) and "detail" in response.data:
        response.data = {"error": str(response.data["detail"])}
    return response
