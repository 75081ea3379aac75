from django.urls import path

from . import dashboard_views

app_name = "dashboard"

urlpatterns = [
    path("", dashboard_views.overview, name="overview"),
    path("data.json", dashboard_views.data, name="data"),
    path("chains/", dashboard_views.chains, name="chains"),
]
