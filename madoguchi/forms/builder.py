"""The no-code form builder: what staff can change in a draft form, as pure functions.

Flow: a staff page (``builder_views``) turns a posted HTML form into one *operation*
of this module (add a step, move a field, save a rule, …) after parsing the input with
``parse_*`` (bad input raises ``BuilderInputError`` with a Japanese message per
input name). ``services.form_draft_change`` locks the draft, checks that it is still
the version the page was made from (the draft's checksum, an optimistic check),
applies the operation to a copy of the definition and saves it with an audit record;
an operation that raises leaves the draft as it was.

Operations keep a draft *editable* (``builder_checks.shape_problems`` finds nothing)
but not necessarily publishable: a new choice field has no choices yet, a new step no
fields. ``builder_checks.publish_problems`` lists what must still be fixed before the
draft can be published.

Renaming a key renames it in the logic rules and in ``postal_code_field``; deleting a
field or step drops it from rule targets and drops the rules whose condition needs it,
so the builder never leaves a dangling reference behind.

The module also describes field types for the editor (Japanese names, default
options, how each option is entered), the prefill keys, and translates between logic
rules and the simple "when <field> <operator> <value>, show/hide/require <targets>"
form the editor offers (rules outside that form are shown read-only and edited in the
JSON editor).
"""

from __future__ import annotations

import copy
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

import pykakasi
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from madoguchi.forms.fields import registry, resolve_date_bound
from madoguchi.forms.schema import KEY_PATTERN, PREFILL_KEYS, definition_schema

Definition = dict[str, Any]
KEY_RE = re.compile(KEY_PATTERN)
KEY_MAX = 64


