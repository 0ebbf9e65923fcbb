"""Create an organisation API key from the command line and print it once.

    manage.py create_api_key --organisation-agb 01051234 --purpose referral_intake --name "HIS"
    manage.py create_api_key --uzovi 9101 --purpose claims --name "Claims pull" --expires 2027-12-31

Only the key's hash is stored: the printed key cannot be shown again (revoke it in the admin and
make a new one when it is lost). With ``--quiet`` only the key itself is printed, for scripts.
"""

import datetime

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone, translation

from audit.models import AuditEvent
from carechain.access import Actor
from carechain.models import (
    Insurer,
    Organisation,
    OrganisationAPIKey,
    Practice,
    Provider,
    Zorggroep,
)
from carechain.services import api_key_issue

NAME_MAX_LENGTH = OrganisationAPIKey._meta.get_field("name").max_length


def _expiry(value: str) -> datetime.datetime:
    """A date (the key works through that day, Amsterdam time) or an ISO 8601 moment."""
    try:
        day = datetime.date.fromisoformat(value)
    except ValueError:
        try:
            moment = datetime.datetime.fromisoformat(value)
        except ValueError:
            raise CommandError(
                f"--expires must be a date (YYYY-MM-DD) or an ISO 8601 moment, got {value!r}."
            ) from None
    else:
        moment = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    if moment <= timezone.now():
        raise CommandError(f"--expires {value} lies in the past.")
    return moment


class Command(BaseCommand):
    help = (
        "Create an API key for an organisation (by AGB code or UZOVI code) and print it once; "
        "only its hash is stored."
    )

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument(
            "--organisation-agb",
            metavar="AGB",
            help="AGB code of the GP practice or zorggroep (referral_intake).",
        )
        which.add_argument("--uzovi", metavar="UZOVI", help="UZOVI code of the insurer (claims).")
        parser.add_argument(
            "--purpose",
            required=True,
            choices=OrganisationAPIKey.Purpose.values,
            help="What the key may do.",
        )
        parser.add_argument(
            "--name",
            help="A name that says where the key is used (default: organisation and purpose).",
        )
        parser.add_argument(
            "--expires",
            metavar="DATE",
            help="Last day the key works (YYYY-MM-DD), or an ISO 8601 moment; default: never.",
        )
        parser.add_argument(
            "--quiet", action="store_true", help="Print only the key (for scripts)."
        )

    def _organisation(self, options, purpose) -> Organisation:
        if options["uzovi"] is not None:
            code = options["uzovi"].strip()
            insurer = Insurer.objects.filter(uzovi=code).first()
            if insurer is None:
                raise CommandError(f"No insurer with UZOVI code {code!r}.")
            return insurer
        code = options["organisation_agb"].strip()
        matches = [
            organisation
            for model in (Practice, Zorggroep, Provider)
            for organisation in model.objects.filter(agb=code)
        ]
        if not matches:
            raise CommandError(f"No GP practice, zorggroep or SMR provider with AGB code {code!r}.")
        # A zorggroep and one of its practices could share an AGB code: prefer the kind that may
        # hold a key for this purpose, and refuse to guess between two of them.
        allowed = OrganisationAPIKey.PURPOSE_ORGANISATION_KINDS[purpose]
        fitting = [o for o in matches if o.kind in allowed] or matches
        if len(fitting) > 1:
            raise CommandError(
                f"AGB code {code!r} belongs to more than one organisation ("
                + ", ".join(f"{o.name}, {o.kind}" for o in fitting)
                + "); make this key in the admin."
            )
        return fitting[0]

    def handle(self, *args, **options):
        purpose = OrganisationAPIKey.Purpose(options["purpose"])
        organisation = self._organisation(options, purpose)
        allowed = OrganisationAPIKey.PURPOSE_ORGANISATION_KINDS[purpose]
        if organisation.kind not in allowed:
            with translation.override("en"):
                kinds = ", ".join(sorted(str(Organisation.Kind(k).label) for k in allowed))
                kind = organisation.get_kind_display()
            raise CommandError(
                f"{organisation.name} ({kind}) cannot hold a {purpose.value} key; "
                f"that purpose is for: {kinds}."
            )
        if not organisation.is_active:
            raise CommandError(f"{organisation.name} is inactive; its keys would be refused.")
        expiry = _expiry(options["expires"]) if options["expires"] else None
        if options["name"] is not None:
            name = options["name"].strip()
            if not name:
                raise CommandError("--name must not be empty.")
        else:
            name = f"{organisation.name} {purpose.value}"[:NAME_MAX_LENGTH]
        if len(name) > NAME_MAX_LENGTH:
            raise CommandError(f"--name is at most {NAME_MAX_LENGTH} characters.")

        fields = {
            "name": name,
            "organisation": organisation,
            "purpose": purpose,
            "expiry_date": expiry,
        }
        api_key = OrganisationAPIKey(**fields)
        try:
            key = api_key_issue(by=Actor.system(channel=AuditEvent.Channel.ADMIN), api_key=api_key)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None

        if options["quiet"]:
            self.stdout.write(key)
            return
        until = f", expires {timezone.localtime(expiry):%Y-%m-%d %H:%M %Z}" if expiry else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"API key {api_key.prefix} ({purpose.value}) for {organisation.name}{until}."
            )
        )
        self.stdout.write("Copy it now; it is not shown again (only its hash is stored):")
        self.stdout.write(key)
