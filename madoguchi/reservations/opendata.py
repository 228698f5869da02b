"""Open data: facilities as 公共施設一覧 and events as イベント一覧, in the layouts
of the Digital Agency's 自治体標準オープンデータセット, as CSV in UTF-8 with a BOM and
CRLF line ends (as the published sets are).

Two layouts, chosen with ``?layout=``:

- default: the 正式版 shape. It starts with 全国地方公共団体コード, ID and
  地方公共団体名, and its location columns are 所在地_全国地方公共団体コード, 町字ID,
  所在地_連結表記, 所在地_都道府県, 所在地_市区町村, 所在地_町字, 所在地_番地以下 and
  建物名等(方書). It adds the contact, altitude and image columns.
- ``legacy``: the earlier 推奨データセット columns, exactly as they were published:
  都道府県コード又は市区町村コード, NO, 都道府県名, 市区町村名 … 住所, 方書 ….

The column lists are data (``FACILITY_COLUMNS`` …): a ward that finds a difference
from the definition sheet it follows edits them here, and each row is built as a
mapping from column name, so a renamed column only needs its name changed. Which
source each list follows, and what could not be confirmed, is recorded in
``docs/reservations.md`` (「Open data」).

Values follow the sheets' common rules where they are known: 全国地方公共団体コード
as 6 half-width digits including the check digit (:func:`local_government_code`;
``WARD_LOCAL_GOVERNMENT_CODE`` may be given with 5 or 6 digits), 緯度/経度 as decimal
degrees with 6 decimals, dates ``YYYY-MM-DD``, times ``hh:mm``, telephone numbers in
half-width digits with hyphens, URLs absolute.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from madoguchi.reservations.models import Event, Facility

ADDRESS_COLUMNS = [
    "所在地_全国地方公共団体コード",
    "町字ID",
    "所在地_連結表記",
    "所在地_都道府県",
    "所在地_市区町村",
    "所在地_町字",
    "所在地_番地以下",
    "建物名等(方書)",
]
CONTACT_COLUMNS = ["連絡先メールアドレス", "連絡先FormURL", "連絡先備考（その他、SNSなど）"]

FACILITY_COLUMNS = [
    "全国地方公共団体コード",
    "ID",
    "地方公共団体名",
    "名称",
    "名称_カナ",
    "名称_英字",
    "名称_通称",
    "POIコード",
    *ADDRESS_COLUMNS,
    "緯度",
    "経度",
    "高度の種別",
    "高度の値",
    "電話番号",
    "内線番号",
    *CONTACT_COLUMNS,
    "郵便番号",
    "法人番号",
    "団体名",
    "利用可能曜日",
    "開始時間",
    "終了時間",
    "利用可能日時特記事項",
    "説明",
    "バリアフリー情報",
    "画像",
    "画像_ライセンス",
    "URL",
    "備考",
]

EVENT_COLUMNS = [
    "全国地方公共団体コード",
    "ID",
    "地方公共団体名",
    "イベント名",
    "イベント名_カナ",
    "イベント名_英語",
    "開始日",
    "終了日",
    "開始時間",
    "終了時間",
    "開始日時特記事項",
    "説明",
    "料金(基本)",
    "料金(詳細)",
    "連絡先名称",
    "連絡先電話番号",
    "連絡先内線番号",
    *CONTACT_COLUMNS,
    "主催者",
    "場所名称",
    *ADDRESS_COLUMNS,
    "緯度",
    "経度",
    "高度の種別",
    "高度の値",
    "アクセス方法",
    "駐車場情報",
    "定員",
    "参加申込終了日",
    "参加申込終了時間",
    "参加申込方法",
    "画像",
    "画像_ライセンス",
    "URL",
    "備考",
]

LEGACY_HEAD = ["都道府県コード又は市区町村コード", "NO", "都道府県名", "市区町村名"]

LEGACY_FACILITY_COLUMNS = [
    *LEGACY_HEAD,
    "名称",
    "名称_カナ",
    "名称_通称",
    "POIコード",
    "住所",
    "方書",
    "緯度",
    "経度",
    "電話番号",
    "内線番号",
    "法人番号",
    "団体名",
    "利用可能曜日",
    "開始時間",
    "終了時間",
    "利用可能日時特記事項",
    "説明",
    "バリアフリー情報",
    "URL",
    "備考",
]

LEGACY_EVENT_COLUMNS = [
    *LEGACY_HEAD,
    "イベント名",
    "イベント名_カナ",
    "イベント名_英語",
    "開始日",
    "終了日",
    "開始時間",
    "終了時間",
    "開始日時特記事項",
    "説明",
    "料金(基本)",
    "料金(詳細)",
    "連絡先名称",
    "連絡先電話番号",
    "連絡先内線番号",
    "主催者",
    "場所名称",
    "住所",
    "方書",
    "緯度",
    "経度",
    "アクセス方法",
    "駐車場情報",
    "定員",
    "参加申込終了日",
    "参加申込終了時間",
    "参加申込方法",
    "URL",
    "備考",
]

WEEKDAYS = ["月", "火", "水", "木", "金", "土", "日"]


_CHECK_WEIGHTS = (6, 5, 4, 3, 2)
_DASHES = re.compile("[\u2010-\u2015\u2212\u30fc\uff70\ufe63]")


def check_digit(code5: str) -> str:
    """The check digit of a 5-digit 団体コード (総務省「全国地方公共団体コード」):
    the digits weighted 6, 5, 4, 3, 2, summed; 11 minus the remainder modulo 11,
    keeping only its last digit (remainder 0 gives 1, remainder 1 gives 0)."""
    if len(code5) != 5 or not code5.isdigit():
        raise ValueError(f"not a 5-digit code: {code5!r}")
    remainder = sum(int(d) * w for d, w in zip(code5, _CHECK_WEIGHTS, strict=True)) % 11
    return str((11 - remainder) % 10)


def local_government_code(value: str) -> str:
    """The 6-digit 全国地方公共団体コード for ``value``: 5 digits get their check
    digit, 6 digits must carry the right one, empty stays empty. Full-width digits
    are accepted. Anything else is a configuration error."""
    text = unicodedata.normalize("NFKC", value).strip()
    if not text:
        return ""
    if len(text) == 5 and text.isdigit():
        return text + check_digit(text)
    if len(text) == 6 and text.isdigit() and check_digit(text[:5]) == text[5]:
        return text
    raise ImproperlyConfigured(
        f"WARD_LOCAL_GOVERNMENT_CODE {value!r} is not a 全国地方公共団体コード (5 digits, or 6 with the check digit)"
    )


def _ward() -> dict[str, str]:
    """The publishing government, from settings (read at call time)."""
    prefecture = str(getattr(settings, "WARD_PREFECTURE", "東京都"))
    return {
        "code": local_government_code(str(getattr(settings, "WARD_LOCAL_GOVERNMENT_CODE", ""))),
        "prefecture": prefecture,
        "city": str(settings.WARD_NAME),
        "name": f"{prefecture}{settings.WARD_NAME}",
    }


def _decimal(value: Decimal | float | None) -> str:
    """A coordinate in decimal degrees with 6 decimals (about 0.1 m), e.g. 35.681200."""
    return "" if value is None else f"{Decimal(str(value)):.6f}"


def _phone(value: str) -> str:
    """A telephone number in half-width digits with hyphens (03-5555-0001)."""
    text = unicodedata.normalize("NFKC", value).strip()
    return re.sub(r"\s+", "", _DASHES.sub("-", text))


def _location(facility: Facility | None, full_address: str) -> dict[str, str]:
    ward = _ward()
    if facility is None:
        return {"所在地_全国地方公共団体コード": ward["code"] if full_address else "", "所在地_連結表記": full_address}
    return {
        "所在地_全国地方公共団体コード": ward["code"],
        "町字ID": "",
        "所在地_連結表記": full_address or facility.full_address,
        "所在地_都道府県": facility.address_prefecture,
        "所在地_市区町村": facility.address_city,
        "所在地_町字": facility.address_town,
        "所在地_番地以下": facility.address_block,
        "建物名等(方書)": facility.address_building,
        "緯度": _decimal(facility.latitude),
        "経度": _decimal(facility.longitude),
    }


def _open_days(facility: Facility) -> str:
    closed = set(facility.closed_weekday_set)
    if facility.calendar == Facility.Calendar.OFFICE:
        closed |= {5, 6}
    days = [WEEKDAYS[i] for i in range(7) if i not in closed]
    if facility.calendar != Facility.Calendar.OFFICE:
        days.append("祝")
    return ",".join(days)


def _hours(facility: Facility) -> tuple[str, str]:
    blocks = list(facility.time_blocks.all())
    if not blocks:
        return "", ""
    return min(b.start_time for b in blocks).strftime("%H:%M"), max(b.end_time for b in blocks).strftime("%H:%M")


def _facility_notes(facility: Facility) -> str:
    notes = ["年末年始（12月29日〜1月3日）は休館"]
    if facility.calendar == Facility.Calendar.OFFICE:
        notes.append("土日・祝日は休館")
    today = timezone.localdate()
    for closure in facility.closures.filter(end_date__gte=today)[:5]:
        notes.append(f"{closure.start_date:%Y-%m-%d}〜{closure.end_date:%Y-%m-%d} 臨時休館（{closure.reason}）")
    return "。".join(notes)


def facility_row(facility: Facility, *, url: str) -> dict[str, str]:
    ward = _ward()
    start, end = _hours(facility)
    return {
        "全国地方公共団体コード": ward["code"],
        "ID": f"F{facility.pk:06d}",
        "地方公共団体名": ward["name"],
        "名称": facility.name,
        "名称_カナ": facility.name_kana,
        "名称_英字": facility.name_en,
        "名称_通称": facility.nickname,
        **_location(facility, facility.full_address),
        "電話番号": _phone(facility.phone),
        "連絡先メールアドレス": facility.email,
        "郵便番号": unicodedata.normalize("NFKC", facility.postal_code).strip(),
        "利用可能曜日": _open_days(facility),
        "開始時間": start,
        "終了時間": end,
        "利用可能日時特記事項": _facility_notes(facility),
        "説明": facility.description,
        "バリアフリー情報": ";".join(facility.accessibility_items),
        "URL": url,
        # legacy names
        "都道府県コード又は市区町村コード": ward["code"],
        "NO": str(facility.pk),
        "都道府県名": ward["prefecture"],
        "市区町村名": ward["city"],
        "住所": "".join(
            [facility.address_prefecture, facility.address_city, facility.address_town, facility.address_block]
        ),
        "方書": facility.address_building,
    }


def event_row(event: Event, *, url: str) -> dict[str, str]:
    ward = _ward()
    starts = timezone.localtime(event.starts_at)
    ends = timezone.localtime(event.ends_at)
    closes = timezone.localtime(event.application_closes_at)
    facility = event.facility
    location = _location(facility, event.full_address)
    return {
        "全国地方公共団体コード": ward["code"],
        "ID": f"E{event.pk:06d}",
        "地方公共団体名": ward["name"],
        "イベント名": event.title,
        "イベント名_カナ": event.title_kana,
        "イベント名_英語": event.title_en,
        "開始日": starts.strftime("%Y-%m-%d"),
        "終了日": ends.strftime("%Y-%m-%d"),
        "開始時間": starts.strftime("%H:%M"),
        "終了時間": ends.strftime("%H:%M"),
        "開始日時特記事項": event.date_note,
        "説明": event.description,
        "料金(基本)": "無料" if event.fee_yen == 0 else str(event.fee_yen),
        "料金(詳細)": event.fee_detail,
        "連絡先名称": event.contact_name,
        "連絡先電話番号": _phone(event.contact_phone),
        "主催者": event.organizer,
        "場所名称": event.place_name,
        **location,
        "アクセス方法": event.access,
        "駐車場情報": event.parking,
        "定員": str(event.capacity),
        "参加申込終了日": closes.strftime("%Y-%m-%d"),
        "参加申込終了時間": closes.strftime("%H:%M"),
        "参加申込方法": event.application_method,
        "URL": url,
        "備考": event.remarks,
        # legacy names
        "都道府県コード又は市区町村コード": ward["code"],
        "NO": str(event.pk),
        "都道府県名": ward["prefecture"],
        "市区町村名": ward["city"],
        "住所": event.full_address,
        "方書": facility.address_building if facility else "",
    }


def to_csv(columns: Sequence[str], rows: Iterable[Mapping[str, str]]) -> bytes:
    """CSV with a header row, CRLF line ends, UTF-8 with a BOM."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(column, "") for column in columns])
    return buffer.getvalue().encode("utf-8-sig")


def facilities_csv(*, request: HttpRequest, legacy: bool = False) -> bytes:
    facilities = Facility.objects.filter(is_active=True).prefetch_related("time_blocks").order_by("pk")
    rows = (
        facility_row(f, url=request.build_absolute_uri(reverse("reservations:facility_detail", args=[f.code])))
        for f in facilities
    )
    return to_csv(LEGACY_FACILITY_COLUMNS if legacy else FACILITY_COLUMNS, rows)


def events_csv(*, request: HttpRequest, legacy: bool = False) -> bytes:
    events = Event.objects.filter(is_published=True).select_related("facility").order_by("starts_at", "pk")
    rows = (
        event_row(e, url=request.build_absolute_uri(reverse("reservations:event_detail", args=[e.pk]))) for e in events
    )
    return to_csv(LEGACY_EVENT_COLUMNS if legacy else EVENT_COLUMNS, rows)
