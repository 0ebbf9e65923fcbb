"""Referral pages: the referral form, the practice's list, the provider's worklist, the detail page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from audit.models import AuditEvent
from audit.services import Touch, audit_record, audit_record_many, audit_record_page
from carechain.access import Actor, practices_for_referring, role_required
from carechain.models import PRACTICE_ROLES, Patient, Role
from carechain.services import coaches_of_providers

from . import forms, letters, queries, services, webhooks
from .access import PROVIDER_CARE_ROLES, is_provider_staff, is_referrer, referrals_for
from .models import Channel, FeedbackLetter, Referral, ReferralState

WEBHOOK_LOG_ROWS = 300
WORKLIST_LIMIT = 300

# action slug -> (service, form class, transition name on the model or None, side)
ACTIONS = {
    "accept": (services.referral_accept, forms.NoteForm, "accept", "provider"),
    "decline": (services.referral_decline, forms.DeclineForm, "decline", "provider"),
    "schedule": (
        services.referral_schedule_contact,
        forms.NoteForm,
        "schedule_contact",
        "provider",
    ),
    "no-show": (services.referral_record_no_show, forms.NoteForm, "record_no_show", "provider"),
    "contact-done": (
        services.referral_record_contact_done,
        forms.NoteForm,
        "record_contact_done",
        "provider",
    ),
    "unreachable": (
        services.referral_close_unreachable,
        forms.NoteForm,
        "close_unreachable",
        "provider",
    ),
    "confirm-cancellation": (
        services.referral_confirm_cancellation,
        forms.NoteForm,
        "confirm_cancellation",
        "provider",
    ),
    "request-cancellation": (
        services.referral_request_cancellation,
        forms.CancellationForm,
        "request_cancellation",
        "referrer",
    ),
    "assign": (services.referral_assign, forms.AssignForm, None, "provider"),
    "attempt": (services.referral_record_attempt, forms.ContactAttemptForm, None, "provider"),
}


def _coaches(provider_id):
    return coaches_of_providers([provider_id])


def _add_service_errors(exc: ValidationError, *target_forms) -> None:
    """Show a service's validation errors on the form that has the field (else at the top)."""
    target_forms = [f for f in target_forms if f is not None]
    items = exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]
    for field, errors in items:
        owner = next((f for f in target_forms if field in f.fields), None)
        for error in errors:
            (owner or target_forms[0]).add_error(field if owner else None, error)


@role_required(*PRACTICE_ROLES)
def referral_create(request):
    actor = request.actor
    practices = list(practices_for_referring(actor).select_related("zorggroep__smr_provider"))
    if not practices:
        raise PermissionDenied
    practice = practices[0]
    provider = services.default_provider(practice)
    if provider is None:
        messages.error(
            request, _("Your zorggroep has no contracted SMR provider yet; contact the zorggroep.")
        )
        return redirect("home")

    bsn_source = request.POST if request.method == "POST" else request.GET
    lookup = forms.BsnLookupForm(bsn_source if "bsn" in bsn_source else None)
    if not lookup.is_valid():
        return render(
            request, "referrals/referral_lookup.html", {"lookup": lookup, "practice": practice}
        )

    bsn = lookup.cleaned_data["bsn"]
    patient = Patient.objects.filter(bsn=bsn, practice=practice).first()
    if patient and request.method == "GET":
        audit_record(
            who=actor,
            action=AuditEvent.Action.LIST,
            patient_id=patient.pk,
            obj=patient,
            detail="referral form: found by BSN",
        )
    data = request.POST if request.method == "POST" else None
    initial = (
        {"best_time_to_call": patient.best_time_to_call, "call_note": patient.call_note}
        if patient
        else {}
    )
    form = forms.ReferralForm(data, initial=initial)
    patient_form = None if patient else forms.NewPatientForm(data, prefix="patient")
    if (
        request.method == "POST"
        and form.is_valid()
        and (patient_form is None or patient_form.is_valid())
    ):
        cleaned = form.cleaned_data
        referral_data = services.ReferralData(
            practice=practice,
            provider=provider,
            channel=Channel.WEB,
            patient_bsn=bsn,
            patient_fields=patient_form.cleaned_data if patient_form else {},
            referrer_name=str(request.user),
            reason=cleaned["reason"],
            cigarettes_per_day=cleaned["cigarettes_per_day"],
            years_smoked=cleaned["years_smoked"],
            earlier_quit_attempts=cleaned["earlier_quit_attempts"],
            motivation=cleaned["motivation"],
            ketenzorg_programme=cleaned["ketenzorg_programme"],
            is_ketenzorg=bool(cleaned["ketenzorg_programme"]),
            best_time_to_call=cleaned["best_time_to_call"],
            call_note=cleaned["call_note"],
            consent_data_exchange=cleaned["consent_data_exchange"],
        )
        try:
            referral, _created = services.referral_create(
                actor=actor, data=referral_data, by=request.user
            )
        except ValidationError as exc:
            _add_service_errors(exc, form, patient_form)
        else:
            messages.success(
                request,
                _("The referral has been sent to %(provider)s.") % {"provider": provider.name},
            )
            return redirect("referral-detail", pk=referral.pk)
    return render(
        request,
        "referrals/referral_form.html",
        {
            "lookup": lookup,
            "bsn": bsn,
            "patient": patient,
            "form": form,
            "patient_form": patient_form,
            "practice": practice,
            "provider": provider,
        },
    )


