from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from madoguchi.core.audit import reset_request_ip, set_request_ip


def client_ip(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))


class AuditContextMiddleware:
    """Makes the client address available to ``audit_record`` for this request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = set_request_ip(client_ip(request))
        try:
            return self.get_response(request)
        finally:
            reset_request_ip(token)
