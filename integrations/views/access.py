"""Who may see and who may change: the page side of integrations/roles.py.

Reading needs ``integrations.view_integration`` (the "SIEM viewers" role); every write needs
``integrations.change_integration`` (the "SIEM admins" role), as in the REST API. Anonymous
users are sent to the login page; signed-in users without the permission get 403.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

VIEW_PERM = "integrations.view_integration"
MANAGE_PERM = "integrations.change_integration"
DELETE_PERM = "integrations.delete_integration"
AUDIT_PERM = "integrations.view_auditentry"

View = Callable[..., HttpResponse]


def require_perm(perm: str) -> Callable[[View], View]:
    """Log in first, then require ``perm`` (403 otherwise)."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.has_perm(perm):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorator


viewer_required = require_perm(VIEW_PERM)
manager_required = require_perm(MANAGE_PERM)


def page(request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    """Render a page with what the layout needs to know about the user's rights."""
    user = request.user
    context.setdefault("can_manage", user.has_perm(MANAGE_PERM))
    context.setdefault("can_view_audit", user.has_perm(AUDIT_PERM))
    context.setdefault("nav", "siem")
    return render(request, template, context, status=status)


def wants_json(request: HttpRequest) -> bool:
    """The page's JavaScript asks for JSON; plain form posts get a redirect."""
    return "application/json" in request.headers.get("Accept", "")
