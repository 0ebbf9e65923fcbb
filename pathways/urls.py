from django.urls import include, path

urlpatterns = [
    path("groups/", include("pathways.urls_groups")),
    path("appointments/", include("pathways.urls_appointments")),
]
