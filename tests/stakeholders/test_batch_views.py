import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from citizens.choices import Education, Role
from citizens.models import PermanentResident
from stakeholders import importing
from stakeholders.choices import UploadFormat, UploadStatus
from stakeholders.models import ExchangeBatch, InstitutionMember
from tests.factories import UserFactory, resident_create


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def resident(db) -> PermanentResident:
    return resident_create(full_name="SITI UJI", birth_date=datetime.date(1990, 5, 17))


def csv_upload(resident, *, extra: str = "", name: str = "data.csv") -> SimpleUploadedFile:
    text = f"nik,nama_lengkap,tanggal_lahir,pendidikan\n{resident.nik},SITI UJI,1990-05-17,8\n"
    return SimpleUploadedFile(name, (text + extra).encode())


def received(institution, admin, resident, *, extra: str = "") -> ExchangeBatch:
    return importing.batch_receive_file(
        institution=institution,
        user=admin,
        upload=csv_upload(resident, extra=extra),
        format=UploadFormat.FIELD_UPDATE,
    )


def test_anonymous_visitor_is_sent_to_login(client) -> None:
    response = client.get(reverse("stakeholders:batch_list"))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_institution_admin_without_totp_is_sent_to_the_invitation_page(
    client, education_office, head
) -> None:
    user = UserFactory(role=Role.INSTITUTION_ADMIN)
    InstitutionMember.objects.create(user=user, institution=education_office, invited_by=head)
    client.force_login(user)
    response = client.get(reverse("stakeholders:batch_list"))
    assert response.status_code == 302
    assert response["Location"] == reverse("invitation_required")


@pytest.mark.parametrize("url_name", ["stakeholders:batch_list", "stakeholders:batch_upload"])
def test_citizen_cannot_open_the_upload_pages(client, citizen, url_name) -> None:
    client.force_login(citizen)
    assert client.get(reverse(url_name)).status_code == 403


def test_admin_uploads_previews_confirms_and_the_value_is_applied(
    client, education_office, admin_of, resident, django_capture_on_commit_callbacks
) -> None:
    admin = admin_of(education_office)
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("stakeholders:batch_upload"),
            {"format": UploadFormat.FIELD_UPDATE, "file": csv_upload(resident)},
        )
    batch = ExchangeBatch.objects.get()
    assert response["Location"] == reverse("stakeholders:batch_detail", args=[batch.pk])

    page = client.get(response["Location"])
    assert page.status_code == 200
    assert page.context["can_act"]
    assert 'http-equiv="refresh"' not in page.content.decode()
    assert ("Changed", 1) in page.context["counts"]
    assert resident.nik not in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("stakeholders:batch_confirm", args=[batch.pk]))
    batch.refresh_from_db()
    resident.refresh_from_db()
    assert batch.status == UploadStatus.APPLIED
    assert resident.education == Education.DIPLOMA_4_S1


def test_detail_shows_a_progress_bar_and_refreshes_while_checking(
    client, education_office, admin_of, resident
) -> None:
    admin = admin_of(education_office)
    batch = received(education_office, admin, resident)
    ExchangeBatch.objects.filter(pk=batch.pk).update(
        status=UploadStatus.VALIDATING, rows_total=10, rows_done=4
    )
    client.force_login(admin)
    content = client.get(reverse("stakeholders:batch_detail", args=[batch.pk])).content.decode()
    assert '<meta http-equiv="refresh" content="3">' in content
    assert '<progress id="batch-progress" max="10" value="4">' in content
    assert "Confirm and apply" not in content


def test_upload_refused_for_an_expired_agreement_shows_the_reason(
    client, expired_office, admin_of, resident
) -> None:
    client.force_login(admin_of(expired_office))
    response = client.post(
        reverse("stakeholders:batch_upload"),
        {"format": UploadFormat.FIELD_UPDATE, "file": csv_upload(resident)},
    )
    assert response.status_code == 200
    assert "agreement" in response.context["form"].non_field_errors()[0]
    assert not ExchangeBatch.objects.exists()


