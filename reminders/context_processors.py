from django.db.models import Exists
from django.utils.functional import SimpleLazyObject

from carechain.models import Membership, Role


def my_reminders(request):
    """The coach's open reminders for the home page and caseload (one small query, when shown).

    Lazy, and loaded at most once per page however often the template reads it. "Is a coach" is
    an EXISTS, not a join to the memberships with DISTINCT over every column: that join made
    PostgreSQL spend 15-40 ms planning a query that runs in under one (docs/explain/caseload.md).
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from .models import Reminder

    def load():
        return list(
            Reminder.objects.filter(
                Exists(Membership.objects.filter(user=user, role=Role.COACH)),
                user=user,
                resolved_at__isnull=True,
            )
            .select_related("trajectory__patient", "referral__patient")
            .order_by("due", "pk")[:10]
        )

    return {"my_reminders": SimpleLazyObject(load)}
