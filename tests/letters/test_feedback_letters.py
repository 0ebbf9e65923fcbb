"""Feedback letters: one per moment, rendered to a Dutch PDF, delivered exactly once."""

import datetime
import io
import smtplib

import pytest
from django.core import mail
from django.urls import reverse
from pypdf import PdfReader

from audit.models import AuditEvent
from carechain.access import Actor
from pathways import services as pathway_services
from referrals import letters
from referrals import services as referral_services
from referrals.models import FeedbackLetter
from referrals.tasks import deliver_letter
from tests import factories
from tests.letters.mail_backends import FlakyBackend, WitnessBackend, sent_message_ids

TODAY = datetime.date.today()


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def patient(chain):
    return factories.PatientFactory(
        practice=chain.practice_a,
        first_name="Henk",
        last_name="Visser",
        birth_date=datetime.date(1961, 7, 3),
    )


def pdf_text(letter: FeedbackLetter) -> str:
    letter.refresh_from_db()
    with letter.pdf.open("rb") as handle:
        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(handle.read())).pages)


def only_letter(kind: str) -> FeedbackLetter:
    return FeedbackLetter.objects.get(kind=kind)


def assert_identifies(text: str, patient, coach) -> None:
    assert "Henk Visser" in text
    assert "03-07-1961" in text
    assert patient.bsn in text
    assert patient.practice.name in text
    assert str(coach) in text and "KRS-12345" in text


def test_accepting_sends_one_letter_to_the_practice_secure_address(
    coach, patient, django_capture_on_commit_callbacks
):
    referral = factories.ReferralFactory(patient=patient)
    with django_capture_on_commit_callbacks(execute=True):
        referral_services.referral_accept(actor=Actor.for_user(coach), referral_id=referral.pk)
    letter = only_letter("accepted")
    assert letter.status == "sent"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [patient.practice.secure_email]
    assert message.attachments[0][2] == "application/pdf"
    text = pdf_text(letter)
    assert_identifies(text, patient, coach)
    assert "geaccepteerd" in text


def test_declined_letter_gives_the_reason(coach, patient, django_capture_on_commit_callbacks):
    referral = factories.ReferralFactory(patient=patient)
    with django_capture_on_commit_callbacks(execute=True):
        referral_services.referral_decline(
            actor=Actor.for_user(coach),
            referral_id=referral.pk,
            reason="capacity",
            note="Wachtlijst tot maart",
        )
    text = pdf_text(only_letter("declined"))
    assert "geen capaciteit" in text and "Wachtlijst tot maart" in text


def test_unreachable_letter_counts_the_attempts(coach, patient, django_capture_on_commit_callbacks):
    referral = factories.ReferralFactory(patient=patient)
    actor = Actor.for_user(coach)
    for _ in range(3):
        referral_services.referral_record_attempt(
            actor=actor, referral_id=referral.pk, method="phone", result="no_answer"
        )
    with django_capture_on_commit_callbacks(execute=True):
        referral_services.referral_close_unreachable(actor=actor, referral_id=referral.pk)
    text = pdf_text(only_letter("unreachable"))
    assert "niet bereikbaar" in text.lower() or "te bereiken" in text
    assert "3" in text


def test_intake_letter_has_quit_date_and_plan(coach, patient, django_capture_on_commit_callbacks):
    quit_date = TODAY + datetime.timedelta(days=10)
    with django_capture_on_commit_callbacks(execute=True):
        factories.trajectory_in(
            "intake_done", coach=coach, quit_date=quit_date, referral__patient=patient
        )
    text = pdf_text(only_letter("intake_done"))
    assert_identifies(text, patient, coach)
    assert quit_date.strftime("%d-%m-%Y") in text
    assert "nicotinepleister" in text


