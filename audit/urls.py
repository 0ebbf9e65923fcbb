from django.urls import path

from . import views

urlpatterns = [
    path("", views.audit_log, name="audit-log"),
    path("export.csv", views.audit_export, name="audit-export"),
    path("chain-check/", views.chain_check, name="audit-chain-check"),
    path(
        "patients/<int:patient_id>/access-report.pdf",
        views.access_report,
        name="audit-access-report",
    ),
]
