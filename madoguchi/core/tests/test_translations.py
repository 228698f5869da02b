"""The English catalog is complete: every translatable string in the code and the
templates has a non-empty, non-fuzzy English translation, and placeholders match."""

from __future__ import annotations

import ast
import io
import re
from pathlib import Path

import polib
from babel.messages.extract import extract
from django.conf import settings
from django.utils.translation.template import templatize

PACKAGE = Path(settings.BASE_DIR) / "madoguchi"
KEYWORDS = {
    "_": None,
    "gettext": None,
    "gettext_lazy": None,
    "gettext_noop": None,
    "ngettext": (1, 2),
    "ngettext_lazy": (1, 2),
    "pgettext": ((1, "c"), 2),
    "pgettext_lazy": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
}
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]")
# templatize() turns template tags into calls such as gettext(u'…') or
# ngettext(u'…', u'…', count) inside filler text that is not valid Python.
TEMPLATE_CALL = re.compile(r"\b(n?p?gettext)\(((?:u'(?:[^'\\]|\\.)*'(?:, )?)+)")


def _template_messages(source: str) -> set[str]:
    found: set[str] = set()
    for func, args in TEMPLATE_CALL.findall(templatize(source)):
        values = ast.literal_eval(f"({args.rstrip(', ')},)")
        found.add(values[1] if func.startswith(("pgettext", "npgettext")) else values[0])
    return found


def source_messages() -> set[str]:
    found: set[str] = set()
    for path in sorted(PACKAGE.rglob("*")):
        if {"tests", "migrations", "static", "locale"} & set(path.parts):
            continue
        if path.suffix in {".html", ".txt"} and "templates" in path.parts:
            found |= _template_messages(path.read_text(encoding="utf-8"))
            continue
        if path.suffix != ".py":
            continue
        source = path.read_text(encoding="utf-8")
        for _lineno, message, _comments, _context in extract("python", io.BytesIO(source.encode()), KEYWORDS):
            singular = message[0] if isinstance(message, tuple) else message
            if singular:
                found.add(singular)
    return found


def english_catalog() -> polib.POFile:
    return polib.pofile(str(PACKAGE / "locale" / "en" / "LC_MESSAGES" / "django.po"))


def test_extraction_finds_the_source_strings() -> None:
    messages = source_messages()
    assert "手続きを探す" in messages  # a template string
    assert "この質問はありません。" in messages  # a Python string
    assert len(messages) > 200


def test_every_source_string_has_an_english_translation() -> None:
    po = english_catalog()
    translated = {e.msgid for e in po.translated_entries() if not e.obsolete}
    missing = sorted(source_messages() - translated)
    assert not missing, f"{len(missing)} strings without English (run makemessages and translate): {missing[:10]}"


def test_placeholders_survive_translation() -> None:
    for entry in english_catalog().translated_entries():
        targets = [entry.msgstr] if not entry.msgid_plural else list(entry.msgstr_plural.values())
        for target in targets:
            assert sorted(PLACEHOLDER.findall(entry.msgid)) == sorted(PLACEHOLDER.findall(target)) or (
                entry.msgid_plural
                and sorted(PLACEHOLDER.findall(entry.msgid_plural)) == sorted(PLACEHOLDER.findall(target))
            ), entry.msgid
