"""The receipt (受付票) of a submitted application as a PDF, with the Japanese CID
font of the guide's documents. マイナンバー is masked as on the confirmation page."""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from django.conf import settings
from django.utils import timezone, translation
from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

from madoguchi.applications.models import Application
from madoguchi.applications.services import application_answers
from madoguchi.core.pdf import a4_document, japanese_font, pick
from madoguchi.forms import engine


def receipt_pdf(application: Application) -> bytes:
    font = japanese_font()
    lang = "en" if translation.get_language() == "en" else "ja"
    title_style = ParagraphStyle("title", fontName=font, fontSize=18, leading=26, spaceAfter=6)
    body = ParagraphStyle("body", fontName=font, fontSize=10.5, leading=16, wordWrap="CJK")
    big = ParagraphStyle("big", fontName=font, fontSize=16, leading=24)
    small = ParagraphStyle("small", parent=body, textColor=colors.HexColor("#555555"), fontSize=9)
    ward = pick(settings.WARD_NAME, settings.WARD_NAME_EN)
    definition = application.form_definition.definition
    title = pick(str(definition["title"]), str(definition.get("title_en", "")))
    buffer = io.BytesIO()
    doc = a4_document(buffer, title=pick("申請受付票", "Application receipt"), author=ward)
    submitted = timezone.localtime(application.submitted_at) if application.submitted_at else None
    story: list[object] = [
        Paragraph(escape(pick("申請受付票", "Application receipt")), title_style),
        Paragraph(escape(f"{ward} — {title}"), body),
        Spacer(1, 4 * mm),
        Paragraph(escape(f"{pick('受付番号', 'Reference number')}: {application.reference_number}"), big),
        Paragraph(
            escape(f"{pick('受付日時', 'Received')}: {submitted.strftime('%Y-%m-%d %H:%M') if submitted else ''}"), body
        ),
    ]
    if application.fee_yen:
        story.append(Paragraph(escape(f"{pick('手数料', 'Fee')}: {application.fee_yen:,}円"), body))
    story.append(Spacer(1, 4 * mm))
    rows = engine.summary(definition, application_answers(application), lang)
    table = Table(
        [[Paragraph(escape(r.label), body), Paragraph(escape(r.value), body)] for r in rows],
        colWidths=[55 * mm, 119 * mm],
    )
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.4, colors.HexColor("#cccccc")),
            ]
        )
    )
    story.append(table)
    story.append(Spacer(1, 6 * mm))
    story.append(
        Paragraph(
            escape(
                pick(
                    "お問い合わせの際は受付番号をお知らせください。この受付票は申請を受け付けたことを示すもので、"
                    "証明書ではありません。",
                    "Please quote the reference number when you contact us. This receipt shows that the application "
                    "was received; it is not a certificate.",
                )
            ),
            small,
        )
    )
    doc.build(story)
    return buffer.getvalue()
