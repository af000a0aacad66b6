"""Management pages: the head's institution pages, the Dukcapil exchange overview, and an
institution admin's API keys and webhooks; who may open or post to each."""

import datetime

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from citizens.choices import Role
from citizens.demo import DEMO_DOMAIN, demo_accounts_ensure
from citizens.models import User
from stakeholders import keys, selectors, services
from stakeholders.choices import (
    AgreementStatus,
    InstitutionKind,
    UploadFormat,
    UploadStatus,
    WriteMode,
)
from stakeholders.manage_selectors import institution_list as manage_institution_rows
from stakeholders.models import (
    ApiKey,
    ExchangeBatch,
    FieldAuthority,
    Institution,
    InstitutionMember,
    WebhookSubscription,
)
from tests.stakeholders.conftest import institution_with_agreements

pytestmark = pytest.mark.django_db


def _as(client, user):
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _url(name: str, *args) -> str:
    return reverse(f"stakeholders:{name}", args=args)


def _head_pages(institution: Institution) -> list[tuple[str, str]]:
    agreement = institution.agreements.first()
    return [
        ("get", _url("manage_institutions")),
        ("get", _url("manage_institution_create")),
        ("post", _url("manage_institution_create")),
        ("get", _url("manage_institution", institution.pk)),
        ("post", _url("manage_agreement_add", institution.pk)),
        ("post", _url("manage_agreement_status", institution.pk, agreement.pk)),
        ("post", _url("manage_agreement_scope", institution.pk, agreement.pk)),
        ("post", _url("manage_authority", institution.pk)),
        ("post", _url("manage_invite", institution.pk)),
    ]


def _admin_pages() -> list[tuple[str, str]]:
    return [
        ("get", _url("manage_my_institution")),
        ("get", _url("manage_api_keys")),
        ("post", _url("manage_api_keys")),
        ("get", _url("manage_webhooks")),
        ("post", _url("manage_webhooks")),
    ]


@pytest.mark.parametrize("who", ["citizen", "operator_desa", "verifier", "institution_admin"])
def test_head_pages_answer_403_when_opened_by_anyone_but_the_head(
    request, client, education_office, who
) -> None:
    _as(client, request.getfixturevalue(who))
    for method, url in _head_pages(education_office):
        assert getattr(client, method)(url).status_code == 403, url


