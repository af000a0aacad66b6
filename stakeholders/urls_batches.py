from django.urls import path

from stakeholders import batch_views

urlpatterns = [
    path("", batch_views.batch_list, name="batch_list"),
    path("unggah/", batch_views.batch_upload, name="batch_upload"),
    path("batch/<int:batch_id>/", batch_views.batch_detail, name="batch_detail"),
    path("batch/<int:batch_id>/kesalahan.csv", batch_views.batch_errors, name="batch_errors"),
    path("batch/<int:batch_id>/konfirmasi/", batch_views.batch_confirm, name="batch_confirm"),
    path("batch/<int:batch_id>/batal/", batch_views.batch_cancel, name="batch_cancel"),
]
