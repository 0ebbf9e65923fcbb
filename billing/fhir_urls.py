"""FHIR Claim and ClaimResponse, included before the referral FHIR catch-all (see smr/urls.py)."""

from django.urls import re_path

from . import fhir_views

app_name = "fhir_claims"

urlpatterns = [
    re_path(r"^Claim$", fhir_views.ClaimSearchView.as_view(), name="claim-search"),
    re_path(r"^Claim/(?P<number>[^/]+)$", fhir_views.ClaimView.as_view(), name="claim"),
    re_path(r"^ClaimResponse$", fhir_views.ClaimResponseView.as_view(), name="claim-response"),
    # The same with the trailing slash some clients add; the schema documents the FHIR form above.
    re_path(r"^Claim/$", fhir_views.ClaimSearchView.as_view(schema=None)),
    re_path(r"^Claim/(?P<number>[^/]+)/$", fhir_views.ClaimView.as_view(schema=None)),
    re_path(r"^ClaimResponse/$", fhir_views.ClaimResponseView.as_view(schema=None)),
]