def test_head_pages_send_an_anonymous_visitor_to_login_when_opened(
    client, education_office
) -> None:
    for method, url in _head_pages(education_office):
        response = getattr(client, method)(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("who", ["citizen", "operator_desa", "verifier", "head"])
def test_institution_admin_pages_answer_403_when_opened_by_anyone_else(
    request, client, who
) -> None:
    _as(client, request.getfixturevalue(who))
    for method, url in _admin_pages():
        assert getattr(client, method)(url).status_code == 403, url


def test_institution_admin_without_totp_is_sent_to_the_invitation_page_when_opening_pages(
    client, education_office, head
) -> None:
    user = User.objects.create_user("baru@lembaga.test", "x", role=Role.INSTITUTION_ADMIN)
    InstitutionMember.objects.create(user=user, institution=education_office, invited_by=head)
    _as(client, user)
    response = client.get(_url("manage_api_keys"))
    assert response.status_code == 302
    assert response["Location"] == reverse("invitation_required")


def test_institution_list_marks_expiring_and_expired_agreements_when_the_head_opens_it(
    client, head, education_office, expired_office
) -> None:
    expiring = institution_with_agreements(
        name="Dinas Kesehatan (segera berakhir)",
        kind=InstitutionKind.HEALTH_OFFICE,
        valid_until=timezone.localdate() + datetime.timedelta(days=10),
    )
    response = _as(client, head).get(_url("manage_institutions"))
    assert response.status_code == 200
    rows = {row.institution.pk: row.agreement.state for row in response.context["rows"]}
    assert rows == {
        education_office.pk: "in_force",
        expired_office.pk: "expired",
        expiring.pk: "expiring",
    }
    assert "Expiring within 30 days" in response.text
    assert "Expired" in response.text


def test_head_registers_an_institution_with_the_default_authority_of_its_kind_when_posting(
    client, head
) -> None:
    response = _as(client, head).post(
        _url("manage_institution_create"),
        {"name": "Kantor Kemenag", "kind": "religious", "code": "kemenag-pwr"},
    )
    institution = Institution.objects.get(code="kemenag-pwr")
    assert response["Location"] == _url("manage_institution", institution.pk)
    assert selectors.authority_for(institution)["marital_status"].write == WriteMode.REVIEW


def test_detail_shows_core_identity_as_locked_without_a_write_choice_when_opened(
    client, head, education_office
) -> None:
    response = _as(client, head).get(_url("manage_institution", education_office.pk))
    assert response.status_code == 200
    form = response.context["authority_form"]
    for field in ("nik", "full_name", "birth_date"):
        assert f"write_{field}" not in form.fields
        assert f"read_{field}" in form.fields
    assert "write_education" in form.fields
    assert response.text.count("Locked: Dukcapil only") == 8


def _authority_post(institution: Institution, **changes: str) -> dict[str, str]:
    data = {}
    for field, rule in selectors.authority_for(institution).items():
        data[f"write_{field}"] = rule.write
        if rule.read:
            data[f"read_{field}"] = "on"
    for field in ("education", "school_enrolment", "occupation"):
        data.setdefault(f"write_{field}", "none")
    data.update(changes)
    return data


def test_head_edits_the_authority_table_when_posting_it(client, head, education_office) -> None:
    data = _authority_post(education_office, write_occupation="review", write_education="none")
    response = _as(client, head).post(_url("manage_authority", education_office.pk), data)
    assert response.status_code == 302
    authority = selectors.authority_for(education_office)
    assert authority["occupation"].write == WriteMode.REVIEW
    assert authority["education"].write == WriteMode.NONE


@pytest.mark.parametrize("field", ["nik", "full_name", "birth_date"])
def test_core_identity_stays_unwritable_when_the_head_posts_it_writable_by_hand(
    client, head, education_office, field
) -> None:
    before = list(FieldAuthority.objects.filter(institution=education_office).values())
    data = _authority_post(education_office, **{f"write_{field}": "adopt"})
    _as(client, head).post(_url("manage_authority", education_office.pk), data)
    after = list(FieldAuthority.objects.filter(institution=education_office).values())
    assert after == before
    assert selectors.write_mode(education_office, field) == WriteMode.NONE


def test_head_records_an_agreement_and_suspends_it_when_posting(
    client, head, education_office
) -> None:
    _as(client, head)
    today = timezone.localdate()
    response = client.post(
        _url("manage_agreement_add", education_office.pk),
        {
            "kind": "mou",
            "number": "MOU/BARU/2026",
            "purpose": "Pemutakhiran",
            "signed_on": today.isoformat(),
            "valid_from": today.isoformat(),
            "valid_until": (today + datetime.timedelta(days=365)).isoformat(),
            "status": "active",
        },
    )
    assert response.status_code == 302
    agreement = education_office.agreements.get(number="MOU/BARU/2026")
    client.post(
        _url("manage_agreement_status", education_office.pk, agreement.pk), {"status": "suspended"}
    )
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.SUSPENDED


def test_agreement_with_an_end_before_its_start_is_refused_when_posted(
    client, head, education_office
) -> None:
    response = _as(client, head).post(
        _url("manage_agreement_add", education_office.pk),
        {
            "kind": "pks",
            "number": "PKS/X",
            "purpose": "x",
            "signed_on": "2026-01-01",
            "valid_from": "2026-06-01",
            "valid_until": "2026-01-01",
            "status": "active",
        },
    )
    assert response.status_code == 400
    assert not education_office.agreements.filter(number="PKS/X").exists()


def test_agreement_status_of_another_institution_answers_404_when_posted(
    client, head, education_office, health_office
) -> None:
    foreign = health_office.agreements.first()
    response = _as(client, head).post(
        _url("manage_agreement_status", education_office.pk, foreign.pk), {"status": "suspended"}
    )
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == AgreementStatus.ACTIVE


def test_invite_creates_an_admin_and_mails_an_invitation_link_when_the_head_posts(
    client, head, education_office, django_capture_on_commit_callbacks
) -> None:
    _as(client, head)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            _url("manage_invite", education_office.pk),
            {"full_name": "Operator Disdik", "email": "operator@disdik.test"},
        )
    assert response.status_code == 302
    user = User.objects.get(email="operator@disdik.test")
    assert user.role == Role.INSTITUTION_ADMIN
    assert user.institution_member.institution == education_office
    assert len(mail.outbox) == 1
    assert "http://testserver/akun/undangan/" in mail.outbox[0].body


