"""A JSON 404 for every /api/ URL that names nothing, instead of Django's HTML page.

An id in the wrong shape (``/api/referrals/abc/``, a path with odd unicode) matches no URL
pattern; Django then answers with its HTML 404 page (with DEBUG, the technical one), which an API
client cannot read and the schema does not describe. The last pattern under /api/ catches those.
"""

from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework.exceptions import NotFound


@csrf_exempt  # it changes nothing; a POST without a CSRF token gets the 404 too, not a 403 page
def api_not_found(request, *args, **kwargs):
    """As Django's APPEND_SLASH did before this pattern caught everything: a GET of an endpoint's
    URL without its trailing slash is redirected; other methods get the 404 naming the right URL.
    """
    path = request.path_info
    detail = str(NotFound.default_detail)
    if not path.endswith("/") and _is_an_endpoint(path + "/"):
        if request.method in ("GET", "HEAD"):
            return HttpResponsePermanentRedirect(request.get_full_path(force_append_slash=True))
        detail = _("Not found. Did you mean %(path)s?") % {"path": path + "/"}
    return JsonResponse({"detail": detail}, status=404)


def _is_an_endpoint(path: str) -> bool:
    try:
        match = resolve(path)
    except Resolver404:
        return False
    return match.func is not api_not_found
