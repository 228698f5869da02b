"""What every domain shares: accounts, departments and staff roles, residents and
households (the imported resident registry), and the hash-chained audit log."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import connections, models
from django.utils.translation import gettext_lazy as _


class EmailUserManager(UserManager["User"]):
    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email__iexact=username)


class User(AbstractUser):
    """An account: a resident who signed up, or a member of staff."""

    class Kind(models.TextChoices):
        RESIDENT = "resident", _("区民")
        STAFF = "staff", _("職員")

    email = models.EmailField(_("メールアドレス"), unique=True)
    kind = models.CharField(_("種別"), max_length=16, choices=Kind.choices, default=Kind.RESIDENT)
    email_verified_at = models.DateTimeField(_("メール確認日時"), null=True, blank=True)
    display_name = models.CharField(_("表示名"), max_length=100, blank=True)
    preferred_language = models.CharField(_("表示言語"), max_length=8, default="ja")
    totp_secret = models.CharField(_("二要素認証の秘密鍵"), max_length=64, blank=True)
    totp_confirmed_at = models.DateTimeField(_("二要素認証の設定日時"), null=True, blank=True)
    resident = models.OneToOneField(
        "core.Resident",
        verbose_name=_("住民記録"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="account",
    )

    objects: ClassVar[EmailUserManager] = EmailUserManager()

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["username"]

    class Meta:
        verbose_name = _("アカウント")
        verbose_name_plural = _("アカウント")

    def __str__(self) -> str:
        return self.display_name or self.email

    @property
    def is_staff_member(self) -> bool:
        return self.kind == self.Kind.STAFF


class Department(models.Model):
    """A division of the ward office (課), e.g. 区民課."""

    code = models.SlugField(_("コード"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    name_en = models.CharField(_("名称（英語）"), max_length=200, blank=True)
    location = models.CharField(_("窓口の場所"), max_length=200, blank=True)
    location_en = models.CharField(_("窓口の場所（英語）"), max_length=200, blank=True)
    phone = models.CharField(_("電話番号"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("部署")
        verbose_name_plural = _("部署")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class StaffRole(models.Model):
    """A staff member's role in one department. Roles are ordered: a higher role
    may do what a lower one may."""

    class Role(models.TextChoices):
        TANTO = "tanto", _("担当")
        KAKARICHO = "kakaricho", _("係長")
        KACHO = "kacho", _("課長")
        ADMIN = "admin", _("管理者")

    RANK: ClassVar[dict[str, int]] = {"tanto": 1, "kakaricho": 2, "kacho": 3, "admin": 4}

    user = models.ForeignKey(User, verbose_name=_("職員"), on_delete=models.CASCADE, related_name="staff_roles")
    department = models.ForeignKey(
        Department, verbose_name=_("部署"), on_delete=models.CASCADE, related_name="staff_roles"
    )
    role = models.CharField(_("役職"), max_length=16, choices=Role.choices)

    class Meta:
        verbose_name = _("職員の役職")
        verbose_name_plural = _("職員の役職")
        constraints = [models.UniqueConstraint(fields=["user", "department"], name="one_role_per_department")]

    def __str__(self) -> str:
        return f"{self.user} {self.department} {self.get_role_display()}"


class Household(models.Model):
    """A 世帯 from the resident registry."""

    household_number = models.CharField(_("世帯番号"), max_length=32, unique=True)
    postal_code = models.CharField(_("郵便番号"), max_length=8)
    address = models.CharField(_("住所"), max_length=300)

    class Meta:
        verbose_name = _("世帯")
        verbose_name_plural = _("世帯")

    def __str__(self) -> str:
        return f"{self.household_number} {self.address}"


class Resident(models.Model):
    """A person in the imported resident registry (住民記録): 基本4情報 and household."""

    class Sex(models.TextChoices):
        MALE = "male", _("男")
        FEMALE = "female", _("女")

    resident_number = models.CharField(_("住民番号"), max_length=32, unique=True)
    family_name = models.CharField(_("氏"), max_length=50)
    given_name = models.CharField(_("名"), max_length=50)
    family_name_kana = models.CharField(_("氏（フリガナ）"), max_length=100)
    given_name_kana = models.CharField(_("名（フリガナ）"), max_length=100)
    birth_date = models.DateField(_("生年月日"))
    sex = models.CharField(_("性別"), max_length=8, choices=Sex.choices)
    household = models.ForeignKey(Household, verbose_name=_("世帯"), on_delete=models.PROTECT, related_name="members")
    relationship = models.CharField(_("続柄"), max_length=32)
    phone = models.CharField(_("電話番号"), max_length=32, blank=True)
    nationality = models.CharField(_("国籍"), max_length=64, default="日本")

    class Meta:
        verbose_name = _("住民")
        verbose_name_plural = _("住民")
        indexes = [models.Index(fields=["family_name_kana", "given_name_kana"])]

    def __str__(self) -> str:
        return f"{self.family_name} {self.given_name}"

    @property
    def full_name(self) -> str:
        return f"{self.family_name} {self.given_name}"

    @property
    def full_name_kana(self) -> str:
        return f"{self.family_name_kana} {self.given_name_kana}"


class AuditQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("audit events are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("audit events are append-only")

    def _seal_many(self, events: Sequence[AuditEvent]) -> int:
        """Give pending records their places in the chain, in one statement
        (``madoguchi.core.audit`` only; ``seq``, ``prev_hash`` and ``hash`` set on each
        event); a record that already has a place is never changed.

        Written as ``UPDATE … FROM (VALUES …)``: the same statement through the ORM (a
        ``CASE`` per column over every record) costs more to build than to run."""
        if not events:
            return 0
        connection = connections[self.db]
        table = connection.ops.quote_name(self.model._meta.db_table)
        cast = ("::bigint", "::bigint", "::varchar", "::varchar") if connection.vendor == "postgresql" else ("",) * 4
        row = "(" + ", ".join(f"%s{c}" for c in cast) + ")"
        params: list[Any] = []
        for e in events:
            params += [e.pk, e.seq, e.prev_hash, e.hash]
        sql = (
            f"UPDATE {table} SET seq = v.seq, prev_hash = v.prev_hash, hash = v.hash "  # noqa: S608 - names from the model
            "FROM (SELECT column1 AS id, column2 AS seq, column3 AS prev_hash, column4 AS hash "
            f"FROM (VALUES {', '.join([row] * len(events))}) AS t) AS v "
            f"WHERE {table}.id = v.id AND {table}.seq IS NULL"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount


class AuditEvent(models.Model):
    """One append-only, hash-chained audit record.

    A record is written in the transaction of the change it describes, without a place
    in the chain (``seq`` empty); right after that transaction commits it is sealed:
    given the next ``seq``, the previous record's hash and its own ``hash`` = SHA-256
    over that and its canonical content (see ``madoguchi.core.audit``). Altering or
    deleting any sealed record breaks the chain from there on; ``AuditChainHead``
    holds the last sequence number and hash so that removing records from the end is
    detected too.
    """

    seq = models.PositiveBigIntegerField(_("連番"), unique=True, null=True, blank=True)
    at = models.DateTimeField(_("日時"))
    actor = models.ForeignKey(
        User, verbose_name=_("操作者"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(_("操作者名"), max_length=200, blank=True)
    action = models.CharField(_("操作"), max_length=64, db_index=True)
    target_type = models.CharField(_("対象の種類"), max_length=64, blank=True)
    target_id = models.CharField(_("対象ID"), max_length=64, blank=True)
    ip_address = models.CharField(_("IPアドレス"), max_length=64, blank=True)
    data = models.JSONField(_("詳細"), default=dict, blank=True)
    prev_hash = models.CharField(_("前の記録のハッシュ"), max_length=64, blank=True)
    hash = models.CharField(_("ハッシュ"), max_length=64, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = _("監査ログ")
        verbose_name_plural = _("監査ログ")
        ordering = ["id"]
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("audit events are append-only")


class AuditChainHead(models.Model):
    """The single row that serializes appends and remembers the chain's end."""

    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    class Meta:
        verbose_name = _("監査ログの末尾")
        verbose_name_plural = _("監査ログの末尾")

    def __str__(self) -> str:
        return f"#{self.seq} {self.hash[:12]}"
