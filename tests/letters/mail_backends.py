"""E-mail backends for tests and the fault-injection scripts."""

import os
import smtplib
import uuid
from email.parser import BytesHeaderParser
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.locmem import EmailBackend


class FlakyBackend(EmailBackend):
    """Fails the first N sends, like an SMTP server having a bad day."""

    failures_left = 0

    def send_messages(self, messages):
        if FlakyBackend.failures_left > 0:
            FlakyBackend.failures_left -= 1
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


class WitnessBackend(EmailBackend):
    """Notes what the database says of the letters being sent at the moment the mail server is
    asked, then fails like a server that hung up."""

    seen: list = []

    def send_messages(self, messages):
        from referrals.models import FeedbackLetter

        WitnessBackend.seen.extend(
            FeedbackLetter.objects.filter(status="sending").values_list("handed_over_at", flat=True)
        )
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


class OneFilePerMessageBackend(BaseEmailBackend):
    """Each message as its own file in ``EMAIL_FILE_PATH``, complete or not at all (written under
    a temporary name, then renamed), so that after a worker is SIGKILLed the sent mails can be
    counted per Message-ID. (No fsync: a killed process's writes survive in the page cache; only
    a machine crash would lose them, which the scripts do not inject.) Django's file backend appends a connection's messages to one file
    whose name can repeat within a second, which makes counting unreliable."""

    def __init__(self, *args, file_path=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.folder = Path(file_path or settings.EMAIL_FILE_PATH)
        self.folder.mkdir(parents=True, exist_ok=True)

    def send_messages(self, messages):
        for message in messages:
            name = uuid.uuid4().hex
            partial = self.folder / f".{name}.partial"
            with open(partial, "wb") as out:
                out.write(message.message().as_bytes())
            os.replace(partial, self.folder / f"{name}.eml")
        return len(messages)


def sent_message_ids(folder) -> list[str]:
    """The Message-ID of every complete message a ``OneFilePerMessageBackend`` wrote."""
    parser, ids = BytesHeaderParser(), []
    for path in sorted(Path(folder).glob("*.eml")):
        with open(path, "rb") as handle:
            # A long Message-ID is folded onto its own line: unfold it.
            ids.append("".join(parser.parse(handle, headersonly=True)["Message-ID"].split()))
    return ids
