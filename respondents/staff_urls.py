from django.urls import path

from . import staff_views

app_name = "respondents_staff"

urlpatterns = [
    path("", staff_views.invitations, name="invitations"),
    path("upload/", staff_views.invitations_upload, name="invitations_upload"),
    path("chains/", staff_views.chains, name="chains"),
    path("<int:number>/", staff_views.invitation_detail, name="invitation"),
    path("<int:number>/resend/", staff_views.invitation_resend, name="invitation_resend"),
    path("<int:number>/address/", staff_views.invitation_address, name="invitation_address"),
    path("<int:number>/revoke/", staff_views.invitation_revoke, name="invitation_revoke"),
    path("<int:number>/bounced/", staff_views.invitation_bounced, name="invitation_bounced"),
    path("<int:number>/erase/", staff_views.invitation_erase, name="invitation_erase"),
    path("remind/", staff_views.invitations_remind, name="remind"),
    path("reminders/", staff_views.reminder_policy, name="reminders"),
]
