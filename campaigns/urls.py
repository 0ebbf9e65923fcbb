from django.urls import path

from . import views

urlpatterns = [
    path("", views.campaign_list, name="campaign-list"),
    path("new/", views.campaign_create, name="campaign-create"),
    path("<int:pk>/", views.campaign_detail, name="campaign-detail"),
    path("<int:pk>/upload/", views.campaign_upload, name="campaign-upload"),
    path("<int:pk>/patients/", views.campaign_select_patients, name="campaign-patients"),
    path("<int:pk>/letter/", views.campaign_letter, name="campaign-letter"),
    path("<int:pk>/generate/", views.campaign_generate, name="campaign-generate"),
    path("<int:pk>/progress/", views.campaign_progress, name="campaign-progress"),
    path("<int:pk>/letters.pdf", views.campaign_letters_pdf, name="campaign-letters-pdf"),
    path("<int:pk>/people/", views.invitee_list, name="invitee-list"),
    path("people/<int:pk>/", views.invitee_detail, name="invitee-detail"),
    path("people/<int:pk>/answer/", views.invitee_phone_answer, name="invitee-phone-answer"),
    path("people/<int:pk>/refer/", views.invitee_refer, name="invitee-refer"),
    path("people/<int:pk>/letter.pdf", views.invitee_letter_pdf, name="invitee-letter-pdf"),
]

public_urlpatterns = [
    path("", views.public_answer, name="campaign-answer"),
    path("bedankt/<str:answer>/", views.public_answer_thanks, name="campaign-answer-thanks"),
]