def test_escalation_and_return_letters_do_not_show_ggz_content(
    coach, poh_ggz, patient, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        trajectory = factories.trajectory_in("escalated", coach=coach, referral__patient=patient)
    escalation = trajectory.escalations.get()
    pathway_services.escalation_record_session(
        actor=Actor.for_user(poh_ggz),
        escalation_id=escalation.pk,
        date=TODAY,
        duration_minutes=45,
        notes="Geheime GGZ-notitie",
    )
    with django_capture_on_commit_callbacks(execute=True):
        pathway_services.escalation_report_back(
            actor=Actor.for_user(poh_ggz),
            escalation_id=escalation.pk,
            report="Vertrouwelijk verslag",
        )
    escalated = pdf_text(only_letter("escalated"))
    returned = pdf_text(only_letter("escalation_returned"))
    assert "POH-GGZ" in escalated and "disfunctionele gedachten" in escalated
    assert "Denkt: ik kan het toch niet" not in escalated
    assert "Geheime GGZ-notitie" not in returned and "Vertrouwelijk verslag" not in returned
    assert "1" in returned


def test_end_of_treatment_letter_has_result_and_co(
    coach, patient, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        factories.trajectory_in("end_of_treatment", coach=coach, referral__patient=patient)
    text = pdf_text(only_letter("end_of_treatment"))
    assert "rookvrij" in text and "4 ppm" in text


def test_follow_up_letter_has_the_12_month_status(
    coach, patient, django_capture_on_commit_callbacks
):
    trajectory = factories.trajectory_in("end_of_treatment", coach=coach, referral__patient=patient)
    with django_capture_on_commit_callbacks(execute=True):
        pathway_services.trajectory_record_follow_up(
            actor=Actor.for_user(coach),
            trajectory_id=trajectory.pk,
            call_date=TODAY,
            result="smoking",
        )
    text = pdf_text(only_letter("follow_up_result"))
    assert "twaalf maanden" in text and "rookt" in text


def test_care_stopped_letter_names_the_reason(coach, patient, django_capture_on_commit_callbacks):
    trajectory = factories.trajectory_in("counselling", coach=coach, referral__patient=patient)
    with django_capture_on_commit_callbacks(execute=True):
        pathway_services.trajectory_stop_unmotivated(
            actor=Actor.for_user(coach),
            trajectory_id=trajectory.pk,
            reason="Wil nu niet meer stoppen",
        )
    text = pdf_text(only_letter("care_stopped"))
    assert "niet meer gemotiveerd" in text and "Wil nu niet meer stoppen" in text


def test_the_same_moment_never_gets_a_second_letter(coach, patient):
    referral = factories.ReferralFactory(patient=patient)
    assert letters.letter_queue(referral=referral, kind="accepted", moment={}) is not None
    assert letters.letter_queue(referral=referral, kind="accepted", moment={}) is None
    assert FeedbackLetter.objects.count() == 1


def test_a_task_that_runs_twice_sends_once(coach, patient):
    referral = factories.ReferralFactory(patient=patient)
    letter = letters.letter_queue(referral=referral, kind="accepted", moment={})
    assert deliver_letter.apply(args=[letter.pk]).get() is True
    assert deliver_letter.apply(args=[letter.pk]).get() is False
    assert len(mail.outbox) == 1


def test_delivering_a_letter_takes_four_queries(coach, patient, django_assert_num_queries):
    """A worker's time per letter is the PDF; the database part stays four statements: load,
    mark rendered, claim the send (counting the attempt and marking the hand-over to the mail
    server), mark sent."""
    referral = factories.ReferralFactory(patient=patient)
    letter = letters.letter_queue(referral=referral, kind="accepted", moment={})
    with django_assert_num_queries(4):
        assert letters.letter_deliver(letter.pk) is True
    letter.refresh_from_db()
    assert (letter.status, letter.attempts, len(mail.outbox)) == ("sent", 1, 1)


def test_delivering_a_letter_that_does_not_exist_sends_nothing(db):
    assert letters.letter_deliver(987654) is False
    assert len(mail.outbox) == 0


def test_a_worker_killed_between_render_and_send_loses_nothing(coach, patient):
    referral = factories.ReferralFactory(patient=patient)
    letter = letters.letter_queue(referral=referral, kind="accepted", moment={})
    letters.letter_render(letter.pk)  # ... and then the worker died
    letter.refresh_from_db()
    assert (letter.status, len(mail.outbox)) == ("rendered", 0)
    letters.letters_sweep(now=letter.created_at + datetime.timedelta(minutes=10))
    letter.refresh_from_db()
    assert letter.status == "sent"
    assert len(mail.outbox) == 1


def test_a_worker_killed_while_handing_the_letter_to_the_mail_server_is_flagged_not_resent(
    coach, patient
):
    referral = factories.ReferralFactory(patient=patient)
    letter = letters.letter_queue(referral=referral, kind="accepted", moment={})
    letters.letter_render(letter.pk)
    started = letter.created_at
    FeedbackLetter.objects.filter(pk=letter.pk).update(
        status="sending", sending_since=started, handed_over_at=started
    )
    letters.letters_sweep(now=started + datetime.timedelta(minutes=20))
    letter.refresh_from_db()
    assert letter.status == "interrupted" and "interrupted" in letter.last_error
    assert len(mail.outbox) == 0


def test_a_worker_killed_after_claiming_but_before_the_mail_server_had_it_is_sent_again(
    coach, patient
):
    """Claimed, but killed while the mail was still being put together: the mail server never
    saw it, so the sweeper sends it again by itself, once."""
    referral = factories.ReferralFactory(patient=patient)
    letter = letters.letter_queue(referral=referral, kind="accepted", moment={})
    letters.letter_render(letter.pk)
    started = letter.created_at
    FeedbackLetter.objects.filter(pk=letter.pk).update(status="sending", sending_since=started)
    result = letters.letters_sweep(now=started + datetime.timedelta(minutes=20))
    letter.refresh_from_db()
    assert (result["resent"], result["interrupted"]) == (1, 0)
    assert (letter.status, letter.attempts, len(mail.outbox)) == ("sent", 1, 1)
    letters.letters_sweep(now=started + datetime.timedelta(hours=2))
    assert len(mail.outbox) == 1


def test_the_letter_is_marked_handed_over_before_the_mail_server_is_asked(settings, coach, patient):
    """The mark is in the database when the server is asked: a kill from then on leaves a letter
    the server may have, which only the planner may send again."""
    settings.EMAIL_BACKEND = "tests.letters.mail_backends.WitnessBackend"
    WitnessBackend.seen = []
    referral = factories.ReferralFactory(patient=patient)
    letter = letters.letter_queue(referral=referral, kind="accepted", moment={})
    with pytest.raises(smtplib.SMTPServerDisconnected):
        letters.letter_deliver(letter.pk)
    assert len(WitnessBackend.seen) == 1 and WitnessBackend.seen[0] is not None
    letter.refresh_from_db()
    assert letter.status == "failed"


def interrupted_letter(patient) -> FeedbackLetter:
    """A letter whose worker was killed while handing it to the mail server, found by the
    sweeper."""
    referral = factories.ReferralFactory(patient=patient)
    letter = letters.letter_queue(referral=referral, kind="accepted", moment={})
    letters.letter_render(letter.pk)
    FeedbackLetter.objects.filter(pk=letter.pk).update(
        status="sending", sending_since=letter.created_at, handed_over_at=letter.created_at
    )
    letters.letters_sweep(now=letter.created_at + datetime.timedelta(minutes=20))
    return letter


def test_an_interrupted_letter_is_not_resent_by_a_task_the_broker_redelivers(coach, patient):
    """Redis hands an unacknowledged task to a worker again after its visibility timeout (an
    hour), long after the sweeper flagged the delivery (15 minutes): that copy must not send a
    letter the mail server may already have, nor may the next sweeps."""
    letter = interrupted_letter(patient)
    assert deliver_letter.apply(args=[letter.pk]).get() is False
    letters.letters_sweep(now=letter.created_at + datetime.timedelta(hours=2))
    letter.refresh_from_db()
    assert letter.status == "interrupted"
    assert len(mail.outbox) == 0


def test_the_planner_sees_an_interrupted_letter_and_retries_it(
    client, planner, coach, patient, django_capture_on_commit_callbacks
):
    letter = interrupted_letter(patient)
    client.force_login(planner)
    page = client.get(reverse("letters-failed")).content.decode()
    assert "Onderbroken" in page and "unknown whether the mail server accepted it" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("letters-failed"), {"letter": letter.pk})
    assert response.status_code == 302
    letter.refresh_from_db()
    assert letter.status == "sent" and letter.attempts == 1
    assert len(mail.outbox) == 1
    retried = AuditEvent.objects.filter(action="change", patient_id=patient.pk).get()
    assert retried.user_id == planner.pk and "interrupted" in retried.detail


def test_a_planner_of_another_provider_cannot_retry_the_letter(
    client, chain, coach, patient, django_capture_on_commit_callbacks
):
    letter = interrupted_letter(patient)
    client.force_login(factories.member("planner", chain.other_provider))
    assert "Onderbroken" not in client.get(reverse("letters-failed")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("letters-failed"), {"letter": letter.pk})
        assert client.post(reverse("letters-failed"), {"letter": "x1"}).status_code == 302
    letter.refresh_from_db()
    assert letter.status == "interrupted"
    assert len(mail.outbox) == 0


@pytest.fixture
def eager_retries():
    """Celery re-applies an eager retry with the app's propagate setting; let retries run."""
    from smr.celery import app

    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = True


def test_smtp_failure_is_retried_and_sent_once(settings, coach, patient, eager_retries):
    settings.EMAIL_BACKEND = "tests.letters.mail_backends.FlakyBackend"
    FlakyBackend.failures_left = 2
    referral = factories.ReferralFactory(patient=patient)
    letter = letters.letter_queue(referral=referral, kind="accepted", moment={})
    deliver_letter.apply(args=[letter.pk])  # eager: the retries run at once
    letter.refresh_from_db()
    assert letter.status == "sent"
    assert letter.attempts == 3
    assert len(mail.outbox) == 1


def test_failed_letters_page_and_retry(client, settings, planner, coach, patient):
    settings.EMAIL_BACKEND = "tests.letters.mail_backends.FlakyBackend"
    FlakyBackend.failures_left = 1
    referral = factories.ReferralFactory(patient=patient)
    letter = letters.letter_queue(referral=referral, kind="accepted", moment={})
    with pytest.raises(Exception, match="unexpectedly closed"):
        letters.letter_deliver(letter.pk)
    client.force_login(planner)
    page = client.get(reverse("letters-failed")).content.decode()
    assert "unexpectedly closed" in page
    letters.letter_deliver(letter.pk)  # what the retry button's task does
    letter.refresh_from_db()
    assert letter.status == "sent" and len(mail.outbox) == 1


def test_the_referrer_downloads_the_letter_and_the_download_is_audited(
    client, poh, other_poh, coach, patient
):
    referral = factories.ReferralFactory(patient=patient)
    letter = letters.letter_queue(referral=referral, kind="accepted", moment={})
    letters.letter_deliver(letter.pk)
    client.force_login(poh)
    page = client.get(reverse("referral-detail", args=[referral.pk])).content.decode()
    assert reverse("letter-download", args=[letter.pk]) in page
    response = client.get(reverse("letter-download", args=[letter.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert AuditEvent.objects.filter(action="print", patient_id=patient.pk).count() == 1
    client.force_login(other_poh)
    assert client.get(reverse("letter-download", args=[letter.pk])).status_code == 404


def test_markup_and_sql_in_free_text_are_printed_literally_in_the_pdf(
    coach, patient, django_capture_on_commit_callbacks
):
    referral = factories.ReferralFactory(patient=patient)
    note = "<b>vet</b> '; DROP TABLE referrals_referral; --"
    with django_capture_on_commit_callbacks(execute=True):
        referral_services.referral_decline(
            actor=Actor.for_user(coach), referral_id=referral.pk, reason="other", note=note
        )
    text = pdf_text(only_letter("declined"))
    assert "<b>vet</b>" in text
    assert "DROP TABLE referrals_referral" in text


def test_the_fault_scripts_mail_backend_writes_each_letter_as_one_countable_file(
    settings, tmp_path, coach, patient
):
    """scripts/fault_injection.py counts sent letters by these files; two letters, two files."""
    settings.EMAIL_BACKEND = "tests.letters.mail_backends.OneFilePerMessageBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    sent = []
    for kind in ("accepted", "declined"):
        referral = factories.ReferralFactory(patient=patient)
        letter = letters.letter_queue(referral=referral, kind=kind, moment={})
        assert letters.letter_deliver(letter.pk) is True
        sent.append(letter.message_id)
    assert sorted(sent_message_ids(tmp_path / "mail")) == sorted(sent)
    assert not list((tmp_path / "mail").glob(".*.partial"))
