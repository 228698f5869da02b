from __future__ import annotations

import threading
import time

import pytest
from django.db import OperationalError, connection, transaction

from madoguchi.applications import machine
from madoguchi.applications.services import (
    IdempotencyConflict,
    InvalidApplication,
    _next_reference_number,
    application_start,
    application_submit,
)
from madoguchi.core.models import AuditEvent, User


def test_transition_table_refuses_illegal_moves() -> None:
    assert machine.can_transition("draft", "submitted")
    assert machine.can_transition("awaiting_payment", "draft")
    with pytest.raises(machine.IllegalTransition):
        machine.check_transition("submitted", "draft")


@pytest.mark.usefixtures("free_juminhyo")
def test_submit_rechecks_everything_and_changes_nothing_when_invalid(hanako: User) -> None:
    application, created = application_start(applicant=hanako, procedure_code="juminhyo-copy")
    assert created
    with pytest.raises(InvalidApplication) as exc:
        application_submit(application=application, submission_key="k" * 32)
    assert "relationship" in exc.value.errors and "declaration" in exc.value.errors
    application.refresh_from_db()
    assert application.status == "draft" and application.reference_number is None
    assert AuditEvent.objects.filter(action="application.submit").count() == 0


@pytest.mark.usefixtures("free_juminhyo")
def test_a_key_used_for_another_application_conflicts(hanako: User, ichiro: User) -> None:
    mine, _ = application_start(applicant=hanako, procedure_code="juminhyo-copy")
    theirs, _ = application_start(applicant=ichiro, procedure_code="juminhyo-copy")
    type(mine).objects.filter(pk=theirs.pk).update(submission_key="shared-key-123")
    with pytest.raises(IdempotencyConflict):
        application_submit(application=mine, submission_key="shared-key-123")


@pytest.mark.django_db(transaction=True)
def test_concurrent_reference_numbers_are_unique() -> None:
    numbers: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def take() -> None:
        barrier.wait()
        try:
            for _attempt in range(500):
                try:
                    with transaction.atomic():
                        number = _next_reference_number()
                except OperationalError:
                    time.sleep(0.005)
                    continue
                with lock:
                    numbers.append(number)
                return
        finally:
            connection.close()

    threads = [threading.Thread(target=take) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(numbers) == 8
    assert len(set(numbers)) == 8
    taken = sorted(int(n.split("-")[1]) for n in numbers)
    # Consecutive (nothing failed here); on PostgreSQL the year's sequence may already
    # have handed out numbers to earlier tests, so they need not start at 1.
    assert taken == list(range(taken[0], taken[0] + 8))


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the year's sequence is used on PostgreSQL")
def test_an_open_submission_never_blocks_the_next_number() -> None:
    taken = threading.Event()
    release = threading.Event()
    first: list[str] = []

    def hold() -> None:
        try:
            with transaction.atomic():
                first.append(_next_reference_number())
                taken.set()
                release.wait(10)  # a submission still busy with its transaction
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert taken.wait(10)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '1s'")  # fail, not hang, if it would wait
            second = _next_reference_number()
    finally:
        release.set()
        holder.join()
    assert int(second.split("-")[1]) == int(first[0].split("-")[1]) + 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the year's sequence is used on PostgreSQL")
def test_the_sequence_continues_after_the_counter_row() -> None:
    from django.utils import timezone

    from madoguchi.applications.models import ReferenceCounter

    year = timezone.localdate().year
    with connection.cursor() as cursor:
        cursor.execute(f"DROP SEQUENCE IF EXISTS applications_reference_{year}")
    ReferenceCounter.objects.update_or_create(year=year, defaults={"last": 41})
    with transaction.atomic():
        assert _next_reference_number() == f"{year}-000042"
