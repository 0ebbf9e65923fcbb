"""Logging in through the real login page in the test client, and reading the audit rows it left."""

from django.urls import reverse

from audit.models import AuditEvent

PASSWORD = "secret-password-1"  # tests/factories.py's UserFactory


def password_login(client, username: str, password: str = PASSWORD, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def audit_rows(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))
