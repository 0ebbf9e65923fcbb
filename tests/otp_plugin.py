"""Pytest plugin (``-p tests.otp_plugin`` in pyproject.toml): a test's ``client.force_login(user)``
also passes the second factor, as the person would right after the password.

Every test that logs a person in this way, in any room, keeps working now that the platform asks
for a second factor. The original is kept as ``Client.force_login.unverified``.
"""


def pytest_configure(config):
    from django.test import Client

    if hasattr(Client.force_login, "unverified"):
        return
    original = Client.force_login

    def force_login(self, user, backend=None):
        from tests.otp import mark_verified

        original(self, user, backend)
        mark_verified(self, user)

    force_login.unverified = original
    Client.force_login = force_login
