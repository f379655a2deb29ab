"""A URLconf of two cheap views for the rate limit's cross-process test (no database behind them)."""

from django.http import HttpResponse
from django.urls import path

urlpatterns = [
    path("api/ping", lambda request: HttpResponse("ok")),
    path("up", lambda request: HttpResponse("up")),
]
