from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from madoguchi.core.audit import audit_record, audit_seal, audit_verify
from madoguchi.core.models import AuditEvent, Department, User

pytestmark = pytest.mark.django_db


def _raw(sql: str, params: list[object]) -> None:
    """Tamper with the table behind the ORM's back, as an attacker with database
    access would (on PostgreSQL, with the append-only trigger switched off)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")


@pytest.fixture
def staff() -> User:
    return User.objects.create_user(username="s@example.jp", email="s@example.jp", password="x", kind="staff")


def _three_records(staff: User) -> list[AuditEvent]:
    dept = Department.objects.create(code="audit-test", name="監査テスト課")
    events = [
        audit_record(actor=staff, action="resident.view", target=dept, data={"why": "窓口対応"}, ip_address="10.0.0.1"),
        audit_record(actor=staff, action="case.assign", target=dept, data={"to": 3}),
        audit_record(actor=None, action="system.import", data={"n": 80}),
    ]
    # The test's transaction never commits, so seal as a commit would.
    assert audit_seal() == 3
    for event in events:
        event.refresh_from_db()
    return events


def test_records_are_sealed_when_their_transaction_commits(
    staff: User, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            event = audit_record(actor=staff, action="resident.view")
            assert event.seq is None  # not chained inside the business transaction
    event.refresh_from_db()
    assert event.seq == 1 and event.prev_hash == "0" * 64 and len(event.hash) == 64


def test_a_rolled_back_change_leaves_no_record(staff: User) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(actor=staff, action="resident.view")
        raise RuntimeError("the change failed")
    assert not AuditEvent.objects.filter(action="resident.view").exists()


def test_sealing_never_changes_a_sealed_record(staff: User) -> None:
    first, *_ = _three_records(staff)
    first.seq, first.prev_hash, first.hash = 99, "x", "y"
    assert AuditEvent.objects.all()._seal_many([first]) == 0
    first.refresh_from_db()
    assert first.seq == 1


def test_records_chain_to_each_other(staff: User) -> None:
    first, second, third = _three_records(staff)
    assert [first.seq, second.seq, third.seq] == [1, 2, 3]
    assert second.prev_hash == first.hash and third.prev_hash == second.hash
    assert first.actor_label and first.ip_address == "10.0.0.1"
    assert audit_verify() == (3, [])


def test_orm_cannot_change_or_delete_records(staff: User) -> None:
    first, *_ = _three_records(staff)
    first.action = "tampered"
    with pytest.raises(PermissionError):
        first.save()
    with pytest.raises(PermissionError):
        first.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=first.pk).update(action="x")
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()


def test_verify_detects_altered_record(staff: User) -> None:
    _three_records(staff)
    _raw("UPDATE core_auditevent SET data = %s WHERE seq = 2", ['{"to": 4}'])
    count, problems = audit_verify()
    assert count == 3
    assert [p.seq for p in problems] == [2]
    with pytest.raises(CommandError, match="FAILED"):
        call_command("audit_verify")


def test_verify_detects_deleted_record_in_the_middle(staff: User) -> None:
    _three_records(staff)
    _raw("DELETE FROM core_auditevent WHERE seq = 2", [])
    _, problems = audit_verify()
    assert any("missing" in p.message for p in problems)


def test_verify_detects_deleted_last_record(staff: User) -> None:
    _three_records(staff)
    _raw("DELETE FROM core_auditevent WHERE seq = 3", [])
    _, problems = audit_verify()
    assert any("removed" in p.message for p in problems)


def test_verify_command_passes_on_intact_log(staff: User, capsys: pytest.CaptureFixture[str]) -> None:
    _three_records(staff)
    call_command("audit_verify")
    assert "3 records" in capsys.readouterr().out


@pytest.mark.skipif(connection.vendor != "postgresql", reason="database trigger exists on PostgreSQL only")
def test_postgresql_refuses_update_in_the_database(staff: User) -> None:
    from django.db import DatabaseError

    _three_records(staff)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditevent SET action = 'x' WHERE seq = 1")
    # Nor may a pending record's content change while it is sealed.
    pending = audit_record(actor=staff, action="resident.view")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditevent SET action = 'x', seq = 100 WHERE id = %s", [pending.pk])
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent WHERE id = %s", [pending.pk])


def test_a_request_seals_at_most_once_per_interval(staff: User, settings: Any) -> None:
    from madoguchi.core import audit

    settings.AUDIT_SEAL_MIN_INTERVAL = 60
    audit._last_seal = 0.0
    audit_record(actor=staff, action="resident.view")
    audit._seal_after_commit()  # the first commit of the interval seals
    audit_record(actor=staff, action="resident.view")
    audit._seal_after_commit()  # within the interval: left for the next seal
    sealed = list(AuditEvent.objects.filter(action="resident.view").values_list("seq", flat=True).order_by("id"))
    assert sealed[0] is not None and sealed[1] is None
    assert audit_seal() == 1  # the worker's periodic seal chains the rest

    settings.AUDIT_SEAL_MIN_INTERVAL = 0
    audit_record(actor=staff, action="resident.view")
    audit._seal_after_commit()
    assert not AuditEvent.objects.filter(seq__isnull=True).exists()
    assert audit_verify() == (3, [])


def test_many_records_are_sealed_in_batches(staff: User) -> None:
    from madoguchi.core import audit

    for n in range(audit.SEAL_BATCH * 2 + 3):
        audit_record(actor=staff, action="resident.view", data={"n": n})
    assert audit_seal() == audit.SEAL_BATCH * 2 + 3
    seqs = list(AuditEvent.objects.order_by("id").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    checked, problems = audit_verify()
    assert (checked, problems) == (len(seqs), [])
