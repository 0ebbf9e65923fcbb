from rest_framework.throttling import SimpleRateThrottle


class PerClientRateThrottle(SimpleRateThrottle):
    """One rate per API key or per logged-in person (per address when anonymous)."""

    scope = "client"

    def get_cache_key(self, request, view):
        ident = (
            getattr(request.user, "pk", None)
            if request.user and request.user.is_authenticated
            else None
        )
        return self.cache_format % {"scope": self.scope, "ident": ident or self.get_ident(request)}
