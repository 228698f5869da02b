from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from madoguchi.applications.machine import Status
from madoguchi.applications.models import Application, Channel
from madoguchi.cases import counter
from madoguchi.cases.models import Case, CounterVisit
from madoguchi.cases.services import CaseError
from madoguchi.cases.tests.conftest import staff
from madoguchi.core.models import AuditEvent, Resident, User


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def hanako_record(hanako: User) -> Resident:
    assert hanako.resident is not None
    return hanako.resident


@pytest.fixture
def no_account(ward: None) -> Resident:
    resident = Resident.objects.filter(account__isnull=True).order_by("pk").first()
    assert resident is not None
    return resident


def test_search_by_kana_birth_date_and_address_is_audited(tanto: User, hanako_record: Resident) -> None:
    kana = hanako_record.family_name_kana
    found = counter.resident_search(staff=tanto, kana=kana.lower())
    assert hanako_record in found
    found = counter.resident_search(staff=tanto, birth_date=hanako_record.birth_date)
    assert hanako_record in found
    assert counter.resident_search(staff=tanto, birth_date=dt.date(1900, 1, 1)) == []
    part = hanako_record.household.address[-6:]
    assert hanako_record in counter.resident_search(staff=tanto, address=part)
    events = AuditEvent.objects.filter(action="counter.resident_search", actor=tanto)
    assert events.count() == 4 and events.first().data["found"] >= 0  # type: ignore[union-attr]
    with pytest.raises(CaseError):
        counter.resident_search(staff=tanto)


def test_hiragana_search_finds_katakana_names(tanto: User, hanako_record: Resident) -> None:
    import jaconv

    hiragana = jaconv.kata2hira(hanako_record.family_name_kana)
    assert hanako_record in counter.resident_search(staff=tanto, kana=hiragana)
    both = jaconv.kata2hira(f"{hanako_record.family_name_kana} {hanako_record.given_name_kana}")
    assert hanako_record in counter.resident_search(staff=tanto, kana=both)


def test_several_procedures_prefilled_and_confirmed_at_once(tanto: User, hanako_record: Resident) -> None:
    visit = counter.counter_visit_start(staff=tanto, resident=hanako_record)
    first = counter.counter_visit_add(visit=visit, staff=tanto, procedure_code="juminhyo-copy")
    assert first.channel == Channel.COUNTER and first.status == Status.DRAFT
    assert first.data["name"]["family"] == hanako_record.family_name
    assert first.prefill_sources.get("name") == "registry"
    with pytest.raises(CaseError):
        counter.counter_visit_add(visit=visit, staff=tanto, procedure_code="juminhyo-copy")
    with pytest.raises(CaseError):  # nothing to confirm yet on the second screen: incomplete answers
        counter.counter_visit_present(visit=visit, staff=tanto)
        counter.counter_visit_confirm(visit=visit, agreed=True, signature="", signed_name="山田花子")
    visit.refresh_from_db()
    assert visit.status == CounterVisit.Status.AWAITING
    first.refresh_from_db()
    assert first.status == Status.DRAFT  # all or none


def _complete_juminhyo(application: Application) -> None:
    from madoguchi.applications.services import application_save_step

    for key, raw in [
        ("requester", {"phone": "03-1234-5678", "email": "visitor@example.jp", "relationship": "self"}),
        ("target", {"scope": "all"}),
        ("quantity", {"copies": "1", "purpose": "employment"}),
        ("delivery_step", {"delivery": "mail"}),
    ]:
        current = {**raw}
        if key == "requester":
            from madoguchi.applications.services import raw_answers

            stored = raw_answers(application)
            current = {k: v for k, v in stored.items() if isinstance(v, str)} | raw
            for part in ("family", "given"):
                current[f"name.{part}"] = stored["name"][part]
                current[f"name_kana.{part}"] = stored["name_kana"][part]
        application, errors = application_save_step(application=application, step_key=key, raw=current, lang="ja")
        assert not errors, (key, errors)


