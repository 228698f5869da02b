"""Background tasks of the accounts app (Django Tasks API, django-tasks backport).

Mail is rendered in the request (in the person's language) and sent by the worker.
With the database backend the task row is written in the same transaction as the
change that caused the mail, so it is a transactional outbox: no mail for a change
that rolled back, and no change without its mail."""

from __future__ import annotations

from django.core.mail import send_mail
from django_tasks import task


@task()
def send_email(*, subject: str, body: str, to: list[str]) -> int:
    return send_mail(subject, body, None, to)
