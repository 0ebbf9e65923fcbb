from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.admin import VerifiedAdminSite
from campaigns.urls import public_urlpatterns as campaign_answer_patterns
from carechain import views as carechain_views
from carechain.api.not_found import api_not_found
from referrals.fhir import views as fhir_views

from .health import healthz

# django-otp's documented way: the one admin site every app registers with now asks for the second
# factor as well (before admin.site.urls below is built from its methods).
admin.site.__class__ = VerifiedAdminSite

api_patterns = [
    path("", include("carechain.api.urls")),
    path("", include("referrals.api.urls")),
    path("", include("billing.api.urls")),
]

urlpatterns = [
    path("", carechain_views.home, name="home"),
    path("", include("accounts.urls")),  # login (password, second factor), logout
    path("i18n/", include("django.conf.urls.i18n")),
    path("patients/", include("carechain.urls")),
    path("referrals/", include("referrals.urls")),
    path("fhir", fhir_views.TransactionView.as_view(), name="fhir-base"),  # POST [base], no slash
    path("fhir/", include("billing.fhir_urls")),  # Claim, ClaimResponse: before the catch-all
    path("fhir/", include("referrals.fhir.urls")),
    path("trajectories/", include("pathways.urls")),
    path("reminders/", include("reminders.urls")),
    path("billing/", include("billing.urls")),
    path("campaigns/", include("campaigns.urls")),
    # The public answer page of the letter campaigns: no login, a short address to type.
    path("reactie/", include(campaign_answer_patterns)),
    path("audit/", include("audit.urls")),
    path("reports/", include("reports.urls")),
    path("healthz", healthz, name="healthz"),
    path("api/", include((api_patterns, "api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start script from its own URL (?script), so the page needs
    # no inline script and the strict Content-Security-Policy holds here too.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    # Last under /api/: whatever names nothing is a JSON 404, not Django's HTML page.
    re_path(r"^api/", api_not_found, name="api-not-found"),
    path("admin/", admin.site.urls),
]

admin.site.site_header = "SMR ketenzorg"
admin.site.site_title = "SMR ketenzorg"
