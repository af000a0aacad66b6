from django.urls import path

from stakeholders import export_views as views

urlpatterns = [
    path("penduduk.csv", views.export_csv, name="export_csv"),
    path("penduduk.xlsx", views.export_xlsx, name="export_xlsx"),
]
