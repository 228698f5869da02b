"""The checklist as a PDF (reportlab, Japanese CID font) and as iCalendar (.ics)."""

from __future__ import annotations

import datetime as dt
import io
from xml.sax.saxutils import escape

from django.conf import settings
from django.utils import translation
from icalendar import Alarm, Calendar, Event
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer

from madoguchi.core.japanese import format_wareki
from madoguchi.guide.engine import Checklist, ChecklistItem

FONT = "HeiseiKakuGo-W5"


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def _t(ja: str, en: str) -> str:
    return en if translation.get_language() == "en" and en else ja


def _date(value: dt.date) -> str:
    if translation.get_language() == "en":
        return value.strftime("%-d %B %Y")
    return f"{format_wareki(value)}（{value.year}年）"


def checklist_pdf(checklist: Checklist) -> bytes:
    font = _font()
    title_style = ParagraphStyle("title", fontName=font, fontSize=18, leading=26, spaceAfter=6)
    h_style = ParagraphStyle("h", fontName=font, fontSize=13, leading=19, spaceBefore=8, spaceAfter=2)
    body = ParagraphStyle("body", fontName=font, fontSize=10.5, leading=16, wordWrap="CJK")
    small = ParagraphStyle("small", parent=body, textColor=colors.HexColor("#555555"), fontSize=9)
    buffer = io.BytesIO()
    ward = _t(settings.WARD_NAME, settings.WARD_NAME_EN)
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=_t("手続きチェックリスト", "Checklist of procedures"),
        author=ward,
        lang="en" if translation.get_language() == "en" else "ja",
    )
    event = checklist.event
    story: list[object] = [
        Paragraph(escape(_t("手続きチェックリスト", "Checklist of procedures")), title_style),
        Paragraph(escape(f"{ward} — {_t(event.name, event.name_en)}"), body),
    ]
    if checklist.event_date:
        story.append(
            Paragraph(
                escape(
                    f"{_t(event.date_label or '基準日', event.date_label_en or 'Date')}: {_date(checklist.event_date)}"
                ),
                body,
            )
        )
    story.append(Spacer(1, 4 * mm))
    for item in checklist.items:
        story.append(KeepTogether(_item_flowables(item, h_style, body, small)))
    story.append(Spacer(1, 6 * mm))
    story.append(
        Paragraph(
            escape(
                _t(
                    "この一覧は回答に基づく目安です。詳しくは各窓口にお問い合わせください。",
                    "This list is a guide based on your answers. Please ask the counters for details.",
                )
            ),
            small,
        )
    )
    doc.build(story)
    return buffer.getvalue()


def _item_flowables(
    item: ChecklistItem, h_style: ParagraphStyle, body: ParagraphStyle, small: ParagraphStyle
) -> list[object]:
    p = item.procedure
    rows: list[object] = [Paragraph(escape(f"□ {item.step}. {_t(p.name, p.name_en)}"), h_style)]
    if item.note:
        rows.append(Paragraph(escape(_t(item.note, item.note_en)), body))
    if item.deadline:
        rows.append(Paragraph(escape(f"{_t('期限', 'Deadline')}: {_date(item.deadline)}"), body))
    elif p.deadline_text:
        rows.append(Paragraph(escape(f"{_t('期限', 'Deadline')}: {_t(p.deadline_text, p.deadline_text_en)}"), body))
    rows.append(Paragraph(escape(f"{_t('場所', 'Where')}: {_t(p.counter, p.counter_en)}"), body))
    rows.append(Paragraph(escape(f"{_t('方法', 'How')}: {'、'.join(p.get_channels_display())}"), body))
    bring = p.bring_en if translation.get_language() == "en" and p.bring_en else p.bring
    if bring:
        rows.append(Paragraph(escape(f"{_t('持ち物', 'Bring')}: " + " / ".join(bring)), body))
    fee = f"{p.fee_yen:,}円 " if p.fee_yen is not None else ""
    fee_text = fee + _t(p.fee_note, p.fee_note_en) if (fee or p.fee_note) else _t("無料", "Free")
    rows.append(Paragraph(escape(f"{_t('手数料', 'Fee')}: {fee_text}"), small))
    return rows


def checklist_ics(checklist: Checklist, url: str) -> bytes:
    """One all-day event per deadline, with a reminder three days before."""
    cal = Calendar()
    cal.add("prodid", "-//madoguchi//checklist//JA")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", _t("手続きの期限", "Procedure deadlines"))
    now = dt.datetime.now(dt.UTC)
    for item in checklist.items:
        if item.deadline is None:
            continue
        p = item.procedure
        event = Event()
        event.add("uid", f"{checklist.event.code}-{p.code}-{item.deadline.isoformat()}@madoguchi")
        event.add("dtstamp", now)
        event.add("dtstart", item.deadline)
        event.add("dtend", item.deadline + dt.timedelta(days=1))
        event.add("summary", f"{_t('期限', 'Deadline')}: {_t(p.name, p.name_en)}")
        event.add("location", _t(p.counter, p.counter_en))
        event.add("description", f"{_t(p.deadline_text, p.deadline_text_en)}\n{url}")
        event.add("url", url)
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", _t(p.name, p.name_en))
        alarm.add("trigger", dt.timedelta(days=-3))
        event.add_component(alarm)
        cal.add_component(event)
    return cal.to_ical()
