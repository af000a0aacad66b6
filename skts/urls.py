"""SKTS letters: requests, downloads and the public verification page."""

from django.urls import path

from skts import views

app_name = "skts"

urlpatterns = [
    path("", views.my_letters, name="mine"),
    path("lembaga/", views.institution_letters, name="institution"),
    path("lembaga/unduh/", views.institution_download, name="institution_download"),
    path("surat/<int:pk>/pdf/", views.letter_download, name="download"),
    path("surat/<int:pk>/cabut/", views.letter_revoke, name="revoke"),
    path("register/", views.register, name="register"),
    path("register.csv", views.register_csv, name="register_csv"),
    path("verify/<str:token>/", views.verify, name="verify"),
]