def test_invite_is_refused_with_a_form_error_when_the_address_has_an_account(
    client, head, education_office, citizen
) -> None:
    response = _as(client, head).post(
        _url("manage_invite", education_office.pk), {"full_name": "X", "email": citizen.email}
    )
    assert response.status_code == 400
    assert "already exists" in response.text
    citizen.refresh_from_db()
    assert citizen.role == Role.CITIZEN


def test_exchange_overview_shows_contact_batches_and_error_rate_when_dukcapil_opens_it(
    client, verifier, education_office, health_office
) -> None:
    ExchangeBatch.objects.create(
        institution=education_office,
        format=UploadFormat.FIELD_UPDATE,
        status=UploadStatus.APPLIED,
        sha256="a" * 64,
        rows_total=200,
        counts={"error": 10, "changed": 190},
    )
    ExchangeBatch.objects.create(
        institution=education_office,
        format=UploadFormat.FIELD_UPDATE,
        status=UploadStatus.REFUSED,
        sha256="b" * 64,
        refusal="x",
    )
    response = _as(client, verifier).get(_url("manage_exchanges"))
    assert response.status_code == 200
    rows = {row.institution.pk: row for row in response.context["rows"]}
    education = rows[education_office.pk]
    assert education.by_status == {"applied": 1, "refused": 1}
    assert education.error_rate == pytest.approx(0.05)
    assert education.last_contact is not None
    assert rows[health_office.pk].last_contact is None
    assert "5%" in response.text


def test_exchange_overview_answers_403_when_a_kecamatan_officer_or_institution_admin_opens_it(
    client, officer_kecamatan, institution_admin
) -> None:
    for user in (officer_kecamatan, institution_admin):
        assert _as(client, user).get(_url("manage_exchanges")).status_code == 403


def test_exchange_overview_query_count_stays_the_same_when_institutions_grow(
    client, head, django_assert_max_num_queries
) -> None:
    for n in range(2):
        institution_with_agreements(name=f"L{n}", kind=InstitutionKind.COMPANY)
    _as(client, head)
    client.get(_url("manage_exchanges"))
    with django_assert_max_num_queries(12) as few:
        client.get(_url("manage_exchanges"))
    for n in range(8):
        institution_with_agreements(name=f"M{n}", kind=InstitutionKind.UNIVERSITY)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(_url("manage_exchanges"))


def test_api_key_is_shown_once_and_stored_hashed_when_the_admin_issues_it(
    client, institution_admin
) -> None:
    _as(client, institution_admin)
    response = client.post(_url("manage_api_keys"), {"name": "Dapodik", "valid_days": "90"})
    assert response.status_code == 200
    key = response.context["key"]
    assert key in response.text
    assert "no-store" in response["Cache-Control"]
    stored = ApiKey.objects.get()
    assert stored.key_hash == keys.api_key_hash(key)
    assert key not in str(ApiKey.objects.values().get())
    listing = client.get(_url("manage_api_keys"))
    assert stored.prefix in listing.text
    assert key not in listing.text


def test_revoked_key_is_shown_revoked_when_the_admin_revokes_it(
    client, institution_admin, education_office
) -> None:
    api_key, _key = services.api_key_issue(
        institution=education_office, user=institution_admin, name="x", valid_days=30
    )
    _as(client, institution_admin)
    response = client.post(_url("manage_api_key_revoke", api_key.pk))
    assert response["Location"] == _url("manage_api_keys")
    api_key.refresh_from_db()
    assert api_key.revoked_at is not None
    assert "Revoked on" in client.get(_url("manage_api_keys")).text


