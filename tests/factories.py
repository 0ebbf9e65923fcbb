"""factory-boy factories for the real ORM. Identifiers are valid unless a test says otherwise."""

import datetime

import factory
from factory.django import DjangoModelFactory

from campaigns.models import new_response_code
from carechain import models
from carechain.demo import make_bsn


class _BsnSequence:
    def __init__(self):
        import random

        self.rng = random.Random(42)
        self.seen: set[str] = set()

    def __call__(self, _n):
        while True:
            bsn = make_bsn(self.rng)
            if bsn not in self.seen:
                self.seen.add(bsn)
                return bsn


class ZorggroepFactory(DjangoModelFactory):
    class Meta:
        model = models.Zorggroep

    name = factory.Sequence(lambda n: f"Zorggroep {n}")


class PracticeFactory(DjangoModelFactory):
    class Meta:
        model = models.Practice

    name = factory.Sequence(lambda n: f"Huisartsenpraktijk {n}")
    agb = factory.Sequence(lambda n: f"0105{n % 10000:04d}")
    zorggroep = factory.SubFactory(ZorggroepFactory)
    secure_email = factory.Sequence(lambda n: f"praktijk{n}@zorgmail.example.nl")
    channel = models.Practice.Channel.ZORGDOMEIN


class ProviderFactory(DjangoModelFactory):
    class Meta:
        model = models.Provider

    name = factory.Sequence(lambda n: f"SMR-behandelaar {n}")
    agb = factory.Sequence(lambda n: f"7373{n % 10000:04d}")


class InsurerFactory(DjangoModelFactory):
    class Meta:
        model = models.Insurer

    name = factory.Sequence(lambda n: f"Verzekeraar {n}")
    uzovi = factory.Sequence(lambda n: f"{1000 + n % 9000:04d}")


class LocationFactory(DjangoModelFactory):
    class Meta:
        model = models.Location

    name = factory.Sequence(lambda n: f"Spreekkamer {n}")
    practice = factory.SubFactory(PracticeFactory)
    provider = factory.SubFactory(ProviderFactory)


class UserFactory(DjangoModelFactory):
    class Meta:
        model = models.User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"Gebruiker {n}")
    password = factory.PostGenerationMethodCall("set_password", "secret-password-1")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = models.Membership

    user = factory.SubFactory(UserFactory)
    role = models.Role.POH_S
    organisation = factory.SubFactory(PracticeFactory)


def member(role: str, organisation, **extra) -> models.User:
    """A new user holding one role in one organisation (a coach gets a valid KRS registration)."""
    if role == models.Role.COACH:
        extra.setdefault("krs_number", "KRS-12345")
        extra.setdefault("krs_valid_until", datetime.date.today() + datetime.timedelta(days=900))
    return MembershipFactory(role=role, organisation=organisation, **extra).user


class PatientFactory(DjangoModelFactory):
    class Meta:
        model = models.Patient

    bsn = factory.Sequence(_BsnSequence())
    first_name = "Jan"
    initials = "J."
    last_name = factory.Sequence(lambda n: f"Rookmans{n}")
    birth_date = datetime.date(1970, 5, 17)
    practice = factory.SubFactory(PracticeFactory)
    phone = "06-12345678"


class InsuranceFactory(DjangoModelFactory):
    class Meta:
        model = models.Insurance

    patient = factory.SubFactory(PatientFactory)
    insurer = factory.SubFactory(InsurerFactory)
    policy_number = factory.Sequence(lambda n: f"POL{n:06d}")
    valid_from = datetime.date(2020, 1, 1)


class KetenzorgEnrolmentFactory(DjangoModelFactory):
    class Meta:
        model = models.KetenzorgEnrolment

    patient = factory.SubFactory(PatientFactory)
    zorggroep = factory.LazyAttribute(lambda o: o.patient.practice.zorggroep)
    programme = models.KetenzorgEnrolment.Programme.DM2
    start = datetime.date(2020, 1, 1)


