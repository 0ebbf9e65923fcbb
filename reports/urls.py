from django.urls import path

from . import views

urlpatterns = [
    path("", views.report_home, name="report-home"),
    path("zorggroep/<int:pk>/", views.zorggroep_report, name="report-zorggroep"),
    path(
        "zorggroep/<int:pk>/export/<slug:table>/<slug:fmt>/",
        views.zorggroep_export,
        name="report-zorggroep-export",
    ),
    path("provider/<int:pk>/", views.provider_report, name="report-provider"),
    path(
        "provider/<int:pk>/export/<slug:table>/<slug:fmt>/",
        views.provider_export,
        name="report-provider-export",
    ),
]
