from django.urls import path

from . import views

urlpatterns = [
    path("", views.referral_list, name="referral-list"),
    path("new/", views.referral_create, name="referral-create"),
    path("worklist/", views.worklist, name="referral-worklist"),
    path("letters/failed/", views.failed_letters, name="letters-failed"),
    path("letters/<int:pk>.pdf", views.letter_download, name="letter-download"),
    path("notifications/", views.webhook_deliveries, name="webhook-deliveries"),
    path("<int:pk>/", views.referral_detail, name="referral-detail"),
    path("<int:pk>/<slug:action>/", views.referral_action, name="referral-action"),
]
