"""Pages of 書かない窓口: the staff side (/staff/counter/) and the resident's second
screen (/counter/screen/), a tablet at the counter paired with a 6-digit code."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from madoguchi.accounts.decorators import staff_required
from madoguchi.applications.services import application_answers, fee_for
from madoguchi.cases import counter
from madoguchi.cases.models import CounterVisit
from madoguchi.cases.services import CaseError
from madoguchi.catalog.models import LifeEvent, Procedure
from madoguchi.core.japanese import parse_date
from madoguchi.core.models import Resident, User
from madoguchi.forms import engine

SESSION_KEY = "counter_screen_visit"

_lang = engine.page_language


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - guaranteed by staff_required
    return user


@staff_required
def search(request: HttpRequest) -> HttpResponse:
    """Find the resident: kana name, birth date (西暦 or 和暦), address."""
    params = request.GET
    errors: dict[str, str] = {}
    results: list[Resident] | None = None
    kana = params.get("kana", "")[:50]
    address = params.get("address", "")[:100]
    birth_text = params.get("birth_date", "").strip()[:30]
    if "search" in params:
        birth_date = parse_date(birth_text) if birth_text else None
        if birth_text and birth_date is None:
            errors["birth_date"] = _("生年月日は 1988-04-12 や 昭和63年4月12日 のように入力してください。")
        if not errors:
            try:
                results = counter.resident_search(
                    staff=_user(request), kana=kana, birth_date=birth_date, address=address
                )
            except CaseError as exc:
                errors["kana"] = exc.message
    visits = CounterVisit.objects.filter(staff=_user(request), status__in=["preparing", "awaiting"]).select_related(
        "resident"
    )[:10]
    return render(
        request,
        "cases/counter/search.html",
        {
            "staff_section": "counter",
            "errors": errors,
            "results": results,
            "kana": kana,
            "address": address,
            "birth_text": birth_text,
            "visits": visits,
        },
        status=400 if errors else 200,
    )


@staff_required
@require_POST
def visit_start(request: HttpRequest) -> HttpResponseBase:
    resident_id = request.POST.get("resident", "")
    resident = Resident.objects.filter(pk=int(resident_id) if resident_id.isdigit() else 0).first()
    if resident is None:
        raise Http404
    try:
        visit = counter.counter_visit_start(staff=_user(request), resident=resident)
    except CaseError as exc:
        messages.error(request, exc.message)
        return redirect("cases:counter")
    return redirect("cases:counter_visit", public_id=visit.public_id)


def _procedures() -> list[Procedure]:
    return list(
        Procedure.objects.filter(form_definitions__status="published", active=True)
        .distinct()
        .select_related("department")
        .order_by("department__code", "code")
    )


@staff_required
def visit(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    visit = counter.counter_visit_get_for_staff(staff=_user(request), public_id=public_id)
    applications = list(visit.applications.select_related("procedure", "form_definition").order_by("pk"))
    fees: list[int] = []
    for application in applications:
        fee = fee_for(application.procedure, application_answers(application)) or 0
        application.counter_fee = fee  # type: ignore[attr-defined]
        fees.append(fee)
    started = {a.procedure.code for a in applications}
    procedures = _procedures()
    with_forms = {p.code for p in procedures}
    bundles = []
    for event in LifeEvent.objects.prefetch_related("procedures").order_by("order", "code"):
        codes = [p.code for p in event.procedures.all() if p.code in with_forms]
        if len(codes) >= 2:
            bundles.append({"event": event, "codes": codes})
    context = {
        "staff_section": "counter",
        "visit": visit,
        "applications": applications,
        "procedures": [p for p in procedures if p.code not in started],
        "bundles": bundles,
        "fee_total": sum(fees),
        "pairing_valid": visit.pairing_expires_at is not None and visit.pairing_expires_at > timezone.now(),
    }
    if request.headers.get("HX-Request") and request.GET.get("fragment") == "status":
        return render(request, "cases/counter/_status.html", context)
    return render(request, "cases/counter/visit.html", context)


@staff_required
@require_POST
def visit_action(request: HttpRequest, public_id: uuid.UUID, action: str) -> HttpResponseBase:
    user = _user(request)
    visit = counter.counter_visit_get_for_staff(staff=user, public_id=public_id)
    try:
        if action == "add":
            codes = request.POST.getlist("procedures")
            bundle = request.POST.get("bundle", "")
            if bundle:
                started = set(visit.applications.values_list("procedure__code", flat=True))
                with_forms = {p.code for p in _procedures()}
                event = LifeEvent.objects.filter(code=bundle).first()
                if event is None:
                    raise Http404
                codes = [p.code for p in event.procedures.all() if p.code in with_forms and p.code not in started]
            if not codes:
                raise CaseError(_("追加する手続きを選んでください。"))
            for code in codes:
                counter.counter_visit_add(visit=visit, staff=user, procedure_code=code)
            messages.success(request, _("手続きを追加しました。住民記録から入力済みです。"))
        elif action == "present":
            counter.counter_visit_present(visit=visit, staff=user)
        elif action == "cancel":
            counter.counter_visit_cancel(visit=visit, staff=user)
            messages.success(request, _("この来庁の手続きを取りやめました。"))
            return redirect("cases:counter")
        else:
            raise Http404
    except CaseError as exc:
        messages.error(request, exc.message)
    return redirect("cases:counter_visit", public_id=visit.public_id)


# -- the second screen ------------------------------------------------------------------
def _screen_visit(request: HttpRequest) -> CounterVisit | None:
    visit_id = request.session.get(SESSION_KEY)
    if not visit_id:
        return None
    visit = CounterVisit.objects.select_related("resident").filter(pk=visit_id).first()
    if visit is None or visit.status != CounterVisit.Status.AWAITING:
        return visit if visit is not None and visit.status == CounterVisit.Status.CONFIRMED else None
    if visit.pairing_expires_at is None or visit.pairing_expires_at <= timezone.now():
        return None
    return visit


def screen(request: HttpRequest) -> HttpResponseBase:
    """The tablet: enter the code shown on the staff screen."""
    error = ""
    if request.method == "POST":
        visit = counter.counter_visit_pair(code=request.POST.get("code", ""))
        if visit is None:
            error = _("番号が正しくないか、有効期限が切れています。窓口の職員にお声がけください。")
        else:
            request.session.cycle_key()
            request.session[SESSION_KEY] = visit.pk
            return redirect("counter_screen:review")
    return render(request, "cases/counter/screen_pair.html", {"error": error}, status=400 if error else 200)


def review(request: HttpRequest) -> HttpResponseBase:
    visit = _screen_visit(request)
    if visit is None:
        return redirect("counter_screen:pair")
    if visit.status == CounterVisit.Status.CONFIRMED:
        return redirect("counter_screen:done")
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            counter.counter_visit_confirm(
                visit=visit,
                agreed=request.POST.get("agreed") == "on",
                signature=request.POST.get("signature", ""),
                signed_name=request.POST.get("signed_name", ""),
            )
        except counter.ConfirmationError as exc:
            errors = exc.errors
        except CaseError as exc:
            errors = {"agreed": exc.message}
        else:
            return redirect("counter_screen:done")
    items = []
    for application in visit.applications.select_related("procedure", "form_definition").order_by("pk"):
        definition = application.form_definition.definition
        items.append(
            {
                "application": application,
                "title": definition.get("title_en")
                if _lang() == "en" and definition.get("title_en")
                else definition["title"],
                "rows": engine.summary(definition, application_answers(application), _lang()),
            }
        )
    return render(
        request,
        "cases/counter/screen_review.html",
        {"visit": visit, "items": items, "errors": errors, "posted": request.POST},
        status=400 if errors else 200,
    )


def done(request: HttpRequest) -> HttpResponse:
    visit = _screen_visit(request)
    if visit is None or visit.status != CounterVisit.Status.CONFIRMED:
        return render(request, "cases/counter/screen_pair.html", {"error": ""})
    applications = visit.applications.select_related("procedure").order_by("pk")
    request.session.pop(SESSION_KEY, None)
    return render(request, "cases/counter/screen_done.html", {"visit": visit, "applications": applications})
