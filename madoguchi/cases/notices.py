"""Decision notices (決定通知書・交付物) as PDF, from the per-procedure templates in
``data/notices.yaml`` (a ward edits the file; ``default`` covers the rest). The notice
is produced once, when the case is decided, kept with the case and delivered to the
resident's portal and by email."""

from __future__ import annotations

import functools
import io
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import yaml
from django.conf import settings
from django.utils import timezone, translation
from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

from madoguchi.applications.services import applicant_language
from madoguchi.cases.models import Case, Outcome
from madoguchi.core.japanese import format_wareki
from madoguchi.core.pdf import a4_document, japanese_font, pick

NOTICES = Path(__file__).parent / "data" / "notices.yaml"


@functools.cache
def _templates() -> dict[str, dict[str, str]]:
    return dict(yaml.safe_load(NOTICES.read_text(encoding="utf-8")))


def notice_template(procedure_code: str) -> dict[str, str]:
    templates = _templates()
    return {**templates["default"], **templates.get(procedure_code, {})}


def _text(template: dict[str, str], key: str, values: dict[str, Any]) -> str:
    text = pick(template.get(key, ""), template.get(f"{key}_en", ""))
    return text.format(**values)


def _date(value: Any) -> str:
    local = timezone.localtime(value).date()
    return format_wareki(local) if translation.get_language() != "en" else local.isoformat()


def notice_pdf(case: Case) -> bytes:
    """The notice of ``case``'s decision, in the resident's language."""
    font = japanese_font()
    template = notice_template(case.procedure.code)
    ward = pick(settings.WARD_NAME, settings.WARD_NAME_EN)
    values = {
        "applicant": case.applicant_name,
        "procedure": pick(case.procedure.name, case.procedure.name_en),
        "reference_number": case.reference_number,
        "received": _date(case.received_at),
        "decided": _date(case.decided_at or timezone.now()),
        "reason": case.decision_reason or "-",
        "ward": ward,
    }
    body = ParagraphStyle("body", fontName=font, fontSize=10.5, leading=17, wordWrap="CJK")
    right = ParagraphStyle("right", parent=body, alignment=2)
    title_style = ParagraphStyle("title", fontName=font, fontSize=16, leading=24, alignment=1, spaceAfter=8)
    small = ParagraphStyle("small", parent=body, fontSize=9, textColor=colors.HexColor("#444444"))
    title = pick(template["title"], template.get("title_en", ""))
    buffer = io.BytesIO()
    doc = a4_document(buffer, title=title, author=ward)
    outcome_key = "granted" if case.outcome == Outcome.GRANTED else "refused"
    story: list[object] = [
        Paragraph(escape(f"{pick('受付番号', 'Reference')} {case.reference_number}"), right),
        Paragraph(escape(values["decided"]), right),
        Spacer(1, 4 * mm),
        Paragraph(escape(pick(f"{case.applicant_name} 様", f"Dear {case.applicant_name}")), body),
        Spacer(1, 2 * mm),
        Paragraph(escape(f"{ward}{pick('長', '')}"), right),
        Spacer(1, 6 * mm),
        Paragraph(escape(title), title_style),
    ]
    for line in _text(template, outcome_key, values).splitlines():
        story.append(Paragraph(escape(line) or "&nbsp;", body))
    story.append(Spacer(1, 6 * mm))
    details = Table(
        [
            [Paragraph(escape(pick("手続き", "Procedure")), body), Paragraph(escape(values["procedure"]), body)],
            [Paragraph(escape(pick("受付日", "Received")), body), Paragraph(escape(values["received"]), body)],
            [Paragraph(escape(pick("決定日", "Decided")), body), Paragraph(escape(values["decided"]), body)],
            [
                Paragraph(escape(pick("担当", "Contact")), body),
                Paragraph(escape(f"{case.department.name} {case.department.phone}".strip()), body),
            ],
        ],
        colWidths=[35 * mm, 139 * mm],
    )
    details.setStyle(TableStyle([("LINEBELOW", (0, 0), (-1, -1), 0.4, colors.HexColor("#cccccc"))]))
    story.append(details)
    if case.outcome == Outcome.REFUSED and template.get("appeal"):
        story += [Spacer(1, 6 * mm), Paragraph(escape(_text(template, "appeal", values)), small)]
    doc.build(story)
    return buffer.getvalue()


def notice_issue(*, case: Case) -> None:
    """Produce the notice in the resident's language and deliver it."""
    from madoguchi.cases.services import case_store_notice

    with translation.override(applicant_language(case.application)):
        pdf = notice_pdf(case)
    case_store_notice(case=case, pdf=pdf)
