from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from madoguchi.catalog.importer import CatalogError, catalog_import
from madoguchi.catalog.models import CatalogImport, GuideRule, LifeEvent, Procedure
from madoguchi.core.models import Department

pytestmark = pytest.mark.django_db
MINIMAL = Path(__file__).parent / "data" / "minimal"


@pytest.fixture
def empty_catalog() -> None:
    GuideRule.objects.all().delete()
    LifeEvent.objects.all().delete()
    Procedure.objects.all().delete()
    Department.objects.all().delete()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    for name in ("procedures.yaml", "life_events.yaml"):
        shutil.copy(MINIMAL / name, tmp_path / name)
    return tmp_path


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _snapshot() -> list[tuple[str, ...]]:
    return sorted(Procedure.objects.values_list("code", "name", "active", "catalog_version")) + sorted(
        (code, "") for code in LifeEvent.objects.values_list("code", flat=True)
    )


def test_import_creates_everything(empty_catalog: None, data_dir: Path) -> None:
    report = catalog_import(directory=data_dir)
    assert sorted(report.created["procedure"]) == ["jidoteate", "juminhyo-copy", "tennyu"]
    assert report.created["department"] == ["kumin", "kosodate"]
    proc = Procedure.objects.get(code="juminhyo-copy")
    assert proc.fee_yen == 300 and proc.reading.startswith("じゅうみんひょう")
    assert proc.counter == "本庁舎2階"  # defaults to the department's location
    event = LifeEvent.objects.get(code="moving-in")
    assert list(GuideRule.objects.filter(event=event).values_list("procedure__code", flat=True)) == [
        "tennyu",
        "jidoteate",
    ]
    assert set(event.procedures.values_list("code", flat=True)) == {"tennyu", "jidoteate"}


def test_import_is_idempotent(empty_catalog: None, data_dir: Path) -> None:
    catalog_import(directory=data_dir)
    before = _snapshot()
    imports = CatalogImport.objects.count()
    report = catalog_import(directory=data_dir)
    assert not report.changed
    assert report.unchanged["procedure"] == 3
    assert _snapshot() == before
    assert CatalogImport.objects.count() == imports


def test_import_reports_updates_and_withdrawals(empty_catalog: None, data_dir: Path) -> None:
    catalog_import(directory=data_dir)
    _edit(data_dir / "procedures.yaml", "name: 住民票の写しの交付", "name: 住民票の写し等の交付")
    _edit(data_dir / "procedures.yaml", 'version: "test-1"', 'version: "test-2"')
    text = (data_dir / "procedures.yaml").read_text(encoding="utf-8")
    (data_dir / "procedures.yaml").write_text(text.split("  - code: jidoteate")[0], encoding="utf-8")
    _edit(data_dir / "life_events.yaml", '      - procedure: jidoteate\n        when: {children: "yes"}\n', "")
    report = catalog_import(directory=data_dir)
    assert report.updated["procedure"] == ["juminhyo-copy"]
    assert report.withdrawn["procedure"] == ["jidoteate"]
    assert not Procedure.objects.get(code="jidoteate").active
    assert Procedure.objects.get(code="juminhyo-copy").catalog_version == "test-2"
    assert any("1 updated" in line for line in report.lines())


@pytest.mark.parametrize(
    ("file", "old", "new", "line", "message"),
    [
        ("procedures.yaml", "department: kosodate", "department: nowhere", 27, "unknown department"),
        ("procedures.yaml", "channels: [counter]", "channels: [fax]", 18, "fax"),
        ("procedures.yaml", "fee: {yen: 300", "fee: {yen: -300", 23, "minimum"),
        ("procedures.yaml", "bring_en: [Photo ID]", "bring_en: [Photo ID, Two]", 16, "same number"),
        ("procedures.yaml", "  - code: juminhyo-copy", "  - code: tennyu", 19, "used twice"),
        ("procedures.yaml", "synonyms: [引越し]", "synonyms: [引越し", 14, "YAML syntax"),
        ("life_events.yaml", "procedure: jidoteate", "procedure: nothing", 13, "unknown procedure"),
        ("life_events.yaml", 'when: {children: "yes"}', 'when: {children: "maybe"}', 14, "not a choice"),
        ("life_events.yaml", 'when: {children: "yes"}', 'when: {pets: "yes"}', 14, "unknown or later question"),
        ("life_events.yaml", "      - procedure: tennyu\n", "", 11, "without `when`"),
    ],
)
def test_bad_row_aborts_with_file_and_line_and_changes_nothing(
    empty_catalog: None, data_dir: Path, file: str, old: str, new: str, line: int, message: str
) -> None:
    catalog_import(directory=data_dir)
    before = _snapshot()
    imports = CatalogImport.objects.count()
    # A good change and a bad one in the same import: neither may land.
    _edit(data_dir / "procedures.yaml", "name: 児童手当の認定請求", "name: 児童手当")
    _edit(data_dir / file, old, new)
    with pytest.raises(CatalogError) as info:
        catalog_import(directory=data_dir)
    assert info.value.file == file
    assert info.value.line == line, str(info.value)
    assert message in info.value.message
    assert _snapshot() == before
    assert CatalogImport.objects.count() == imports


def test_command_reports_and_fails_clearly(
    empty_catalog: None, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("catalog_import", "--dir", str(data_dir), "--dry-run")
    assert "3 created" in capsys.readouterr().out
    assert not Procedure.objects.exists()  # dry run wrote nothing
    call_command("catalog_import", "--dir", str(data_dir))
    assert Procedure.objects.count() == 3
    _edit(data_dir / "procedures.yaml", "department: kosodate", "department: nowhere")
    with pytest.raises(
        CommandError, match=r"procedures.yaml:27: .*nothing was changed|nothing was changed.*procedures.yaml:27"
    ):
        call_command("catalog_import", "--dir", str(data_dir))


def test_real_catalog_is_valid_and_large_enough(catalog: None) -> None:
    assert Procedure.objects.filter(active=True).count() >= 80
    assert LifeEvent.objects.count() >= 8
    for code in [
        "tennyu",
        "tenshutsu",
        "tenkyo",
        "juminhyo-copy",
        "inkan-toroku",
        "shussei",
        "konin",
        "shibo",
        "jidoteate",
        "kodomo-iryosho",
        "hoikuen",
        "kokuho-kanyu",
        "sodai-gomi",
        "inu-toroku",
    ]:
        assert Procedure.objects.filter(code=code).exists(), code
    # Every procedure names where to go and how.
    assert not Procedure.objects.filter(counter="").exists()
    assert not Procedure.objects.filter(channels=[]).exists()
