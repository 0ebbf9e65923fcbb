from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.caseload, name="caseload"),
    path("<int:pk>/", views.trajectory_detail, name="trajectory-detail"),
    path("<int:pk>/<slug:action>/", views.trajectory_action, name="trajectory-action"),
    path("escalations/", views.poh_ggz_inbox, name="poh-ggz-inbox"),
    path("escalations/<int:pk>/<slug:action>/", views.escalation_action, name="escalation-action"),
    path("groups/", include("pathways.urls_groups")),
    path("appointments/", include("pathways.urls_appointments")),
]
