"""What the PDF documents (checklists, receipts, later notices) share: the Japanese
font, A4 pages with the ward's margins, and picking Japanese or English text."""

from __future__ import annotations

from typing import IO

from django.utils import translation
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import SimpleDocTemplate

# A CID font built into reportlab (no font file to ship); PDF viewers supply the
# glyphs from their Japanese fonts.
FONT = "HeiseiKakuGo-W5"


def japanese_font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def pick(ja: str, en: str) -> str:
    """``en`` when the page language is English and ``en`` is filled, else ``ja``."""
    return en if translation.get_language() == "en" and en else ja


def a4_document(buffer: IO[bytes], *, title: str, author: str) -> SimpleDocTemplate:
    return SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=title,
        author=author,
        lang="en" if translation.get_language() == "en" else "ja",
    )
