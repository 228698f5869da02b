"""What a resident can consent to, and the version of each consent text.

Each purpose has a code (stored on ``Consent.purpose``), a short label, the text the
resident agrees to, and that text's version. When the text changes in substance,
raise ``version``: consents given to an older version no longer count
(``selectors.consent_given`` is false) and the consents page asks the resident to
agree again.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

PREFILL_REGISTRY = "prefill_registry"
PROFILE_WRITE_BACK = "profile_write_back"
NOTIFY_EMAIL = "notify_email"


@dataclass(frozen=True)
class Purpose:
    code: str
    label: StrOrPromise
    text: StrOrPromise
    version: str


PURPOSES: dict[str, Purpose] = {
    p.code: p
    for p in (
        Purpose(
            code=PREFILL_REGISTRY,
            label=_("住民記録からの自動入力"),
            text=_(
                "申請書の氏名・フリガナ・生年月日・性別・住所・世帯の情報を、区の住民記録から自動で入力します。"
                "入力された内容は送信前に確認・修正できます。"
            ),
            version="1",
        ),
        Purpose(
            code=PROFILE_WRITE_BACK,
            label=_("申請で変更した連絡先をプロフィールに反映"),
            text=_("申請書で電話番号などの連絡先を変更したとき、その連絡先をマイページのプロフィールにも保存します。"),
            version="1",
        ),
        Purpose(
            code=NOTIFY_EMAIL,
            label=_("メールでのお知らせ"),
            text=_(
                "申請の受付や審査の結果などのお知らせを、マイページの受信箱に加えて、登録したメールアドレスにも送ります。"
            ),
            version="1",
        ),
    )
}
