"""Applications made at the counter (書かない窓口, channel 窓口).

Staff start the application for a resident found in the registry. It belongs to the
resident's account when they have one (they then see it in their portal); otherwise
it is tied to the registry entry (``Application.resident``). Answers are prefilled
from the record (for a resident with an account, from every prefill source), staff
complete them on the ordinary step pages, and the resident confirms on the counter's
second screen, which submits it (``application_counter_submit``): the resident's
confirmation there stands for the form's declaration, and a fee is paid at the
counter's till (the staff page shows the total).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from madoguchi.applications import machine
from madoguchi.applications.machine import Status
from madoguchi.applications.models import Application, Channel
from madoguchi.applications.services import (
    NoOnlineForm,
    _audit,
    _draft_expiry,
    _lock,
    _prefill,
    _record_change,
    application_submit,
)
from madoguchi.core.models import Resident, User
from madoguchi.forms import engine
from madoguchi.forms.logic import iter_fields
from madoguchi.forms.selectors import form_get_current

#: Without an account, only the registry is asked (the other sources need an account).
REGISTRY_ONLY = frozenset({"registry"})


def application_start_at_counter(*, resident: Resident, staff: User, procedure_code: str) -> Application:
    """A new counter draft of ``procedure_code`` for ``resident``, prefilled."""
    form = form_get_current(procedure_code)
    if form is None:
        raise NoOnlineForm(procedure_code)
    account = User.objects.filter(resident=resident).first()
    if account is not None:
        cleaned, sources = _prefill(form.definition, account)
    else:
        cleaned, sources = _prefill(form.definition, User(resident=resident), only=REGISTRY_ONLY)
    first = engine.next_step(form.definition, None, cleaned) or ""
    with transaction.atomic():
        application = Application.objects.create(
            procedure=form.procedure,
            form_definition=form,
            applicant=account,
            resident=resident,
            channel=Channel.COUNTER,
            data=engine.to_stored(form.definition, cleaned),
            prefill_sources=sources,
            current_step=first,
            expires_at=_draft_expiry(),
        )
        _audit(application, staff, "start", via="counter", prefilled=sorted(sources))
    return application


def _declarations(definition: dict[str, Any]) -> list[str]:
    return [f["key"] for _step, f in iter_fields(definition) if f.get("type") == "declaration"]


def application_counter_submit(*, application: Application, actor: User, submission_key: str) -> Application:
    """Submit a counter application the resident confirmed on the second screen: the
    declarations are answered by that confirmation, then every answer is checked
    again as for any submission (:class:`InvalidApplication`, nothing changes)."""
    with transaction.atomic():
        locked = _lock(application)
        if locked.channel != Channel.COUNTER:
            raise ValueError("not a counter application")
        definition = locked.form_definition.definition
        data = dict(locked.data) if isinstance(locked.data, dict) else {}
        for key in _declarations(definition):
            data[key] = True
        if data != locked.data:
            locked.data = data
            locked.save(update_fields=["data", "updated_at"])
        return application_submit(application=locked, submission_key=submission_key, actor=actor, fee_at_counter=True)


def application_withdraw_draft(*, application: Application, actor: User) -> Application:
    """Abandon a draft (a counter visit that was called off)."""
    with transaction.atomic():
        locked = _lock(application)
        previous = locked.status
        locked.status = machine.check_transition(previous, Status.WITHDRAWN)
        locked.expires_at = None
        locked.save(update_fields=["status", "expires_at", "updated_at"])
        _record_change(locked, previous, actor)
        _audit(locked, actor, "withdraw_draft")
    return locked
