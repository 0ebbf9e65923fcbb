"""Reads for the reminder box on the home page and the caseload."""

from __future__ import annotations

from carechain.access import Actor
from carechain.models import Patient, Role
from carechain.rows import choice_labels, dmy, url_for_pk

from .models import Reminder

BOX_LIMIT = 10

_NAME = ("first_name", "initials", "name_prefix", "last_name")


def reminders_box(user) -> list[dict]:
    """The first open reminders of a coach, as the box shows them: due date, kind, patient.

    Only for someone who is a coach now (an active coach membership of an active organisation):
    the roles the request has loaded already (``Actor.for_user`` keeps them on the user), so no
    query asks it again. Then plain values in one query of a dozen columns. (As a join to the
    memberships with DISTINCT over every column PostgreSQL spent 15-40 ms planning it; as an
    EXISTS, compiling that subquery was a third of the box's 5 ms, docs/explain/caseload.md.)
    """
    if not Actor.for_user(user).has_role(Role.COACH):
        return []
    rows = (
        Reminder.objects.filter(user=user, resolved_at__isnull=True)
        .order_by("due", "pk")
        .values(
            "due",
            "kind",
            "trajectory_id",
            "referral_id",
            *(f"trajectory__patient__{name}" for name in _NAME),
            *(f"referral__patient__{name}" for name in _NAME),
        )[:BOX_LIMIT]
    )
    kinds = choice_labels(Reminder.Kind)
    trajectory_url = url_for_pk("trajectory-detail")
    referral_url = url_for_pk("referral-detail")
    box = []
    for row in rows:
        if row["trajectory_id"]:
            subject, url = "trajectory", trajectory_url(row["trajectory_id"])
        elif row["referral_id"]:
            subject, url = "referral", referral_url(row["referral_id"])
        else:
            subject, url = "", ""
        box.append(
            {
                "due": dmy(row["due"]),
                "kind": kinds.get(row["kind"], row["kind"]),
                "url": url,
                "patient": Patient.compose_full_name(
                    *(row[f"{subject}__patient__{name}"] for name in _NAME)
                )
                if subject
                else "",
            }
        )
    return box
