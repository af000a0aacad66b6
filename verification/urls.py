from django.urls import path

# Importing submissions.urls registers the `tracking` path converter, whatever the order in
# which the root URLconf includes the apps.
from submissions.urls import TrackingCodeConverter  # noqa: F401
from verification import report_views, views

app_name = "verification"

urlpatterns = [
    path("verifikasi/", views.queue, name="queue"),
    path("verifikasi/<tracking:code>/", views.review, name="review"),
    path("verifikasi/<tracking:code>/klaim/", views.claim, name="claim"),
    path("verifikasi/<tracking:code>/lepas/", views.release, name="release"),
    path("verifikasi/<tracking:code>/putuskan/", views.decide, name="decide"),
    path("verifikasi/<tracking:code>/f106/", views.statement, name="statement"),
    path("dasbor/", views.dashboard, name="dashboard"),
    path("pemantauan/", views.monitoring, name="monitoring"),
    path("audit/", views.audit, name="audit"),
    path("laporan/", report_views.report_list, name="reports"),
    path("laporan/<int:report_id>/<str:fmt>/", report_views.report_file, name="report_file"),
]
