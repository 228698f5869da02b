"""The decision of a case goes through the e-approval route of its procedure
(``madoguchi.approvals``) when one is configured. This module is the only place where
the cases app talks to the approvals app."""

from __future__ import annotations

from madoguchi.cases.models import Case
from madoguchi.core.models import User

SUBJECT_KIND = "case_decision"


def route_exists(case: Case) -> bool:
    return False


def start(case: Case, actor: User) -> None:
    raise NotImplementedError
