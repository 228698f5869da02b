"""Reads of the integration app, and who may see what.

Staff: API keys and webhooks are managed by a 課長 (or higher) of the departments they
cover; a key or webhook is the user's to see and change only if every one of its
departments is one the user manages (superusers manage all). Exports are for any staff
member of the procedure's department.

API keys: ``api_key_authenticate`` finds the key by its public prefix and compares
the SHA-256 of the whole key in constant time; a revoked or unknown key is ``None``.
``case_list_for_api_key`` / ``case_get_for_api_key`` read received applications of
the key's departments only; anything else is not found.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from typing import Any

from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.utils import timezone

from madoguchi.accounts.selectors import is_staff_account, staff_roles_for
from madoguchi.applications.machine import RECEIVED
from madoguchi.applications.models import Application
from madoguchi.catalog.models import Procedure
from madoguchi.core.models import Department, StaffRole
from madoguchi.forms.models import FormDefinition
from madoguchi.integrations.models import ApiKey, WebhookAttempt, WebhookDelivery, WebhookSubscription

MANAGER_ROLE = StaffRole.Role.KACHO
KEY_PREFIX = "mdg_"


# -- staff scope ------------------------------------------------------------------------
def _departments_with_role(user: Any, role: str) -> QuerySet[Department]:
    if not is_staff_account(user):
        return Department.objects.none()
    if user.is_superuser:
        return Department.objects.all()
    needed = StaffRole.RANK[role]
    ids = [r.department_id for r in staff_roles_for(user) if StaffRole.RANK.get(r.role, 0) >= needed]
    return Department.objects.filter(pk__in=ids)


def departments_managed_by(user: Any) -> QuerySet[Department]:
    """Departments whose API keys and webhooks ``user`` manages (課長 or higher)."""
    return _departments_with_role(user, MANAGER_ROLE).order_by("code")


def departments_exportable_by(user: Any) -> QuerySet[Department]:
    """Departments whose received applications ``user`` may export (any staff role)."""
    return _departments_with_role(user, StaffRole.Role.TANTO).order_by("code")


def _within(queryset: QuerySet[Any], user: Any) -> QuerySet[Any]:
    """Rows with at least one department, all of them managed by ``user``."""
    managed = departments_managed_by(user)
    return (
        queryset.annotate(
            _all=Count("departments", distinct=True),
            _mine=Count("departments", filter=Q(departments__in=managed), distinct=True),
        )
        .filter(_all__gt=0, _all=F("_mine"))
        .prefetch_related(Prefetch("departments", queryset=Department.objects.order_by("code")))
    )


def api_key_list_for_staff(user: Any) -> QuerySet[ApiKey]:
    return _within(ApiKey.objects.select_related("created_by"), user).order_by("-created_at", "-pk")


def api_key_get_for_staff(user: Any, key_id: int) -> ApiKey:
    """Raises ``ApiKey.DoesNotExist`` for a key the user does not manage."""
    return api_key_list_for_staff(user).get(pk=key_id)


def webhook_list_for_staff(user: Any) -> QuerySet[WebhookSubscription]:
    return _within(WebhookSubscription.objects.select_related("created_by"), user).order_by("-created_at", "-pk")


def webhook_get_for_staff(user: Any, public_id: Any) -> WebhookSubscription:
    """Raises ``WebhookSubscription.DoesNotExist`` for one the user does not manage."""
    return webhook_list_for_staff(user).get(public_id=public_id)


def delivery_list_for_webhook(subscription: WebhookSubscription, *, limit: int = 100) -> list[WebhookDelivery]:
    attempts = WebhookAttempt.objects.order_by("at", "pk")
    return list(
        subscription.deliveries.order_by("-created_at", "-pk").prefetch_related(
            Prefetch("attempt_log", queryset=attempts)
        )[:limit]
    )


def delivery_get_for_staff(user: Any, public_id: Any) -> WebhookDelivery:
    """Raises ``WebhookDelivery.DoesNotExist`` for a delivery of a webhook the user does
    not manage."""
    subscriptions = webhook_list_for_staff(user).values("pk")
    return WebhookDelivery.objects.select_related("subscription").get(
        public_id=public_id, subscription__in=subscriptions
    )


# -- API keys ---------------------------------------------------------------------------
def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def split_key(raw: str) -> str | None:
    """The prefix of a key shaped ``mdg_<prefix>_<secret>``, else ``None``."""
    if not raw.startswith(KEY_PREFIX):
        return None
    prefix, sep, secret = raw[len(KEY_PREFIX) :].partition("_")
    if not sep or not prefix or not secret or len(prefix) > 16:
        return None
    return prefix


def api_key_authenticate(raw: str) -> ApiKey | None:
    """The active key for ``raw`` (as sent by the client), or ``None``."""
    raw = raw.strip()
    prefix = split_key(raw)
    if prefix is None:
        return None
    key = ApiKey.objects.filter(prefix=prefix, revoked_at__isnull=True).first()
    if key is None or not hmac.compare_digest(key.secret_hash, hash_key(raw)):
        return None
    return key


def _cases_for_key(key: ApiKey) -> QuerySet[Application]:
    return Application.objects.filter(
        status__in=[s.value for s in RECEIVED],
        procedure__department__in=key.departments.values("pk"),
    ).select_related("procedure", "procedure__department", "form_definition")


def case_list_for_api_key(
    key: ApiKey,
    *,
    status: str | None = None,
    procedure: str | None = None,
    since: dt.datetime | None = None,
) -> QuerySet[Application]:
    """Received applications of the key's departments, oldest change first
    (``since``: changed at or after that moment)."""
    queryset = _cases_for_key(key)
    if status:
        queryset = queryset.filter(status=status)
    if procedure:
        queryset = queryset.filter(procedure__code=procedure)
    if since is not None:
        queryset = queryset.filter(updated_at__gte=since)
    return queryset.order_by("updated_at", "pk")


def case_get_for_api_key(key: ApiKey, reference_number: str) -> Application:
    """Raises ``Application.DoesNotExist`` for a case outside the key's departments."""
    return _cases_for_key(key).get(reference_number=reference_number)


# -- export -----------------------------------------------------------------------------
def export_procedures_for(user: Any) -> QuerySet[Procedure]:
    """Procedures with an online form, of the departments the user may export."""
    return (
        Procedure.objects.filter(department__in=departments_exportable_by(user), form_definitions__isnull=False)
        .select_related("department")
        .distinct()
        .order_by("department__code", "code")
    )


def export_procedure_get(user: Any, code: str) -> Procedure:
    """Raises ``Procedure.DoesNotExist`` for a procedure of another department."""
    return export_procedures_for(user).get(code=code)


def export_applications(procedure: Procedure, *, date_from: dt.date, date_to: dt.date) -> QuerySet[Application]:
    """Received applications of ``procedure`` submitted from ``date_from`` to
    ``date_to`` (both included, dates in the ward's time zone), oldest first."""
    tz = timezone.get_default_timezone()
    start = dt.datetime.combine(date_from, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return (
        Application.objects.filter(
            procedure=procedure,
            status__in=[s.value for s in RECEIVED],
            submitted_at__gte=start,
            submitted_at__lt=end,
        )
        .select_related("form_definition")
        .order_by("submitted_at", "pk")
    )


def export_form_versions(applications: QuerySet[Application]) -> list[FormDefinition]:
    """The form versions the applications were made with, newest first."""
    ids = applications.order_by().values("form_definition_id").distinct()
    return list(FormDefinition.objects.filter(pk__in=ids).order_by("-version"))
