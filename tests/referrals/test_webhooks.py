"""Webhook notifications to the referrer's systems, against a real HTTP receiver on 127.0.0.1:
signed, without patient data, retried with backoff, logged for the planner."""

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from carechain.access import Actor
from carechain.models import Role
from referrals import services, webhooks
from referrals.models import Webhook, WebhookDelivery
from referrals.tasks import deliver_webhook
from tests import factories


class Receiver:
    """A KIS's webhook endpoint: records every request, answers with the scripted statuses."""

    def __init__(self, statuses=(), *, event=None):
        self.statuses = list(statuses)
        self.event = event  # the scripted statuses apply to this event only (None: to all)
        self.requests: list[tuple[dict, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                scripted = receiver.event in (None, self.headers["X-SMR-Event"])
                status = receiver.statuses.pop(0) if scripted and receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/smr-hook"

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture(autouse=True)
def _loopback_allowed(settings):
    settings.WEBHOOK_ALLOW_HTTP_HOSTS = ["127.0.0.1"]


@pytest.fixture
def worker_retries(monkeypatch):
    """Eager tasks that retry as a worker would (at once instead of after the countdown): the
    test settings make eager tasks raise instead, which would stop after the first retry."""
    monkeypatch.setitem(deliver_webhook.app.conf, "task_eager_propagates", False)


@pytest.fixture
def receiver():
    made = []

    def make(statuses=(), **kwargs):
        made.append(Receiver(statuses, **kwargs))
        return made[-1]

    yield make
    for r in made:
        r.close()


@pytest.fixture
def referral(chain):
    return factories.ReferralFactory(patient=factories.PatientFactory(practice=chain.practice_a))


def accept(coach, referral, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.referral_accept(actor=Actor.for_user(coach), referral_id=referral.pk)


def verified(secret: str, headers: dict, body: bytes) -> bool:
    """What a receiver does: recompute the HMAC over "<t>.<body>" and compare in constant time."""
    parts = dict(item.split("=", 1) for item in headers["X-SMR-Signature"].split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), parts["v1"])


def test_a_change_posts_a_signed_notification_without_patient_data(
    chain, coach, referral, receiver, django_capture_on_commit_callbacks
):
    kis = receiver()
    webhook, secret = webhooks.webhook_create(organisation=chain.practice_a, url=kis.url)

    accept(coach, referral, django_capture_on_commit_callbacks)

    events = [json.loads(body)["type"] for _headers, body in kis.requests]
    assert events == ["task-status-changed", "task-feedback-added"]  # accepted, and its letter
    for headers, body in kis.requests:
        assert verified(secret, headers, body)
        assert not verified("another secret", headers, body)
        notification = json.loads(body)
        assert notification["resource"] == {
            "resourceType": "Task",
            "id": str(referral.public_id),
        }
        assert set(notification) == {"id", "type", "occurredAt", "resource", "reference"}
        text = body.decode()
        patient = referral.patient
        for private in (patient.bsn, patient.last_name, patient.first_name):
            assert private not in text
    assert set(webhook.deliveries.values_list("status", flat=True)) == {"delivered"}


def test_failed_attempts_are_retried_until_the_receiver_answers(
    chain, coach, referral, receiver, django_capture_on_commit_callbacks, worker_retries
):
    kis = receiver(statuses=[503, 500], event="task-status-changed")  # then 200
    webhook, secret = webhooks.webhook_create(organisation=chain.practice_a, url=kis.url)
    with django_capture_on_commit_callbacks(execute=True):
        services.referral_decline(
            actor=Actor.for_user(coach), referral_id=referral.pk, reason="capacity"
        )
    delivery = webhook.deliveries.get(event="task-status-changed")
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 3, 200)
    sent = [(h, body) for h, body in kis.requests if body == delivery.body.encode()]
    assert len(sent) == 3  # the same notification each time, each one signed
    assert all(verified(secret, headers, body) for headers, body in sent)


def test_a_receiver_that_keeps_failing_ends_as_failed_in_the_log(
    chain, referral, receiver, worker_retries
):
    kis = receiver(statuses=[500] * 20)
    webhook, _secret = webhooks.webhook_create(organisation=chain.practice_a, url=kis.url)
    (delivery,) = webhooks.webhooks_queue(referral_id=referral.pk, event="task-status-changed")

    deliver_webhook.apply(args=[delivery.pk], throw=False)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", webhooks.MAX_ATTEMPTS)
    assert (delivery.last_status_code, delivery.last_error) == (500, "HTTP 500")
    assert len(kis.requests) == webhooks.MAX_ATTEMPTS
    assert webhooks.webhook_deliver(delivery.pk) is False  # a late duplicate run sends nothing
    assert len(kis.requests) == webhooks.MAX_ATTEMPTS


def test_an_unreachable_receiver_is_retried_too(chain, referral, receiver):
    kis = receiver()
    url = kis.url
    kis.close()  # nothing listens there any more
    webhook, _secret = webhooks.webhook_create(organisation=chain.practice_a, url=url)
    (delivery,) = webhooks.webhooks_queue(referral_id=referral.pk, event="task-status-changed")

    with pytest.raises(webhooks.DeliveryFailed):
        webhooks.webhook_deliver(delivery.pk)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert delivery.last_error.startswith("ConnectionError")


def test_retries_back_off_exponentially():
    waits = [webhooks.retry_countdown(attempt) for attempt in range(1, webhooks.MAX_ATTEMPTS)]
    assert waits == [60, 120, 240, 480, 960]


def test_a_first_failure_leaves_the_delivery_pending_for_its_retry(chain, referral, receiver):
    kis = receiver(statuses=[503])
    webhook, _secret = webhooks.webhook_create(organisation=chain.practice_a, url=kis.url)
    (delivery,) = webhooks.webhooks_queue(referral_id=referral.pk, event="task-status-changed")

    with pytest.raises(webhooks.DeliveryFailed):
        webhooks.webhook_deliver(delivery.pk)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("pending", 1, "HTTP 503")


def test_the_zorggroep_hears_of_its_practices_and_another_practice_does_not(
    chain, coach, referral, receiver, django_capture_on_commit_callbacks
):
    kis, elsewhere = receiver(), receiver()
    webhooks.webhook_create(organisation=chain.zorggroep, url=kis.url)
    webhooks.webhook_create(organisation=chain.practice_b, url=elsewhere.url)

    accept(coach, referral, django_capture_on_commit_callbacks)

    assert kis.requests and not elsewhere.requests


def test_an_inactive_webhook_gets_nothing(
    chain, coach, referral, receiver, django_capture_on_commit_callbacks
):
    kis = receiver()
    webhook, _secret = webhooks.webhook_create(organisation=chain.practice_a, url=kis.url)
    Webhook.objects.filter(pk=webhook.pk).update(is_active=False)

    accept(coach, referral, django_capture_on_commit_callbacks)

    assert not kis.requests and not WebhookDelivery.objects.exists()


@pytest.mark.parametrize(
    "url", ["http://kis.example.org/hook", "ftp://kis.example.org/hook", "http://127.0.0.2/hook"]
)
def test_a_webhook_address_must_be_https(chain, url):
    with pytest.raises(ValidationError) as refused:
        webhooks.webhook_create(organisation=chain.practice_a, url=url)
    assert "url" in refused.value.message_dict


def test_loopback_http_is_refused_without_the_test_setting(chain, settings):
    settings.WEBHOOK_ALLOW_HTTP_HOSTS = []
    with pytest.raises(ValidationError):
        webhooks.webhook_create(organisation=chain.practice_a, url="http://127.0.0.1:9/hook")
    webhook, _secret = webhooks.webhook_create(
        organisation=chain.practice_a, url="https://kis.example.org/smr"
    )
    assert len(webhook.secret) == 64


def test_an_insurer_cannot_have_a_webhook(chain):
    with pytest.raises(ValidationError):
        webhooks.webhook_create(organisation=chain.insurer_a, url="https://insurer.example/hook")


def test_the_planner_sees_the_delivery_log_of_her_provider_only(
    client,
    chain,
    coach,
    planner,
    referral,
    receiver,
    django_capture_on_commit_callbacks,
    worker_retries,
):
    kis = receiver(statuses=[500] * 20)
    webhooks.webhook_create(organisation=chain.practice_a, url=kis.url)
    accept(coach, referral, django_capture_on_commit_callbacks)
    other_planner = factories.member(Role.PLANNER, chain.other_provider)

    client.force_login(planner)
    page = client.get(reverse("webhook-deliveries"))
    client.force_login(other_planner)
    elsewhere = client.get(reverse("webhook-deliveries"))

    assert page.status_code == 200
    text = page.content.decode()
    assert str(referral.public_id) in text
    assert "mislukt" in text
    assert referral.patient.last_name not in text
    assert str(referral.public_id) not in elsewhere.content.decode()


def test_the_delivery_log_runs_constant_queries(
    client,
    chain,
    coach,
    planner,
    receiver,
    django_capture_on_commit_callbacks,
    django_assert_num_queries,
):
    kis = receiver()
    webhooks.webhook_create(organisation=chain.practice_a, url=kis.url)
    client.force_login(planner)

    def deliveries(n):
        for _ in range(n):
            made = factories.ReferralFactory(
                patient=factories.PatientFactory(practice=chain.practice_a)
            )
            accept(coach, made, django_capture_on_commit_callbacks)

    deliveries(1)
    client.get(reverse("webhook-deliveries"))
    # session, user, OTP device, memberships; the deliveries with webhook, organisation and
    # referral; the session saved again (savepoint, update, release)
    with django_assert_num_queries(8):
        client.get(reverse("webhook-deliveries"))
    deliveries(4)
    with django_assert_num_queries(8):
        client.get(reverse("webhook-deliveries"))
