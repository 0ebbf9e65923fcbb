from django.urls import path

from . import views

urlpatterns = [path("", views.reminder_list, name="reminder-list")]
