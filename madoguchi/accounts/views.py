"""Account pages: sign-up and e-mail verification, login (password, and My Number
Card through an identity provider), the staff TOTP step, logout.

- ``login`` / ``staff_login``: e-mail and password. Authentication goes through
  ``django.contrib.auth.authenticate(request=…)`` so django-axes counts failures and
  locks (``accounts/locked_out.html``). Residents must have verified their address;
  staff continue to the TOTP step when ``STAFF_REQUIRE_2FA`` is set (``twofactor``).
- ``PasswordResetRequestView`` … ``PasswordResetCompleteView`` (``/accounts/password/
  reset/…``): Django's password reset views with the forms and mail of this app. The
  request page looks the same whether or not the address is registered; the mail is
  queued as a task (``services.password_reset_request``); the link is Django's
  one-time token, which ``PasswordResetConfirmView`` moves out of the URL into the
  session before showing the form.
- ``identity_start`` / ``identity_callback``: OpenID Connect with PKCE (see
  ``identity/base.py``); the callback checks ``state``, lets the plugin redeem the code
  and validate the ID token, and logs in the account of the matching resident.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from madoguchi.accounts import services, twofactor
from madoguchi.accounts.forms import EmailForm, LoginForm, PasswordSetForm, SignupForm, TotpForm
from madoguchi.accounts.identity import session as identity_session
from madoguchi.accounts.identity.base import IdentityConfigurationError, IdentityError, IdentityProvider
from madoguchi.accounts.identity.registry import register as identity_providers
from madoguchi.accounts.selectors import is_staff_account, user_needs_email
from madoguchi.core.models import User

logger = logging.getLogger(__name__)

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
SIGNUP_EMAIL_SESSION_KEY = "accounts_signup_email"
RESET_REQUEST_EMAIL_SESSION_KEY = "accounts_password_reset_email"


def _next_url(request: HttpRequest, default: str | None = None) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default or resolve_url(settings.LOGIN_REDIRECT_URL)


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


# -- login and logout ------------------------------------------------------------------
def _login(request: HttpRequest, *, staff_page: bool) -> HttpResponseBase:
    next_url = _next_url(request)
    form = LoginForm(request, data=request.POST if request.method == "POST" else None)
    unverified_email = ""
    if request.method == "POST" and form.is_valid():
        user = form.get_user()
        backend = getattr(user, "backend", MODEL_BACKEND)
        if is_staff_account(user):
            if settings.STAFF_REQUIRE_2FA:
                twofactor.pending_begin(request, user=user, next_url=next_url)
                return redirect("accounts:staff_totp")
            twofactor.complete_login(request, user=user, backend=backend, method="password", two_factor=False)
            return HttpResponseRedirect(next_url)
        if staff_page:
            form.add_error(
                None,
                ValidationError(
                    _("職員のアカウントではありません。区民の方は通常のログインページからログインしてください"),
                    code="not_staff",
                ),
            )
        elif user.email_verified_at is None:
            unverified_email = user.email
            form.add_error(
                None,
                ValidationError(
                    _(
                        "メールアドレスの確認が済んでいないため、ログインできません。"
                        "登録したメールアドレスに届いたメールのリンクを開いてから、もう一度ログインしてください"
                    ),
                    code="unverified",
                ),
            )
        else:
            twofactor.complete_login(request, user=user, backend=backend, method="password", two_factor=False)
            return HttpResponseRedirect(next_url)
    return render(
        request,
        "accounts/login.html",
        {
            "form": form,
            "next": next_url,
            "staff_page": staff_page,
            "providers": [] if staff_page else identity_providers.enabled(),
            "unverified_email": unverified_email,
        },
    )


@sensitive_post_parameters("password")
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponseBase:
    return _login(request, staff_page=False)


@sensitive_post_parameters("password")
@never_cache
@require_http_methods(["GET", "POST"])
def staff_login_view(request: HttpRequest) -> HttpResponseBase:
    return _login(request, staff_page=True)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)  # audited by signals.record_logout
    messages.success(request, _("ログアウトしました。"))
    return redirect(resolve_url(settings.LOGOUT_REDIRECT_URL or "/"))


# -- the staff TOTP step ---------------------------------------------------------------
def _code_failed(request: HttpRequest, *, user: User, state: dict[str, object], stage: str) -> HttpResponse | None:
    """Record a wrong code; end the pending login after too many."""
    services.staff_totp_failed_record(user=user, stage=stage)
    user_login_failed.send(sender=__name__, credentials={User.USERNAME_FIELD: user.email}, request=request)
    failures = int(str(state.get("failures", 0))) + 1
    if failures >= twofactor.MAX_CODE_FAILURES:
        twofactor.pending_clear(request)
        messages.error(request, _("確認コードの誤りが続いたため、ログインを中止しました。最初からやり直してください。"))
        return redirect("accounts:staff_login")
    state["failures"] = failures
    twofactor.pending_update(request, dict(state))
    return None


def _pending_or_restart(request: HttpRequest) -> tuple[User, dict[str, object]] | HttpResponse:
    pending = twofactor.pending_get(request)
    if pending is None:
        messages.error(request, _("ログインの有効時間が過ぎました。もう一度ログインしてください。"))
        return redirect("accounts:staff_login")
    return pending


@never_cache
@require_http_methods(["GET", "POST"])
def staff_totp(request: HttpRequest) -> HttpResponseBase:
    pending = _pending_or_restart(request)
    if isinstance(pending, HttpResponse):
        return pending
    user, state = pending
    if not (user.totp_secret and user.totp_confirmed_at):
        return redirect("accounts:staff_totp_setup")
    form = TotpForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        if twofactor.verify_code(user=user, secret=user.totp_secret, code=form.cleaned_data["code"]):
            twofactor.pending_clear(request)
            twofactor.complete_login(
                request, user=user, backend=str(state["backend"]), method="password+totp", two_factor=True
            )
            return HttpResponseRedirect(str(state["next"]))
        stop = _code_failed(request, user=user, state=state, stage="login")
        if stop is not None:
            return stop
        form.add_error(
            "code", _("確認コードが正しくありません。認証アプリに表示されている最新の6桁の数字を入力してください")
        )
    return render(request, "accounts/staff_totp.html", {"form": form})


@never_cache
@require_http_methods(["GET", "POST"])
def staff_totp_setup(request: HttpRequest) -> HttpResponseBase:
    pending = _pending_or_restart(request)
    if isinstance(pending, HttpResponse):
        return pending
    user, state = pending
    if user.totp_secret and user.totp_confirmed_at:
        return redirect("accounts:staff_totp")
    secret = str(state.get("enrol_secret") or "")
    if not secret:
        secret = twofactor.new_secret()
        state["enrol_secret"] = secret
        twofactor.pending_update(request, dict(state))
    form = TotpForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        if twofactor.verify_code(user=user, secret=secret, code=form.cleaned_data["code"]):
            services.staff_totp_enrol(user=user, secret=secret)
            twofactor.pending_clear(request)
            twofactor.complete_login(
                request, user=user, backend=str(state["backend"]), method="password+totp", two_factor=True
            )
            messages.success(request, _("二要素認証を設定しました。次回からはログインのたびに確認コードを入力します。"))
            return HttpResponseRedirect(str(state["next"]))
        stop = _code_failed(request, user=user, state=state, stage="enrol")
        if stop is not None:
            return stop
        form.add_error(
            "code", _("確認コードが正しくありません。QRコードを読み取った認証アプリの6桁の数字を入力してください")
        )
    uri = twofactor.provisioning_uri(user=user, secret=secret)
    return render(
        request,
        "accounts/staff_totp_setup.html",
        {
            "form": form,
            "qr_svg": twofactor.qr_svg(uri, title=_("認証アプリで読み取るQRコード")),
            "secret_grouped": twofactor.grouped(secret),
        },
    )


# -- sign-up and e-mail verification ---------------------------------------------------
@sensitive_post_parameters("password1", "password2")
@never_cache
@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponseBase:
    if request.user.is_authenticated:
        return redirect(resolve_url(settings.LOGIN_REDIRECT_URL))
    form = SignupForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        services.resident_signup(
            email=form.cleaned_data["email"], password=form.cleaned_data["password1"], base_url=_base_url(request)
        )
        request.session[SIGNUP_EMAIL_SESSION_KEY] = form.cleaned_data["email"]
        return redirect("accounts:signup_done")
    return render(request, "accounts/signup.html", {"form": form})


@require_GET
def signup_done(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accounts/signup_done.html",
        {"email": request.session.get(SIGNUP_EMAIL_SESSION_KEY, ""), "valid_days": services.VERIFY_MAX_AGE.days},
    )


@never_cache
@require_GET
def verify_email(request: HttpRequest, token: str) -> HttpResponse:
    try:
        user = services.email_verify(token=token)
    except services.VerificationError as exc:
        return render(request, "accounts/verify_failed.html", {"reason": exc.code}, status=400)
    if request.user.is_authenticated and request.user.pk == user.pk:
        messages.success(request, _("メールアドレスを確認しました。"))
        return redirect(resolve_url(settings.LOGIN_REDIRECT_URL))
    messages.success(request, _("メールアドレスを確認しました。ログインしてください。"))
    return redirect("accounts:login")


@never_cache
@require_http_methods(["GET", "POST"])
def resend_verification(request: HttpRequest) -> HttpResponse:
    form = EmailForm(
        request.POST if request.method == "POST" else None, initial={"email": request.GET.get("email", "")}
    )
    if request.method == "POST" and form.is_valid():
        services.verification_email_resend(email=form.cleaned_data["email"], base_url=_base_url(request))
        return render(
            request,
            "accounts/resend_done.html",
            {"email": form.cleaned_data["email"], "valid_days": services.VERIFY_MAX_AGE.days},
        )
    return render(request, "accounts/resend.html", {"form": form})


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def email_change(request: HttpRequest) -> HttpResponseBase:
    user = request.user
    if not isinstance(user, User) or is_staff_account(user):
        raise PermissionDenied("staff addresses are managed by an administrator")
    needs_email = user_needs_email(user)
    form = EmailForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        services.email_change_request(user=user, email=form.cleaned_data["email"], base_url=_base_url(request))
        return render(
            request,
            "accounts/email_sent.html",
            {"email": form.cleaned_data["email"], "valid_days": services.VERIFY_MAX_AGE.days},
        )
    return render(
        request,
        "accounts/email_change.html",
        {"form": form, "needs_email": needs_email, "next": _next_url(request)},
    )


# -- password reset --------------------------------------------------------------------
class PasswordResetRequestView(auth_views.PasswordResetView):
    """Ask for a reset link. Always continues to the same page, registered or not."""

    form_class = EmailForm  # type: ignore[assignment]
    template_name = "accounts/password_reset_form.html"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form: EmailForm) -> HttpResponse:  # type: ignore[override]
        services.password_reset_request(email=form.cleaned_data["email"], base_url=_base_url(self.request))
        self.request.session[RESET_REQUEST_EMAIL_SESSION_KEY] = form.cleaned_data["email"]
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["email"] = self.request.session.get(RESET_REQUEST_EMAIL_SESSION_KEY, "")
        return context


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Check the link, then ask for the new password. Only accounts that may reset
    by mail (``services.password_reset_can_use``) have a usable link."""

    form_class = PasswordSetForm  # type: ignore[assignment]
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def get_user(self, uidb64: str) -> User | None:
        user = super().get_user(uidb64)
        return user if isinstance(user, User) and services.password_reset_can_use(user) else None

    def form_valid(self, form: PasswordSetForm) -> HttpResponse:  # type: ignore[override]
        services.password_reset_complete(user=form.user, password=form.cleaned_data["new_password1"])
        self.request.session.pop(auth_views.INTERNAL_RESET_SESSION_TOKEN, None)
        self.request.session.pop(RESET_REQUEST_EMAIL_SESSION_KEY, None)
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


