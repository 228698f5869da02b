"""How the app that owns the thing being approved learns about it, without the
approvals app importing that app.

Outcome. The owner registers a callback for its ``subject_kind``::

    from madoguchi.approvals.hooks import on_request_finished

    @on_request_finished("case_decision")
    def case_decision_finished(request: ApprovalRequest, outcome: Outcome) -> None:
        case_decision_record(case_id=request.subject_id, outcome=outcome)

``services`` calls the callbacks of ``request.subject_kind`` exactly once per request,
when it finishes (``approved``, ``rejected``, ``sent_back`` or ``withdrawn``), inside
the transaction that records the decision, after the request is saved. If a callback
raises, the whole decision rolls back and the approver sees the error, so callbacks
must only write to the database (queue anything that leaves the process through the
outbox).

Summary. The owner may also say what to show of the subject on the approval page::

    @subject_summary("case_decision")
    def case_summary(request: ApprovalRequest) -> SubjectSummary | None:
        return SubjectSummary(title=..., fields=[("申請者", ...)], links=[("案件を開く", url)])

Without a provider (or when it returns ``None``) the page shows the request's title.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeAlias

from madoguchi.approvals.machine import Status

if TYPE_CHECKING:
    from madoguchi.approvals.models import ApprovalRequest

#: The outcome passed to the callbacks: one of the final statuses.
Outcome = Status

FinishedCallback: TypeAlias = "Callable[[ApprovalRequest, Status], None]"


class FinishedHooks:
    def __init__(self) -> None:
        self._callbacks: dict[str, list[FinishedCallback]] = {}

    def __call__(self, subject_kind: str) -> Callable[[FinishedCallback], FinishedCallback]:
        """Decorator: call the function when a request about ``subject_kind`` finishes."""

        def decorator(callback: FinishedCallback) -> FinishedCallback:
            self.connect(subject_kind, callback)
            return callback

        return decorator

    def connect(self, subject_kind: str, callback: FinishedCallback) -> None:
        callbacks = self._callbacks.setdefault(subject_kind, [])
        if callback not in callbacks:
            callbacks.append(callback)

    def disconnect(self, subject_kind: str, callback: FinishedCallback) -> None:
        if callback in self._callbacks.get(subject_kind, []):
            self._callbacks[subject_kind].remove(callback)

    def callbacks(self, subject_kind: str) -> list[FinishedCallback]:
        return list(self._callbacks.get(subject_kind, []))

    def run(self, request: ApprovalRequest, outcome: Status) -> None:
        for callback in self.callbacks(request.subject_kind):
            callback(request, outcome)


on_request_finished = FinishedHooks()


@dataclass(frozen=True)
class SubjectSummary:
    """What the approval page shows of the subject: a title, label/value pairs
    (values may span lines) and links (label, URL)."""

    title: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)


SummaryProvider: TypeAlias = "Callable[[ApprovalRequest], SubjectSummary | None]"


class SummaryProviders:
    def __init__(self) -> None:
        self._providers: dict[str, SummaryProvider] = {}

    def __call__(self, subject_kind: str) -> Callable[[SummaryProvider], SummaryProvider]:
        """Decorator: the function supplies the summary of ``subject_kind`` subjects."""

        def decorator(provider: SummaryProvider) -> SummaryProvider:
            self._providers[subject_kind] = provider
            return provider

        return decorator

    def disconnect(self, subject_kind: str) -> None:
        self._providers.pop(subject_kind, None)

    def summary(self, request: ApprovalRequest) -> SubjectSummary:
        provider = self._providers.get(request.subject_kind)
        result = provider(request) if provider is not None else None
        return result if result is not None else SubjectSummary(title=request.title)


subject_summary = SummaryProviders()
