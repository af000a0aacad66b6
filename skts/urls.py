"""SKTS letters: requests, downloads and the public verification page."""

app_name = "skts"

urlpatterns: list = []
