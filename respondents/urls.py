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
    # Last: any other path segment is a personal link's token.
    path("<str:token>/", views.link, name="link"),
]
