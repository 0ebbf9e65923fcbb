from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from audit.models import AuditEvent
from audit.services import Touch, audit_record, audit_record_many

from .access import Actor, can_see_patients, get_patient, patients_for, practices_for_referring
from .forms import EnrolmentFormSet, InsuranceFormSet, PatientForm
from .models import PRACTICE_ROLES
from .services import patient_register
from .validators import normalise_bsn

PATIENT_PAGE_SIZE = 50


@login_required
def home(request):
    actor = Actor.from_request(request)
    return render(request, "carechain/home.html", {"roles": {g.role for g in actor.grants}})


@login_required
@require_GET
def patient_list(request):
    actor = Actor.from_request(request)
    if not can_see_patients(actor):
        raise PermissionDenied
    query = request.GET.get("q", "").strip()[:100]
    patients = patients_for(actor).select_related("practice")
    if query:
        compact = normalise_bsn(query)
        if compact.isdigit():
            patients = patients.filter(bsn=compact)
        else:
            patients = patients.filter(
                Q(last_name__icontains=query) | Q(first_name__icontains=query)
            )
    patients = list(patients.order_by("last_name", "first_name", "pk")[:PATIENT_PAGE_SIZE])
    audit_record_many(
        who=actor,
        action=AuditEvent.Action.LIST,
        touches=[Touch(p.pk, p, detail="patient list") for p in patients],
    )
    return render(
        request,
        "carechain/patient_list.html",
        {"patients": patients, "q": query, "can_register": actor.has_role(*PRACTICE_ROLES)},
    )


@login_required
@require_GET
def patient_detail(request, pk: int):
    actor = Actor.from_request(request)
    patient = get_patient(actor, pk)
    audit_record(who=actor, action=AuditEvent.Action.VIEW, patient_id=patient.pk, obj=patient)
    context = {
        "patient": patient,
        "insurances": patient.insurances.select_related("insurer"),
        "enrolments": patient.ketenzorg_enrolments.select_related("zorggroep"),
    }
    return render(request, "carechain/patient_detail.html", context)


def _filled_rows(formset) -> list[dict]:
    """The model fields of the rows a person actually filled in."""
    fields = formset.form.base_fields.keys() - {"id", "DELETE", formset.fk.name}
    return [
        {name: f.cleaned_data[name] for name in fields if name in f.cleaned_data}
        for f in formset.forms
        if f.has_changed()
    ]


@login_required
def patient_create(request):
    actor = Actor.from_request(request)
    practices = list(practices_for_referring(actor))
    if not actor.has_role(*PRACTICE_ROLES) or not practices:
        raise PermissionDenied
    form = PatientForm(request.POST or None)
    insurances = InsuranceFormSet(request.POST or None, prefix="ins")
    enrolments = EnrolmentFormSet(request.POST or None, prefix="enr")
    if request.method == "POST" and all(x.is_valid() for x in (form, insurances, enrolments)):
        try:
            patient = patient_register(
                actor=actor,
                practice=practices[0],
                fields=form.cleaned_data,
                insurances=_filled_rows(insurances),
                enrolments=_filled_rows(enrolments),
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            return redirect("patient-detail", pk=patient.pk)
    return render(
        request,
        "carechain/patient_form.html",
        {
            "form": form,
            "insurances": insurances,
            "enrolments": enrolments,
            "practice": practices[0],
            "title": _("New patient"),
        },
    )
