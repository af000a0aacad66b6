from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from stakeholders.api import stats, views

app_name = "api"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("v1/batches/", views.FieldUpdateBatchCreate.as_view(), name="batches"),
    path("v1/roster-batches/", views.RosterBatchCreate.as_view(), name="roster_batches"),
    path("v1/batches/<int:batch_id>/", views.BatchDetail.as_view(), name="batch"),
    path("v1/residents/lookup/", views.ResidentLookup.as_view(), name="resident_lookup"),
    path("v1/changes/", views.ChangeFeed.as_view(), name="changes"),
    path("v1/exports/residents.csv", views.ExportCsv.as_view(), name="export_csv"),
    path("v1/exports/residents.xlsx", views.ExportXlsx.as_view(), name="export_xlsx"),
    path("v1/webhooks/", views.WebhookList.as_view(), name="webhooks"),
    path("v1/webhooks/<int:webhook_id>/", views.WebhookDetail.as_view(), name="webhook"),
    path("v1/stats/<str:page>/", stats.Statistics.as_view(), name="statistics"),
]
