"""The platform's URLs plus /bench/floor/, a minimal view doing one INSERT: the same server's floor."""

from django.db import connection
from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def floor(request):
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_floor (at) VALUES (CURRENT_TIMESTAMP)")
    return HttpResponse("ok")


urlpatterns = [
    path("bench/floor/", floor),
    path("", include("consultation.urls")),
]
