"""The e-approval rate and the lead time per route (``approval_stats``)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from madoguchi.approvals.models import ApprovalRequest, ApprovalRoute
from madoguchi.approvals.selectors import approval_stats, percentile
from madoguchi.approvals.services import approval_act, approval_request_start, approval_request_withdraw
from madoguchi.core.models import Department, User

from .conftest import StaffMaker, make_route

pytestmark = pytest.mark.django_db


def started(
    route: ApprovalRoute, requester: User, subject: str, hours_ago: float, department: str = "kumin"
) -> ApprovalRequest:
    request = approval_request_start(
        subject_kind="test_case",
        subject_id=subject,
        title=f"決裁 {subject}",
        department=Department.objects.get(code=department),
        requester=requester,
        route=route,
    )
    ApprovalRequest.objects.filter(pk=request.pk).update(started_at=timezone.now() - dt.timedelta(hours=hours_ago))
    request.refresh_from_db()
    return request


def decide(request: ApprovalRequest, actor: User, action: str = "approve") -> None:
    request.refresh_from_db()
    approval_act(request=request, actor=actor, action=action, comment="理由", expected_version=request.version)


def test_counts_rate_and_lead_times_per_route(
    standard: ApprovalRoute, kumin: dict[str, User], make_staff: StaffMaker
) -> None:
    single = make_route("test-single", [[("kakaricho", None)]], name="係長専決")
    zeimu_tanto, zeimu_kakaricho = make_staff("zeimu", "tanto"), make_staff("zeimu", "kakaricho")
    zeimu_kacho = make_staff("zeimu", "kacho")

    for subject, hours in (("a", 2), ("b", 4)):
        request = started(standard, kumin["tanto"], subject, hours)
        decide(request, kumin["kakaricho"])
        decide(request, kumin["kacho"])
    decide(started(standard, kumin["tanto"], "c", 10), kumin["kakaricho"], "reject")
    decide(started(single, kumin["tanto"], "d", 1), kumin["kakaricho"], "send_back")
    withdrawn = started(single, kumin["tanto"], "e", 3)
    approval_request_withdraw(request=withdrawn, actor=kumin["tanto"], expected_version=1)
    started(single, kumin["tanto"], "f", 5)  # still running
    other = started(standard, zeimu_tanto, "g", 100, department="zeimu")
    decide(other, zeimu_kakaricho)
    decide(other, zeimu_kacho)

    kumin_stats = approval_stats(department="kumin")
    by_code = {r.code: r for r in kumin_stats.routes}
    std, sen = by_code["test-standard"], by_code["test-single"]
    assert (std.decided, std.approved, std.rejected, std.sent_back, std.withdrawn, std.pending) == (3, 2, 1, 0, 0, 0)
    assert (sen.decided, sen.approved, sen.rejected, sen.sent_back, sen.withdrawn, sen.pending) == (1, 0, 0, 1, 1, 1)
    assert std.electronic == 3 and std.electronic_rate == 1.0
    assert std.median_hours == pytest.approx(4, abs=0.01)
    assert std.p90_hours == pytest.approx(8.8, abs=0.01)  # 4 + (10 - 4) × 0.8
    assert sen.median_hours == pytest.approx(1, abs=0.01) and sen.p90_hours == pytest.approx(1, abs=0.01)
    assert sen.name == "係長専決"
    total = kumin_stats.total
    assert (total.decided, total.withdrawn, total.pending) == (4, 1, 1)
    assert total.median_hours == pytest.approx(3, abs=0.01)  # 1, 2, 4, 10

    everything = approval_stats()
    assert everything.total.decided == 5
    assert {r.code: r.decided for r in everything.routes} == {"test-standard": 4, "test-single": 1}
    assert approval_stats(department=Department.objects.get(code="zeimu")).total.median_hours == pytest.approx(
        100, abs=0.01
    )

    later = approval_stats(since=timezone.localdate() + dt.timedelta(days=1))
    assert later.total.decided == 0 and later.total.pending == 1 and later.total.electronic_rate is None
    assert later.total.median_hours is None
    as_dict = kumin_stats.as_dict()
    assert as_dict["total"]["decided"] == 4 and {r["code"] for r in as_dict["routes"]} == {
        "test-standard",
        "test-single",
    }


def test_no_decisions_no_numbers(catalog: None) -> None:
    stats = approval_stats(department="no-such-department")
    assert stats.routes == [] and stats.total.decided == 0 and stats.total.electronic_rate is None


def test_percentile_interpolates_between_ranks() -> None:
    assert percentile([], 90) is None
    assert percentile([7.0], 90) == 7.0
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0], 90) == pytest.approx(9.1)
    assert percentile([10.0, 0.0], 50) == 5.0