@role_required(*PRACTICE_ROLES)
@require_GET
def referral_list(request):
    actor = request.actor
    state = request.GET.get("state", "")
    if state not in ReferralState.values:
        state = ""
    referrals = list(queries.practice_referrals(actor, state=state)[:200])
    audit_record_many(
        who=actor,
        action=AuditEvent.Action.LIST,
        touches=[Touch(r.patient_id, r, "referral list") for r in referrals],
    )
    return render(
        request,
        "referrals/referral_list.html",
        {
            "referrals": referrals,
            "state": state,
            "states": ReferralState.choices,
        },
    )


@role_required(*PROVIDER_CARE_ROLES)
@require_GET
def worklist(request):
    actor = request.actor
    show = request.GET.get("show", "all")
    if show not in ("all", "mine", "unassigned"):
        show = "all"
    rows = queries.worklist_rows(queries.worklist(actor, show=show)[:WORKLIST_LIMIT])
    audit_record_page(
        who=actor,
        action=AuditEvent.Action.LIST,
        model=Referral,
        patient_ids=[row["patient_id"] for row in rows],
        object_ids=[row["pk"] for row in rows],
        detail="worklist",
    )
    return render(request, "referrals/worklist.html", {"rows": rows, "show": show})


def _available_actions(actor, referral: Referral) -> set[str]:
    available = {t.name for t in referral.get_available_state_transitions()}
    slugs = set()
    for slug, (_service, _form, transition, side) in ACTIONS.items():
        allowed = (
            is_provider_staff(actor, referral)
            if side == "provider"
            else is_referrer(actor, referral)
        )
        if not allowed:
            continue
        if transition is None:
            if referral.is_open and (
                slug == "assign" or referral.state != ReferralState.IN_PROGRESS
            ):
                slugs.add(slug)
        elif transition in available:
            slugs.add(slug)
    return slugs


@login_required
@require_GET
def referral_detail(request, pk: int):
    actor = Actor.from_request(request)
    try:
        referral = queries.referral_detail(actor, pk)
    except Referral.DoesNotExist:
        raise Http404 from None
    audit_record(
        who=actor, action=AuditEvent.Action.VIEW, patient_id=referral.patient_id, obj=referral
    )
    actions = _available_actions(actor, referral)
    provider_side = is_provider_staff(actor, referral)
    return render(
        request,
        "referrals/referral_detail.html",
        {
            "referral": referral,
            "patient": referral.patient,
            "actions": actions,
            "provider_side": provider_side,
            "assign_form": forms.AssignForm(
                coaches=_coaches(referral.provider_id), initial={"coach": referral.coach_id}
            )
            if "assign" in actions
            else None,
            "decline_form": forms.DeclineForm(),
            "attempt_form": forms.ContactAttemptForm(),
            "cancel_form": forms.CancellationForm(),
            "failed_attempts": referral.failed_attempts(),
        },
    )


