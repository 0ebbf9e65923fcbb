from django.utils.functional import SimpleLazyObject


def my_reminders(request):
    """The coach's open reminders for the home page and caseload (one small query, when shown).

    Lazy, and loaded at most once per page however often the template reads it.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from .queries import reminders_box

    return {"my_reminders": SimpleLazyObject(lambda: reminders_box(user))}
