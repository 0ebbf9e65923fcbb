"""Campaign pages for the practice's GP and POH-S, and the public answer page (no login)."""

from __future__ import annotations

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.models import AuditEvent
from audit.services import Touch, audit_record, audit_record_many
from carechain.access import role_required

from . import answers, forms, generation, letters, listfile, queries, services
from .access import CAMPAIGN_ROLES, get_campaign, get_invitee
from .models import CampaignState, LetterStatus

ANSWER_RATE = 10  # answers (right or wrong) per address
ANSWER_WINDOW = 15 * 60  # seconds


def _service_errors(request, exc: ValidationError, form=None) -> None:
    items = exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]
    for field, errors in items:
        for error in errors:
            if form is not None and field in form.fields:
                form.add_error(field, error)
            else:
                messages.error(request, error)


def _no_store(response):
    response["Cache-Control"] = "no-store"
    return response


@role_required(*CAMPAIGN_ROLES)
@require_GET
def campaign_list(request):
    campaigns = list(queries.campaign_list(request.actor))
    return render(request, "campaigns/campaign_list.html", {"campaigns": campaigns})


@role_required(*CAMPAIGN_ROLES)
@require_http_methods(["GET", "POST"])
def campaign_create(request):
    form = forms.CampaignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.campaign_create(
                actor=request.actor,
                name=form.cleaned_data["name"],
                retention_months=form.cleaned_data["retention_months"],
            )
        except ValidationError as exc:
            _service_errors(request, exc, form)
        else:
            return redirect("campaign-upload", pk=campaign.pk)
    return render(request, "campaigns/campaign_create.html", {"form": form})


@role_required(*CAMPAIGN_ROLES)
@require_GET
def campaign_detail(request, pk: int):
    actor = request.actor
    campaign = get_campaign(actor, pk)
    counts = queries.campaign_funnel(campaign)
    drafts = list(queries.drafts(campaign)[:100])
    audit_record(who=actor, action=AuditEvent.Action.VIEW, patient_id=None, obj=campaign)
    audit_record_many(
        who=actor,
        action=AuditEvent.Action.LIST,
        touches=[Touch(i.patient_id, i, "campaign answers to confirm") for i in drafts],
    )
    return render(
        request,
        "campaigns/campaign_detail.html",
        {
            "campaign": campaign,
            "counts": counts,
            "bars": queries.funnel_chart(counts),
            "drafts": drafts,
            "progress": generation.campaign_progress(campaign),
            "upload": campaign.uploads.first(),
            "States": CampaignState,
        },
    )


@role_required(*CAMPAIGN_ROLES)
@require_http_methods(["GET", "POST"])
def campaign_upload(request, pk: int):
    actor = request.actor
    campaign = get_campaign(actor, pk)
    form = forms.UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload_file = form.cleaned_data["file"]
        try:
            if upload_file.size > services.MAX_UPLOAD_BYTES:
                raise listfile.UnreadableFile(_("The file is too large; split the list."))
            upload = services.campaign_upload_list(
                actor=actor,
                campaign_id=campaign.pk,
                raw=upload_file.read(),
                filename=upload_file.name,
            )
        except ValidationError as exc:
            _service_errors(request, exc, form)
        else:
            messages.success(
                request,
                _("Added to the list: %(added)s; rows rejected: %(rejected)s.")
                % {"added": upload.added, "rejected": upload.rejected},
            )
            return redirect("campaign-upload", pk=campaign.pk)
    upload = campaign.uploads.first()
    return render(
        request,
        "campaigns/campaign_upload.html",
        {
            "campaign": campaign,
            "form": form,
            "upload": upload,
            "rejected": list(upload.rejected_rows.all()[:1000]) if upload else [],
            "columns": listfile.DOCUMENTED,
        },
    )


@role_required(*CAMPAIGN_ROLES)
@require_http_methods(["GET", "POST"])
def campaign_select_patients(request, pk: int):
    actor = request.actor
    campaign = get_campaign(actor, pk)
    patients = list(services.eligible_patients(actor, campaign)[:500])
    form = forms.SelectPatientsForm(request.POST or None, patients=patients)
    if request.method == "POST" and form.is_valid():
        try:
            upload = services.campaign_add_patients(
                actor=actor, campaign_id=campaign.pk, patient_ids=form.cleaned_data["patients"]
            )
        except ValidationError as exc:
            _service_errors(request, exc, form)
        else:
            messages.success(
                request, _("%(added)s people added to the list.") % {"added": upload.added}
            )
            return redirect("campaign-detail", pk=campaign.pk)
    if request.method == "GET":
        audit_record_many(
            who=actor,
            action=AuditEvent.Action.LIST,
            touches=[
                Touch(p.pk, p, f"campaign {campaign.pk}: patients to invite") for p in patients
            ],
        )
    return render(request, "campaigns/campaign_patients.html", {"campaign": campaign, "form": form})


