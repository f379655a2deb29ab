from django.urls import path

from search import api, views

app_name = "search"

urlpatterns = [
    path("search/", views.search, name="search"),
    path("search/suggest", views.autocomplete, name="autocomplete"),
    path("api/search/", api.search, name="api"),
]
