"""Writes about accounts: sign-up and e-mail verification, login records, TOTP
enrolment, and linking a My Number Card identity to a resident account.

Sign-up flow: ``resident_signup`` creates an unverified resident account and mails a
link to ``/accounts/verify/<token>/``. The token is ``django.core.signing`` data
(``{"u": user id, "e": address}``, salted, timestamped) accepted for
``VERIFY_MAX_AGE`` (3 days). ``email_verify`` sets ``email_verified_at`` (and, for a
change of address, the new address). Password login is refused until then.

Password reset flow: ``password_reset_request`` mails a link to
``/accounts/password/reset/<uid>/<token>/`` to a resident account that logs in with a
password. The token is Django's ``default_token_generator`` (valid for
``PASSWORD_RESET_TIMEOUT``; it stops working once the password, the address or the last
login changes, so it is used once). Staff accounts, and card accounts without a
password, get a mail saying how to proceed instead; unknown addresses get nothing, and
the page shown is the same in every case. ``password_reset_complete`` sets the new
password (which also ends the account's other sessions).

Every state change is audited (``core.audit.audit_record``) in the same transaction;
mail is queued as a task in that transaction too (``tasks.send_email``), which the
worker hands to the notifications outbox for delivery with retries.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import ngettext

from madoguchi.accounts import tasks
from madoguchi.accounts.identity.base import IdentityClaims
from madoguchi.accounts.selectors import (
    PLACEHOLDER_EMAIL_DOMAIN,
    is_staff_account,
    resident_match_for_claims,
    user_get_by_email,
    user_needs_email,
)
from madoguchi.core.audit import audit_record
from madoguchi.core.models import User

VERIFY_SALT = "madoguchi.accounts.email-verify"
VERIFY_MAX_AGE = dt.timedelta(days=3)
RESEND_INTERVAL_SECONDS = 60
PASSWORD_RESET_INTERVAL_SECONDS = 60


class VerificationError(Exception):
    """A verification link that cannot be used. ``code``: ``expired``, ``invalid`` or
    ``taken`` (the address now belongs to another account)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


