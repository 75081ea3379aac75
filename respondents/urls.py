from django.urls import path

from . import views

app_name = "respondents"

urlpatterns = [
    path("", views.landing, name="landing"),
    path("consent/", views.consent, name="consent"),
    path("decline/", views.decline, name="decline"),
    path("language/", views.set_language, name="language"),
    path("resume/", views.resume, name="resume"),
    path("page/<int:number>/", views.page, name="page"),
    path("review/", views.review, name="review"),
    path("submit/", views.submit, name="submit"),
    path("thanks/", views.thanks, name="thanks"),
    path("nominate/", views.nominate, name="nominate"),
    path("forward/", views.forward, name="forward"),
    path("optout/<str:token>/", views.opt_out_view, name="opt_out"),
    # Last: any other path segment is a personal link's token.
    path("<str:token>/", views.link, name="link"),
]
