"""Many residents filling in the same form at once: no deadlock, nothing lost.

Regression test for two deadlocks seen under load on PostgreSQL: saving a step locked
the shared procedure row (FOR UPDATE with select_related), and every audit record took
the audit chain's lock inside the business transaction."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from madoguchi.applications.models import Application
from madoguchi.applications.services import application_save_step, application_start
from madoguchi.catalog.models import Procedure
from madoguchi.core.audit import audit_verify
from madoguchi.core.models import User
from madoguchi.demo.ward import demo_load

from .conftest import REQUESTER

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row-level lock conflicts need PostgreSQL"),
]
RESIDENTS = 8


def test_concurrent_residents_save_steps_without_deadlock() -> None:
    demo_load()
    Procedure.objects.filter(code="juminhyo-copy").update(fee_yen=None)
    users = [
        User.objects.create_user(username=f"c{i}@example.jp", email=f"c{i}@example.jp", kind="resident")
        for i in range(RESIDENTS)
    ]
    errors: list[BaseException] = []
    barrier = threading.Barrier(RESIDENTS)

    def fill(user: User) -> None:
        try:
            barrier.wait()
            for _round in range(3):
                application, _ = application_start(applicant=user, procedure_code="juminhyo-copy")
                for step, raw in [("requester", REQUESTER), ("target", {"scope": "all"})]:
                    _saved, step_errors = application_save_step(
                        application=application, step_key=step, raw=raw, actor=user
                    )
                    assert not step_errors, step_errors
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=fill, args=(user,)) for user in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert Application.objects.filter(applicant__in=users).count() == RESIDENTS
    count, problems = audit_verify()
    assert count > 0 and problems == []