# -- identity providers (My Number Card) -----------------------------------------------
def _provider_or_404(provider_id: str) -> IdentityProvider:
    try:
        return identity_providers.get_enabled(provider_id)
    except KeyError:
        raise Http404("unknown identity provider") from None


def _callback_uri(request: HttpRequest, provider: IdentityProvider) -> str:
    return request.build_absolute_uri(reverse("accounts:identity_callback", args=[provider.identifier]))


def _identity_error(request: HttpRequest, provider: IdentityProvider, reason: str, status: int = 400) -> HttpResponse:
    return render(request, "accounts/identity_error.html", {"reason": reason, "provider": provider}, status=status)


@never_cache
@require_GET
def identity_start(request: HttpRequest, provider: str) -> HttpResponseBase:
    plugin = _provider_or_404(provider)
    flow = identity_session.flow_begin(request, provider=plugin.identifier, next_url=_next_url(request))
    try:
        url = plugin.authorization_url(
            request, flow.state, flow.nonce, flow.code_challenge, _callback_uri(request, plugin)
        )
    except IdentityConfigurationError as exc:
        logger.error("identity provider %s is not usable: %s", plugin.identifier, exc)
        return _identity_error(request, plugin, "unavailable", status=503)
    return HttpResponseRedirect(url)


@never_cache
@require_GET
def identity_callback(request: HttpRequest, provider: str) -> HttpResponseBase:
    plugin = _provider_or_404(provider)
    flow = identity_session.flow_pop(request, provider=plugin.identifier, state=request.GET.get("state", ""))
    if flow is None:
        return _identity_error(request, plugin, "state")
    if request.GET.get("error"):
        reason = "cancelled" if request.GET["error"] == "access_denied" else "failed"
        logger.info("identity provider %s returned error %s", plugin.identifier, request.GET["error"][:100])
        return _identity_error(request, plugin, reason)
    code = request.GET.get("code", "")
    if not code:
        return _identity_error(request, plugin, "failed")
    try:
        claims = plugin.exchange_code(request, code, flow.code_verifier, _callback_uri(request, plugin), flow.nonce)
    except IdentityError as exc:
        logger.warning("identity login with %s failed: %s", plugin.identifier, exc)
        return _identity_error(request, plugin, "failed")
    try:
        user = services.identity_account_resolve(claims=claims, current_user=request.user)
    except services.IdentityMatchError as exc:
        logger.info("identity login with %s not matched: %s", plugin.identifier, exc.code)
        return _identity_error(request, plugin, exc.code)
    twofactor.complete_login(
        request, user=user, backend=MODEL_BACKEND, method=f"identity:{plugin.identifier}", two_factor=False
    )
    if user_needs_email(user):
        messages.info(
            request,
            _("マイナンバーカードでログインしました。お知らせを受け取るメールアドレスを登録してください。"),
        )
        next_query = urlencode({"next": flow.next_url}) if flow.next_url else ""
        return redirect(f"{reverse('accounts:email_change')}?{next_query}" if next_query else "accounts:email_change")
    messages.success(request, _("マイナンバーカードでログインしました。"))
    return HttpResponseRedirect(flow.next_url or resolve_url(settings.LOGIN_REDIRECT_URL))