def api_key(
    organisation, purpose=models.OrganisationAPIKey.Purpose.REFERRAL_INTAKE, **extra
) -> str:
    """Create an API key for the organisation and return the secret (shown once)."""
    _obj, key = models.OrganisationAPIKey.objects.create_key(
        name=f"{organisation.name} {purpose}", organisation=organisation, purpose=purpose, **extra
    )
    return key


class ReferralFactory(DjangoModelFactory):
    """A browser referral from the patient's practice to the zorggroep's provider."""

    class Meta:
        model = "referrals.Referral"

    patient = factory.SubFactory(PatientFactory)
    practice = factory.LazyAttribute(lambda o: o.patient.practice)
    provider = factory.LazyAttribute(
        lambda o: o.practice.zorggroep.smr_provider or ProviderFactory()
    )
    channel = "web"
    reason = "Wil stoppen met roken"
    cigarettes_per_day = 20
    years_smoked = 30
    motivation = "motivated"
    consent_data_exchange = True


class TrajectoryFactory(DjangoModelFactory):
    """A trajectory opened from an accepted referral, still before the intake."""

    class Meta:
        model = "pathways.Trajectory"

    referral = factory.SubFactory(ReferralFactory, state="accepted")
    patient = factory.LazyAttribute(lambda o: o.referral.patient)
    practice = factory.LazyAttribute(lambda o: o.referral.practice)
    provider = factory.LazyAttribute(lambda o: o.referral.provider)


def trajectory_in(state: str, *, coach, quit_date=None, intake_date=None, **kwargs):
    """A trajectory put in a given state the way a coach would get it there (through services)."""
    from carechain.access import Actor
    from pathways import services

    actor = Actor.for_user(coach)
    trajectory = TrajectoryFactory(coach=coach, **kwargs)
    today = datetime.date.today()
    steps = ["intake_done", "counselling", "escalated", "end_of_treatment"]
    if state == "intake_planned":
        return trajectory
    services.trajectory_record_intake(
        actor=actor,
        trajectory_id=trajectory.pk,
        intake_date=intake_date or today,
        duration_minutes=45,
        cigarettes_per_day=20,
        years_smoked=25,
        earlier_quit_attempts=1,
        is_motivated=True,
        medication_plan=["nrt_patch"],
        quit_date=quit_date or today,
    )
    if state in steps[1:]:
        services.trajectory_start_counselling(actor=actor, trajectory_id=trajectory.pk)
    if state == "escalated":
        services.trajectory_escalate(
            actor=actor,
            trajectory_id=trajectory.pk,
            reason="thoughts",
            explanation="Denkt: ik kan het toch niet",
        )
    if state == "end_of_treatment":
        services.trajectory_end_treatment(
            actor=actor, trajectory_id=trajectory.pk, end_date=today, result="smoke_free", co_ppm=4
        )
    trajectory.refresh_from_db()
    assert trajectory.state == state, trajectory.state
    return trajectory


def _invitee_bsns(n):
    """Other BSNs than the patients' (a list of people who are mostly not registered here)."""
    import random

    if not hasattr(_invitee_bsns, "sequence"):
        _invitee_bsns.sequence = _BsnSequence()
        _invitee_bsns.sequence.rng = random.Random(4242)
    return _invitee_bsns.sequence(n)


class CampaignFactory(DjangoModelFactory):
    """A letter campaign of a practice, its list still being prepared."""

    class Meta:
        model = "campaigns.Campaign"

    practice = factory.SubFactory(PracticeFactory)
    name = factory.Sequence(lambda n: f"Brievenactie {n}")


class InviteeFactory(DjangoModelFactory):
    """A person on a campaign's list, as a row of an uploaded HIS export."""

    class Meta:
        model = "campaigns.Invitee"

    campaign = factory.SubFactory(CampaignFactory)
    bsn = factory.Sequence(_invitee_bsns)
    initials = "A."
    first_name = "Anna"
    last_name = factory.Sequence(lambda n: f"Uitgenodigd{n}")
    birth_date = datetime.date(1968, 4, 12)
    address = "Kerkstraat 1"
    postal_code = "4701 AB"
    city = "Roosendaal"
    response_code = factory.LazyFunction(new_response_code)
