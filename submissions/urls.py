from django.urls import path, register_converter

from submissions import views


class TrackingCodeConverter:
    """PRJ-XXXX-XXXX in Crockford's alphabet; anything else never reaches a view."""

    regex = "PRJ-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(TrackingCodeConverter, "tracking")

app_name = "submissions"

urlpatterns = [
    path("", views.submission_list, name="list"),
    path("baru/", views.kind_choose, name="choose"),
    path("baru/<slug:kind>/", views.submission_new, name="new"),
    path("notifikasi/", views.notification_list, name="notifications"),
    path("<tracking:code>/", views.submission_detail, name="detail"),
    path("<tracking:code>/ubah/", views.submission_edit, name="edit"),
    path("<tracking:code>/ajukan/", views.submission_submit, name="submit"),
    path("<tracking:code>/tarik/", views.submission_withdraw, name="withdraw"),
    path("<tracking:code>/bukti/<int:evidence_id>/", views.evidence_download, name="evidence"),
    path(
        "<tracking:code>/bukti/<int:evidence_id>/hapus/",
        views.evidence_remove,
        name="evidence_remove",
    ),
]
