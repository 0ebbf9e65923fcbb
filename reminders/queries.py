"""Reads for the reminder box on the home page and the caseload."""

from __future__ import annotations

from django.db.models import Exists

from carechain.models import Membership, Patient, Role
from carechain.rows import choice_labels, dmy, url_for_pk

from .models import Reminder

BOX_LIMIT = 10

_NAME = ("first_name", "initials", "name_prefix", "last_name")


def reminders_box(user) -> list[dict]:
    """The first open reminders of a coach, as the box shows them: due date, kind, patient.

    Plain values in one query of a dozen columns. "Is a coach" is an EXISTS, not a join to the
    memberships with DISTINCT over every column: with the patients of both subjects selected
    whole, PostgreSQL spent 15-40 ms planning that query, which runs in under one
    (docs/explain/caseload.md).
    """
    rows = (
        Reminder.objects.filter(
            Exists(Membership.objects.filter(user=user, role=Role.COACH)),
            user=user,
            resolved_at__isnull=True,
        )
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
