"""``Authorization: Bearer <api key>`` for the REST API; the key acts as its user."""

from __future__ import annotations

from typing import Any

from rest_framework import authentication, exceptions


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Any) -> tuple[Any, Any] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer":
            return None
        from integrations.services import api_key_authenticate

        row = api_key_authenticate(key.strip())
        if row is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        return row.user, row

    def authenticate_header(self, request: Any) -> str:
        return self.keyword
