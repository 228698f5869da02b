from __future__ import annotations

import pytest
from django.test import Client

from madoguchi.applications.models import Application
from madoguchi.core.models import User

from .conftest import REQUESTER

pytestmark = pytest.mark.usefixtures("free_juminhyo")


def test_resident_cannot_reach_another_residents_application(hanako_client: Client, ichiro: User) -> None:
    hanako_client.post("/applications/start/juminhyo-copy/")
    application = Application.objects.get()
    base = f"/applications/{application.public_id}/"
    for key, data in [
        ("requester", REQUESTER),
        ("target", {"scope": "all"}),
        ("contents_step", {}),
        ("quantity", {"copies": "1", "purpose": "school"}),
        ("delivery_step", {"delivery": "mail"}),
    ]:
        hanako_client.post(f"{base}step/{key}/", data)
    html = hanako_client.get(f"{base}check/").content.decode()
    key = html.split('name="submission_key" value="', 1)[1].split('"', 1)[0]
    hanako_client.post(f"{base}submit/", {"submission_key": key, "declaration": "on"})
    application.refresh_from_db()
    assert application.status == "submitted"

    other = Client()
    other.force_login(ichiro)
    urls = ["step/requester/", "check/", "done/", "receipt.pdf", "payment/return/"]
    for url in urls:
        assert other.get(base + url).status_code == 404, url
    assert other.post(base + "step/requester/", REQUESTER).status_code == 404
    assert other.post(base + "submit/", {"submission_key": "x" * 32, "declaration": "on"}).status_code == 404
    anonymous = Client()
    assert anonymous.get(base + "done/").status_code == 302  # to the login page
    application.refresh_from_db()
    assert application.status == "submitted" and Application.objects.count() == 1