def test_admin_of_another_institution_gets_404_when_revoking_or_deleting_by_url(
    client, institution_admin, education_office, health_office, admin_of
) -> None:
    api_key, _key = services.api_key_issue(
        institution=education_office, user=institution_admin, name="x", valid_days=30
    )
    subscription, _secret = services.webhook_subscription_create(
        institution=education_office, user=institution_admin, url="https://disdik.test/hook"
    )
    _as(client, admin_of(health_office))
    assert client.post(_url("manage_api_key_revoke", api_key.pk)).status_code == 404
    assert client.post(_url("manage_webhook_delete", subscription.pk)).status_code == 404
    listing = client.get(_url("manage_api_keys"))
    assert api_key.prefix not in listing.text
    api_key.refresh_from_db()
    assert api_key.revoked_at is None
    assert WebhookSubscription.objects.filter(pk=subscription.pk).exists()


def test_key_and_webhook_urls_answer_403_when_posted_by_the_head(
    client, head, institution_admin, education_office
) -> None:
    api_key, _key = services.api_key_issue(
        institution=education_office, user=institution_admin, name="x", valid_days=30
    )
    _as(client, head)
    assert client.post(_url("manage_api_key_revoke", api_key.pk)).status_code == 403
    api_key.refresh_from_db()
    assert api_key.revoked_at is None


def test_webhook_secret_is_shown_once_when_the_admin_subscribes(client, institution_admin) -> None:
    _as(client, institution_admin)
    response = client.post(_url("manage_webhooks"), {"url": "https://disdik.test/terima"})
    assert response.status_code == 200
    secret = response.context["secret"]
    assert secret in response.text
    subscription = WebhookSubscription.objects.get()
    assert subscription.secret == secret
    assert secret not in client.get(_url("manage_webhooks")).text
    client.post(_url("manage_webhook_delete", subscription.pk))
    assert not WebhookSubscription.objects.exists()


def test_my_institution_warns_when_the_agreement_has_expired(
    client, expired_office, admin_of
) -> None:
    response = _as(client, admin_of(expired_office)).get(_url("manage_my_institution"))
    assert response.status_code == 200
    assert "uploads and the API are refused" in response.text


def test_officer_desk_links_the_head_to_the_institution_pages_when_opened(client, head) -> None:
    response = _as(client, head).get(reverse("officer_home"))
    assert _url("manage_institutions") in response.text
    assert _url("manage_exchanges") in response.text


def test_admin_shows_institutions_keys_and_batches_read_only_when_a_system_admin_opens_them(
    client, system_admin, education_office, institution_admin
) -> None:
    api_key, key = services.api_key_issue(
        institution=education_office, user=institution_admin, name="x", valid_days=30
    )
    _as(client, system_admin)
    change = client.get(
        reverse("admin:stakeholders_institution_change", args=[education_office.pk])
    )
    assert change.status_code == 200
    assert "MOU/" in change.text
    key_page = client.get(reverse("admin:stakeholders_apikey_change", args=[api_key.pk]))
    assert key_page.status_code == 200
    assert api_key.key_hash not in key_page.text
    assert key not in key_page.text
    assert client.get(reverse("admin:stakeholders_exchangebatch_changelist")).status_code == 200
    assert client.get(reverse("admin:stakeholders_institution_add")).status_code == 403


def test_head_opens_the_registration_form_when_asked(client, head) -> None:
    response = _as(client, head).get(_url("manage_institution_create"))
    assert response.status_code == 200
    assert "default field authority" in response.text


@override_settings(DEBUG=True)
def test_demo_institution_admin_opens_the_api_keys_of_the_demo_education_office_when_seeded(
    client,
) -> None:
    demo_accounts_ensure()
    call_command("seed_demo_institutions", verbosity=0)
    call_command("seed_demo_institutions", verbosity=0)
    assert Institution.objects.count() == 4  # with the demo company (its roster)
    admin = User.objects.get(email=f"admin.institusi@{DEMO_DOMAIN}")
    education = admin.institution_member.institution
    assert selectors.agreement_in_force(education)
    assert selectors.write_mode(education, "education") == WriteMode.ADOPT
    assert _as(client, admin).get(_url("manage_api_keys")).status_code == 200
    states = {row.institution.code: row.agreement.state for row in manage_institution_rows()}
    assert states["dinkes-demo"] == "expiring"
