from django.urls import include, path

app_name = "stakeholders"

urlpatterns = [
    path("", include("stakeholders.urls_batches")),
    path("kelola/", include("stakeholders.urls_manage")),
    path("ekspor/", include("stakeholders.urls_exports")),
]
