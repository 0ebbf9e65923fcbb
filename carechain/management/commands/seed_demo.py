from django.core.management.base import BaseCommand

from carechain import demo


class Command(BaseCommand):
    help = "Create (or complete) the fictional demo care chain and print the demo logins."

    def handle(self, *args, **options):
        chain = demo.seed()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo chain ready: {len(chain.practices)} practices, {len(chain.coaches)} coaches, "
                f"{len(chain.patients)} patients."
            )
        )
        self.stdout.write(f"\nDemo logins (password for all: {demo.DEMO_PASSWORD}):")
        for login in chain.logins:
            self.stdout.write(f"  {login.username:<24} {login.role:<24} {login.organisation}")
