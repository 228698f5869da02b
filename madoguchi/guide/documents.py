"""The checklist as a PDF (reportlab, Japanese CID font) and as iCalendar (.ics)."""

from __future__ import annotations

import datetime as dt
import io
from xml.sax.saxutils import escape

from django.conf import settings
from django.utils import translation
from icalendar import Alarm, Calendar, Event
from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, Spacer

from madoguchi.core.japanese import format_wareki
from madoguchi.core.pdf import a4_document, japanese_font, pick
from madoguchi.guide.engine import Checklist, ChecklistItem


def _date(value: dt.date) -> str:
    if translation.get_language() == "en":
        return value.strftime("%-d %B %Y")
    return f"{format_wareki(value)}（{value.year}年）"


def checklist_pdf(checklist: Checklist) -> bytes:
    font = japanese_font()
    title_style = ParagraphStyle("title", fontName=font, fontSize=18, leading=26, spaceAfter=6)
    h_style = ParagraphStyle("h", fontName=font, fontSize=13, leading=19, spaceBefore=8, spaceAfter=2)
    body = ParagraphStyle("body", fontName=font, fontSize=10.5, leading=16, wordWrap="CJK")
    small = ParagraphStyle("small", parent=body, textColor=colors.HexColor("#555555"), fontSize=9)
    buffer = io.BytesIO()
    ward = pick(settings.WARD_NAME, settings.WARD_NAME_EN)
    doc = a4_document(buffer, title=pick("手続きチェックリスト", "Checklist of procedures"), author=ward)
    event = checklist.event
    story: list[object] = [
        Paragraph(escape(pick("手続きチェックリスト", "Checklist of procedures")), title_style),
        Paragraph(escape(f"{ward} — {pick(event.name, event.name_en)}"), body),
    ]
    if checklist.event_date:
        label = pick(event.date_label or "基準日", event.date_label_en or "Date")
        story.append(Paragraph(escape(f"{label}: {_date(checklist.event_date)}"), body))
    story.append(Spacer(1, 4 * mm))
    for item in checklist.items:
        story.append(KeepTogether(_item_flowables(item, h_style, body, small)))
    story.append(Spacer(1, 6 * mm))
    story.append(
        Paragraph(
            escape(
                pick(
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
    rows: list[object] = [Paragraph(escape(f"□ {item.step}. {pick(p.name, p.name_en)}"), h_style)]
    if item.note:
        rows.append(Paragraph(escape(pick(item.note, item.note_en)), body))
    if item.deadline:
        rows.append(Paragraph(escape(f"{pick('期限', 'Deadline')}: {_date(item.deadline)}"), body))
    elif p.deadline_text:
        rows.append(Paragraph(escape(f"{pick('期限', 'Deadline')}: {pick(p.deadline_text, p.deadline_text_en)}"), body))
    rows.append(Paragraph(escape(f"{pick('場所', 'Where')}: {pick(p.counter, p.counter_en)}"), body))
    rows.append(Paragraph(escape(f"{pick('方法', 'How')}: {'、'.join(p.get_channels_display())}"), body))
    bring = p.bring_en if translation.get_language() == "en" and p.bring_en else p.bring
    if bring:
        rows.append(Paragraph(escape(f"{pick('持ち物', 'Bring')}: " + " / ".join(bring)), body))
    fee = f"{p.fee_yen:,}円 " if p.fee_yen is not None else ""
    fee_text = fee + pick(p.fee_note, p.fee_note_en) if (fee or p.fee_note) else pick("無料", "Free")
    rows.append(Paragraph(escape(f"{pick('手数料', 'Fee')}: {fee_text}"), small))
    return rows


def checklist_ics(checklist: Checklist, url: str) -> bytes:
    """One all-day event per deadline, with a reminder three days before."""
    cal = Calendar()
    cal.add("prodid", "-//madoguchi//checklist//JA")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", pick("手続きの期限", "Procedure deadlines"))
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
        event.add("summary", f"{pick('期限', 'Deadline')}: {pick(p.name, p.name_en)}")
        event.add("location", pick(p.counter, p.counter_en))
        event.add("description", f"{pick(p.deadline_text, p.deadline_text_en)}\n{url}")
        event.add("url", url)
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", pick(p.name, p.name_en))
        alarm.add("trigger", dt.timedelta(days=-3))
        event.add_component(alarm)
        cal.add_component(event)
    return cal.to_ical()