@role_required(*CAMPAIGN_ROLES)
@require_http_methods(["GET", "POST"])
def campaign_letter(request, pk: int):
    """Edit the letter text; 'preview' shows the typed text filled in for a fictional person."""
    actor = request.actor
    campaign = get_campaign(actor, pk)
    if request.method == "POST":
        form = forms.LetterForm(request.POST)
    else:
        form = forms.LetterForm(instance=campaign)
    preview_text = campaign.letter_text
    if request.method == "POST" and form.is_valid():
        preview_text = form.cleaned_data["letter_text"]
        if "save" in request.POST:
            try:
                services.campaign_update(
                    actor=actor,
                    campaign_id=campaign.pk,
                    name=form.cleaned_data["name"],
                    letter_text=form.cleaned_data["letter_text"],
                    retention_months=form.cleaned_data["retention_months"],
                )
            except ValidationError as exc:
                _service_errors(request, exc, form)
            else:
                messages.success(request, _("Saved."))
                return redirect("campaign-detail", pk=campaign.pk)
        unknown = letters.unknown_placeholders(preview_text)
        if unknown:
            form.add_error(
                "letter_text",
                _("Unknown placeholders: %(names)s.")
                % {"names": ", ".join("{" + n + "}" for n in unknown)},
            )
    preview = letters.letter_context(campaign, letters.sample_invitee(), text=preview_text)
    return render(
        request,
        "campaigns/campaign_letter.html",
        {
            "campaign": campaign,
            "form": form,
            "preview": preview,
            "editable": campaign.state == CampaignState.DRAFT,
        },
    )


@role_required(*CAMPAIGN_ROLES)
@require_POST
def campaign_generate(request, pk: int):
    campaign = get_campaign(request.actor, pk)
    try:
        generation.campaign_generate_letters(actor=request.actor, campaign_id=campaign.pk)
    except ValidationError as exc:
        _service_errors(request, exc)
    return redirect("campaign-detail", pk=campaign.pk)


@role_required(*CAMPAIGN_ROLES)
@require_GET
@never_cache
def campaign_progress(request, pk: int):
    """The progress bar's polling endpoint: counts only."""
    campaign = get_campaign(request.actor, pk)
    return JsonResponse(generation.campaign_progress(campaign))


@role_required(*CAMPAIGN_ROLES)
@require_GET
def campaign_letters_pdf(request, pk: int):
    actor = request.actor
    campaign = get_campaign(actor, pk)
    if not campaign.batch_pdf:
        messages.error(request, _("The letters have not been made yet."))
        return redirect("campaign-detail", pk=campaign.pk)
    made = list(
        campaign.invitees.filter(letter_status=LetterStatus.DONE, erased_at__isnull=True).only(
            "pk", "patient_id"
        )
    )
    audit_record(
        who=actor,
        action=AuditEvent.Action.PRINT,
        patient_id=None,
        obj=campaign,
        detail=f"campaign letters PDF: {len(made)} letters",
    )
    audit_record_many(
        who=actor,
        action=AuditEvent.Action.PRINT,
        touches=[Touch(i.patient_id, i, "campaign letter (batch)") for i in made],
    )
    return _no_store(
        FileResponse(
            campaign.batch_pdf.open("rb"),
            content_type="application/pdf",
            filename=letters.batch_filename(campaign),
        )
    )


@role_required(*CAMPAIGN_ROLES)
@require_GET
def invitee_list(request, pk: int):
    actor = request.actor
    campaign = get_campaign(actor, pk)
    show = request.GET.get("show", "all")
    if show not in queries.INVITEE_FILTERS:
        show = "all"
    page = Paginator(queries.invitees(campaign, show), 100).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    audit_record_many(
        who=actor,
        action=AuditEvent.Action.LIST,
        touches=[Touch(i.patient_id, i, f"campaign {campaign.pk} list") for i in rows],
    )
    return render(
        request,
        "campaigns/invitee_list.html",
        {"campaign": campaign, "page": page, "invitees": rows, "show": show},
    )


