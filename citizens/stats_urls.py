from django.urls import path

from citizens import stats_views

app_name = "statistics"

urlpatterns = [
    path("", stats_views.statistics_page, name="population"),
    path("biodata/", stats_views.statistics_page, {"page": "biodata"}, name="biodata"),
    path(
        "non-permanen/",
        stats_views.statistics_page,
        {"page": "non_permanent"},
        name="non_permanent",
    ),
    path("kualitas-data/", stats_views.quality_page, name="quality"),
]
