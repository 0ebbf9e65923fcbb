from io import StringIO

from django.core.management import call_command

from carechain.models import Membership, Patient, Practice, Role, User
from carechain.validators import validate_bsn
from reports.demo import HISTORY_SIZE


def test_seed_demo_builds_the_chain_and_is_idempotent(db):
    out = StringIO()
    call_command("seed_demo", stdout=out)
    counts = (
        Practice.objects.count(),
        Patient.objects.count(),
        User.objects.count(),
        Membership.objects.count(),
    )
    call_command("seed_demo", stdout=StringIO())
    assert counts == (
        Practice.objects.count(),
        Patient.objects.count(),
        User.objects.count(),
        Membership.objects.count(),
    )
    assert Practice.objects.count() == 4
    # the chain's 60, and the earlier care the reports show (reports.demo)
    assert Patient.objects.count() == 60 + HISTORY_SIZE
    assert Membership.objects.filter(role=Role.COACH).count() == 3
    assert Membership.objects.filter(role=Role.POH_GGZ).count() == 4
    for bsn in Patient.objects.values_list("bsn", flat=True):
        validate_bsn(bsn)
    assert Patient.objects.filter(ketenzorg_enrolments__isnull=False).exists()
    printed = out.getvalue()
    for role in Role:
        assert Membership.objects.filter(role=role).exists(), role
    assert "coach.anna" in printed and "Rookvrij-demo-2026" in printed
