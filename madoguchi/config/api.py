"""The public REST API under /api/v1/ (Django Ninja). Each app contributes a router."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import ValidationError

from madoguchi.applications.api import router as applications_router
from madoguchi.appointments.api import router as appointments_router
from madoguchi.catalog.api import router as catalog_router
from madoguchi.forms.api import router as forms_router
from madoguchi.guide.api import router as guide_router
from madoguchi.integrations.api import router as integrations_router
from madoguchi.payments.api import router as payments_router
from madoguchi.reservations.api import router as reservations_router

api = NinjaAPI(
    title="madoguchi API",
    version="1.0.0",
    description="デモ区オンライン窓口の公開API。手続きカタログ、ライフイベント、手続きガイド。",
    urls_namespace="api",
)


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors: list[dict[str, Any]] = []
    for error in exc.errors:
        loc = [str(part) for part in error.get("loc", ()) if part not in ("body", "payload", "query")]
        errors.append({"field": ".".join(loc), "message": error.get("msg", "")})
    return api.create_response(request, {"detail": "入力内容に誤りがあります。", "errors": errors}, status=422)


api.add_router("/", catalog_router)
api.add_router("/", guide_router)
api.add_router("/", forms_router)
api.add_router("/", payments_router)
api.add_router("/", applications_router)
api.add_router("/", appointments_router)
api.add_router("/", integrations_router)
api.add_router("/", reservations_router)
