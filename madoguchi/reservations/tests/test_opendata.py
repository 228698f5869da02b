"""The open data CSV files: the exact header rows (written out here, so that any
change to a layout is a deliberate change of this test), UTF-8 with a BOM and CRLF,
and the value formats (全国地方公共団体コード with its check digit, coordinates,
telephone numbers, dates and times)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from madoguchi.core.models import Department
from madoguchi.reservations import opendata
from madoguchi.reservations.checks import check_local_government_code
from madoguchi.reservations.models import Event, Facility

from .conftest import make_event

pytestmark = pytest.mark.django_db

FACILITY_HEADER = [
    "全国地方公共団体コード", "ID", "地方公共団体名", "名称", "名称_カナ", "名称_英字", "名称_通称", "POIコード",
    "所在地_全国地方公共団体コード", "町字ID", "所在地_連結表記", "所在地_都道府県", "所在地_市区町村",
    "所在地_町字", "所在地_番地以下", "建物名等(方書)", "緯度", "経度", "高度の種別", "高度の値",
    "電話番号", "内線番号", "連絡先メールアドレス", "連絡先FormURL", "連絡先備考（その他、SNSなど）", "郵便番号",
    "法人番号", "団体名", "利用可能曜日", "開始時間", "終了時間", "利用可能日時特記事項", "説明",
    "バリアフリー情報", "画像", "画像_ライセンス", "URL", "備考",
]  # fmt: skip

EVENT_HEADER = [
    "全国地方公共団体コード", "ID", "地方公共団体名", "イベント名", "イベント名_カナ", "イベント名_英語",
    "開始日", "終了日", "開始時間", "終了時間", "開始日時特記事項", "説明", "料金(基本)", "料金(詳細)",
    "連絡先名称", "連絡先電話番号", "連絡先内線番号", "連絡先メールアドレス", "連絡先FormURL",
    "連絡先備考（その他、SNSなど）", "主催者", "場所名称",
    "所在地_全国地方公共団体コード", "町字ID", "所在地_連結表記", "所在地_都道府県", "所在地_市区町村",
    "所在地_町字", "所在地_番地以下", "建物名等(方書)", "緯度", "経度", "高度の種別", "高度の値",
    "アクセス方法", "駐車場情報", "定員", "参加申込終了日", "参加申込終了時間", "参加申込方法",
    "画像", "画像_ライセンス", "URL", "備考",
]  # fmt: skip

LEGACY_FACILITY_HEADER = [
    "都道府県コード又は市区町村コード", "NO", "都道府県名", "市区町村名", "名称", "名称_カナ", "名称_通称",
    "POIコード", "住所", "方書", "緯度", "経度", "電話番号", "内線番号", "法人番号", "団体名", "利用可能曜日",
    "開始時間", "終了時間", "利用可能日時特記事項", "説明", "バリアフリー情報", "URL", "備考",
]  # fmt: skip

LEGACY_EVENT_HEADER = [
    "都道府県コード又は市区町村コード", "NO", "都道府県名", "市区町村名", "イベント名", "イベント名_カナ",
    "イベント名_英語", "開始日", "終了日", "開始時間", "終了時間", "開始日時特記事項", "説明", "料金(基本)",
    "料金(詳細)", "連絡先名称", "連絡先電話番号", "連絡先内線番号", "主催者", "場所名称", "住所", "方書",
    "緯度", "経度", "アクセス方法", "駐車場情報", "定員", "参加申込終了日", "参加申込終了時間", "参加申込方法",
    "URL", "備考",
]  # fmt: skip


def rows(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf")
    assert body.count(b"\r\n") == body.count(b"\n")
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def records(body: bytes) -> tuple[list[str], list[dict[str, str]]]:
    header, *data = rows(body)
    return header, [dict(zip(header, row, strict=True)) for row in data]


@pytest.fixture
def event(department: Department, facility: Facility) -> Event:
    day = timezone.localdate() + dt.timedelta(days=14)
    starts = timezone.make_aware(dt.datetime.combine(day, dt.time(10, 0)))
    return make_event(
        department,
        facility=facility,
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=2),
        application_closes_at=starts - dt.timedelta(days=1, hours=-7),
        contact_phone="０３ー５５５５ー０００２",
    )


def test_the_facilities_csv_has_exactly_the_standard_header(client: Client, facility: Facility) -> None:
    header, _ = records(client.get(reverse("reservations:opendata_facilities")).content)
    assert header == FACILITY_HEADER == opendata.FACILITY_COLUMNS


def test_the_events_csv_has_exactly_the_standard_header(client: Client, event: Event) -> None:
    header, _ = records(client.get(reverse("reservations:opendata_events")).content)
    assert header == EVENT_HEADER == opendata.EVENT_COLUMNS
    assert "郵便番号" not in header  # the event sheet has no postal code


def test_the_legacy_layouts_have_exactly_the_recommended_dataset_headers(
    client: Client, facility: Facility, event: Event
) -> None:
    facilities, _ = records(client.get(reverse("reservations:opendata_facilities"), {"layout": "legacy"}).content)
    events, _ = records(client.get(reverse("reservations:opendata_events"), {"layout": "legacy"}).content)
    assert facilities == LEGACY_FACILITY_HEADER
    assert events == LEGACY_EVENT_HEADER


def test_facility_values_follow_the_formats(client: Client, facility: Facility, settings: Any) -> None:
    settings.WARD_LOCAL_GOVERNMENT_CODE = "13103"  # 5 digits: the check digit is added
    Facility.objects.filter(pk=facility.pk).update(
        latitude=Decimal("35.6812"), longitude=Decimal("139.7671"), phone="03‐5555−0001", postal_code="１００-０００１"
    )
    _, (record,) = records(client.get(reverse("reservations:opendata_facilities")).content)
    assert record["全国地方公共団体コード"] == record["所在地_全国地方公共団体コード"] == "131032"
    assert record["ID"] == f"F{facility.pk:06d}"
    assert record["地方公共団体名"] == "東京都デモ区"
    assert (record["緯度"], record["経度"]) == ("35.681200", "139.767100")
    assert record["電話番号"] == "03-5555-0001"
    assert record["郵便番号"] == "100-0001"
    assert (record["開始時間"], record["終了時間"]) == ("09:00", "21:00")
    assert record["利用可能曜日"] == "月,火,水,木,金,土,日,祝"
    assert record["所在地_連結表記"] == "東京都デモ区中央一丁目2-3"
    assert record["URL"].startswith("http://testserver/")


def test_event_values_follow_the_formats(client: Client, event: Event, settings: Any) -> None:
    settings.WARD_LOCAL_GOVERNMENT_CODE = "131032"
    _, (record,) = records(client.get(reverse("reservations:opendata_events")).content)
    starts = timezone.localtime(event.starts_at)
    closes = timezone.localtime(event.application_closes_at)
    assert record["全国地方公共団体コード"] == "131032"
    assert record["ID"] == f"E{event.pk:06d}"
    assert (record["開始日"], record["開始時間"]) == (starts.strftime("%Y-%m-%d"), "10:00")
    assert (record["終了日"], record["終了時間"]) == (starts.strftime("%Y-%m-%d"), "12:00")
    assert (record["参加申込終了日"], record["参加申込終了時間"]) == (closes.strftime("%Y-%m-%d"), "17:00")
    assert record["連絡先電話番号"] == "03-5555-0002"
    assert record["所在地_連結表記"] == "東京都デモ区中央一丁目2-3"
    assert record["所在地_全国地方公共団体コード"] == "131032"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("011002", "011002"),  # 札幌市
        ("01100", "011002"),
        ("131041", "131041"),  # 新宿区: remainder 0 gives 1
        ("131130", "131130"),  # 渋谷区: remainder 1 gives 0
        ("１３１０３", "131032"),  # full-width digits
        ("", ""),
    ],
)
def test_local_government_codes_get_and_keep_their_check_digit(given: str, expected: str) -> None:
    assert opendata.local_government_code(given) == expected


@pytest.mark.parametrize("given", ["131999", "1310", "13103-2", "abcdef", "1310322"])
def test_a_wrong_local_government_code_is_a_configuration_error(given: str, client: Client, settings: Any) -> None:
    with pytest.raises(ImproperlyConfigured):
        opendata.local_government_code(given)
    settings.WARD_LOCAL_GOVERNMENT_CODE = given
    assert [message.id for message in check_local_government_code()] == ["reservations.E001"]
