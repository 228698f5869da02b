"""Benchmark: the staff case inbox over 100,000 cases.

Seeds ``--cases`` submitted applications with their cases (spread over the demo ward's
departments, procedures, statuses, channels, assignees and two years of receipt dates),
then requests the inbox page ``/staff/cases/`` as a 区民課 member of staff with a mix
of filters (none, status, procedure, assignee, overdue, date range, name search,
page 20) through Django's test client: URL routing, the access check, the query, the
count for the pager and the template, as a browser gets it. Prints p50/p95/p99.

    ./run bench inbox [--cases 100000] [--rounds 20]
    DATABASE_URL=postgres://.../bench_inbox ./run bench inbox
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import time
import uuid

from _django import setup, table

FILTERS: list[dict[str, str]] = [
    {},
    {"status": "submitted"},
    {"status": "in_review"},
    {"status": "all"},
    {"procedure": "juminhyo-copy"},
    {"assignee": "me"},
    {"assignee": "none"},
    {"overdue": "1"},
    {"received_from": "2026-04-01", "received_to": "2026-04-30"},
    {"q": "ヤマダ"},
    {"q": "やまだ はなこ"},
    {"sort": "due"},
    {"page": "20"},
    {"channel": "counter", "status": "all"},
]

FAMILY = [("山田", "ヤマダ"), ("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"), ("田中", "タナカ")]
GIVEN = [("花子", "ハナコ"), ("一郎", "イチロウ"), ("美咲", "ミサキ"), ("健太", "ケンタ"), ("陽菜", "ヒナ")]
STATUSES = ["submitted", "in_review", "correction_requested", "pending_approval", "decided", "completed", "withdrawn"]
WEIGHTS = [15, 15, 3, 2, 5, 55, 5]


def seed(count: int) -> float:
    from django.db import connection, transaction

    from madoguchi.applications.models import Application
    from madoguchi.cases.models import Case
    from madoguchi.core.models import StaffRole, User
    from madoguchi.demo.ward import demo_load
    from madoguchi.forms.models import FormDefinition

    started = time.perf_counter()
    demo_load()
    existing = Case.objects.count()
    if existing >= count:
        return 0.0
    rng = random.Random(20261123)
    forms = list(FormDefinition.objects.select_related("procedure").filter(status="published"))
    residents = list(User.objects.filter(kind="resident"))
    staff_by_department: dict[int, list[int]] = {}
    for role in StaffRole.objects.all():
        staff_by_department.setdefault(role.department_id, []).append(role.user_id)
    now = dt.datetime.now(dt.UTC)
    batch = 5000
    for start in range(existing, count, batch):
        applications = []
        cases = []
        for i in range(start, min(count, start + batch)):
            form = rng.choice(forms)
            received = now - dt.timedelta(minutes=rng.randrange(0, 2 * 365 * 24 * 60))
            status = rng.choices(STATUSES, WEIGHTS)[0]
            family, given = rng.choice(FAMILY), rng.choice(GIVEN)
            reference = f"B{received.year}-{i:07d}"
            applications.append(
                Application(
                    public_id=uuid.UUID(int=rng.getrandbits(128)),
                    reference_number=reference,
                    procedure_id=form.procedure_id,
                    form_definition=form,
                    applicant=rng.choice(residents),
                    status=status,
                    data={"name": {"family": family[0], "given": given[0]}},
                    channel="counter" if rng.random() < 0.2 else "online",
                    submitted_at=received,
                )
            )
            department = form.procedure.department_id
            assignees = staff_by_department.get(department, [])
            cases.append(
                Case(
                    reference_number=reference,
                    procedure_id=form.procedure_id,
                    department_id=department,
                    status=status,
                    channel=applications[-1].channel,
                    applicant_name=f"{family[0]} {given[0]}",
                    applicant_kana=f"{family[1]}{given[1]}",
                    received_at=received,
                    due_at=received + dt.timedelta(days=rng.choice([5, 7, 14, 30])),
                    assignee_id=rng.choice(assignees) if assignees and rng.random() < 0.7 else None,
                )
            )
        with transaction.atomic():
            created = Application.objects.bulk_create(applications)
            for application, case in zip(created, cases, strict=True):
                case.application_id = application.pk
            Case.objects.bulk_create(cases)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE cases_case")
            cursor.execute("ANALYZE applications_application")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from madoguchi.cases.models import Case
    from madoguchi.core.models import User

    settings.ALLOWED_HOSTS = ["testserver"]
    settings.STAFF_REQUIRE_2FA = False
    seconds = seed(args.cases)
    user = User.objects.get(email="kumin-tanto@demo-ku.example.jp")
    department_cases = Case.objects.filter(department__code="kumin").count()
    client = Client()
    client.force_login(user)
    for params in FILTERS:  # warm up: templates, query plans, caches
        assert client.get("/staff/cases/", params).status_code == 200  # noqa: S101
    timings: list[float] = []
    per_filter: dict[str, list[float]] = {}
    for _round in range(args.rounds):
        for params in FILTERS:
            start = time.perf_counter()
            response = client.get("/staff/cases/", params)
            elapsed = (time.perf_counter() - start) * 1000
            if response.status_code != 200:
                raise RuntimeError(f"{params}: {response.status_code}")
            timings.append(elapsed)
            per_filter.setdefault(" ".join(f"{k}={v}" for k, v in params.items()) or "(no filter)", []).append(elapsed)
    q = statistics.quantiles(timings, n=100)
    rows = [
        ("cases in the database", f"{Case.objects.count():,}"),
        ("cases of 区民課", f"{department_cases:,}"),
        ("seeding (s)", f"{seconds:.1f}"),
        ("requests", str(len(timings))),
        ("p50 (ms)", f"{q[49]:.1f}"),
        ("p95 (ms)", f"{q[94]:.1f}"),
        ("p99 (ms)", f"{q[98]:.1f}"),
    ]
    rows += [(f"  median {name}", f"{statistics.median(values):.1f}") for name, values in per_filter.items()]
    table(f"staff inbox /staff/cases/ on {connection.vendor}", rows)


if __name__ == "__main__":
    main()
