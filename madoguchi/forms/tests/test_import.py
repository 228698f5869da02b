from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from madoguchi.catalog.models import Procedure
from madoguchi.forms.importer import DEFAULT_DIR, FormImportError, forms_import
from madoguchi.forms.models import FormDefinition, FormStatus, PublishedFormIsImmutable
from madoguchi.forms.selectors import form_get_current, form_get_version
from madoguchi.forms.services import form_create_version, form_publish

pytestmark = pytest.mark.django_db


def copy_data(tmp_path: Path, *names: str) -> Path:
    for name in names or [p.name for p in DEFAULT_DIR.glob("*.yaml")]:
        shutil.copy(DEFAULT_DIR / name, tmp_path / name)
    return tmp_path


def test_import_is_idempotent(catalog: None) -> None:
    first = forms_import()
    assert len(first.created) >= 15 and not first.unchanged
    count = FormDefinition.objects.count()
    second = forms_import()
    assert second.created == [] and len(second.unchanged) == len(first.created)
    assert FormDefinition.objects.count() == count


def test_changed_form_becomes_a_new_version_and_the_old_one_stays(catalog: None, tmp_path: Path) -> None:
    directory = copy_data(tmp_path, "sodai-gomi.yaml", "inu-toroku.yaml")
    forms_import(directory=directory)
    v1 = form_get_current("sodai-gomi")
    assert v1 is not None and v1.version == 1
    path = directory / "sodai-gomi.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("粗大ごみ収集申込", "粗大ごみ収集の申込"), encoding="utf-8"
    )
    report = forms_import(directory=directory)
    assert report.created == ["sodai-gomi@2"] and report.unchanged == ["inu-toroku"]
    current = form_get_current("sodai-gomi")
    assert current is not None and current.version == 2 and current.definition["title"] == "粗大ごみ収集の申込"
    old = form_get_version("sodai-gomi", 1)
    assert old is not None and old.definition["title"] == "粗大ごみ収集申込" and old.checksum == v1.checksum


def test_broken_file_aborts_with_file_and_line_and_writes_nothing(catalog: None, tmp_path: Path) -> None:
    directory = copy_data(tmp_path, "sodai-gomi.yaml", "inu-toroku.yaml")
    path = directory / "inu-toroku.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    index = next(i for i, line in enumerate(lines) if line.strip() == "type: phone")
    lines[index] = lines[index].replace("phone", "fax")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(FormImportError) as info:
        forms_import(directory=directory)
    assert info.value.file == "inu-toroku.yaml"
    assert info.value.line == index + 1
    assert "type" in info.value.message
    assert not FormDefinition.objects.exists()
    with pytest.raises(CommandError, match=r"inu-toroku.yaml:\d+"):
        call_command("forms_import", "--dir", str(directory))


def test_unknown_procedure_and_yaml_syntax_error(catalog: None, tmp_path: Path) -> None:
    directory = copy_data(tmp_path, "sodai-gomi.yaml")
    path = directory / "sodai-gomi.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("procedure: sodai-gomi", "procedure: no-such"), encoding="utf-8"
    )
    with pytest.raises(FormImportError, match=r"sodai-gomi.yaml:3: unknown procedure 'no-such'"):
        forms_import(directory=directory)
    path.write_text("procedure: [\n", encoding="utf-8")
    with pytest.raises(FormImportError, match="YAML syntax error"):
        forms_import(directory=directory)


def test_published_version_never_changes(catalog: None) -> None:
    procedure = Procedure.objects.get(code="sodai-gomi")
    from madoguchi.forms.tests.conftest import load_definition

    draft = form_create_version(procedure=procedure, definition=load_definition("sodai-gomi"))
    assert draft.status == FormStatus.DRAFT and form_get_current("sodai-gomi") is None
    draft.definition["title"] = "下書きは変更できる"
    draft.save()
    form_publish(form=draft)
    assert form_get_current("sodai-gomi") == draft
    draft.definition["title"] = "公開後は変更できない"
    with pytest.raises(PublishedFormIsImmutable):
        draft.save()
    with pytest.raises(PublishedFormIsImmutable):
        form_publish(form=draft)
    draft.refresh_from_db()
    assert draft.definition["title"] == "下書きは変更できる"


def test_command_dry_run_writes_nothing(catalog: None) -> None:
    call_command("forms_import", "--dry-run")
    assert not FormDefinition.objects.exists()
