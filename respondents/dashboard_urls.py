from django.urls import path

from . import dashboard_views, export_views

app_name = "dashboard"

urlpatterns = [
    path("", dashboard_views.overview, name="overview"),
    path("data.json", dashboard_views.data, name="data"),
    path("chains/", dashboard_views.chains, name="chains"),
    path("exports/", export_views.exports, name="exports"),
    path("exports/<int:export_id>/", export_views.export_download, name="export_download"),
]
