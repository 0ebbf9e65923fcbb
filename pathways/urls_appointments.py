from django.urls import path, re_path

from . import views_appointments as views

DAY = r"(?P<day>\d{4}-\d{2}-\d{2})"

urlpatterns = [
    path(
        "trajectory/<int:trajectory_id>/book/",
        views.appointment_book,
        name="appointment-book",
    ),
    path("<int:pk>/cancel/", views.appointment_cancel, name="appointment-cancel"),
    path(
        "<int:pk>/confirmation/",
        views.appointment_send_confirmation,
        name="appointment-send-confirmation",
    ),
    path("locations/", views.location_list, name="location-list"),
    # One name, two shapes: reverse("location-day", args=[id]) is today, [id, "YYYY-MM-DD"] a day.
    path("location/<int:location_id>/", views.location_day, name="location-day"),
    re_path(rf"^location/(?P<location_id>[0-9]+)/{DAY}/$", views.location_day, name="location-day"),
    path("agenda/", views.coach_agenda, name="coach-agenda"),
    re_path(rf"^agenda/{DAY}/$", views.coach_agenda, name="coach-agenda"),
]
