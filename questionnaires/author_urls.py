from django.urls import path

from respondents import preview

from . import author_views as views

app_name = "author"

urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.new, name="new"),
    path("<slug:slug>/", views.outline, name="outline"),
    path("<slug:slug>/settings/", views.settings_page, name="settings"),
    path("<slug:slug>/duplicate/", views.duplicate, name="duplicate"),
    path("<slug:slug>/translations/", views.translations, name="translations"),
    path("<slug:slug>/domains/new/", views.domain_edit, name="domain_new"),
    path("<slug:slug>/domains/order/", views.domains_order, name="domains_order"),
    path("<slug:slug>/domains/<int:domain_id>/", views.domain_edit, name="domain"),
    path("<slug:slug>/domains/<int:domain_id>/delete/", views.domain_remove, name="domain_delete"),
    path("<slug:slug>/domains/<int:domain_id>/questions/new/", views.question_edit, name="question_new"),
    path(
        "<slug:slug>/domains/<int:domain_id>/questions/order/", views.questions_order, name="questions_order"
    ),
    path("<slug:slug>/questions/<int:question_id>/", views.question_edit, name="question"),
    path("<slug:slug>/questions/<int:question_id>/delete/", views.question_remove, name="question_delete"),
    path("<slug:slug>/preview/<str:language>/", preview.preview_start, name="preview"),
    path("<slug:slug>/preview/<str:language>/<int:number>/", preview.preview_page, name="preview_page"),
]
