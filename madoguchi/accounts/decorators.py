"""Access checks for staff views.

``@staff_required`` lets a request through only if it comes from a logged-in staff
account (``selectors.is_staff_account``) and, when ``settings.STAFF_REQUIRE_2FA`` is
true, from a session that passed the TOTP step. Anyone not logged in (or logged in
without the TOTP step) is sent to the staff login page; a resident gets 403.

``@staff_required(role="kacho", department="kumin")`` also requires that role or a
higher one (``core.StaffRole.RANK``), in that department if given. Finer checks
belong in the view's selector, with ``staff_roles_for(user)``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, overload

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase
from django.urls import reverse

from madoguchi.accounts.selectors import has_staff_role, is_staff_account, staff_roles_for
from madoguchi.accounts.twofactor import session_is_verified

__all__ = ["staff_request_allowed", "staff_required", "staff_roles_for"]

V = TypeVar("V", bound=Callable[..., HttpResponseBase])


def staff_request_allowed(request: HttpRequest) -> bool:
    """Logged in as staff, and through the TOTP step if that is required."""
    if not is_staff_account(request.user):
        return False
    return not settings.STAFF_REQUIRE_2FA or session_is_verified(request)


@overload
def staff_required(view: V) -> V: ...
@overload
def staff_required(*, role: str | None = None, department: str | None = None) -> Callable[[V], V]: ...


def staff_required(
    view: V | None = None, *, role: str | None = None, department: str | None = None
) -> V | Callable[[V], V]:
    def decorator(func: V) -> V:
        @wraps(func)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            user = request.user
            if user.is_authenticated and not is_staff_account(user):
                raise PermissionDenied("staff only")
            if not staff_request_allowed(request):
                return redirect_to_login(request.get_full_path(), reverse("accounts:staff_login"))
            if role is not None and not has_staff_role(user, role, department):
                raise PermissionDenied("role required")
            return func(request, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    if view is not None:
        return decorator(view)
    return decorator
