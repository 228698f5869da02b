from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs

import pytest
from django.test import Client
from django.utils import timezone

from madoguchi.catalog.models import LifeEvent
from madoguchi.core.models import User
from madoguchi.guide.models import SavedChecklist

pytestmark = pytest.mark.django_db


def walk(client: Client, event: LifeEvent, date: str) -> str:
    """Answer every page with its first choice, as a resident without JavaScript would;
    return the checklist URL."""
    url = f"/guide/{event.code}/ask/"
    response = client.get(url)
    assert response.status_code == 200
    assert 'name="date"' in response.content.decode()
    state = {"date": date}
    response = client.get(url, {"page": "date", **state})
    for _ in range(len(event.questions)):
        if response.status_code == 302:
            break
        assert response.status_code == 200
        page = response.content.decode().split('name="page" value="')[1].split('"')[0]
        question = next(q for q in event.questions if q["code"] == page)
        state[f"a-{page}"] = question["choices"][0]["value"]
        response = client.get(url, {"page": page, **state})
    assert response.status_code == 302, response.content.decode()[:500]
    return str(response["Location"])


def test_walk_through_every_event_without_javascript(client: Client, catalog: None) -> None:
    for event in LifeEvent.objects.all():
        location = walk(client, event, "令和8年11月20日")
        assert location.startswith(f"/guide/{event.code}/checklist/?date=")
        page = client.get(location)
        assert page.status_code == 200
        assert "あなたの手続きチェックリスト" in page.content.decode()


def test_checklist_page_shows_deadline_in_wareki_and_share_url(client: Client, catalog: None) -> None:
    event = LifeEvent.objects.get(code="moving-in")
    location = walk(client, event, "2026-11-02")
    html = client.get(location).content.decode()
    assert "令和8年11月16日" in html  # 転入届: 14 days after 11/2
    assert 'id="share-url"' in html and location.split("?")[1].split("&")[0] in html


def test_bad_date_shows_error_at_field_and_in_summary(client: Client, catalog: None) -> None:
    response = client.get("/guide/moving-in/ask/", {"page": "date", "date": "きのう"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "入力内容を確認してください" in html
    assert 'aria-invalid="true"' in html and 'href="#date"' in html


def test_missing_answer_shows_error(client: Client, catalog: None) -> None:
    event = LifeEvent.objects.get(code="moving-in")
    first = event.questions[0]["code"]
    response = client.get("/guide/moving-in/ask/", {"page": first, "date": ""})
    assert response.status_code == 400
    assert "選択してください" in response.content.decode()


def test_incomplete_checklist_url_goes_back_to_the_questions(client: Client, catalog: None) -> None:
    response = client.get("/guide/moving-in/checklist/", {"date": "2026-11-02"})
    assert response.status_code == 302 and "/ask/" in response["Location"]


def test_unknown_event_is_404(client: Client) -> None:
    assert client.get("/guide/time-travel/").status_code == 404


def test_print_pdf_and_ics(client: Client, catalog: None) -> None:
    location = walk(client, LifeEvent.objects.get(code="birth"), "2026-11-02")
    query = location.split("?", 1)[1]
    printed = client.get(f"/guide/birth/checklist/print/?{query}")
    assert printed.status_code == 200 and "□" in printed.content.decode()
    pdf = client.get(f"/guide/birth/checklist.pdf?{query}")
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and b"HeiseiKakuGo-W5" in pdf.content
    ics = client.get(f"/guide/birth/checklist.ics?{query}")
    body = ics.content.decode()
    assert ics["Content-Type"].startswith("text/calendar")
    assert "BEGIN:VEVENT" in body and "DTSTART;VALUE=DATE:20261116" in body  # 出生届


def _resident(email: str) -> User:
    return User.objects.create_user(
        username=email, email=email, password="pw-123456789", kind="resident", email_verified_at=timezone.now()
    )


def test_logged_in_resident_saves_and_ticks_off(client: Client, catalog: None) -> None:
    user = _resident("a@example.jp")
    client.force_login(user)
    location = walk(client, LifeEvent.objects.get(code="moving-in"), "2026-11-02")
    query = parse_qs(location.split("?", 1)[1])
    response = client.post("/guide/moving-in/save/", {k: v[0] for k, v in query.items()})
    saved = SavedChecklist.objects.get(owner=user)
    assert response["Location"] == f"/guide/saved/{saved.pk}/"
    assert saved.event_date == dt.date(2026, 11, 2)
    response = client.post(f"/guide/saved/{saved.pk}/mark/", {"procedure": "tennyu", "done": "1"})
    assert response.status_code == 302
    saved.refresh_from_db()
    assert saved.done == ["tennyu"]
    html = client.get(f"/guide/saved/{saved.pk}/").content.decode()
    assert "is-done" in html
    client.post(f"/guide/saved/{saved.pk}/mark/", {"procedure": "tennyu", "done": "0"}, HTTP_HX_REQUEST="true")
    saved.refresh_from_db()
    assert saved.done == []


def test_resident_cannot_see_or_change_another_residents_checklist(client: Client, catalog: None) -> None:
    owner = _resident("owner@example.jp")
    event = (
        LifeEvent.objects.get(code="pet")
        if LifeEvent.objects.filter(code="pet").exists()
        else LifeEvent.objects.first()
    )
    assert event is not None
    saved = SavedChecklist.objects.create(owner=owner, event=event, answers={}, event_date=None)
    client.force_login(_resident("other@example.jp"))
    assert client.get(f"/guide/saved/{saved.pk}/").status_code == 404
    assert client.post(f"/guide/saved/{saved.pk}/mark/", {"procedure": "x", "done": "1"}).status_code == 404
    assert client.post(f"/guide/saved/{saved.pk}/delete/").status_code == 404
    assert SavedChecklist.objects.filter(pk=saved.pk).exists()


def test_saving_needs_login(client: Client, catalog: None) -> None:
    response = client.post("/guide/moving-in/save/", {})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_pages_in_english(client: Client, catalog: None) -> None:
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = client.get("/").content.decode()
    assert 'lang="en"' in html
    assert "Search" in html