@login_required
@require_POST
def referral_action(request, pk: int, action: str):
    if action not in ACTIONS:
        raise Http404
    actor = Actor.from_request(request)
    service, form_class, _transition, side = ACTIONS[action]
    referral = referrals_for(actor).filter(pk=pk).select_related("practice").first()
    if referral is None:
        raise Http404
    allowed = (
        is_provider_staff(actor, referral) if side == "provider" else is_referrer(actor, referral)
    )
    if not allowed:
        raise PermissionDenied
    if form_class is forms.AssignForm:
        form = form_class(request.POST, coaches=_coaches(referral.provider_id))
    else:
        form = form_class(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("referral-detail", pk=pk)
    kwargs = dict(form.cleaned_data)
    if "coach" in kwargs:
        kwargs = {"coach_id": kwargs["coach"]}
    try:
        service(actor=actor, referral_id=pk, **kwargs)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Saved."))
    return redirect("referral-detail", pk=pk)


@login_required
@require_GET
def letter_download(request, pk: int):
    """The referrer (and the provider) open a feedback letter; every download is audited."""
    actor = Actor.from_request(request)
    letter = (
        FeedbackLetter.objects.filter(referral__in=referrals_for(actor), pk=pk)
        .exclude(pdf="")
        .select_related("referral")
        .first()
    )
    if letter is None:
        raise Http404
    audit_record(
        who=actor,
        action=AuditEvent.Action.PRINT,
        patient_id=letter.referral.patient_id,
        obj=letter,
        detail=f"feedback letter {letter.kind}",
    )
    response = FileResponse(
        letter.pdf.open("rb"),
        content_type="application/pdf",
        filename=letters.letter_filename(letter),
    )
    response["Cache-Control"] = "no-store"
    return response


@role_required(Role.PLANNER, Role.COACH)
def failed_letters(request):
    """The planner's list of letters that could not be delivered, with a retry button."""
    actor = request.actor
    provider_ids = actor.org_ids(Role.PLANNER, Role.COACH)
    if request.method == "POST":
        letter_id = request.POST.get("letter", "")
        letter = (
            FeedbackLetter.objects.filter(
                pk=int(letter_id) if letter_id.isdigit() else None,
                referral__provider_id__in=provider_ids,
                status__in=letters.WAITING_FOR_PLANNER,
            )
            .select_related("referral")
            .first()
        )
        if letter is None:
            messages.error(request, _("This letter is no longer waiting for a retry."))
        else:
            letters.letter_retry(letter_id=letter.pk)
            audit_record(
                who=actor,
                action=AuditEvent.Action.CHANGE,
                patient_id=letter.referral.patient_id,
                obj=letter,
                detail=f"feedback letter {letter.kind} sent again ({letter.status})",
            )
            messages.success(request, _("The letter is being sent again."))
        return redirect("letters-failed")
    rows = list(
        FeedbackLetter.objects.filter(
            referral__provider_id__in=provider_ids, status__in=letters.WAITING_FOR_PLANNER
        )
        .select_related("referral__patient", "referral__practice")
        .order_by("created_at")[:300]
    )
    audit_record_many(
        who=actor,
        action=AuditEvent.Action.LIST,
        touches=[Touch(letter.referral.patient_id, letter, "failed letters") for letter in rows],
    )
    return render(request, "referrals/failed_letters.html", {"letters": rows})


@role_required(Role.PLANNER)
@require_GET
def webhook_deliveries(request):
    """The delivery log of webhook notifications about the provider's referrals. A notification
    carries no patient data (only the Task id), so the log shows none either."""
    provider_ids = request.actor.org_ids(Role.PLANNER)
    rows = list(webhooks.deliveries_for_provider(provider_ids)[:WEBHOOK_LOG_ROWS])
    return render(request, "referrals/webhook_deliveries.html", {"deliveries": rows})