def test_the_resident_confirms_on_the_second_screen_and_signs(tanto: User, no_account: Resident) -> None:
    visit = counter.counter_visit_start(staff=tanto, resident=no_account)
    application = counter.counter_visit_add(visit=visit, staff=tanto, procedure_code="juminhyo-copy")
    assert application.applicant is None and application.resident == no_account
    _complete_juminhyo(application)
    counter.counter_visit_present(visit=visit, staff=tanto)
    visit.refresh_from_db()
    assert len(visit.pairing_code) == 6

    screen = Client()
    assert (
        screen.post("/counter/screen/", {"code": "000000" if visit.pairing_code != "000000" else "111111"}).status_code
        == 400
    )
    response = screen.post("/counter/screen/", {"code": visit.pairing_code})
    assert response.status_code == 302
    page = screen.get("/counter/screen/review/")
    assert page.status_code == 200 and no_account.family_name in page.content.decode()
    refused = screen.post("/counter/screen/review/", {"signature": "<script>", "signed_name": ""})
    assert refused.status_code == 400
    application.refresh_from_db()
    assert application.status == Status.DRAFT
    done = screen.post("/counter/screen/review/", {"agreed": "on", "signature": "M 10 10 L 20 25 L 30 12"})
    assert done.status_code == 302
    application.refresh_from_db()
    visit.refresh_from_db()
    assert application.status == Status.SUBMITTED and application.reference_number
    assert visit.status == CounterVisit.Status.CONFIRMED and visit.signature.startswith("M 10 10")
    case = Case.objects.get(application=application)
    assert case.channel == Channel.COUNTER and case.applicant_name.startswith(no_account.family_name)
    # the code cannot be used again
    assert Client().post("/counter/screen/", {"code": visit.pairing_code or "123456"}).status_code == 400


def test_an_expired_code_is_refused(tanto: User, hanako_record: Resident) -> None:
    visit = counter.counter_visit_start(staff=tanto, resident=hanako_record)
    counter.counter_visit_add(visit=visit, staff=tanto, procedure_code="juminhyo-copy")
    counter.counter_visit_present(visit=visit, staff=tanto)
    CounterVisit.objects.filter(pk=visit.pk).update(pairing_expires_at=visit.created_at - dt.timedelta(minutes=1))
    visit.refresh_from_db()
    assert counter.counter_visit_pair(code=visit.pairing_code) is None


def test_staff_fill_in_a_counter_draft_on_the_step_pages(tanto: User, hanako_record: Resident) -> None:
    visit = counter.counter_visit_start(staff=tanto, resident=hanako_record)
    application = counter.counter_visit_add(visit=visit, staff=tanto, procedure_code="juminhyo-copy")
    client = logged_in(tanto)
    page = client.get(f"/applications/{application.public_id}/step/requester/")
    assert page.status_code == 200
    check = client.get(f"/applications/{application.public_id}/check/")
    assert "窓口で作成中の申請です" in check.content.decode()
    # staff of another department cannot open it
    other = logged_in(staff("kosodate", "tanto"))
    assert other.get(f"/applications/{application.public_id}/step/requester/").status_code == 404
    assert other.get(f"/staff/counter/{visit.public_id}/").status_code == 404


def test_counter_pages_are_staff_only(hanako: User) -> None:
    client = logged_in(hanako)
    assert client.get("/staff/counter/").status_code == 403


def test_cancelling_a_visit_withdraws_its_drafts(tanto: User, hanako_record: Resident) -> None:
    visit = counter.counter_visit_start(staff=tanto, resident=hanako_record)
    application = counter.counter_visit_add(visit=visit, staff=tanto, procedure_code="juminhyo-copy")
    counter.counter_visit_cancel(visit=visit, staff=tanto)
    application.refresh_from_db()
    visit.refresh_from_db()
    assert application.status == Status.WITHDRAWN and visit.status == CounterVisit.Status.CANCELLED


def test_the_staff_pages_of_a_visit(tanto: User, hanako_record: Resident) -> None:
    client = logged_in(tanto)
    page = client.get("/staff/counter/", {"search": "1", "kana": hanako_record.family_name_kana})
    assert page.status_code == 200 and hanako_record.full_name in page.content.decode()
    bad = client.get("/staff/counter/", {"search": "1", "birth_date": "むかし"})
    assert bad.status_code == 400 and "err_birth_date" in bad.content.decode()
    started = client.post("/staff/counter/start/", {"resident": hanako_record.pk})
    visit = CounterVisit.objects.get(resident=hanako_record)
    assert started["Location"].endswith(f"/staff/counter/{visit.public_id}/")
    client.post(f"/staff/counter/{visit.public_id}/add/", {"procedures": ["juminhyo-copy", "inkan-shomei"]})
    assert visit.applications.count() == 2
    page = client.get(f"/staff/counter/{visit.public_id}/").content.decode()
    assert "住民票" in page
