from django.urls import path

from . import views

urlpatterns = [
    path("", views.referral_list, name="referral-list"),
    path("new/", views.referral_create, name="referral-create"),
    path("worklist/", views.worklist, name="referral-worklist"),
    path("<int:pk>/", views.referral_detail, name="referral-detail"),
    path("<int:pk>/<slug:action>/", views.referral_action, name="referral-action"),
]
