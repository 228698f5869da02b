"""The resident portal (マイページ): home, inbox, profile and consents.

Every page needs a logged-in resident account; staff accounts get 403 (staff work in
the staff screens, and a resident's portal is not a place to look at residents).
Each view reads only the logged-in account's data, through ``selectors`` or the
notifications selectors and services that take the account as an argument, so another
resident's message is a 404, never a 403 that would reveal it exists. Writes are POST
only and go through ``services`` (audited).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from madoguchi.accounts.identity.registry import register as identity_providers
from madoguchi.accounts.selectors import is_staff_account
from madoguchi.core.models import User
from madoguchi.guide.selectors import checklist_list_for_owner
from madoguchi.notifications.models import InboxMessage
from madoguchi.notifications.selectors import inbox_messages_for_user, inbox_unread_count
from madoguchi.notifications.services import inbox_mark_all_read, inbox_mark_read
from madoguchi.portal import hooks, selectors, services
from madoguchi.portal.forms import ContactForm
from madoguchi.portal.purposes import PURPOSES

INBOX_PAGE_SIZE = 20
HOME_CHECKLISTS = 3

View = Callable[..., HttpResponseBase]


def resident_required(view: View) -> View:
    """Logged in (else to the login page) as a resident account (else 403)."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if is_staff_account(request.user):
            raise PermissionDenied("the resident portal is for resident accounts")
        return view(request, *args, **kwargs)

    return wrapper


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - guaranteed by resident_required
    return user


@resident_required
def home(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    resident = selectors.resident_for_user(user)
    checklists = checklist_list_for_owner(owner=user)
    statuses = selectors.consent_statuses(user)
    return render(
        request,
        "portal/home.html",
        {
            "resident": resident,
            "display_name": resident.full_name if resident is not None else (user.display_name or user.email),
            # Filled by the applications app through hooks.set_applications_provider.
            "applications": hooks.applications_for(user),
            # Sections of other apps (appointments…) through hooks.add_home_section_provider.
            "home_sections": hooks.home_sections_for(user),
            "checklists": checklists[:HOME_CHECKLISTS],
            "checklist_count": checklists.count(),
            "unread_count": inbox_unread_count(user),
            "consents_given": sum(1 for s in statuses if s.given),
            "consents_total": len(statuses),
        },
    )


# -- inbox -----------------------------------------------------------------------------
@resident_required
def inbox_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    page = Paginator(inbox_messages_for_user(user), INBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "portal/inbox_list.html",
        {"page": page, "inbox_messages": page.object_list, "unread_count": inbox_unread_count(user)},
    )


def _safe_link(request: HttpRequest, url: str) -> str:
    """The message's link if it stays on this site (or is a plain https link), else ''."""
    if not url:
        return ""
    if url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return url
    return url if url.startswith("https://") else ""


@resident_required
def inbox_detail(request: HttpRequest, message_id: int) -> HttpResponse:
    """Opening a message marks it read."""
    try:
        message = inbox_mark_read(user=_user(request), message_id=message_id)
    except InboxMessage.DoesNotExist:
        raise Http404("message not found") from None
    return render(
        request, "portal/inbox_detail.html", {"message": message, "link": _safe_link(request, message.link_url)}
    )


@resident_required
@require_POST
def inbox_read_all(request: HttpRequest) -> HttpResponseBase:
    count = inbox_mark_all_read(user=_user(request))
    if count:
        messages.success(request, _("すべてのお知らせを既読にしました。"))
    return redirect("portal:inbox")


# -- profile ---------------------------------------------------------------------------
@resident_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponseBase:
    user = _user(request)
    resident = selectors.resident_for_user(user)
    initial = {"preferred_language": user.preferred_language, "phone": resident.phone if resident else ""}
    if request.method == "POST":
        form = ContactForm(request.POST, initial=initial, with_phone=resident is not None)
        if form.is_valid():
            changed = services.profile_contact_update(
                user=user,
                phone=form.cleaned_data["phone"] if resident is not None else None,
                preferred_language=form.cleaned_data["preferred_language"],
            )
            messages.success(request, _("連絡先を保存しました。") if changed else _("変更はありませんでした。"))
            response = redirect("portal:profile")
            if "preferred_language" in changed:
                response.set_cookie(
                    settings.LANGUAGE_COOKIE_NAME,
                    user.preferred_language,
                    max_age=settings.LANGUAGE_COOKIE_AGE,
                    path=settings.LANGUAGE_COOKIE_PATH,
                    domain=settings.LANGUAGE_COOKIE_DOMAIN,
                    secure=settings.LANGUAGE_COOKIE_SECURE,
                    httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                    samesite=settings.LANGUAGE_COOKIE_SAMESITE,
                )
            return response
        status = 400
    else:
        form = ContactForm(initial=initial, with_phone=resident is not None)
        status = 200
    context = {
        "resident": resident,
        "members": selectors.household_members(resident) if resident is not None else [],
        "form": form,
        "providers": identity_providers.enabled() if resident is None else [],
        "link_next": reverse("portal:profile"),
    }
    return render(request, "portal/profile.html", context, status=status)


# -- consents --------------------------------------------------------------------------
@resident_required
def consent_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    return render(
        request,
        "portal/consents.html",
        {"statuses": selectors.consent_statuses(user), "history": selectors.consent_history(user)[:50]},
    )


def _purpose(request: HttpRequest) -> str:
    purpose = request.POST.get("purpose", "")
    if purpose not in PURPOSES:
        raise Http404("unknown purpose")
    return purpose


@resident_required
@require_POST
def consent_grant(request: HttpRequest) -> HttpResponseBase:
    purpose = _purpose(request)
    services.consent_grant(user=_user(request), purpose=purpose)
    messages.success(request, _("「%(purpose)s」に同意しました。") % {"purpose": PURPOSES[purpose].label})
    return redirect("portal:consents")


@resident_required
@require_POST
def consent_withdraw(request: HttpRequest) -> HttpResponseBase:
    purpose = _purpose(request)
    services.consent_withdraw(user=_user(request), purpose=purpose)
    messages.success(request, _("「%(purpose)s」への同意を撤回しました。") % {"purpose": PURPOSES[purpose].label})
    return redirect("portal:consents")
