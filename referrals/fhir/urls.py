"""The FHIR base is /fhir; KIS posts its transaction Bundles to the base itself.

smr/urls.py maps the slash-less base (``POST /fhir``) to the transaction view as well, because a
FHIR client builds its URLs from the base without a trailing slash.
"""

from django.urls import re_path

from . import views

app_name = "fhir"

urlpatterns = [
    re_path(r"^$", views.TransactionView.as_view(), name="base"),
    re_path(r"^metadata/?$", views.MetadataView.as_view(), name="metadata"),
    re_path(r"^Bundle/?$", views.DocumentBundleView.as_view(), name="bundle"),
    re_path(r"^Bundle/(?P<pk>[^/]+)/?$", views.FeedbackBundleView.as_view(), name="feedback"),
    re_path(r"^Task/?$", views.TaskSearchView.as_view(), name="task-search"),
    re_path(r"^Task/(?P<pk>[^/]+)/?$", views.TaskView.as_view(), name="task"),
    re_path(
        r"^ServiceRequest/(?P<pk>[^/]+)/?$",
        views.ServiceRequestView.as_view(),
        name="service-request",
    ),
    re_path(r"", views.UnsupportedView.as_view(), name="unsupported"),
]
