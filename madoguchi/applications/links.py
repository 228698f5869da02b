"""Signed resume links for applicants without an account.

A form whose definition says ``anonymous: true`` can be applied for without an account:
the applicant gives an e-mail address first, and the draft is tied to it. The link
mailed to that address carries ``django.core.signing`` data (the application's public
id and the address) under its own salt; it expires after ``APPLICATIONS_DRAFT_DAYS``
days, the keeping period of a draft. Opening a valid link puts the application into
the browser's session (``SESSION_KEY``), which is what gives access to its pages
(``selectors.application_get_for_visitor``). Nothing else in the link is trusted: the
application must still exist, be without an account and have that address.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core import signing
from django.http import HttpRequest, HttpResponseBase
from django.urls import reverse

SALT = "madoguchi.applications.resume"
#: The session key holding the public ids of the applications opened without an account.
SESSION_KEY = "applications.anonymous"
SESSION_LIMIT = 20
DEFAULT_DRAFT_DAYS = 30


class ResumeLinkError(Exception):
    """A resume link that cannot be used; ``code`` is ``expired`` or ``invalid``."""

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(code)


def link_days() -> int:
    return int(getattr(settings, "APPLICATIONS_DRAFT_DAYS", DEFAULT_DRAFT_DAYS))


def resume_token(*, public_id: str, email: str) -> str:
    return signing.dumps({"a": str(public_id), "e": email.strip().lower()}, salt=SALT, compress=True)


def resume_path(*, public_id: str, email: str) -> str:
    return reverse("applications:resume", args=[resume_token(public_id=public_id, email=email)])


def read_resume_token(token: str) -> tuple[str, str]:
    """(public id, e-mail address) of a valid link; :class:`ResumeLinkError` for an
    expired or tampered one."""
    try:
        data: Any = signing.loads(token, salt=SALT, max_age=dt.timedelta(days=link_days()))
    except signing.SignatureExpired as exc:
        raise ResumeLinkError("expired") from exc
    except signing.BadSignature as exc:
        raise ResumeLinkError("invalid") from exc
    if not isinstance(data, dict) or not isinstance(data.get("a"), str) or not isinstance(data.get("e"), str):
        raise ResumeLinkError("invalid")
    return data["a"], data["e"]


def session_ids(session: Any) -> list[str]:
    value = session.get(SESSION_KEY, []) if session is not None else []
    return [str(v) for v in value] if isinstance(value, list) else []


def session_add(session: Any, public_id: str) -> None:
    """Remember in the browser session that this visitor holds the application."""
    ids = [i for i in session_ids(session) if i != str(public_id)]
    session[SESSION_KEY] = [str(public_id), *ids][:SESSION_LIMIT]


def applicant_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Logged in, or holding the application (``public_id``) in the browser session
    after opening its signed link; anyone else goes to the login page (the same for
    every id, so nothing tells whether an application exists)."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        public_id = kwargs.get("public_id")
        if public_id is not None and str(public_id) in session_ids(request.session):
            return view(request, *args, **kwargs)
        return redirect_to_login(request.get_full_path())

    return wrapper
