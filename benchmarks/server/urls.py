"""The product's URLs and ``/bench/constant``: the anchor, a Django view that does no work."""

from django.http import HttpResponse
from django.urls import include, path


def constant(request):
    return HttpResponse(b'{"resourceType":"OperationOutcome"}', content_type="application/json")


urlpatterns = [
    path("bench/constant", constant),
    path("", include("smr.urls")),
]