@role_required(*CAMPAIGN_ROLES)
@require_GET
def invitee_detail(request, pk: int):
    actor = request.actor
    invitee = get_invitee(actor, pk)
    audit_record(
        who=actor, action=AuditEvent.Action.VIEW, patient_id=invitee.patient_id, obj=invitee
    )
    return render(
        request,
        "campaigns/invitee_detail.html",
        {
            "invitee": invitee,
            "campaign": invitee.campaign,
            "answer_form": forms.PhoneAnswerForm(),
            "refer_form": forms.ReferForm(
                initial={
                    "consent_data_exchange": invitee.consent_data_exchange,
                    "phone": invitee.phone,
                    "best_time_to_call": invitee.best_time_to_call,
                }
            ),
        },
    )


@role_required(*CAMPAIGN_ROLES)
@require_POST
def invitee_phone_answer(request, pk: int):
    invitee = get_invitee(request.actor, pk)
    form = forms.PhoneAnswerForm(request.POST)
    if form.is_valid():
        try:
            answers.invitee_record_phone_answer(
                actor=request.actor, invitee_id=invitee.pk, **form.cleaned_data
            )
        except ValidationError as exc:
            _service_errors(request, exc)
        else:
            messages.success(request, _("The answer has been recorded."))
            if form.cleaned_data["answer"] == "no":
                return redirect("campaign-detail", pk=invitee.campaign_id)
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect("invitee-detail", pk=invitee.pk)


@role_required(*CAMPAIGN_ROLES)
@require_POST
def invitee_refer(request, pk: int):
    """The one click that turns a 'yes' into a referral to the SMR provider."""
    invitee = get_invitee(request.actor, pk)
    form = forms.ReferForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("invitee-detail", pk=invitee.pk)
    try:
        referral = answers.invitee_refer(
            actor=request.actor, invitee_id=invitee.pk, by=request.user, **form.cleaned_data
        )
    except ValidationError as exc:
        _service_errors(request, exc)
        return redirect("invitee-detail", pk=invitee.pk)
    messages.success(request, _("The referral has been sent to the SMR provider."))
    return redirect("referral-detail", pk=referral.pk)


@role_required(*CAMPAIGN_ROLES)
@require_GET
def invitee_letter_pdf(request, pk: int):
    actor = request.actor
    invitee = get_invitee(actor, pk)
    pdf = generation.invitee_letter_pdf(invitee)
    audit_record(
        who=actor,
        action=AuditEvent.Action.PRINT,
        patient_id=invitee.patient_id,
        obj=invitee,
        detail="campaign letter",
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{letters.invitee_filename(invitee)}"'
    return _no_store(response)


# -- public: the invitee answers ------------------------------------------------------------------
def _client_ip(request) -> str:
    from axes.helpers import get_client_ip_address

    return get_client_ip_address(request) or request.META.get("REMOTE_ADDR", "")


def _rate_limited(request) -> bool:
    """At most ANSWER_RATE answers per address per window, so codes cannot be guessed in bulk."""
    key = f"campaign-answer:{_client_ip(request)}"
    cache.add(key, 0, ANSWER_WINDOW)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, ANSWER_WINDOW)
        count = 1
    return count > ANSWER_RATE


@require_http_methods(["GET", "POST"])
@never_cache
def public_answer(request):
    form = forms.PublicAnswerForm(
        request.POST or None, initial={"code": request.GET.get("code", "")[:30]}
    )
    if request.method == "POST":
        if _rate_limited(request):
            return render(
                request, "campaigns/public_answer.html", {"form": form, "limited": True}, status=429
            )
        if form.is_valid():
            data = form.cleaned_data
            try:
                answers.invitee_answer_public(
                    code=data["code"],
                    answer=data["answer"],
                    phone=data["phone"],
                    best_time_to_call=data["best_time_to_call"],
                    consent=data["consent"],
                    ip=_client_ip(request),
                )
            except ValidationError as exc:
                _service_errors(request, exc, form)
            else:
                return redirect("campaign-answer-thanks", answer=data["answer"])
    return render(request, "campaigns/public_answer.html", {"form": form})


@require_GET
def public_answer_thanks(request, answer: str):
    return render(request, "campaigns/public_thanks.html", {"answer": answer})