def test_refused_file_detail_shows_the_reason(client, education_office, admin_of) -> None:
    admin = admin_of(education_office)
    client.force_login(admin)
    response = client.post(
        reverse("stakeholders:batch_upload"),
        {
            "format": UploadFormat.FIELD_UPDATE,
            "file": SimpleUploadedFile("x.csv", "nik;nama\n".encode("utf-16")),
        },
        follow=True,
    )
    assert "UTF-16" in response.content.decode()


def test_admin_of_another_institution_cannot_see_or_act_on_a_batch(
    client, education_office, health_office, admin_of, resident
) -> None:
    batch = received(education_office, admin_of(education_office), resident)
    importing.batch_validate(batch_id=batch.pk)
    client.force_login(admin_of(health_office))
    for name in ("batch_detail", "batch_errors"):
        assert client.get(reverse(f"stakeholders:{name}", args=[batch.pk])).status_code == 404
    for name in ("batch_confirm", "batch_cancel"):
        assert client.post(reverse(f"stakeholders:{name}", args=[batch.pk])).status_code == 404
    listing = client.get(reverse("stakeholders:batch_list"))
    assert batch.pk not in [b.pk for b in listing.context["page"]]
    batch.refresh_from_db()
    assert (batch.status, batch.confirmed_at) == (UploadStatus.PREVIEWED, None)


def test_dukcapil_officer_views_every_batch_but_cannot_confirm(
    client, education_office, admin_of, resident, verifier
) -> None:
    batch = received(education_office, admin_of(education_office), resident)
    importing.batch_validate(batch_id=batch.pk)
    client.force_login(verifier)
    listing = client.get(reverse("stakeholders:batch_list"))
    assert [b.pk for b in listing.context["page"]] == [batch.pk]
    detail = client.get(reverse("stakeholders:batch_detail", args=[batch.pk]))
    assert detail.status_code == 200 and not detail.context["can_act"]
    assert client.get(reverse("stakeholders:batch_upload")).status_code == 403
    client.post(reverse("stakeholders:batch_confirm", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.confirmed_at is None


def test_village_operator_cannot_see_institution_batches(
    client, education_office, admin_of, resident, operator_desa
) -> None:
    batch = received(education_office, admin_of(education_office), resident)
    client.force_login(operator_desa)
    assert client.get(reverse("stakeholders:batch_list")).status_code == 403
    assert client.get(reverse("stakeholders:batch_detail", args=[batch.pk])).status_code == 404


def test_error_csv_is_a_download_with_lines_reasons_and_neutralised_cells(
    client, education_office, admin_of, resident
) -> None:
    admin = admin_of(education_office)
    batch = received(education_office, admin, resident, extra="@SUM(1),X,1990-05-17,8\n")
    importing.batch_validate(batch_id=batch.pk)
    client.force_login(admin)
    response = client.get(reverse("stakeholders:batch_errors", args=[batch.pk]))
    assert response["Content-Disposition"].startswith("attachment;")
    body = response.content.decode("utf-8-sig").splitlines()
    assert body[0] == '"baris","nik","kesalahan"'
    assert body[1].startswith('"3","\'@SUM(1)",')


def test_cancel_by_the_admin_stops_the_batch(client, education_office, admin_of, resident) -> None:
    admin = admin_of(education_office)
    batch = received(education_office, admin, resident)
    importing.batch_validate(batch_id=batch.pk)
    client.force_login(admin)
    client.post(reverse("stakeholders:batch_cancel", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.status == UploadStatus.CANCELLED


def test_confirm_is_post_only(client, education_office, admin_of, resident) -> None:
    admin = admin_of(education_office)
    batch = received(education_office, admin, resident)
    client.force_login(admin)
    assert client.get(reverse("stakeholders:batch_confirm", args=[batch.pk])).status_code == 405
