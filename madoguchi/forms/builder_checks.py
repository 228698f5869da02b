"""What the form builder checks before a draft may be published, in Japanese.

``shape_problems`` is the least a draft must satisfy for the editor to show it (steps
are a list of objects with keys, fields have a key, a known type and a label, …); the
JSON editor and the import refuse anything that fails it. ``publish_problems`` adds
everything that would break the form for residents or for the engine: the JSON schema
of ``schema.py`` and ``validate_definition`` (always run last, so nothing that fails
them is ever published) and deeper checks a schema cannot express: duplicate keys,
logic rules that name missing fields or choice values or compare a text with a number,
a condition on a field answered only after the field or step it controls, fields and
steps that start hidden and that no rule ever shows (a required one would be
impossible to answer), a step with no fields, choices left empty, unknown or
ill-fitting prefill keys, min above max, bad date bounds, bad file types.

Each problem carries the path of the part it concerns (``steps/1/fields/0/choices``,
the same paths as ``schema.DefinitionError``); ``anchor`` turns it into the id of the
editor section where it is shown.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator

from madoguchi.forms import builder
from madoguchi.forms.engine import clean_all
from madoguchi.forms.fields import registry, resolve_date_bound
from madoguchi.forms.logic import CONDITION_OPS, evaluate
from madoguchi.forms.schema import COMMON_FIELD_KEYS, KEY_PATTERN, PREFILL_KEYS, definition_schema, validate_definition


def _allowed_keys() -> tuple[frozenset[str], frozenset[str]]:
    """Keys the schema allows at the top of a definition and in a step."""
    schema = definition_schema()
    step_schema = schema["properties"]["steps"]["items"]
    return frozenset(schema["properties"]), frozenset(step_schema["properties"])


TEXT_KEYS = ("label", "label_en", "help", "help_en")
SCALAR = (str, int, float, bool)


@dataclass(frozen=True)
class Problem:
    path: str
    message: str

    @property
    def parts(self) -> list[str]:
        return [p for p in self.path.split("/") if p]

    @property
    def anchor(self) -> str:
        return anchor(self.path)


def anchor(path: str) -> str:
    """The id of the editor section that shows a problem at ``path``."""
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 4 and parts[0] == "steps" and parts[2] == "fields" and parts[1].isdigit() and parts[3].isdigit():
        return f"b-field-{parts[1]}-{parts[3]}"
    if len(parts) >= 2 and parts[0] == "steps" and parts[1].isdigit():
        return f"b-step-{parts[1]}"
    if parts and parts[0] == "steps":
        return "b-steps"
    if len(parts) >= 2 and parts[0] == "logic" and parts[1].isdigit():
        return f"b-rule-{parts[1]}"
    if parts and parts[0] == "logic":
        return "b-rules"
    return "b-settings"


def where(path: str, definition: Any) -> str:
    """Where ``path`` is, for the list of problems: ステップ「請求者」の項目「氏名」."""
    parts = [p for p in path.split("/") if p]
    if not isinstance(definition, Mapping):
        return path
    try:
        if len(parts) >= 2 and parts[0] == "steps" and parts[1].isdigit():
            step = builder.get_step(definition, int(parts[1]))
            text = _("ステップ「%(title)s」") % {"title": builder.label_of(step, "title")}
            if len(parts) >= 4 and parts[2] == "fields" and parts[3].isdigit():
                field = builder.get_field(definition, builder.FieldLoc(int(parts[1]), int(parts[3])))
                text += _("の項目「%(label)s」") % {"label": builder.label_of(field)}
                if len(parts) >= 6 and parts[4] == "fields" and parts[5].isdigit():
                    loc = builder.FieldLoc(int(parts[1]), int(parts[3]), int(parts[5]))
                    text += _("の「%(label)s」") % {"label": builder.label_of(builder.get_field(definition, loc))}
            return text
    except builder.NotInDraft:
        return path
    if len(parts) >= 2 and parts[0] == "logic" and parts[1].isdigit():
        return _("ルール%(n)s") % {"n": int(parts[1]) + 1}
    if parts and parts[0] == "logic":
        return _("表示条件のルール")
    return _("フォームの設定")


# --- the shape the editor needs -----------------------------------------------------


def shape_problems(definition: Any) -> list[Problem]:
    """What keeps the editor from showing a definition (empty when it can)."""
    out: list[Problem] = []

    def add(path: str, message: str) -> None:
        out.append(Problem(path, message))

    if not isinstance(definition, dict):
        add("", _("フォームの定義は JSON のオブジェクト（{ … }）にしてください。"))
        return out
    if "title" in definition and not isinstance(definition["title"], str):
        add("title", _("title（フォームの名前）は文字列にしてください。"))
    steps = definition.get("steps")
    if not isinstance(steps, list):
        add("steps", _("steps（ステップの一覧）がないか、リストではありません。"))
        steps = []
    for i, step in enumerate(steps):
        path = f"steps/{i}"
        if not isinstance(step, dict):
            add(path, _("ステップは JSON のオブジェクトにしてください。"))
            continue
        for name in ("key", "title"):
            if not isinstance(step.get(name), str):
                add(f"{path}/{name}", _("%(name)s がないか、文字列ではありません。") % {"name": name})
        if not isinstance(step.get("fields"), list):
            add(f"{path}/fields", _("fields（項目の一覧）がないか、リストではありません。"))
            continue
        for j, field in enumerate(step["fields"]):
            _field_shape(field, f"{path}/fields/{j}", add, depth=0)
    logic = definition.get("logic", [])
    if not isinstance(logic, list):
        add("logic", _("logic（表示条件のルール）はリストにしてください。"))
    else:
        for k, rule in enumerate(logic):
            if not isinstance(rule, dict) or not isinstance(rule.get("when"), dict):
                add(f"logic/{k}", _("ルールは when（条件）を持つ JSON のオブジェクトにしてください。"))
    return out


def _field_shape(field: Any, path: str, add: Any, *, depth: int) -> None:
    if not isinstance(field, dict):
        add(path, _("項目は JSON のオブジェクトにしてください。"))
        return
    for name in ("key", "label"):
        if not isinstance(field.get(name), str):
            add(f"{path}/{name}", _("%(name)s がないか、文字列ではありません。") % {"name": name})
    kind = field.get("type")
    if not isinstance(kind, str) or kind not in registry:
        add(f"{path}/type", _("項目の種類「%(type)s」はありません。") % {"type": kind})
        return
    if kind == "group":
        subs = field.get("fields", [])
        if not isinstance(subs, list):
            add(f"{path}/fields", _("繰り返しグループの fields はリストにしてください。"))
            return
        if depth > 0:
            add(f"{path}/type", _("繰り返しグループの中に、繰り返しグループは入れられません。"))
            return
        for k, sub in enumerate(subs):
            _field_shape(sub, f"{path}/fields/{k}", add, depth=depth + 1)
    if "choices" in field and not isinstance(field["choices"], list):
        add(f"{path}/choices", _("choices（選択肢）はリストにしてください。"))


# --- what publishing needs ----------------------------------------------------------


def publish_problems(definition: Any, *, procedure_code: str | None = None) -> list[Problem]:
    """Every problem that keeps the draft from being published (empty: it may be)."""
    problems = shape_problems(definition)
    if problems:
        return problems
    checks = _Checks(definition, procedure_code)
    checks.run()
    covered = [p.path for p in checks.problems]
    for error in validate_definition(definition):
        if any(error.path == c or (c and error.path.startswith(c + "/")) for c in covered):
            continue
        checks.add(error.path, _("定義の形式に誤りがあります（%(detail)s）。") % {"detail": error.message})
    if not checks.problems:
        checks.try_engine()
    return checks.problems


class _Checks:
    def __init__(self, definition: dict[str, Any], procedure_code: str | None) -> None:
        self.definition = definition
        self.procedure_code = procedure_code
        self.problems: list[Problem] = []
        self.top_keys, self.step_keys = _allowed_keys()
        self.steps = builder.steps_of(definition)
        self.step_index: dict[str, int] = {}
        self.fields: dict[str, dict[str, Any]] = {}
        self.field_step: dict[str, int] = {}
        self.shown: set[str] = set()
        self.required_by_rule: set[str] = set()
        for rule in definition.get("logic", []) or []:
            if isinstance(rule, dict):
                self.shown.update(str(t) for t in builder._list(rule.get("show")))
                self.required_by_rule.update(str(t) for t in builder._list(rule.get("require")))

    def add(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def run(self) -> None:
        d = self.definition
        if not isinstance(d.get("title"), str) or not d["title"].strip():
            self.add("title", _("フォームの名前がありません。"))
        if self.procedure_code is not None and d.get("procedure") != self.procedure_code:
            self.add("procedure", _("手続きコードが「%(code)s」ではありません。") % {"code": self.procedure_code})
        for name in ("title_en", "description", "description_en"):
            if name in d and not isinstance(d[name], str):
                self.add(name, _("%(name)s は文字列にしてください。") % {"name": name})
        for name in d:
            if name not in self.top_keys:
                self.add("", _("「%(name)s」はフォームの定義に使えません。") % {"name": name})
        if not self.steps:
            self.add("steps", _("ステップがありません。ステップを1つ以上作ってください。"))
        for i, step in enumerate(self.steps):
            self.check_step(step, i)
        for i, step in enumerate(self.steps):
            for j, field in enumerate(step["fields"]):
                self.check_field(field, f"steps/{i}/fields/{j}", in_group=False, step_hidden=self.never_shown(step))
        for k, rule in enumerate(d.get("logic", [])):
            self.check_rule(rule, f"logic/{k}")

    def try_engine(self) -> None:
        """Last safety net: the engine evaluates the rules and cleans an empty answer set."""
        try:
            evaluate(self.definition, {})
            clean_all(self.definition, {})
        except Exception as exc:  # noqa: BLE001 - any failure here would be an error page for residents
            self.add("", _("申請の確認処理でエラーになります（%(error)s）。") % {"error": exc.__class__.__name__})

    def never_shown(self, item: Mapping[str, Any]) -> bool:
        return item.get("hidden") is True and item.get("key") not in self.shown

    # steps

    def check_step(self, step: dict[str, Any], i: int) -> None:
        path = f"steps/{i}"
        key = step["key"]
        self.check_key(key, f"{path}/key")
        if key in self.step_index:
            self.add(f"{path}/key", _("ステップのキー「%(key)s」が2回使われています。") % {"key": key})
        self.step_index.setdefault(key, i)
        if not step["title"].strip():
            self.add(f"{path}/title", _("ステップの見出しがありません。"))
        for name in ("title_en", "help", "help_en"):
            if name in step and not isinstance(step[name], str):
                self.add(f"{path}/{name}", _("%(name)s は文字列にしてください。") % {"name": name})
        if "hidden" in step and not isinstance(step["hidden"], bool):
            self.add(f"{path}/hidden", _("hidden は true か false にしてください。"))
        for name in step:
            if name not in self.step_keys:
                self.add(path, _("「%(name)s」はステップに使えません。") % {"name": name})
        if not step["fields"]:
            self.add(
                f"{path}/fields", _("このステップには項目がありません。項目を追加するか、ステップを削除してください。")
            )
        if self.never_shown(step):
            self.add(
                f"{path}/hidden",
                _(
                    "「はじめは表示しない」ステップですが、表示するルールがないため、申請者に表示されることがありません。"
                ),
            )
        for field in step["fields"]:
            if isinstance(field, dict) and isinstance(field.get("key"), str):
                self.field_step.setdefault(field["key"], i)

    def check_key(self, key: Any, path: str) -> bool:
        if not isinstance(key, str) or not re.match(KEY_PATTERN, key) or len(key) > builder.KEY_MAX:
            self.add(
                path,
                _("キー「%(key)s」は、英小文字で始まる英小文字・数字・_ の64文字以内にしてください。") % {"key": key},
            )
            return False
        return True

    # fields

    def check_field(self, field: dict[str, Any], path: str, *, in_group: bool, step_hidden: bool) -> None:
        key, kind = field["key"], field["type"]
        spec = registry.get(kind)
        if self.check_key(key, f"{path}/key") and not in_group:
            if key in self.fields or key in self.step_index:
                self.add(
                    f"{path}/key",
                    _("キー「%(key)s」が2回使われています（ステップのキーとも重ねられません）。") % {"key": key},
                )
            self.fields.setdefault(key, field)
        if not field["label"].strip():
            self.add(f"{path}/label", _("項目名がありません。"))
        for name in TEXT_KEYS[1:]:
            if name in field and not isinstance(field[name], str):
                self.add(f"{path}/{name}", _("%(name)s は文字列にしてください。") % {"name": name})
        for name in ("required", "hidden"):
            if name in field and not isinstance(field[name], bool):
                self.add(f"{path}/{name}", _("%(name)s は true か false にしてください。") % {"name": name})
        allowed = set(COMMON_FIELD_KEYS) | set(spec.options)
        for name in field:
            if name not in allowed:
                self.add(
                    path,
                    _("「%(name)s」はこの種類の項目（%(type)s）には使えません。")
                    % {"name": name, "type": builder.type_label(kind)},
                )
        for name in spec.required_options:
            if name not in field:
                self.add(f"{path}/{name}", self.missing_option_message(kind, name))
        for name, schema in spec.options.items():
            if name in field and name not in ("choices", "fields"):
                if any(True for _e in Draft202012Validator(schema).iter_errors(field[name])):
                    self.add(
                        f"{path}/{name}",
                        _("「%(option)s」の値が正しくありません。") % {"option": self.option_label(kind, name)},
                    )
        if "choices" in field:
            self.check_choices(field, path)
        self.check_ranges(field, path)
        if in_group:
            for name in ("hidden", "prefill"):
                if name in field:
                    self.add(
                        f"{path}/{name}",
                        _("繰り返しグループの中の項目には「%(name)s」を設定できません。") % {"name": name},
                    )
        else:
            if "prefill" in field:
                self.check_prefill(field, path)
            if not step_hidden and self.never_shown(field):
                if field.get("required") or key in self.required_by_rule:
                    message = _(
                        "必須の項目ですが、はじめは表示しない設定で、表示するルールもないため、申請者は入力できません。"
                    )
                else:
                    message = _(
                        "はじめは表示しない設定で、表示するルールもないため、申請者に表示されることがありません。"
                    )
                self.add(f"{path}/hidden", message)
        if kind == "address" and "postal_code_field" in field:
            target = field["postal_code_field"]
            earlier = self.fields.get(target) if target != key else None
            if in_group or earlier is None or earlier.get("type") != "postal_code":
                self.add(
                    f"{path}/postal_code_field",
                    _("「%(key)s」はこの項目より前にある郵便番号の項目ではありません。") % {"key": target},
                )
        if kind == "group":
            if in_group:
                self.add(f"{path}/type", _("繰り返しグループの中に、繰り返しグループは入れられません。"))
                return
            if not field.get("fields"):
                self.add(
                    f"{path}/fields", _("繰り返しグループに項目がありません。1件に入力する項目を追加してください。")
                )
            seen: set[str] = set()
            for k, sub in enumerate(field.get("fields", [])):
                if sub["key"] in seen:
                    self.add(
                        f"{path}/fields/{k}/key",
                        _("グループの中でキー「%(key)s」が2回使われています。") % {"key": sub["key"]},
                    )
                seen.add(sub["key"])
                self.check_field(sub, f"{path}/fields/{k}", in_group=True, step_hidden=step_hidden)

    def option_label(self, kind: str, name: str) -> str:
        return next((s.label for s in builder.option_specs(kind) if s.name == name), name)

    def missing_option_message(self, kind: str, name: str) -> str:
        if name == "choices":
            return _("選択肢がありません。選択肢を1つ以上入力してください。")
        if name == "fields":
            return _("繰り返しグループに項目がありません。")
        if name == "text":
            return _("本文がありません。")
        return _("「%(option)s」を入力してください。") % {"option": self.option_label(kind, name)}

    def check_choices(self, field: dict[str, Any], path: str) -> None:
        choices = field["choices"]
        if not choices:
            self.add(f"{path}/choices", _("選択肢がありません。選択肢を1つ以上入力してください。"))
            return
        seen: set[str] = set()
        for c, choice in enumerate(choices):
            cpath = f"{path}/choices/{c}"
            if not isinstance(choice, dict):
                self.add(cpath, _("選択肢は value と label を持つ JSON のオブジェクトにしてください。"))
                continue
            value = choice.get("value")
            if not isinstance(value, str) or not value or len(value) > builder.KEY_MAX:
                self.add(f"{cpath}/value", _("選択肢の値は1〜64文字の文字列にしてください。"))
            elif value in seen:
                self.add(f"{cpath}/value", _("選択肢の値「%(value)s」が2回使われています。") % {"value": value})
            else:
                seen.add(value)
            if not isinstance(choice.get("label"), str) or not choice["label"].strip():
                self.add(f"{cpath}/label", _("選択肢の表示名がありません。"))
            if "label_en" in choice and not isinstance(choice["label_en"], str):
                self.add(f"{cpath}/label_en", _("label_en は文字列にしてください。"))
            for name in choice:
                if name not in ("value", "label", "label_en"):
                    self.add(cpath, _("「%(name)s」は選択肢に使えません。") % {"name": name})
        if field["type"] == "multichoice" and isinstance(field.get("min_items"), int):
            if field["min_items"] > len(choices):
                self.add(f"{path}/min_items", _("選べる最少の数が、選択肢の数より多くなっています。"))

    def check_ranges(self, field: dict[str, Any], path: str) -> None:
        kind = field["type"]
        low, high = field.get("min"), field.get("max")
        if kind in ("date", "date_range"):
            bounds = {}
            for name in ("min", "max"):
                if isinstance(field.get(name), str):
                    try:
                        bounds[name] = resolve_date_bound(field[name])
                    except ValueError:
                        self.add(
                            f"{path}/{name}",
                            _("「%(value)s」は日付（2026-04-01）か today±N（d/y）の形ではありません。")
                            % {"value": field[name]},
                        )
            if len(bounds) == 2 and bounds["min"] > bounds["max"]:
                self.add(f"{path}/max", _("いちばん遅い日が、いちばん早い日より前になっています。"))
        elif _number(low) and _number(high) and low > high:
            self.add(f"{path}/max", _("最大値が最小値より小さくなっています。"))
        low_items, high_items = field.get("min_items"), field.get("max_items")
        if _number(low_items) and _number(high_items) and low_items > high_items:
            self.add(f"{path}/max_items", _("最多の数が最少の数より小さくなっています。"))

    def check_prefill(self, field: dict[str, Any], path: str) -> None:
        prefill, kind = field["prefill"], field["type"]
        if kind in builder.COMPOSITE_PREFILL:
            fits = builder.COMPOSITE_PREFILL[kind]
            if not isinstance(prefill, dict) or not prefill or set(prefill) - set(builder.NAME_PARTS):
                self.add(
                    f"{path}/prefill",
                    _("氏名・フリガナの自動入力は、氏（family）と名（given）ごとに入力元を選んでください。"),
                )
                return
            for source in prefill.values():
                if source not in PREFILL_KEYS:
                    self.add(f"{path}/prefill", _("自動入力の入力元「%(key)s」はありません。") % {"key": source})
                elif source not in fits:
                    self.add(
                        f"{path}/prefill",
                        _("自動入力の入力元「%(key)s」は、この種類の項目には入れられません。") % {"key": source},
                    )
            return
        if not isinstance(prefill, str):
            self.add(f"{path}/prefill", _("自動入力の入力元は1つだけ選んでください。"))
        elif prefill not in PREFILL_KEYS:
            self.add(f"{path}/prefill", _("自動入力の入力元「%(key)s」はありません。") % {"key": prefill})
        elif not builder.prefill_fits(prefill, kind):
            self.add(
                f"{path}/prefill",
                _("自動入力の入力元「%(key)s」は、この種類の項目には入れられません。") % {"key": prefill},
            )

    # rules

    def check_rule(self, rule: dict[str, Any], path: str) -> None:
        for name in rule:
            if name not in ("when", "show", "hide", "require"):
                self.add(path, _("「%(name)s」はルールに使えません。") % {"name": name})
        condition_keys = self.check_condition(rule["when"], f"{path}/when")
        actions = [a for a in ("show", "hide", "require") if a in rule]
        if not actions:
            self.add(path, _("このルールには、表示・非表示・必須にする対象がありません。"))
        for action in actions:
            targets = rule[action]
            if not isinstance(targets, list) or not targets:
                self.add(f"{path}/{action}", _("対象を1つ以上選んでください。"))
                continue
            for t, target in enumerate(targets):
                tpath = f"{path}/{action}/{t}"
                is_field = target in self.fields
                if not is_field and not (action != "require" and target in self.step_index):
                    if action == "require" and target in self.step_index:
                        self.add(
                            tpath,
                            _("ステップ「%(key)s」は必須にできません（必須にできるのは項目だけです）。")
                            % {"key": target},
                        )
                    else:
                        self.add(tpath, _("対象の「%(key)s」はこのフォームにありません。") % {"key": target})
                    continue
                if target in condition_keys:
                    self.add(
                        tpath, _("条件にした項目「%(key)s」を、同じルールの対象にはできません。") % {"key": target}
                    )
                    continue
                self.check_order(condition_keys, target, is_field, tpath)

    def check_order(self, condition_keys: list[str], target: str, is_field: bool, path: str) -> None:
        """A condition must be answerable before what it controls is shown: a field on
        the same or an earlier step than a target field, on an earlier step than a
        target step."""
        target_step = self.field_step.get(target) if is_field else self.step_index.get(target)
        if target_step is None:
            return
        for key in condition_keys:
            source_step = self.field_step.get(key)
            if source_step is None:
                continue
            if source_step > target_step or (not is_field and source_step == target_step):
                self.add(
                    path,
                    _(
                        "条件の項目「%(field)s」は「%(target)s」より後（または同じステップ）で入力されるため、この条件で表示を変えられません。"
                    )
                    % {"field": key, "target": target},
                )

    def check_condition(self, condition: Any, path: str) -> list[str]:
        """Problems of a condition; returns the field keys it names."""
        if not isinstance(condition, dict) or not condition:
            self.add(path, _("条件が空です。"))
            return []
        for combinator in ("all", "any"):
            if combinator in condition:
                parts = condition[combinator]
                if len(condition) != 1 or not isinstance(parts, list) or not parts:
                    self.add(path, _("%(name)s には条件を1つ以上並べてください。") % {"name": combinator})
                    return []
                keys: list[str] = []
                for k, sub in enumerate(parts):
                    keys += self.check_condition(sub, f"{path}/{combinator}/{k}")
                return keys
        if "not" in condition:
            if len(condition) != 1:
                self.add(path, _("not にはほかの指定を並べられません。"))
                return []
            return self.check_condition(condition["not"], f"{path}/not")
        key = condition.get("field")
        ops = [o for o in condition if o != "field"]
        if not isinstance(key, str):
            self.add(f"{path}/field", _("条件にする項目がありません。"))
            return []
        field = self.fields.get(key)
        if field is None:
            self.add(f"{path}/field", _("条件の項目「%(key)s」はこのフォームにありません。") % {"key": key})
            return [key]
        if len(ops) != 1 or ops[0] not in CONDITION_OPS:
            self.add(path, _("条件の種類（in / not_in / equals / filled / gte / lte）を1つだけ指定してください。"))
            return [key]
        op, value = ops[0], condition[ops[0]]
        kind = field["type"]
        if op in ("in", "not_in"):
            if not isinstance(value, list) or not value or not all(isinstance(v, SCALAR) for v in value):
                self.add(f"{path}/{op}", _("値を1つ以上のリストで指定してください。"))
                return [key]
            values = list(value)
        elif op == "filled":
            if not isinstance(value, bool):
                self.add(f"{path}/{op}", _("filled は true か false にしてください。"))
            return [key]
        elif op in ("gte", "lte"):
            if not _number(value):
                self.add(f"{path}/{op}", _("比べる値は数にしてください。"))
            elif kind not in builder.NUMERIC_TYPES:
                self.add(
                    f"{path}/{op}",
                    _("「以上・以下」の条件は数値・金額の項目にだけ使えます（「%(key)s」は%(type)s）。")
                    % {"key": key, "type": builder.type_label(kind)},
                )
            return [key]
        else:
            if not isinstance(value, SCALAR):
                self.add(f"{path}/{op}", _("値は文字列か数にしてください。"))
                return [key]
            values = [value]
        if builder.has_choices(kind):
            allowed = {c.get("value") for c in field.get("choices", []) if isinstance(c, dict)}
            for value in values:
                if value not in allowed:
                    self.add(
                        f"{path}/{op}",
                        _("「%(value)s」は項目「%(key)s」の選択肢にありません。") % {"value": value, "key": key},
                    )
        elif kind in builder.NUMERIC_TYPES:
            if not all(_number(v) for v in values):
                self.add(
                    f"{path}/{op}",
                    _("数値・金額の項目と比べる値は数にしてください（文字列の「%(value)s」とは一致しません）。")
                    % {"value": values[0]},
                )
        elif kind in builder.CHECKBOX_TYPES:
            if not all(v is True for v in values):
                self.add(f"{path}/{op}", _("同意・申告の項目の条件は「入力されている／いない」で指定してください。"))
        elif not all(isinstance(v, str) for v in values):
            self.add(f"{path}/{op}", _("文字の項目と比べる値は文字列にしてください。"))
        return [key]


def _number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)
