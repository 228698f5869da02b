"""Why an approval operation was refused. Every refusal is an ``ApprovalError`` with a
message for the member of staff (Japanese, or English on English pages); nothing was
changed when one is raised."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop


class ApprovalError(Exception):
    """Base class: ``str(error)`` is the message to show."""

    default_message = ""

    def __init__(self, message: str | None = None) -> None:
        self.message = message if message is not None else _(self.default_message)
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class NotStaff(ApprovalError):
    default_message = gettext_noop("決裁の操作ができるのは職員だけです。")


class NotAnApprover(ApprovalError):
    """Not the role (or a delegate of the role) of the current step."""

    def __init__(self, step_label: str) -> None:
        self.step_label = step_label
        super().__init__(
            _("あなたはこの決裁の現在の段階（%(step)s）の決裁者でも、その代決者でもありません。") % {"step": step_label}
        )


class SelfApproval(ApprovalError):
    default_message = gettext_noop("自分が起案した決裁を、自分で決裁することはできません。")


class AlreadyActed(ApprovalError):
    default_message = gettext_noop("あなたはこの段階ですでに決裁しています。同じ段階で二度決裁することはできません。")


class SlotDecided(AlreadyActed):
    default_message = gettext_noop("あなたが決裁する欄は、すでに決裁済みです。")


class RequestFinished(ApprovalError):
    """The request is finished (approved, rejected, sent back or withdrawn): locked."""

    def __init__(self, status_label: str) -> None:
        self.status_label = status_label
        super().__init__(
            _("この決裁はすでに終了しています（%(status)s）。終了した決裁は変更できません。") % {"status": status_label}
        )


class StaleVersion(ApprovalError):
    default_message = gettext_noop(
        "この決裁は、画面を開いた後にほかの職員が更新しました。最新の内容を確認してから、もう一度操作してください。"
    )


class CommentRequired(ApprovalError):
    default_message = gettext_noop("否決・差戻しをするときは、理由をコメントに入力してください。")


class InvalidAction(ApprovalError):
    default_message = gettext_noop("この操作はできません。")


class NotRequester(ApprovalError):
    default_message = gettext_noop("取下げができるのは起案者だけです。")


class NotInDepartment(ApprovalError):
    default_message = gettext_noop("起案できるのは、起案部署に所属する職員だけです。")


class AlreadyPending(ApprovalError):
    default_message = gettext_noop("この案件はすでに決裁中です。")


class NoApproverLeft(ApprovalError):
    default_message = gettext_noop(
        "この決裁ルートには、起案者より後の決裁者がいません。別の決裁ルートを選んでください。"
    )


class NoRoute(ApprovalError):
    default_message = gettext_noop("使える決裁ルートがありません。決裁ルートの設定を確認してください。")


class RouteUnavailable(ApprovalError):
    default_message = gettext_noop("この決裁ルートは使えません。")


class DelegationRefused(ApprovalError):
    """A delegation that cannot be set or cancelled; the message says why."""


class AttachmentRefused(ApprovalError):
    """An attachment of the wrong type or size; the message says which and why."""


class DocumentLocked(ApprovalError):
    default_message = gettext_noop(
        "この起案文書は修正できません。修正して再起案できるのは、差戻し・取下げされた文書だけです。"
    )
