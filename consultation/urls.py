from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from questionnaires import views as questionnaire_views

from . import views

admin.site.site_header = "Consultation platform administration"

urlpatterns = [
    path("r/", include("respondents.urls")),  # first: respondents' pages are most of the traffic
    path("", questionnaire_views.home, name="home"),
    path("healthz", views.health, name="health"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/two-factor/", views.two_factor, name="two_factor"),
    path("q/", include("questionnaires.urls")),
    path("author/", include("questionnaires.author_urls")),
    path("q/<slug:slug>/invitations/", include("respondents.staff_urls")),
    path("dashboard/<slug:slug>/", include("respondents.dashboard_urls")),
    path("admin/", admin.site.urls),
]
if settings.ANYMAIL_WEBHOOK_SECRET:  # a provider's bounce and complaint webhooks (respondents/signals.py)
    urlpatterns.append(path("anymail/", include("anymail.urls")))
