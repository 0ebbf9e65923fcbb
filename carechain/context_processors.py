from . import menu
from .access import Actor


def roles(request):
    """The roles of the person logged in and the menu they get; computed once per request."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"actor_roles": set(), "menu": []}
    actor = Actor.for_user(user)
    roles = {g.role for g in actor.grants}
    return {"actor_roles": roles, "actor_grants": actor.grants, "menu": menu.entries_for(roles)}
