from django.core.management.base import BaseCommand, CommandError

from audit.models import AuditEvent
from audit.services import audit_verify_chain


class Command(BaseCommand):
    help = "Verify the audit log's hash chain; exits non-zero when a row was changed or removed."

    def handle(self, *args, **options):
        problems = audit_verify_chain()
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"The audit log has been tampered with: {len(problems)} problem(s).")
        self.stdout.write(
            f"Audit log intact: {AuditEvent.objects.count()} rows, hash chain unbroken."
        )
