"""The ``previous`` source: the answers of the resident's last submitted application
(of any procedure) to fields with the same prefill keys, e.g. a phone number that the
resident record does not have."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _

from madoguchi.applications.prefill.base import PrefillSource
from madoguchi.applications.prefill.registry import register
from madoguchi.applications.widgets import to_raw
from madoguchi.core.models import User
from madoguchi.forms.engine import from_stored
from madoguchi.forms.logic import iter_fields


@register("previous")
class PreviousApplicationSource(PrefillSource):
    priority = 30
    label = _("前回の申請から入力しました")

    def values(self, user: User) -> dict[str, Any]:
        from madoguchi.applications.selectors import application_last_submitted

        last = application_last_submitted(applicant=user)
        if last is None:
            return {}
        definition = last.form_definition.definition
        answers = from_stored(definition, last.data)
        values: dict[str, Any] = {}
        for _step, field in iter_fields(definition):
            spec = field.get("prefill")
            value = answers.get(field["key"])
            if not spec or value in (None, "", [], {}):
                continue
            raw = to_raw(field, value)
            if isinstance(spec, str):
                values.setdefault(spec, raw)
            elif isinstance(spec, Mapping) and isinstance(raw, Mapping):
                for part, key in spec.items():
                    if raw.get(part):
                        values.setdefault(key, raw[part])
        return values