class IdentityMatchError(Exception):
    """The identity could not be tied to an account. ``code``: ``incomplete`` (the
    provider sent no 基本4情報), ``no_match``, ``ambiguous``, ``staff`` (the matched
    account is a staff account) or ``other_resident`` (the logged-in account belongs
    to someone else)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


class PasswordResetNotAllowed(Exception):
    """The account does not set its password through a mailed link (staff, card-only,
    inactive); see :func:`password_reset_can_use`."""


# -- mail ------------------------------------------------------------------------------
def _queue_mail(*, to: str, template: str, context: dict[str, Any]) -> None:
    english = translation.get_language() == "en"
    context = {"ward_name": settings.WARD_NAME_EN if english else settings.WARD_NAME, **context}
    subject = " ".join(render_to_string(f"accounts/email/{template}_subject.txt", context).split())
    body = render_to_string(f"accounts/email/{template}_body.txt", context)
    tasks.send_email.enqueue(subject=subject, body=body, to=[to], language=translation.get_language() or "")


def email_verification_token(*, user: User, email: str) -> str:
    return signing.dumps({"u": user.pk, "e": email}, salt=VERIFY_SALT, compress=True)


def _verification_mail_queue(*, user: User, email: str, base_url: str) -> None:
    token = email_verification_token(user=user, email=email)
    _queue_mail(
        to=email,
        template="verify",
        context={
            "verify_url": base_url + reverse("accounts:verify_email", args=[token]),
            "valid_days": VERIFY_MAX_AGE.days,
        },
    )


# -- sign-up and verification ----------------------------------------------------------
def resident_signup(*, email: str, password: str, base_url: str) -> User | None:
    """Create an unverified resident account and mail the verification link.

    If the address is already registered, nothing is created and that address gets
    a mail saying so (a new link if it is still unverified): the page shown is the
    same either way, so sign-up does not reveal who has an account."""
    email = User.objects.normalize_email(email.strip())
    with transaction.atomic():
        existing = user_get_by_email(email)
        if existing is not None:
            if existing.email_verified_at is None and not is_staff_account(existing):
                _verification_mail_queue(user=existing, email=existing.email, base_url=base_url)
            else:
                _queue_mail(
                    to=existing.email,
                    template="already_registered",
                    context={"login_url": base_url + reverse("accounts:login")},
                )
            return None
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    username=f"u-{uuid.uuid4().hex}", email=email, password=password, kind=User.Kind.RESIDENT
                )
        except IntegrityError:  # the same address signed up at the same moment
            return None
        audit_record(actor=user, action="accounts.signup", target=user)
        _verification_mail_queue(user=user, email=email, base_url=base_url)
    return user


def verification_email_resend(*, email: str, base_url: str) -> bool:
    """Mail a new link if ``email`` belongs to an unverified resident account, at most
    once a minute. Returns whether a mail was queued (never shown to the person)."""
    user = user_get_by_email(email)
    if user is None or user.email_verified_at is not None or is_staff_account(user) or not user.is_active:
        return False
    if not cache.add(f"accounts:resend:{user.pk}", 1, RESEND_INTERVAL_SECONDS):
        return False
    with transaction.atomic():
        _verification_mail_queue(user=user, email=user.email, base_url=base_url)
    return True


def email_change_request(*, user: User, email: str, base_url: str) -> None:
    """Mail a link that sets ``user``'s address to ``email`` once opened. Used by
    accounts created from a My Number Card login, which start without one."""
    email = User.objects.normalize_email(email.strip())
    other = user_get_by_email(email)
    with transaction.atomic():
        if other is not None and other.pk != user.pk:
            # Do not reveal that the address is taken; tell its owner instead.
            _queue_mail(
                to=other.email,
                template="already_registered",
                context={"login_url": base_url + reverse("accounts:login")},
            )
            return
        _verification_mail_queue(user=user, email=email, base_url=base_url)


def email_verify(*, token: str) -> User:
    """Apply a verification link; raise :class:`VerificationError`."""
    try:
        payload = signing.loads(token, salt=VERIFY_SALT, max_age=VERIFY_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise VerificationError("expired") from exc
    except signing.BadSignature as exc:
        raise VerificationError("invalid") from exc
    if not isinstance(payload, dict) or "u" not in payload or "e" not in payload:
        raise VerificationError("invalid")
    email = str(payload["e"])
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=payload["u"], is_active=True).first()
        if user is None:
            raise VerificationError("invalid")
        if user.email.lower() == email.lower():
            if user.email_verified_at is None:
                user.email_verified_at = timezone.now()
                user.save(update_fields=["email_verified_at"])
                audit_record(actor=user, action="accounts.email_verified", target=user)
            return user
        if User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists():
            raise VerificationError("taken")
        user.email = email
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email", "email_verified_at"])
        audit_record(actor=user, action="accounts.email_changed", target=user)
    return user


# -- password reset --------------------------------------------------------------------
def _password_reset_period() -> str:
    """How long a reset link works, in words (from ``PASSWORD_RESET_TIMEOUT``)."""
    seconds = int(settings.PASSWORD_RESET_TIMEOUT)
    if seconds >= 86400 and seconds % 86400 == 0:
        days = seconds // 86400
        return ngettext("%(count)d日", "%(count)d日", days) % {"count": days}
    hours = max(1, seconds // 3600)
    return ngettext("%(count)d時間", "%(count)d時間", hours) % {"count": hours}


def password_reset_can_use(user: User) -> bool:
    """Whether ``user`` may set a new password through a mailed link: an active
    resident account that has a password and a real address."""
    return (
        user.is_active
        and not is_staff_account(user)
        and user.has_usable_password()
        and not user.email.lower().endswith("@" + PLACEHOLDER_EMAIL_DOMAIN)
    )


def password_reset_url(*, user: User, base_url: str) -> str:
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return base_url + reverse("accounts:password_reset_confirm", kwargs={"uidb64": uidb64, "token": token})


def password_reset_request(*, email: str, base_url: str) -> bool:
    """Mail a password reset link to the account registered with ``email``.

    A resident account with a password gets the link; a staff account gets a mail
    telling them to ask an administrator (staff accounts are managed there), and an
    account that logs in only with the My Number Card gets a mail saying so. Unknown,
    inactive and placeholder addresses get nothing. At most one mail a minute per
    account. Returns whether a mail was queued; the caller must show the same page
    either way, so that the form does not reveal who has an account."""
    user = user_get_by_email(email)
    if user is None or not user.is_active or user_needs_email(user):
        return False
    if not cache.add(f"accounts:password-reset:{user.pk}", 1, PASSWORD_RESET_INTERVAL_SECONDS):
        return False
    with transaction.atomic():
        if password_reset_can_use(user):
            _queue_mail(
                to=user.email,
                template="password_reset",
                context={
                    "reset_url": password_reset_url(user=user, base_url=base_url),
                    "valid_period": _password_reset_period(),
                },
            )
            reason = "link"
        else:
            reason = "staff" if is_staff_account(user) else "card"
            _queue_mail(
                to=user.email,
                template="password_reset_unavailable",
                context={"reason": reason, "login_url": base_url + reverse("accounts:login")},
            )
        audit_record(actor=None, action="accounts.password_reset_requested", target=user, data={"mail": reason})
    return True


def password_reset_complete(*, user: User, password: str) -> User:
    """Set ``user``'s new password from a reset link (the caller has checked the
    token and validated the password). Opening the mailed link proves the address, so
    an unverified address becomes verified. Failed logins recorded for the address
    are forgotten, so a locked-out resident can log in with the new password."""
    if not password_reset_can_use(user):
        raise PasswordResetNotAllowed(user.pk)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        user.set_password(password)
        fields = ["password"]
        newly_verified = user.email_verified_at is None
        if newly_verified:
            user.email_verified_at = timezone.now()
            fields.append("email_verified_at")
        user.save(update_fields=fields)
        audit_record(actor=user, action="accounts.password_reset", target=user)
        if newly_verified:
            audit_record(actor=user, action="accounts.email_verified", target=user, data={"via": "password_reset"})
    axes_reset(username=user.email)
    return user


# -- login records ---------------------------------------------------------------------
def login_record(*, user: User, method: str, two_factor: bool = False) -> None:
    action = "accounts.staff_login" if is_staff_account(user) else "accounts.login"
    audit_record(actor=user, action=action, target=user, data={"method": method, "two_factor": two_factor})


def logout_record(*, user: User) -> None:
    action = "accounts.staff_logout" if is_staff_account(user) else "accounts.logout"
    audit_record(actor=user, action=action, target=user)


def staff_totp_failed_record(*, user: User, stage: str) -> None:
    audit_record(actor=user, action="accounts.staff_totp_failed", target=user, data={"stage": stage})


def staff_totp_enrol(*, user: User, secret: str) -> None:
    """Save a confirmed TOTP secret (the caller has checked a code against it)."""
    with transaction.atomic():
        user.totp_secret = secret
        user.totp_confirmed_at = timezone.now()
        user.save(update_fields=["totp_secret", "totp_confirmed_at"])
        audit_record(actor=user, action="accounts.staff_totp_enrolled", target=user)


def staff_totp_reset(*, user: User, actor: User | None) -> None:
    """Forget a staff member's TOTP secret; they enrol again at their next login."""
    with transaction.atomic():
        user.totp_secret = ""
        user.totp_confirmed_at = None
        user.save(update_fields=["totp_secret", "totp_confirmed_at"])
        audit_record(actor=actor, action="accounts.staff_totp_reset", target=user)


