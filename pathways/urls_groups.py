from django.urls import path

from . import views_groups as views

urlpatterns = [
    path("", views.group_list, name="group-list"),
    path("new/", views.group_create, name="group-create"),
    path("<int:pk>/", views.group_detail, name="group-detail"),
    path("<int:pk>/edit/", views.group_edit, name="group-edit"),
    path("<int:pk>/join/", views.group_join, name="group-join"),
    path(
        "<int:pk>/meetings/<int:meeting_pk>/attendance/",
        views.group_attendance,
        name="group-attendance",
    ),
    path("participants/<int:pk>/leave/", views.group_leave, name="group-leave"),
    path(
        "participants/<int:pk>/sharing-consent/",
        views.group_sharing_consent,
        name="group-sharing-consent",
    ),
]