class BuilderInputError(Exception):
    """Bad input for an operation: ``errors`` maps an input name to a Japanese message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


class NotInDraft(LookupError):
    """A step, field or rule index that the draft does not have."""


# --- field types --------------------------------------------------------------------

TYPE_LABELS: dict[str, Promise] = {
    "text": gettext_lazy("1行のテキスト"),
    "textarea": gettext_lazy("複数行のテキスト"),
    "name": gettext_lazy("氏名（氏・名）"),
    "kana": gettext_lazy("フリガナ（セイ・メイ）"),
    "date": gettext_lazy("日付"),
    "date_range": gettext_lazy("期間（開始日・終了日）"),
    "postal_code": gettext_lazy("郵便番号"),
    "address": gettext_lazy("住所（丁目・番地・建物名）"),
    "phone": gettext_lazy("電話番号"),
    "email": gettext_lazy("メールアドレス"),
    "choice": gettext_lazy("選択（1つ）"),
    "multichoice": gettext_lazy("選択（複数）"),
    "number": gettext_lazy("数値"),
    "money": gettext_lazy("金額"),
    "file": gettext_lazy("ファイル添付"),
    "group": gettext_lazy("繰り返しグループ（世帯員など）"),
    "consent": gettext_lazy("同意"),
    "declaration": gettext_lazy("申告（内容の確認）"),
    "mynumber": gettext_lazy("マイナンバー"),
}

DEFAULT_ACCEPT = ["application/pdf", "image/jpeg", "image/png", ".pdf", ".jpg", ".jpeg", ".png"]

#: Options a new field of a type starts with, so that it can be rendered at once.
DEFAULT_OPTIONS: dict[str, dict[str, Any]] = {
    "choice": {"choices": [], "widget": "radio"},
    "multichoice": {"choices": []},
    "file": {"accept": DEFAULT_ACCEPT, "max_bytes": 10_000_000},
    "group": {"fields": []},
    "declaration": {"text": "記載した内容は事実と相違ありません。"},
}

COMMON_KEYS = ("key", "type", "label", "label_en", "help", "help_en", "required", "hidden", "prefill")


def type_label(name: str) -> str:
    return str(TYPE_LABELS.get(name, name))


def type_choices(*, in_group: bool = False) -> list[tuple[str, str]]:
    """(type name, Japanese name) of every registered type (no group inside a group)."""
    return [(n, type_label(n)) for n in registry.names() if not (in_group and n == "group")]


@dataclass(frozen=True)
class OptionSpec:
    """How the editor asks for one option of a field type.

    ``kind``: ``int``, ``text``, ``date`` (ISO date or today±N[dy]), ``list`` (comma
    separated), ``enum`` (a select), ``field_ref`` (an earlier postal-code field) or
    ``megabytes`` (entered in MB, stored in bytes)."""

    name: str
    label: str
    kind: str
    help: str = ""
    enum: tuple[tuple[str, str], ...] = ()
    minimum: int | None = None
    maximum: int | None = None

    @property
    def input_name(self) -> str:
        return f"opt_{self.name}"


_OPTION_TEXT: dict[str, tuple[Promise, str, Promise | str]] = {
    "max_length": (gettext_lazy("最大文字数"), "int", ""),
    "postal_code_field": (
        gettext_lazy("郵便番号の項目"),
        "field_ref",
        gettext_lazy("選んだ郵便番号の項目から、住所の前半（都道府県・市区町村・町名）を自動で入れます。"),
    ),
    "widget": (gettext_lazy("表示のしかた"), "enum", ""),
    "unit": (gettext_lazy("単位"), "text", gettext_lazy("例：通、人、枚")),
    "unit_en": (gettext_lazy("単位（英語）"), "text", ""),
    "accept": (
        gettext_lazy("添付できるファイルの種類"),
        "list",
        gettext_lazy("拡張子（.pdf）またはMIMEタイプ（image/jpeg、image/*）をカンマで区切って入力してください。"),
    ),
    "max_bytes": (gettext_lazy("ファイルの大きさの上限（MB）"), "megabytes", ""),
    "text": (gettext_lazy("本文"), "text", gettext_lazy("チェックボックスの上に表示する文です。")),
    "text_en": (gettext_lazy("本文（英語）"), "text", ""),
    "item_label": (gettext_lazy("1件の呼び名"), "text", gettext_lazy("例：人（「人 1」「人 2」と表示されます）")),
    "item_label_en": (gettext_lazy("1件の呼び名（英語）"), "text", ""),
    "max_days": (gettext_lazy("期間の最長日数"), "int", ""),
}
_DATE_HELP = gettext_lazy("2026-04-01 のような日付、または today（今日）、today-18y（18年前）、today+30d（30日後）。")
_WIDGETS = {"radio": gettext_lazy("ラジオボタン"), "select": gettext_lazy("プルダウン")}


def _range_labels(type_name: str) -> dict[str, tuple[Promise, str, Promise | str]]:
    if type_name in ("date", "date_range"):
        return {
            "min": (gettext_lazy("入力できるいちばん早い日"), "date", _DATE_HELP),
            "max": (gettext_lazy("入力できるいちばん遅い日"), "date", _DATE_HELP),
        }
    if type_name == "group":
        return {
            "min_items": (gettext_lazy("最少の件数"), "int", ""),
            "max_items": (gettext_lazy("最多の件数"), "int", ""),
        }
    return {
        "min": (gettext_lazy("最小値"), "int", ""),
        "max": (gettext_lazy("最大値"), "int", ""),
        "min_items": (gettext_lazy("選べる最少の数"), "int", ""),
        "max_items": (gettext_lazy("選べる最多の数"), "int", ""),
    }


def option_specs(type_name: str) -> list[OptionSpec]:
    """The options of a type the editor asks for, in the type's order. ``choices`` and a
    group's ``fields`` have their own editors; an option the builder does not know
    (a type added by a plugin) is asked for by its JSON schema type."""
    kind = registry.get(type_name)
    texts = {**_OPTION_TEXT, **_range_labels(type_name)}
    specs: list[OptionSpec] = []
    for name, schema in kind.options.items():
        if name in ("choices", "fields"):
            continue
        label: Promise | str
        help_text: Promise | str
        if name in texts:
            label, input_kind, help_text = texts[name]
        else:
            label, help_text = name, ""
            json_type = schema.get("type")
            input_kind = {"integer": "int", "string": "text", "array": "list"}.get(str(json_type), "")
            if "enum" in schema:
                input_kind = "enum"
            if not input_kind:
                continue
        enum: tuple[tuple[str, str], ...] = ()
        if input_kind == "enum":
            enum = tuple((str(v), str(_WIDGETS.get(str(v), v))) for v in schema.get("enum", []))
        specs.append(
            OptionSpec(
                name=name,
                label=str(label),
                kind=input_kind,
                help=str(help_text),
                enum=enum,
                minimum=schema.get("minimum"),
                maximum=schema.get("maximum"),
            )
        )
    return specs


def has_choices(type_name: str) -> bool:
    return type_name in registry and "choices" in registry.get(type_name).options


def is_always_required(type_name: str) -> bool:
    return type_name in registry and registry.get(type_name).always_required


# --- prefill ------------------------------------------------------------------------

PREFILL_GROUPS: dict[str, Promise] = {
    "resident": gettext_lazy("住民記録（本人）"),
    "household": gettext_lazy("住民記録（世帯）"),
    "account": gettext_lazy("アカウント"),
}
PREFILL_LABELS: dict[str, Promise] = {
    "resident.family_name": gettext_lazy("氏"),
    "resident.given_name": gettext_lazy("名"),
    "resident.family_name_kana": gettext_lazy("氏のフリガナ"),
    "resident.given_name_kana": gettext_lazy("名のフリガナ"),
    "resident.birth_date": gettext_lazy("生年月日"),
    "resident.sex": gettext_lazy("性別"),
    "resident.phone": gettext_lazy("電話番号"),
    "household.postal_code": gettext_lazy("郵便番号"),
    "household.address": gettext_lazy("住所"),
    "household.members": gettext_lazy("世帯員の一覧"),
    "account.email": gettext_lazy("メールアドレス"),
}
#: the field types each prefill key can fill (a value of another shape would not clean).
PREFILL_TYPES: dict[str, frozenset[str]] = {
    "resident.birth_date": frozenset({"date", "text"}),
    "resident.sex": frozenset({"choice", "text"}),
    "resident.phone": frozenset({"phone", "text"}),
    "household.postal_code": frozenset({"postal_code", "text"}),
    "household.address": frozenset({"address", "text", "textarea"}),
    "household.members": frozenset({"group"}),
    "account.email": frozenset({"email", "text"}),
}
NAME_PREFILL = ("resident.family_name", "resident.given_name")
KANA_PREFILL = ("resident.family_name_kana", "resident.given_name_kana")
#: the name parts of a name / kana field and the prefill keys that fit each type.
COMPOSITE_PREFILL: dict[str, tuple[str, ...]] = {"name": NAME_PREFILL + KANA_PREFILL, "kana": KANA_PREFILL}
NAME_PARTS = ("family", "given")


def prefill_label(key: str) -> str:
    group, _sep, _rest = key.partition(".")
    group_label = PREFILL_GROUPS.get(group, group)
    return f"{group_label}: {PREFILL_LABELS.get(key, key)}"


def prefill_fits(key: str, type_name: str) -> bool:
    """Whether the value of prefill ``key`` can fill a (single-value) field of ``type_name``."""
    if key not in PREFILL_KEYS:
        return False
    if key in PREFILL_TYPES:
        return type_name in PREFILL_TYPES[key]
    return type_name == "text"  # the name parts as plain text


def prefill_choices(type_name: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """(group label, [(key, label)]) of the prefill keys that fit a field of the type."""
    keys = sorted(PREFILL_KEYS)
    if type_name in COMPOSITE_PREFILL:
        fitting = [k for k in keys if k in COMPOSITE_PREFILL[type_name]]
    else:
        fitting = [k for k in keys if prefill_fits(k, type_name)]
    out: list[tuple[str, list[tuple[str, str]]]] = []
    for group in dict.fromkeys(k.partition(".")[0] for k in fitting):
        out.append(
            (
                str(PREFILL_GROUPS.get(group, group)),
                [(k, str(PREFILL_LABELS.get(k, k))) for k in fitting if k.partition(".")[0] == group],
            )
        )
    return out


# --- reading a definition -----------------------------------------------------------


@dataclass(frozen=True)
class FieldLoc:
    """Where a field is: ``steps[step].fields[field]`` and, for a field of a repeating
    group, ``.fields[sub]`` of it."""

    step: int
    field: int
    sub: int | None = None

    @property
    def path(self) -> str:
        base = f"steps/{self.step}/fields/{self.field}"
        return base if self.sub is None else f"{base}/fields/{self.sub}"

    @property
    def parent(self) -> FieldLoc:
        return FieldLoc(self.step, self.field)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def steps_of(definition: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [s for s in _list(definition.get("steps")) if isinstance(s, dict)]


def get_step(definition: Mapping[str, Any], index: int) -> dict[str, Any]:
    steps = _list(definition.get("steps"))
    if not 0 <= index < len(steps) or not isinstance(steps[index], dict):
        raise NotInDraft(f"step {index}")
    step: dict[str, Any] = steps[index]
    return step


def _siblings(definition: Mapping[str, Any], loc: FieldLoc) -> list[Any]:
    """The list that holds the field at ``loc`` (a step's or a group's fields)."""
    step = get_step(definition, loc.step)
    fields = _list(step.get("fields"))
    if loc.sub is None:
        return fields
    if not 0 <= loc.field < len(fields) or not isinstance(fields[loc.field], dict):
        raise NotInDraft(loc.path)
    return _list(fields[loc.field].get("fields"))


def get_field(definition: Mapping[str, Any], loc: FieldLoc) -> dict[str, Any]:
    siblings = _siblings(definition, loc)
    index = loc.field if loc.sub is None else loc.sub
    if not 0 <= index < len(siblings) or not isinstance(siblings[index], dict):
        raise NotInDraft(loc.path)
    found: dict[str, Any] = siblings[index]
    return found


def iter_top_fields(definition: Mapping[str, Any]) -> Iterator[tuple[int, int, dict[str, Any]]]:
    """(step index, field index, field) of every top-level field."""
    for i, step in enumerate(_list(definition.get("steps"))):
        if isinstance(step, dict):
            for j, f in enumerate(_list(step.get("fields"))):
                if isinstance(f, dict):
                    yield i, j, f


def top_field_keys(definition: Mapping[str, Any]) -> list[str]:
    return [str(f.get("key", "")) for _i, _j, f in iter_top_fields(definition)]


def step_keys(definition: Mapping[str, Any]) -> list[str]:
    return [str(s.get("key", "")) for s in steps_of(definition)]


def field_by_key(definition: Mapping[str, Any], key: str) -> dict[str, Any] | None:
    return next((f for _i, _j, f in iter_top_fields(definition) if f.get("key") == key), None)


def label_of(item: Mapping[str, Any], name: str = "label") -> str:
    return str(item.get(name) or item.get("key") or "")


def postal_code_fields_before(definition: Mapping[str, Any], loc: FieldLoc) -> list[tuple[str, str]]:
    """(key, label) of the postal-code fields before ``loc`` (an address field can take
    the first part of its value from one of them)."""
    if loc.sub is not None:
        return []
    out: list[tuple[str, str]] = []
    for i, j, f in iter_top_fields(definition):
        if (i, j) >= (loc.step, loc.field):
            break
        if f.get("type") == "postal_code":
            out.append((str(f.get("key", "")), label_of(f)))
    return out


# --- keys ---------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _kakasi() -> Any:
    return pykakasi.kakasi()


def suggest_key(text: str, taken: set[str], fallback: str) -> str:
    """A free key from a Japanese label (its romanized reading, ``電話番号`` →
    ``denwabangou``), else from ``fallback``; ``_2``, ``_3`` … added when taken."""
    romaji = "".join(item.get("hepburn", "") for item in _kakasi().convert(unicodedata.normalize("NFKC", text)))
    base = re.sub(r"[^a-z0-9]+", "_", romaji.lower()).strip("_")
    if not base or not base[0].isalpha():
        base = fallback
    base = base[:40]
    key, n = base, 1
    while key in taken:
        n += 1
        key = f"{base}_{n}"
    return key


def check_key(value: str, taken: set[str]) -> str | None:
    """A Japanese message if ``value`` cannot be a key here, else ``None``."""
    if not value:
        return _("キーを入力してください。")
    if len(value) > KEY_MAX or not KEY_RE.match(value):
        return _("キーは英小文字で始め、英小文字・数字・_（アンダースコア）だけで64文字以内にしてください。")
    if value in taken:
        return _("キー「%(key)s」はこのフォームですでに使われています。") % {"key": value}
    return None


def _taken_keys(definition: Mapping[str, Any], *, except_path: str = "") -> set[str]:
    """Keys of steps and top-level fields (one namespace), except the item at ``except_path``."""
    taken: set[str] = set()
    for i, step in enumerate(steps_of(definition)):
        if except_path != f"steps/{i}":
            taken.add(str(step.get("key", "")))
    for i, j, f in iter_top_fields(definition):
        if except_path != f"steps/{i}/fields/{j}":
            taken.add(str(f.get("key", "")))
    return taken


def taken_keys_for(definition: Mapping[str, Any], loc: FieldLoc | None, *, step: int | None = None) -> set[str]:
    """Keys a field at ``loc`` (or a step at index ``step``) may not use."""
    if loc is not None and loc.sub is not None:
        group = get_field(definition, loc.parent)
        return {str(s.get("key", "")) for k, s in enumerate(_list(group.get("fields"))) if k != loc.sub}
    if loc is not None:
        return _taken_keys(definition, except_path=loc.path)
    if step is not None:
        return _taken_keys(definition, except_path=f"steps/{step}")
    return _taken_keys(definition)


# --- parsing inputs -----------------------------------------------------------------


def _str(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name, "")
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value or "").strip()


def _getlist(data: Mapping[str, Any], name: str) -> list[str]:
    """Every value posted under ``name`` (a QueryDict's ``get`` gives only the last)."""
    getlist = getattr(data, "getlist", None)
    raw = getlist(name) if callable(getlist) else data.get(name, [])
    return [str(v) for v in (raw if isinstance(raw, list) else [raw]) if v]


def _checked(data: Mapping[str, Any], name: str) -> bool:
    return _str(data, name).lower() in ("on", "true", "1", "yes")


def _int(text: str) -> int:
    cleaned = unicodedata.normalize("NFKC", text).replace(",", "").strip()
    if not re.fullmatch(r"-?\d{1,12}", cleaned):
        raise ValueError(text)
    return int(cleaned)


#: yes/no settings of a whole form, offered when the schema has them.
SETTING_FLAGS = ("anonymous",)


def setting_flags() -> list[str]:
    properties = definition_schema()["properties"]
    return [name for name in SETTING_FLAGS if name in properties]


def parse_settings(data: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {k: _str(data, k) for k in ("title", "title_en", "description", "description_en")}
    if not values["title"]:
        raise BuilderInputError({"title": _("フォームの名前を入力してください。")})
    for name in setting_flags():
        values[name] = _checked(data, name)
    return values


def parse_step(data: Mapping[str, Any], definition: Mapping[str, Any], index: int | None) -> dict[str, Any]:
    """Title, key, help and ``hidden`` of a step; the key is made from the title if left blank."""
    errors: dict[str, str] = {}
    title = _str(data, "title")
    if not title:
        errors["title"] = _("ステップの見出しを入力してください。")
    taken = taken_keys_for(definition, None, step=index) if index is not None else _taken_keys(definition)
    key = _str(data, "key")
    if not key and title and index is None:
        key = suggest_key(title, taken, "step")
    if (problem := check_key(key, taken)) and not errors.get("title"):
        errors["key"] = problem
    if errors:
        raise BuilderInputError(errors)
    values: dict[str, Any] = {"key": key, "title": title}
    for name in ("title_en", "help", "help_en"):
        values[name] = _str(data, name)
    values["hidden"] = _checked(data, "hidden")
    return values


def parse_new_field(
    data: Mapping[str, Any], definition: Mapping[str, Any], taken: set[str], *, in_group: bool
) -> dict[str, Any]:
    """A new field from the add form: type, label and (optional) key; the type's
    default options are added."""
    errors: dict[str, str] = {}
    type_name = _str(data, "type")
    if type_name not in registry or (in_group and type_name == "group"):
        errors["type"] = _("項目の種類を選んでください。")
    label = _str(data, "label")
    if not label:
        errors["label"] = _("項目名を入力してください。")
    key = _str(data, "key") or (suggest_key(label, taken, type_name or "field") if label else "")
    if label and (problem := check_key(key, taken)):
        errors["key"] = problem
    if errors:
        raise BuilderInputError(errors)
    new: dict[str, Any] = {"key": key, "type": type_name, "label": label}
    new.update(copy.deepcopy(DEFAULT_OPTIONS.get(type_name, {})))
    return new


CHOICE_ROWS_EXTRA = 3


def choice_rows(field_def: Mapping[str, Any], data: Mapping[str, Any] | None = None) -> list[dict[str, str]]:
    """Rows of the choices editor: the field's choices (or what was posted) and three empty rows."""
    if data is not None:
        count = _int_or(_str(data, "choice_count"), 0)
        return [
            {p: _str(data, f"choice-{i}-{p}") for p in ("value", "label", "label_en")} for i in range(min(count, 200))
        ]
    rows = [
        {p: str(c.get(p, "")) for p in ("value", "label", "label_en")}
        for c in _list(field_def.get("choices"))
        if isinstance(c, dict)
    ]
    return rows + [{"value": "", "label": "", "label_en": ""} for _ in range(CHOICE_ROWS_EXTRA)]


def _int_or(text: str, default: int) -> int:
    try:
        return _int(text)
    except ValueError:
        return default


def _parse_choices(data: Mapping[str, Any], errors: dict[str, str]) -> list[dict[str, str]]:
    choices: list[dict[str, str]] = []
    seen: set[str] = set()
    for i, row in enumerate(choice_rows({}, data)):
        if not any(row.values()):
            continue
        if not row["value"] and row["label"]:
            errors[f"choice-{i}-value"] = _("選択肢の値を入力してください。")
            continue
        if not row["label"]:
            errors[f"choice-{i}-label"] = _("選択肢の表示名を入力してください。")
            continue
        if len(row["value"]) > KEY_MAX:
            errors[f"choice-{i}-value"] = _("値は64文字以内にしてください。")
            continue
        if row["value"] in seen:
            errors[f"choice-{i}-value"] = _("値「%(value)s」は2回使われています。") % {"value": row["value"]}
            continue
        seen.add(row["value"])
        choice = {"value": row["value"], "label": row["label"]}
        if row["label_en"]:
            choice["label_en"] = row["label_en"]
        choices.append(choice)
    return choices


def _parse_option(spec: OptionSpec, text: str, errors: dict[str, str], refs: list[str]) -> Any:
    name = spec.input_name
    if spec.kind == "int":
        try:
            number = _int(text)
        except ValueError:
            errors[name] = _("半角の整数で入力してください。")
            return None
        if spec.minimum is not None and number < spec.minimum:
            errors[name] = _("%(n)s以上にしてください。") % {"n": spec.minimum}
        elif spec.maximum is not None and number > spec.maximum:
            errors[name] = _("%(n)s以下にしてください。") % {"n": spec.maximum}
        return number
    if spec.kind == "megabytes":
        try:
            mb = Decimal(unicodedata.normalize("NFKC", text))
        except InvalidOperation:
            mb = Decimal(0)
        if not mb.is_finite() or mb <= 0 or mb > 1000:
            errors[name] = _("0より大きく1000以下の数（MB）で入力してください。")
            return None
        return int(mb * 1_000_000)
    if spec.kind == "date":
        try:
            resolve_date_bound(text)
        except ValueError:
            errors[name] = _("2026-04-01 のような日付、または today、today-18y、today+30d の形で入力してください。")
        return text
    if spec.kind == "list":
        items = [t.strip().lower() for t in re.split(r"[,、\s]+", text) if t.strip()]
        pattern = re.compile(r"^(\.[a-z0-9]+|[a-z]+/[a-z0-9.+*-]+)$")
        bad = [t for t in items if not pattern.match(t)]
        if bad:
            errors[name] = _("「%(items)s」は拡張子（.pdf）やMIMEタイプ（image/jpeg）の形ではありません。") % {
                "items": "、".join(bad)
            }
        return items or None
    if spec.kind == "enum":
        if text not in [v for v, _label in spec.enum]:
            errors[name] = _("選択肢から選んでください。")
        return text
    if spec.kind == "field_ref":
        if text not in refs:
            errors[name] = _("この項目より前にある郵便番号の項目を選んでください。")
        return text
    return text


def parse_field(
    data: Mapping[str, Any], definition: Mapping[str, Any], loc: FieldLoc, *, allow_type_change: bool = True
) -> dict[str, Any]:
    """The field at ``loc`` as edited on the field page. A group keeps its sub-fields;
    options of another type are dropped when the type changes."""
    current = get_field(definition, loc)
    in_group = loc.sub is not None
    errors: dict[str, str] = {}
    type_name = _str(data, "type") or str(current.get("type", ""))
    if not allow_type_change:
        type_name = str(current.get("type", ""))
    if type_name not in registry or (in_group and type_name == "group"):
        errors["type"] = _("項目の種類を選んでください。")
        raise BuilderInputError(errors)
    key = _str(data, "key")
    if problem := check_key(key, taken_keys_for(definition, loc)):
        errors["key"] = problem
    label = _str(data, "label")
    if not label:
        errors["label"] = _("項目名を入力してください。")
    new: dict[str, Any] = {"key": key, "type": type_name, "label": label}
    for name in ("label_en", "help", "help_en"):
        if value := _str(data, name):
            new[name] = value
    if not is_always_required(type_name) and _checked(data, "required"):
        new["required"] = True
    if not in_group and _checked(data, "hidden"):
        new["hidden"] = True
    if not in_group:
        prefill = _parse_prefill(data, type_name, errors)
        if prefill is not None:
            new["prefill"] = prefill
    refs = [k for k, _label in postal_code_fields_before(definition, loc)]
    for spec in option_specs(type_name):
        text = _str(data, spec.input_name)
        if not text:
            continue
        value = _parse_option(spec, text, errors, refs)
        if value is not None and value != "":
            new[spec.name] = value
    if has_choices(type_name):
        new["choices"] = _parse_choices(data, errors)
    if type_name == "group":
        new["fields"] = copy.deepcopy(_list(current.get("fields"))) if current.get("type") == "group" else []
    _check_ranges(new, errors)
    if errors:
        raise BuilderInputError(errors)
    return new


def _parse_prefill(data: Mapping[str, Any], type_name: str, errors: dict[str, str]) -> Any:
    if type_name in COMPOSITE_PREFILL:
        parts = {p: _str(data, f"prefill_{p}") for p in NAME_PARTS}
        for part, key in parts.items():
            if key and key not in COMPOSITE_PREFILL[type_name]:
                errors[f"prefill_{part}"] = _("この項目に入れられない入力元です。")
        chosen = {p: k for p, k in parts.items() if k}
        return chosen or None
    key = _str(data, "prefill")
    if not key:
        return None
    if not prefill_fits(key, type_name):
        errors["prefill"] = _("この種類の項目に入れられない入力元です。")
    return key


def _check_ranges(new: Mapping[str, Any], errors: dict[str, str]) -> None:
    low, high = new.get("min"), new.get("max")
    if isinstance(low, str) and isinstance(high, str):
        try:
            if resolve_date_bound(low) > resolve_date_bound(high):
                errors.setdefault("opt_max", _("いちばん遅い日は、いちばん早い日より後にしてください。"))
        except ValueError:
            pass
    elif isinstance(low, int) and isinstance(high, int) and low > high:
        errors.setdefault("opt_max", _("最大値は最小値以上にしてください。"))
    low_items, high_items = new.get("min_items"), new.get("max_items")
    if isinstance(low_items, int) and isinstance(high_items, int) and low_items > high_items:
        errors.setdefault("opt_max_items", _("最多の数は最少の数以上にしてください。"))


# --- logic rules in the simple form -------------------------------------------------

OPERATORS: dict[str, Promise] = {
    "equals": gettext_lazy("が次の値のとき"),
    "not_equals": gettext_lazy("が次の値でないとき"),
    "in": gettext_lazy("が次のいずれかのとき"),
    "not_in": gettext_lazy("が次のいずれでもないとき"),
    "filled": gettext_lazy("が入力されているとき"),
    "empty": gettext_lazy("が入力されていないとき"),
    "gte": gettext_lazy("が次の数以上のとき"),
    "lte": gettext_lazy("が次の数以下のとき"),
}
ACTIONS: dict[str, Promise] = {
    "show": gettext_lazy("表示する"),
    "show_require": gettext_lazy("表示して必須にする"),
    "hide": gettext_lazy("表示しない"),
    "require": gettext_lazy("必須にする"),
}
VALUELESS = ("filled", "empty")
MULTI_VALUE = ("in", "not_in")
NUMERIC_TYPES = ("number", "money")
CHECKBOX_TYPES = ("consent", "declaration")


def operators_for(type_name: str) -> list[tuple[str, str]]:
    """The operators the rule editor offers for a condition on a field of the type."""
    if type_name in CHECKBOX_TYPES or type_name in ("file", "group", "mynumber"):
        names = ["filled", "empty"]
    elif type_name in NUMERIC_TYPES:
        names = ["equals", "not_equals", "gte", "lte", "filled", "empty"]
    elif has_choices(type_name):
        names = ["in", "not_in", "equals", "not_equals", "filled", "empty"]
    elif type_name in ("name", "kana", "date_range", "postal_code"):
        names = ["filled", "empty"]
    else:
        names = ["equals", "not_equals", "in", "not_in", "filled", "empty"]
    return [(n, str(OPERATORS[n])) for n in names]


@dataclass
class SimpleRule:
    field: str = ""
    op: str = ""
    values: list[Any] = dc_field(default_factory=list)
    action: str = "show"
    targets: list[str] = dc_field(default_factory=list)

    def to_rule(self) -> dict[str, Any]:
        condition: dict[str, Any]
        if self.op == "not_equals":
            condition = {"not": {"field": self.field, "equals": self.values[0]}}
        elif self.op in VALUELESS:
            condition = {"field": self.field, "filled": self.op == "filled"}
        elif self.op in MULTI_VALUE:
            condition = {"field": self.field, self.op: list(self.values)}
        else:
            condition = {"field": self.field, self.op: self.values[0]}
        rule: dict[str, Any] = {"when": condition}
        if self.action in ("show", "show_require"):
            rule["show"] = list(self.targets)
        if self.action == "hide":
            rule["hide"] = list(self.targets)
        if self.action in ("require", "show_require"):
            rule["require"] = list(self.targets)
        return rule


def rule_to_simple(rule: Mapping[str, Any]) -> SimpleRule | None:
    """The rule in the editor's simple form, or ``None`` when it does not fit (then it
    is shown read-only and edited as JSON)."""
    when = rule.get("when")
    if not isinstance(when, Mapping):
        return None
    simple = SimpleRule()
    if set(when) == {"not"} and isinstance(when["not"], Mapping) and set(when["not"]) == {"field", "equals"}:
        simple.field, simple.op, simple.values = str(when["not"]["field"]), "not_equals", [when["not"]["equals"]]
    elif "field" in when and len(when) == 2:
        simple.field = str(when["field"])
        op = next(iter(k for k in when if k != "field"))
        value = when[op]
        if op == "filled" and isinstance(value, bool):
            simple.op = "filled" if value else "empty"
        elif op in MULTI_VALUE and isinstance(value, list):
            simple.op, simple.values = op, list(value)
        elif op in ("equals", "gte", "lte"):
            simple.op, simple.values = op, [value]
        else:
            return None
    else:
        return None
    actions = {a: _list(rule.get(a)) for a in ("show", "hide", "require") if a in rule}
    if set(actions) == {"show"}:
        simple.action = "show"
    elif set(actions) == {"hide"}:
        simple.action = "hide"
    elif set(actions) == {"require"}:
        simple.action = "require"
    elif set(actions) == {"show", "require"} and actions["show"] == actions["require"]:
        simple.action = "show_require"
    else:
        return None
    simple.targets = [str(t) for t in next(iter(actions.values()))]
    return simple


def rule_targets(definition: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(key, description) of what a rule may show or hide: steps, then top-level fields."""
    out = [
        (str(s.get("key", "")), _("ステップ「%(title)s」") % {"title": label_of(s, "title")})
        for s in steps_of(definition)
    ]
    out += [
        (str(f.get("key", "")), _("項目「%(label)s」") % {"label": label_of(f)})
        for _i, _j, f in iter_top_fields(definition)
    ]
    return out


def controllable_targets(definition: Mapping[str, Any], condition_key: str) -> list[tuple[str, str]]:
    """What a rule on ``condition_key`` can usefully control: the fields on its own or a
    later step and the steps after it (the resident answers the condition first)."""
    step_of = {str(f.get("key", "")): i for i, _j, f in iter_top_fields(definition)}
    source = step_of.get(condition_key)
    if source is None:
        return [t for t in rule_targets(definition) if t[0] != condition_key]
    steps = {str(s.get("key", "")): i for i, s in enumerate(steps_of(definition))}
    out = []
    for key, text in rule_targets(definition):
        if key == condition_key:
            continue
        if key in step_of and step_of[key] >= source:
            out.append((key, text))
        elif key not in step_of and steps.get(key, -1) > source:
            out.append((key, text))
    return out


def parse_rule(data: Mapping[str, Any], definition: Mapping[str, Any]) -> dict[str, Any]:
    """A logic rule from the rule editor (condition field, operator, value(s), action,
    targets)."""
    errors: dict[str, str] = {}
    key = _str(data, "field")
    condition_field = field_by_key(definition, key)
    if condition_field is None:
        raise BuilderInputError({"field": _("条件にする項目を選んでください。")})
    type_name = str(condition_field.get("type", ""))
    op = _str(data, "op")
    if op not in dict(operators_for(type_name)):
        errors["op"] = _("条件の種類を選んでください。")
    values: list[Any] = []
    if op and op not in VALUELESS and "op" not in errors:
        values = _parse_rule_values(data, condition_field, op, errors)
    action = _str(data, "action")
    if action not in ACTIONS:
        errors["action"] = _("どうするかを選んでください。")
    targets = _getlist(data, "targets")
    fields_keys = set(top_field_keys(definition))
    allowed = fields_keys if action in ("require", "show_require") else fields_keys | set(step_keys(definition))
    if not targets:
        errors["targets"] = _("表示・非表示・必須にする項目かステップを1つ以上選んでください。")
    elif unknown := [t for t in targets if t not in allowed]:
        if action in ("require", "show_require"):
            errors["targets"] = _("必須にできるのは項目だけです（ステップは選べません）。")
        else:
            errors["targets"] = _("「%(keys)s」はこのフォームにありません。") % {"keys": "、".join(unknown)}
    elif key in targets:
        errors["targets"] = _("条件にした項目そのものは選べません。")
    if errors:
        raise BuilderInputError(errors)
    return SimpleRule(field=key, op=op, values=values, action=action, targets=targets).to_rule()


def _parse_rule_values(
    data: Mapping[str, Any], condition_field: Mapping[str, Any], op: str, errors: dict[str, str]
) -> list[Any]:
    type_name = str(condition_field.get("type", ""))
    if has_choices(type_name):
        chosen = _getlist(data, "values")
        allowed = [str(c.get("value")) for c in _list(condition_field.get("choices")) if isinstance(c, dict)]
        chosen = [v for v in allowed if v in chosen]
        if not chosen:
            errors["chosen"] = _("選択肢を1つ以上選んでください。")
        elif op not in MULTI_VALUE and len(chosen) != 1:
            errors["chosen"] = _("この条件では選択肢を1つだけ選んでください。")
        return chosen
    text = _str(data, "value")
    if type_name in NUMERIC_TYPES or op in ("gte", "lte"):
        try:
            return [_int(text)]
        except ValueError:
            errors["value"] = _("半角の整数で入力してください。")
            return []
    if op in MULTI_VALUE:
        items = [t.strip() for t in re.split(r"[\n,、]+", text) if t.strip()]
        if not items:
            errors["value"] = _("値を入力してください（複数のときはカンマで区切ります）。")
        return items
    if not text:
        errors["value"] = _("値を入力してください。")
    return [text]


def _value_text(condition_field: Mapping[str, Any] | None, value: Any) -> str:
    if condition_field is not None:
        for c in _list(condition_field.get("choices")):
            if isinstance(c, dict) and c.get("value") == value:
                return str(c.get("label") or value)
    return str(value)


_DESCRIBE: dict[str, Promise] = {
    "in": gettext_lazy("「%(field)s」が「%(values)s」のいずれかのとき"),
    "not_in": gettext_lazy("「%(field)s」が「%(values)s」のいずれでもないとき"),
    "equals": gettext_lazy("「%(field)s」が「%(values)s」のとき"),
    "gte": gettext_lazy("「%(field)s」が%(values)s以上のとき"),
    "lte": gettext_lazy("「%(field)s」が%(values)s以下のとき"),
    "filled": gettext_lazy("「%(field)s」が入力されているとき"),
    "empty": gettext_lazy("「%(field)s」が入力されていないとき"),
}


def describe_condition(condition: Any, definition: Mapping[str, Any]) -> str:
    """A condition in Japanese: 「申請する方」が「代理人」のいずれかのとき."""
    if not isinstance(condition, Mapping):
        return "?"
    for combinator, joiner in (("all", _("、かつ ")), ("any", _("、または "))):
        if combinator in condition:
            parts = [describe_condition(c, definition) for c in _list(condition[combinator])]
            return "（" + joiner.join(parts) + "）"
    if "not" in condition:
        inner = describe_condition(condition["not"], definition)
        return _("次が成り立たないとき: %(condition)s") % {"condition": inner}
    key = str(condition.get("field", ""))
    target = field_by_key(definition, key)
    name = label_of(target) if target else key
    for op in ("in", "not_in", "equals", "gte", "lte"):
        if op in condition:
            raw = condition[op]
            values = raw if isinstance(raw, list) else [raw]
            shown = "」「".join(_value_text(target, v) for v in values)
            return str(_DESCRIBE[op]) % {"field": name, "values": shown}
    if "filled" in condition:
        return str(_DESCRIBE["filled" if condition["filled"] else "empty"]) % {"field": name}
    return name


def describe_targets(keys: list[Any], definition: Mapping[str, Any]) -> str:
    names = dict(rule_targets(definition))
    return "、".join(names.get(str(k), f"「{k}」") for k in keys)


def describe_rule(rule: Mapping[str, Any], definition: Mapping[str, Any]) -> list[str]:
    """Lines describing a rule: the condition, then each action with its targets."""
    lines = [describe_condition(rule.get("when"), definition)]
    simple = rule_to_simple(rule)
    if simple is not None and simple.action == "show_require":
        lines.append(f"{ACTIONS['show_require']}: {describe_targets(simple.targets, definition)}")
        return lines
    for action in ("show", "hide", "require"):
        if action in rule:
            lines.append(f"{ACTIONS[action]}: {describe_targets(_list(rule[action]), definition)}")
    return lines


# --- operations ---------------------------------------------------------------------
# Each takes the (copied) definition, changes it in place and returns details for the
# audit record. Bad input raises BuilderInputError; an index the draft lacks NotInDraft.


def empty_definition(procedure_code: str, title: str) -> Definition:
    return {
        "procedure": procedure_code,
        "title": title,
        "steps": [{"key": "applicant", "title": "申請者", "fields": []}],
        "logic": [],
    }


def op_settings(definition: Definition, values: Mapping[str, Any]) -> dict[str, Any]:
    for name in ("title", "title_en", "description", "description_en", *SETTING_FLAGS):
        if values.get(name):
            definition[name] = values[name]
        else:
            definition.pop(name, None)
    return {"title": values.get("title", "")}


def op_step_add(definition: Definition, values: Mapping[str, Any]) -> dict[str, Any]:
    step: dict[str, Any] = {"key": values["key"], "title": values["title"]}
    step.update(_optional(values, ("title_en", "help", "help_en")))
    if values.get("hidden"):
        step["hidden"] = True
    step["fields"] = []
    definition.setdefault("steps", []).append(step)
    return {"step": step["key"]}


def _optional(values: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {n: values[n] for n in names if values.get(n)}


def op_step_update(definition: Definition, index: int, values: Mapping[str, Any]) -> dict[str, Any]:
    step = get_step(definition, index)
    old_key = str(step.get("key", ""))
    fields = step.get("fields", [])
    extra = {
        k: v for k, v in step.items() if k not in ("key", "title", "title_en", "help", "help_en", "hidden", "fields")
    }
    step.clear()
    step.update({"key": values["key"], "title": values["title"]})
    step.update(_optional(values, ("title_en", "help", "help_en")))
    if values.get("hidden"):
        step["hidden"] = True
    step.update(extra)
    step["fields"] = fields
    if old_key != values["key"]:
        _rename_refs(definition, old_key, str(values["key"]))
    return {"step": values["key"], "renamed_from": old_key if old_key != values["key"] else None}


def _move(items: list[Any], index: int, direction: str) -> int:
    if not 0 <= index < len(items):
        raise NotInDraft(str(index))
    target = index - 1 if direction == "up" else index + 1
    if direction not in ("up", "down") or not 0 <= target < len(items):
        raise BuilderInputError({"direction": _("これ以上動かせません。")})
    items[index], items[target] = items[target], items[index]
    return target


def op_step_move(definition: Definition, index: int, direction: str) -> dict[str, Any]:
    steps = _list(definition.get("steps"))
    key = get_step(definition, index).get("key")
    _move(steps, index, direction)
    return {"step": key, "direction": direction}


def op_step_delete(definition: Definition, index: int) -> dict[str, Any]:
    step = get_step(definition, index)
    removed_keys = [str(step.get("key", ""))] + [
        str(f.get("key", "")) for f in _list(step.get("fields")) if isinstance(f, dict)
    ]
    del definition["steps"][index]
    removed_rules = _drop_refs(definition, set(removed_keys))
    return {"step": removed_keys[0], "removed_rules": removed_rules}


def op_field_add(
    definition: Definition, step_index: int, new: Mapping[str, Any], group: int | None = None
) -> dict[str, Any]:
    step = get_step(definition, step_index)
    if group is None:
        step.setdefault("fields", []).append(dict(new))
    else:
        parent = get_field(definition, FieldLoc(step_index, group))
        if parent.get("type") != "group":
            raise NotInDraft(f"steps/{step_index}/fields/{group}")
        parent.setdefault("fields", []).append(dict(new))
    return {"field": new.get("key"), "type": new.get("type"), "step": step.get("key")}


def op_field_update(definition: Definition, loc: FieldLoc, new: Mapping[str, Any]) -> dict[str, Any]:
    current = get_field(definition, loc)
    old_key = str(current.get("key", ""))
    current.clear()
    current.update(new)
    if loc.sub is None and old_key != new["key"]:
        _rename_refs(definition, old_key, str(new["key"]))
    return {"field": new["key"], "renamed_from": old_key if old_key != new["key"] else None, "type": new["type"]}


def op_field_move(definition: Definition, loc: FieldLoc, direction: str) -> dict[str, Any]:
    siblings = _siblings(definition, loc)
    key = get_field(definition, loc).get("key")
    _move(siblings, loc.field if loc.sub is None else loc.sub, direction)
    return {"field": key, "direction": direction}


def op_field_to_step(definition: Definition, loc: FieldLoc, target_step: int) -> dict[str, Any]:
    """Move a top-level field to the end of another step."""
    if loc.sub is not None:
        raise NotInDraft(loc.path)
    target = get_step(definition, target_step)
    source = get_step(definition, loc.step)
    moved = get_field(definition, loc)
    if target_step == loc.step:
        raise BuilderInputError({"to_step": _("別のステップを選んでください。")})
    del source["fields"][loc.field]
    target.setdefault("fields", []).append(moved)
    return {"field": moved.get("key"), "to_step": target.get("key")}


def op_field_delete(definition: Definition, loc: FieldLoc) -> dict[str, Any]:
    key = str(get_field(definition, loc).get("key", ""))
    del _siblings(definition, loc)[loc.field if loc.sub is None else loc.sub]
    removed_rules = 0 if loc.sub is not None else _drop_refs(definition, {key})
    return {"field": key, "removed_rules": removed_rules}


def op_rule_save(definition: Definition, index: int | None, rule: Mapping[str, Any]) -> dict[str, Any]:
    rules = definition.setdefault("logic", [])
    if not isinstance(rules, list):
        rules = definition["logic"] = []
    if index is None:
        rules.append(dict(rule))
        return {"rule": len(rules) - 1}
    if not 0 <= index < len(rules):
        raise NotInDraft(f"logic/{index}")
    rules[index] = dict(rule)
    return {"rule": index}


def op_rule_delete(definition: Definition, index: int) -> dict[str, Any]:
    rules = _list(definition.get("logic"))
    if not 0 <= index < len(rules):
        raise NotInDraft(f"logic/{index}")
    del rules[index]
    return {"rule": index}


def op_replace(definition: Definition, new: Mapping[str, Any]) -> dict[str, Any]:
    definition.clear()
    definition.update(copy.deepcopy(dict(new)))
    return {"replaced": True}


# --- keeping references whole -------------------------------------------------------


def _conditions(condition: Any) -> Iterator[dict[str, Any]]:
    if not isinstance(condition, dict):
        return
    for combinator in ("all", "any"):
        for sub in _list(condition.get(combinator)):
            yield from _conditions(sub)
    if "not" in condition:
        yield from _conditions(condition["not"])
    if "field" in condition:
        yield condition


def condition_fields(condition: Any) -> list[str]:
    return [str(c.get("field")) for c in _conditions(condition)]


def _rename_refs(definition: Definition, old: str, new: str) -> None:
    for rule in _list(definition.get("logic")):
        if not isinstance(rule, dict):
            continue
        for condition in _conditions(rule.get("when")):
            if condition.get("field") == old:
                condition["field"] = new
        for action in ("show", "hide", "require"):
            if isinstance(rule.get(action), list):
                rule[action] = [new if t == old else t for t in rule[action]]
    for _i, _j, f in iter_top_fields(definition):
        if f.get("postal_code_field") == old:
            f["postal_code_field"] = new


def _drop_refs(definition: Definition, keys: set[str]) -> int:
    """Remove ``keys`` from rule targets, and rules that need them; returns how many
    rules were removed."""
    kept: list[Any] = []
    removed = 0
    for rule in _list(definition.get("logic")):
        if not isinstance(rule, dict):
            kept.append(rule)
            continue
        if set(condition_fields(rule.get("when"))) & keys:
            removed += 1
            continue
        for action in ("show", "hide", "require"):
            if isinstance(rule.get(action), list):
                rule[action] = [t for t in rule[action] if t not in keys]
                if not rule[action]:
                    del rule[action]
        if not any(a in rule for a in ("show", "hide", "require")):
            removed += 1
            continue
        kept.append(rule)
    if "logic" in definition:
        definition["logic"] = kept
    for _i, _j, f in iter_top_fields(definition):
        if f.get("postal_code_field") in keys:
            del f["postal_code_field"]
    return removed


def rule_count_using(definition: Mapping[str, Any], keys: set[str]) -> int:
    """How many rules name one of ``keys`` (in a condition or as a target)."""
    count = 0
    for rule in _list(definition.get("logic")):
        if not isinstance(rule, dict):
            continue
        named = set(condition_fields(rule.get("when")))
        for action in ("show", "hide", "require"):
            named.update(str(t) for t in _list(rule.get(action)))
        if named & keys:
            count += 1
    return count