# -- identity providers ----------------------------------------------------------------
def _placeholder_email() -> str:
    return f"mnc-{uuid.uuid4().hex}@{PLACEHOLDER_EMAIL_DOMAIN}"


def identity_account_resolve(*, claims: IdentityClaims, current_user: Any = None) -> User:
    """The account to log in for verified identity ``claims``.

    The claims must match exactly one resident in the registry (``selectors.
    resident_match_for_claims``). That resident's account is used; if there is none,
    the logged-in resident account (if any, and not yet linked) is linked to the
    resident, or else a new account is created with a placeholder address
    (``…@id.invalid``) that the resident can replace later. Staff accounts never log
    in this way. Raises :class:`IdentityMatchError`."""
    if not claims.has_basic_four:
        raise IdentityMatchError("incomplete")
    matches = resident_match_for_claims(claims)
    if not matches:
        raise IdentityMatchError("no_match")
    if len(matches) > 1:
        raise IdentityMatchError("ambiguous")
    resident = matches[0]
    audit_data = {"provider": claims.provider, "subject": claims.subject}
    with transaction.atomic():
        account = User.objects.select_for_update().filter(resident=resident).first()
        if account is not None:
            if is_staff_account(account) or not account.is_active:
                raise IdentityMatchError("staff")
            if current_user is not None and current_user.is_authenticated and current_user.pk != account.pk:
                raise IdentityMatchError("other_resident")
            return account
        if current_user is not None and current_user.is_authenticated:
            if is_staff_account(current_user):
                raise IdentityMatchError("staff")
            if current_user.resident_id is not None:
                raise IdentityMatchError("other_resident")
            current_user.resident = resident
            current_user.save(update_fields=["resident"])
            audit_record(actor=current_user, action="accounts.identity_linked", target=current_user, data=audit_data)
            return User.objects.get(pk=current_user.pk)
        account = User.objects.create_user(
            username=f"u-{uuid.uuid4().hex}",
            email=_placeholder_email(),
            password=None,
            kind=User.Kind.RESIDENT,
            resident=resident,
            display_name=resident.full_name,
        )
        audit_record(actor=account, action="accounts.identity_account_created", target=account, data=audit_data)
    return account
