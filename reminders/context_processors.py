from carechain.models import Role


def my_reminders(request):
    """The coach's open reminders for the home page and caseload (one small query)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from .models import Reminder

    def load():
        return list(
            Reminder.objects.filter(
                user=user, resolved_at__isnull=True, user__memberships__role=Role.COACH
            )
            .select_related("trajectory__patient", "referral__patient", "membership")
            .distinct()
            .order_by("due", "pk")[:10]
        )

    return {"my_reminders": load}
