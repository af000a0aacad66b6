from django.urls import path

from stakeholders import manage_views as views

urlpatterns = [
    path("", views.institution_list, name="manage_institutions"),
    path("baru/", views.institution_create, name="manage_institution_create"),
    path("<int:institution_id>/", views.institution_detail, name="manage_institution"),
    path("<int:institution_id>/perjanjian/", views.agreement_add, name="manage_agreement_add"),
    path(
        "<int:institution_id>/perjanjian/<int:agreement_id>/status/",
        views.agreement_status,
        name="manage_agreement_status",
    ),
    path(
        "<int:institution_id>/perjanjian/<int:agreement_id>/cakupan/",
        views.agreement_scope,
        name="manage_agreement_scope",
    ),
    path("<int:institution_id>/kewenangan/", views.authority_edit, name="manage_authority"),
    path("<int:institution_id>/undang/", views.member_invite, name="manage_invite"),
    path(
        "<int:institution_id>/admin/<int:member_id>/nonaktifkan/",
        views.member_deactivate,
        name="manage_member_deactivate",
    ),
    path(
        "<int:institution_id>/kunci-api/<int:key_id>/serahkan/",
        views.api_key_handover,
        name="manage_api_key_handover",
    ),
    path("pertukaran/", views.exchange_overview, name="manage_exchanges"),
    path("lembaga-saya/", views.my_institution, name="manage_my_institution"),
    path("lembaga-saya/kunci-api/", views.api_keys, name="manage_api_keys"),
    path(
        "lembaga-saya/kunci-api/<int:key_id>/cabut/",
        views.api_key_revoke,
        name="manage_api_key_revoke",
    ),
    path("lembaga-saya/webhook/", views.webhooks, name="manage_webhooks"),
    path(
        "lembaga-saya/webhook/<int:webhook_id>/hapus/",
        views.webhook_delete,
        name="manage_webhook_delete",
    ),
]
