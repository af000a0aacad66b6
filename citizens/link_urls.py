from django.urls import path

from citizens import link_views

app_name = "linking"

urlpatterns = [
    path("akun-saya/tautkan/", link_views.identity_link, name="link"),
    path("petugas/tautkan/", link_views.identity_link_confirm, name="link_confirm"),
    path("petugas/pindahkan-tautan/", link_views.resident_link_move, name="link_move"),
]
