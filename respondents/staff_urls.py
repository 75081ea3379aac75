from django.urls import path

from . import staff_views

app_name = "respondents_staff"

urlpatterns = [
    path("", staff_views.invitations, name="invitations"),
    path("upload/", staff_views.invitations_upload, name="invitations_upload"),
]
