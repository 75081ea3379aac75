from django.urls import path

from . import dashboard_views, export_views, results_views

app_name = "dashboard"

urlpatterns = [
    path("", dashboard_views.overview, name="overview"),
    path("data.json", dashboard_views.data, name="data"),
    path("chains/", dashboard_views.chains, name="chains"),
    path("results/", results_views.results_page, name="results"),
    path("results/open/<str:code>/", results_views.open_answers_page, name="open_answers"),
    path("results/open/<str:code>/tag/", results_views.tag, name="tag"),
    path("results/open/<str:code>/untag/", results_views.untag, name="untag"),
    path("report/", results_views.report, name="report"),
    path("exports/", export_views.exports, name="exports"),
    path("exports/<int:export_id>/", export_views.export_download, name="export_download"),
]
