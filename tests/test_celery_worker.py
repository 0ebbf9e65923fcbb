"""A real Celery worker on Redis runs a task end to end (CI must exercise the broker for real)."""

import os
import time

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from audit.models import AuditEvent
from audit.tasks import verify_audit_chain
from carechain.access import Actor
from smr.celery import app
from tests import factories
from tests.conftest import need_service


@pytest.fixture
def redis_broker():
    url = os.environ.get("CELERY_BROKER_URL", "")
    if not url.startswith("redis://"):
        need_service("CELERY_BROKER_URL does not point at Redis")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        need_service(f"Redis at {url} is unreachable: {exc}")
    if not settings.CELERY_RESULT_BACKEND:
        need_service("CELERY_RESULT_BACKEND is not set")
    app.conf.task_always_eager = False
    yield url
    app.conf.task_always_eager = True


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_worker_on_redis_verifies_the_audit_chain(redis_broker, chain):
    from audit.services import audit_record

    poh = factories.member("poh_s", chain.practice_a)
    for _ in range(3):
        audit_record(who=Actor.for_user(poh), action="view", patient_id=None)
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        result = verify_audit_chain.delay()
        assert result.get(timeout=30) == {"rows": AuditEvent.objects.count(), "problems": 0}


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_feedback_letter_is_delivered_once_by_a_real_worker(
    redis_broker, chain, settings, tmp_path
):
    """End to end: the transition's outbox row, on commit a task on Redis, a worker renders and
    sends the PDF, and a second delivery of the same task sends nothing."""
    from django.core import mail

    from referrals import services as referral_services
    from referrals.models import FeedbackLetter
    from referrals.tasks import deliver_letter

    settings.MEDIA_ROOT = tmp_path
    coach = factories.member("coach", chain.provider)
    referral = factories.ReferralFactory(
        patient=factories.PatientFactory(practice=chain.practice_a)
    )
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        referral_services.referral_accept(actor=Actor.for_user(coach), referral_id=referral.pk)
        letter = FeedbackLetter.objects.get(referral=referral, kind="accepted")
        for _ in range(300):
            letter.refresh_from_db()
            if letter.status == "sent":
                break
            time.sleep(0.1)
        assert letter.status == "sent"
        assert deliver_letter.delay(letter.pk).get(timeout=30) is False
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [chain.practice_a.secure_email]
