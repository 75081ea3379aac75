from django.urls import path

from . import views

app_name = "questionnaires"

urlpatterns = [
    path("<slug:slug>/", views.questionnaire_detail, name="detail"),
    path("<slug:slug>/status/", views.questionnaire_status, name="status"),
    path("<slug:slug>/definition.json", views.questionnaire_definition_download, name="definition"),
    path("<slug:slug>/members/", views.questionnaire_members, name="members"),
    path("<slug:slug>/purge/", views.questionnaire_purge, name="purge"),
    path(
        "<slug:slug>/members/<int:membership_id>/remove/",
        views.questionnaire_member_remove,
        name="member_remove",
    ),
]
