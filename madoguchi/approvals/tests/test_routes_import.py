"""Routes as data: routes.yaml is imported idempotently, a bad file is refused with its
file, line and key (and nothing is written), and the right route is found."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib import admin
from django.core.management import call_command

from madoguchi.approvals.exceptions import NoRoute
from madoguchi.approvals.importer import DEFAULT_FILE, RouteImportError, approvals_import
from madoguchi.approvals.models import ApprovalRoute, RouteStep
from madoguchi.approvals.selectors import approval_route_for, document_routes
from madoguchi.core.admin_audit import AuditedAdmin
from madoguchi.core.models import AuditEvent, Department

pytestmark = pytest.mark.django_db

GOOD = """\
version: "t1"
routes:
  - code: standard
    name: 標準
    default: true
    documents: true
    steps:
      - role: kakaricho
      - role: kacho
  - code: zeimu-route
    name: 税務課
    departments: [zeimu]
    steps:
      - role: kacho
  - code: hoiku-gougi
    name: 保育園
    procedures: [hoikuen]
    steps:
      - role: kakaricho
      - label: 合議
        parallel:
          - role: kacho
          - role: kacho
            department: kosodate
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "routes.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_demo_routes_import_and_a_second_import_changes_nothing(catalog: None) -> None:
    first = approvals_import()
    assert sorted(first.created) == ["bunsho-bosai-gougi", "hoikuen-gougi", "kakaricho-senketsu", "standard"]
    assert AuditEvent.objects.filter(action="approvals.routes_import").count() == 1
    second = approvals_import()
    assert not second.changed and len(second.unchanged) == 4
    assert "  nothing changed" in second.lines()
    assert AuditEvent.objects.filter(action="approvals.routes_import").count() == 1
    gougi = ApprovalRoute.objects.get(code="hoikuen-gougi")
    steps = list(gougi.steps.values_list("kind", "members"))
    assert steps == [
        ("single", [{"role": "kakaricho", "department": None}]),
        ("parallel", [{"role": "kacho", "department": None}, {"role": "kacho", "department": "kosodate"}]),
    ]


def test_changes_update_steps_and_routes_left_out_are_deactivated(catalog: None, tmp_path: Path) -> None:
    approvals_import(path=write(tmp_path, GOOD))
    changed = GOOD.replace(
        "      - role: kacho\n  - code: zeimu-route", "      - role: kacho\n      - role: tanto\n  - code: zeimu-route"
    )
    changed = changed[: changed.index("  - code: hoiku-gougi")]
    report = approvals_import(path=write(tmp_path, changed))
    assert report.updated == ["standard"] and report.deactivated == ["hoiku-gougi"]
    assert list(RouteStep.objects.filter(route__code="standard").values_list("members", flat=True)) == [
        [{"role": "kakaricho", "department": None}],
        [{"role": "kacho", "department": None}],
        [{"role": "tanto", "department": None}],
    ]
    assert not ApprovalRoute.objects.get(code="hoiku-gougi").active


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (GOOD.replace("role: kacho\n  - code: zeimu", "role: boss\n  - code: zeimu"), 9, "routes/0/steps/1/role"),
        (GOOD.replace("departments: [zeimu]", "departments: [nowhere]"), 12, "unknown department 'nowhere'"),
        (GOOD.replace("procedures: [hoikuen]", "procedures: [no-such]"), 17, "unknown procedure 'no-such'"),
        (GOOD.replace("code: zeimu-route", "code: standard"), 10, "route code 'standard' is used twice"),
        (GOOD.replace("    departments: [zeimu]", "    default: true"), 12, "only one route can be the default"),
        (GOOD.replace("            department: kosodate\n", ""), 23, "named twice"),
        (GOOD.replace("      - label: 合議\n", "      - role: kacho\n        label: 合議\n"), 20, "either `role`"),
        (GOOD.replace('version: "t1"', "version: 1"), 1, "version: 1 is not of type 'string'"),
        (GOOD.replace("    steps:\n      - role: kacho\n", "    steps: []\n"), 13, "routes/1/steps"),
        (GOOD + "  - code: [oops\n", 26, "YAML syntax error"),
    ],
)
def test_a_bad_file_is_refused_with_file_line_and_key(
    catalog: None, tmp_path: Path, text: str, line: int, message: str
) -> None:
    with pytest.raises(RouteImportError) as refused:
        approvals_import(path=write(tmp_path, text))
    assert refused.value.file == "routes.yaml"
    assert message in refused.value.message
    assert refused.value.line == line, str(refused.value)
    assert str(refused.value).startswith(f"routes.yaml:{line}: ")
    assert not ApprovalRoute.objects.exists()


def test_the_command_imports_and_reports_errors(catalog: None, tmp_path: Path, capsys: Any) -> None:
    call_command("approvals_import", "--dry-run")
    assert "dry run" in capsys.readouterr().out and not ApprovalRoute.objects.exists()
    call_command("approvals_import")
    assert ApprovalRoute.objects.filter(code="standard", is_default=True).exists()
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match=r"routes\.yaml:1"):
        call_command("approvals_import", "--file", str(write(tmp_path, "version: [")))
    assert DEFAULT_FILE.exists()


def test_route_for_procedure_department_and_default(catalog: None, tmp_path: Path) -> None:
    approvals_import(path=write(tmp_path, GOOD))
    assert approval_route_for(procedure="hoikuen").code == "hoiku-gougi"
    assert approval_route_for(procedure="kazei-shomei").code == "zeimu-route"  # a procedure of 税務課
    assert approval_route_for(procedure="tennyu").code == "standard"
    assert approval_route_for(department="zeimu").code == "zeimu-route"
    assert approval_route_for(department=Department.objects.get(code="kumin")).code == "standard"
    assert [r.code for r in document_routes(department=Department.objects.get(code="zeimu"))] == [
        "zeimu-route",
        "standard",
    ]
    ApprovalRoute.objects.filter(code="standard").update(active=False)
    with pytest.raises(NoRoute):
        approval_route_for(department="kumin")


def test_routes_are_in_the_audited_admin(catalog: None) -> None:
    for model in (ApprovalRoute,):
        assert isinstance(admin.site._registry[model], AuditedAdmin)
    from madoguchi.approvals.models import ApprovalRequest, Delegation, InternalDocument

    for model in (ApprovalRequest, Delegation, InternalDocument):
        assert isinstance(admin.site._registry[model], AuditedAdmin)


def test_the_admin_checks_a_step(catalog: None) -> None:
    from django.core.exceptions import ValidationError

    route = ApprovalRoute.objects.create(code="x", name="x")
    bad = RouteStep(route=route, order=1, kind="parallel", members=[{"role": "kacho", "department": None}])
    with pytest.raises(ValidationError, match="two or more"):
        bad.full_clean()
    bad.members = [{"role": "kacho", "department": None}, {"role": "kacho", "department": "atlantis"}]
    with pytest.raises(ValidationError, match="atlantis"):
        bad.full_clean()
    bad.members = [{"role": "kacho", "department": None}, {"role": "kacho", "department": "bosai"}]
    bad.full_clean()
