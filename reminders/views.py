from django.shortcuts import render
from django.views.decorators.http import require_GET

from audit.models import AuditEvent
from audit.services import Touch, audit_record_many
from carechain.access import role_required
from carechain.models import Role

from . import services


@role_required(Role.COACH, Role.PLANNER)
@require_GET
def reminder_list(request):
    actor = request.actor
    is_planner = actor.has_role(Role.PLANNER)
    reminders = list(services.open_reminders(actor, mine_only=not is_planner)[:500])
    overdue = list(services.overdue_follow_up_calls(actor)[:500]) if is_planner else []
    touches = [
        Touch(r.trajectory.patient_id if r.trajectory else r.referral.patient_id, r, "reminders")
        for r in (*reminders, *overdue)
        if r.trajectory or r.referral
    ]
    audit_record_many(who=actor, action=AuditEvent.Action.LIST, touches=touches)
    return render(
        request,
        "reminders/reminder_list.html",
        {
            "reminders": reminders,
            "overdue": overdue,
            "is_planner": is_planner,
        },
    )
