from django.urls import path

from . import staff_views

app_name = "respondents_staff"

urlpatterns = [
    path("", staff_views.invitations, name="invitations"),
    path("upload/", staff_views.invitations_upload, name="invitations_upload"),
    path("chains/", staff_views.chains, name="chains"),
    path("<int:number>/", staff_views.invitation_detail, name="invitation"),
]
