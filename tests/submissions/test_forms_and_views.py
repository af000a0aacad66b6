"""From form POST to stored proposal for every kind; the revision loop; assisted mode."""

import datetime
import io
import re

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from citizens import crypto
from citizens.choices import (
    Education,
    LifeStatus,
    Occupation,
    Registry,
    Sex,
)
from citizens.models import Desa, ResidentLink
from submissions import kinds, services
from submissions.choices import Channel, Kind, Status
from submissions.models import Notification, Submission
from tests.factories import (
    UserFactory,
    family_create,
    next_nik,
    non_permanent_create,
    resident_create,
)
from verification.choices import Outcome
from verification.services import submission_decide

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _english(client) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def _new(kind: Kind) -> str:
    return reverse("submissions:new", args=[kind.value])


def _items(submission: Submission) -> dict[str, tuple[str, str, str]]:
    return {
        item.field: (item.value_before, item.value_after, item.basis)
        for item in submission.items.all()
    }


def _current_post(kind: Kind, resident) -> dict[str, str]:
    """The form as it opens: every proposed value equal to the registry's."""
    spec = kinds.SPECS[kind]
    values = kinds.current_values(spec, kinds.subject_of(resident))
    return {name: kinds.as_text(value) for name, value in values.items() if value is not None}


@pytest.fixture
def family(family_of_three):
    return family_of_three


@pytest.fixture
def me_client(client, citizen, family):
    ResidentLink.objects.create(user=citizen, permanent_resident=family[0])
    client.force_login(citizen)
    _english(client)
    return client


@pytest.fixture
def stranger(other_desa):
    return resident_create(family=family_create(desa=other_desa), full_name="ORANG LAIN")


@pytest.fixture
def newcomer_client(client):
    user = UserFactory()
    client.force_login(user)
    _english(client)
    client.user = user
    return client


def _only_submission() -> Submission:
    return Submission.objects.get()


def _withdraw(submission: Submission) -> None:
    services.submission_withdraw(submission=submission, actor=submission.filed_by)


def test_biodata_correction_stores_only_the_changed_elements_when_posted(
    me_client, citizen, family
) -> None:
    _me, spouse, _child = family
    url = _new(Kind.BIODATA_CORRECTION)
    step = me_client.post(url, {"step": "subject", "subject_nik": spouse.nik})
    assert step.status_code == 200
    assert "BUDI SUAMI" in step.text and "Current data" in step.text
    data = _current_post(Kind.BIODATA_CORRECTION, spouse) | {
        "step": "proposal",
        "subject_nik": spouse.nik,
        "occupation": str(Occupation.TEACHER),
        "basis_occupation": "SK pengangkatan guru",
        "education": str(Education.DIPLOMA_4_S1),
        "basis_education": "Ijazah S1",
        "full_name": "budi   suami",  # same name, other spelling: not a change
    }
    response = me_client.post(url, data)
    submission = _only_submission()
    assert response.status_code == 302
    assert response["Location"] == reverse("submissions:detail", args=[submission.tracking_code])
    assert spouse.nik not in response["Location"]
    assert _items(submission) == {
        "occupation": (str(Occupation.FARMER), str(Occupation.TEACHER), "SK pengangkatan guru"),
        "education": (str(Education.SENIOR_SECONDARY), str(Education.DIPLOMA_4_S1), "Ijazah S1"),
    }
    assert (submission.kind, submission.status, submission.channel) == (
        Kind.BIODATA_CORRECTION,
        Status.DRAFT,
        Channel.CITIZEN,
    )
    assert (submission.subject_registry, submission.subject_id) == (Registry.PERMANENT, spouse.pk)
    assert submission.subject_key == crypto.nik_index(spouse.nik)
    assert (submission.filed_by, submission.citizen, submission.desa) == (
        citizen,
        citizen,
        spouse.family.desa,
    )


def test_biodata_correction_is_refused_when_a_change_has_no_document(me_client, family) -> None:
    me = family[0]
    data = _current_post(Kind.BIODATA_CORRECTION, me) | {
        "step": "proposal",
        "subject_nik": me.nik,
        "occupation": str(Occupation.TEACHER),
    }
    response = me_client.post(_new(Kind.BIODATA_CORRECTION), data)
    assert response.status_code == 200
    assert "Name the document that proves this change." in response.text
    assert not Submission.objects.exists()


def test_nothing_is_stored_when_no_value_differs(me_client, family) -> None:
    me = family[0]
    data = _current_post(Kind.BIODATA_CORRECTION, me) | {"step": "proposal", "subject_nik": me.nik}
    response = me_client.post(_new(Kind.BIODATA_CORRECTION), data, follow=True)
    assert "nothing to submit" in response.text
    assert not Submission.objects.exists()


def test_address_change_for_the_whole_family_routes_to_the_new_village_when_posted(
    me_client, family, desa
) -> None:
    me, _spouse, child = family
    new_desa = Desa.objects.filter(kecamatan=desa.kecamatan).exclude(pk=desa.pk).first()
    data = _current_post(Kind.ADDRESS_CHANGE, child) | {
        "step": "proposal",
        "subject_nik": child.nik,
        "desa": str(new_desa.pk),
        "rt": "3",
        "whole_family": "on",
        "basis": "Surat pengantar RT 003",
    }
    assert me_client.post(_new(Kind.ADDRESS_CHANGE), data).status_code == 302
    submission = _only_submission()
    assert _items(submission) == {
        "desa": (str(desa.pk), str(new_desa.pk), "Surat pengantar RT 003"),
        "rt": ("001", "003", "Surat pengantar RT 003"),
    }
    assert submission.desa == new_desa
    assert submission.whole_family
    assert submission.family == me.family
    assert submission.subject_key == me.nik_index  # the family head's
    detail = me_client.get(reverse("submissions:detail", args=[submission.tracking_code]))
    assert new_desa.name in detail.text and "The whole family" in detail.text


def test_birth_proposes_a_new_child_without_nik_when_posted(me_client, family) -> None:
    me = family[0]
    page = me_client.get(_new(Kind.BIRTH))
    assert page.status_code == 200 and 'name="subject_nik"' not in page.text
    data = {
        "step": "proposal",
        "full_name": "bayi  baru",
        "sex": str(Sex.MALE),
        "birth_place": "Purworejo",
        "birth_date": "2025-10-01",
        "religion": "1",
        "father_name": "Budi Suami",
        "mother_name": "Siti Pemilik",
        "basis": "Surat keterangan lahir dari bidan",
    }
    assert me_client.post(_new(Kind.BIRTH), data).status_code == 302
    submission = _only_submission()
    items = _items(submission)
    assert set(items) == {
        "full_name",
        "sex",
        "birth_place",
        "birth_date",
        "religion",
        "father_name",
        "mother_name",
    }
    assert items["full_name"] == ("", "BAYI BARU", "Surat keterangan lahir dari bidan")
    assert items["birth_date"][1] == "2025-10-01"
    assert "nik" not in items
    assert (submission.subject_registry, submission.subject_id) == (Registry.FAMILY, me.family_id)
    assert submission.subject_key == crypto.blind_index(
        f"{me.family.kk_number}:BAYI BARU", purpose="birth"
    )


def test_death_closes_the_family_member_when_posted(me_client, family) -> None:
    spouse = family[1]
    data = {
        "step": "proposal",
        "subject_nik": spouse.nik,
        "death_date": "2025-12-01",
        "death_place": "rsud purworejo",
        "basis": "Surat keterangan kematian dari desa",
    }
    assert me_client.post(_new(Kind.DEATH), data).status_code == 302
    submission = _only_submission()
    basis = "Surat keterangan kematian dari desa"
    assert _items(submission) == {
        "life_status": (LifeStatus.ALIVE, LifeStatus.DEAD, basis),
        "death_date": ("", "2025-12-01", basis),
        "death_place": ("", "RSUD PURWOREJO", basis),
    }
    assert submission.subject_id == spouse.pk


def test_death_date_in_the_future_is_refused_when_posted(me_client, family) -> None:
    future = datetime.date.today() + datetime.timedelta(days=30)
    data = {
        "step": "proposal",
        "subject_nik": family[1].nik,
        "death_date": future.isoformat(),
        "death_place": "RUMAH",
        "basis": "Surat",
    }
    response = me_client.post(_new(Kind.DEATH), data)
    assert "This date cannot be in the future." in response.text
    assert not Submission.objects.exists()


def test_move_out_stores_destination_and_date_when_posted(me_client, family) -> None:
    me = family[0]
    data = {
        "step": "proposal",
        "subject_nik": me.nik,
        "destination_address": "Jl. Malioboro 1, Yogyakarta",
        "destination_region_code": "34.71",
        "move_date": "2026-01-15",
        "basis": "Surat keterangan pindah",
    }
    assert me_client.post(_new(Kind.MOVE_OUT), data).status_code == 302
    submission = _only_submission()
    basis = "Surat keterangan pindah"
    assert _items(submission) == {
        "life_status": (LifeStatus.ALIVE, LifeStatus.MOVED_AWAY, basis),
        "destination_address": ("", "Jl. Malioboro 1, Yogyakarta", basis),
        "destination_region_code": ("", "3471", basis),
        "move_date": ("", "2026-01-15", basis),
    }
    assert submission.desa == me.family.desa
    assert not submission.whole_family
    assert submission.subject_key == me.nik_index


def test_move_out_is_refused_when_the_destination_is_inside_purworejo(me_client, family) -> None:
    data = {
        "step": "proposal",
        "subject_nik": family[0].nik,
        "destination_address": "Desa lain",
        "destination_region_code": "330607",
        "move_date": "2026-01-15",
        "basis": "Surat",
    }
    response = me_client.post(_new(Kind.MOVE_OUT), data)
    assert "file a change of address instead" in response.text
    assert not Submission.objects.exists()


def _newcomer(region: str = "340401", sex: int = Sex.MALE) -> dict[str, str]:
    birth_date = datetime.date(2001, 2, 3)
    return {
        "nik": next_nik(region=region, birth_date=birth_date, sex=sex),
        "full_name": "Tamu Dari Sleman",
        "birth_place": "Sleman",
        "birth_date": birth_date.isoformat(),
        "sex": str(sex),
        "religion": "1",
        "marital_status": "1",
        "education": "5",
        "occupation": "3",
        "mother_name": "Ibu Tamu",
    }


def test_arrival_proposes_a_permanent_record_and_warns_when_the_nik_is_from_elsewhere(
    newcomer_client, desa
) -> None:
    person = _newcomer()
    data = person | {
        "step": "proposal",
        "desa": str(desa.pk),
        "rt": "1",
        "rw": "4",
        "address": "Jl. Baru 2",
        "basis": "SKPWNI Sleman",
    }
    response = newcomer_client.post(_new(Kind.ARRIVAL), data, follow=True)
    assert "This NIK was issued outside Purworejo Regency." in response.text
    submission = _only_submission()
    items = _items(submission)
    assert items["nik"] == ("", person["nik"], "SKPWNI Sleman")
    assert items["full_name"][1] == "TAMU DARI SLEMAN"
    assert items["rt"][1] == "001" and items["rw"][1] == "004"
    assert items["desa"][1] == str(desa.pk)
    assert "father_name" not in items  # left empty: not a change
    assert submission.desa == desa
    assert submission.subject_key == crypto.nik_index(person["nik"])
    assert submission.citizen == newcomer_client.user
    assert person["nik"] not in response.text  # shown masked on the detail page


def test_arrival_is_refused_when_the_nik_is_invalid(newcomer_client, desa) -> None:
    data = _newcomer() | {
        "step": "proposal",
        "nik": "1234",
        "desa": str(desa.pk),
        "rt": "1",
        "rw": "4",
        "address": "Jl. Baru 2",
        "basis": "SKPWNI",
    }
    response = newcomer_client.post(_new(Kind.ARRIVAL), data)
    assert "NIK must be exactly 16 digits" in response.text
    assert not Submission.objects.exists()


def _stay(desa, start: str, end: str) -> dict[str, str]:
    return _newcomer(sex=Sex.FEMALE) | {
        "step": "proposal",
        "origin_address": "Jl. Kaliurang 5, Sleman",
        "origin_region_code": "3404",
        "purpose": "study",
        "host_institution": "Universitas Muhammadiyah Purworejo",
        "domicile_desa": str(desa.pk),
        "domicile_rt": "2",
        "domicile_rw": "3",
        "domicile_address": "Kos Melati",
        "start_date": start,
        "expected_end_date": end,
        "basis": "Surat keterangan kuliah",
    }


def test_non_permanent_registration_is_stored_when_the_stay_is_under_a_year(
    newcomer_client, desa
) -> None:
    data = _stay(desa, "2026-01-10", "2026-07-10")
    assert newcomer_client.post(_new(Kind.NON_PERMANENT), data).status_code == 302
    submission = _only_submission()
    items = _items(submission)
    assert items["purpose"] == ("", "study", "Surat keterangan kuliah")
    assert items["domicile_desa"][1] == str(desa.pk)
    assert items["domicile_rt"][1] == "002"
    assert items["expected_end_date"][1] == "2026-07-10"
    assert submission.desa == desa
    assert submission.subject_registry == ""


@pytest.mark.parametrize(
    ("end", "message"),
    [
        ("2027-02-01", "A non-permanent stay lasts at most one year."),
        ("2026-01-01", "The end of the stay must come after its start."),
    ],
)
def test_non_permanent_registration_is_refused_when_the_period_is_wrong(
    newcomer_client, desa, end, message
) -> None:
    response = newcomer_client.post(_new(Kind.NON_PERMANENT), _stay(desa, "2026-01-10", end))
    assert message in response.text
    assert not Submission.objects.exists()


def test_report_is_routed_to_the_persons_village_and_kept_confidential_when_posted(
    me_client, citizen, stranger, desa, client
) -> None:
    data = {
        "step": "proposal",
        "nik": stranger.nik,
        "full_name": "Orang Lain",
        "desa": str(desa.pk),  # the reporter's guess; the NIK says otherwise
        "description": "Sudah pindah ke Jakarta sejak Maret.",
    }
    assert me_client.post(_new(Kind.REPORT), data).status_code == 302
    submission = _only_submission()
    assert _items(submission) == {
        "nik": ("", stranger.nik, ""),
        "full_name": ("", "ORANG LAIN", ""),
        "desa": ("", str(desa.pk), ""),
    }
    assert submission.desa == stranger.family.desa
    assert submission.description == "Sudah pindah ke Jakarta sejak Maret."
    assert submission.subject_key == crypto.blind_index(
        f"{citizen.pk}:{stranger.nik}", purpose="report"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT description FROM submissions_submission WHERE id = %s", [submission.pk]
        )
        assert "Jakarta" not in cursor.fetchone()[0]
    # A second reporter is not blocked by the first one's open report.
    other = UserFactory()
    other_client = type(client)()
    other_client.force_login(other)
    assert other_client.post(_new(Kind.REPORT), data).status_code == 302
    assert Submission.objects.filter(kind=Kind.REPORT).count() == 2
    # The person reported about never sees who reported them.
    reported = UserFactory()
    ResidentLink.objects.create(user=reported, permanent_resident=stranger)
    other_client.force_login(reported)
    listing = other_client.get(reverse("submissions:list"))
    assert submission.tracking_code not in listing.text


def test_report_without_nik_is_keyed_by_its_description_when_posted(me_client, desa) -> None:
    data = {
        "step": "proposal",
        "full_name": "Pak Tua",
        "desa": str(desa.pk),
        "description": "Meninggal bulan lalu.",
    }
    assert me_client.post(_new(Kind.REPORT), data).status_code == 302
    data["description"] = "Pindah ke Kebumen."
    assert me_client.post(_new(Kind.REPORT), data).status_code == 302
    assert Submission.objects.filter(kind=Kind.REPORT, desa=desa).count() == 2


def _biodata_post(resident, **changes: str) -> dict[str, str]:
    data = _current_post(Kind.BIODATA_CORRECTION, resident) | {
        "step": "proposal",
        "subject_nik": resident.nik,
    }
    for name, value in changes.items():
        data[name] = value
        data[f"basis_{name}"] = "Dokumen"
    return data


def test_citizen_sees_the_note_edits_and_resubmits_when_an_officer_returns_it(
    me_client, family, operator_desa
) -> None:
    me = family[0]
    me_client.post(
        _new(Kind.BIODATA_CORRECTION), _biodata_post(me, occupation=str(Occupation.TEACHER))
    )
    submission = _only_submission()
    code = submission.tracking_code
    me_client.post(reverse("submissions:submit", args=[code]))
    submission.refresh_from_db()
    assert submission.status == Status.SUBMITTED
    submission_decide(
        submission=submission,
        officer=operator_desa,
        outcome=Outcome.RETURN,
        note="Lampirkan SK pengangkatan.",
        fields=["occupation"],
    )
    detail = me_client.get(reverse("submissions:detail", args=[code]))
    assert "Returned for revision" in detail.text
    assert "Lampirkan SK pengangkatan." in detail.text
    edit_url = reverse("submissions:edit", args=[code])
    edit = me_client.get(edit_url)
    assert edit.status_code == 200 and "Lampirkan SK pengangkatan." in edit.text
    data = _biodata_post(me, occupation=str(Occupation.LECTURER)) | {
        "evidence": SimpleUploadedFile("sk.pdf", PDF, content_type="application/pdf")
    }
    assert me_client.post(edit_url, data).status_code == 302
    assert _items(submission) == {
        "occupation": (str(Occupation.FARMER), str(Occupation.LECTURER), "Dokumen")
    }
    assert submission.evidence.count() == 1
    response = me_client.post(reverse("submissions:submit", args=[code]), follow=True)
    submission.refresh_from_db()
    assert submission.status == Status.SUBMITTED
    assert submission.officer_note == ""
    assert "Submitted" in response.text
    statuses = list(submission.events.values_list("to_status", flat=True))
    assert statuses == [Status.DRAFT, Status.SUBMITTED, Status.RETURNED, Status.SUBMITTED]


def test_submission_cannot_be_edited_when_it_is_under_review(me_client, family) -> None:
    me = family[0]
    me_client.post(
        _new(Kind.BIODATA_CORRECTION), _biodata_post(me, occupation=str(Occupation.TEACHER))
    )
    code = _only_submission().tracking_code
    me_client.post(reverse("submissions:submit", args=[code]))
    edit_url = reverse("submissions:edit", args=[code])
    response = me_client.post(edit_url, _biodata_post(me, occupation=str(Occupation.LECTURER)))
    assert response.status_code == 302
    assert _items(_only_submission())["occupation"][1] == str(Occupation.TEACHER)


def test_citizen_withdraws_when_they_change_their_mind(me_client, family) -> None:
    me = family[0]
    me_client.post(
        _new(Kind.BIODATA_CORRECTION), _biodata_post(me, occupation=str(Occupation.TEACHER))
    )
    code = _only_submission().tracking_code
    me_client.post(reverse("submissions:submit", args=[code]))
    response = me_client.post(reverse("submissions:withdraw", args=[code]), follow=True)
    assert _only_submission().status == Status.WITHDRAWN
    assert "withdrawn" in response.text
    assert reverse("submissions:withdraw", args=[code]) not in response.text
    # A closed submission no longer blocks a new one of the same kind.
    me_client.post(
        _new(Kind.BIODATA_CORRECTION), _biodata_post(me, occupation=str(Occupation.TEACHER))
    )
    assert Submission.objects.count() == 2


def test_second_submission_names_the_open_one_when_the_same_kind_is_filed_again(
    me_client, family
) -> None:
    me = family[0]
    url = _new(Kind.BIODATA_CORRECTION)
    me_client.post(url, _biodata_post(me, occupation=str(Occupation.TEACHER)))
    first = _only_submission()
    response = me_client.post(url, _biodata_post(me, education=str(Education.MASTER)), follow=True)
    assert response.status_code == 200
    assert f"tracking code {first.tracking_code}" in response.text
    assert Submission.objects.count() == 1


def test_duplicate_message_hides_the_code_when_someone_else_filed_the_open_one(
    me_client, family, client
) -> None:
    me, spouse, _child = family
    husband = UserFactory()
    ResidentLink.objects.create(user=husband, permanent_resident=spouse)
    husband_client = type(client)()
    husband_client.force_login(husband)
    husband_client.post(
        _new(Kind.BIODATA_CORRECTION), _biodata_post(me, occupation=str(Occupation.TEACHER))
    )
    theirs = _only_submission()
    response = me_client.post(
        _new(Kind.BIODATA_CORRECTION), _biodata_post(me, education=str(Education.MASTER))
    )
    assert "filed by someone else" in response.text
    assert theirs.tracking_code not in response.text
    assert Submission.objects.count() == 1


def test_citizen_cannot_file_when_the_nik_is_outside_their_family(me_client, stranger) -> None:
    url = _new(Kind.BIODATA_CORRECTION)
    step = me_client.post(url, {"step": "subject", "subject_nik": stranger.nik})
    assert "This person is not on your family card." in step.text
    assert "ORANG LAIN" not in step.text
    forged = _biodata_post(stranger, occupation=str(Occupation.TEACHER))
    response = me_client.post(url, forged)
    assert "This person is not on your family card." in response.text
    for kind in (Kind.ADDRESS_CHANGE, Kind.DEATH, Kind.MOVE_OUT):
        me_client.post(_new(kind), {"step": "proposal", "subject_nik": stranger.nik})
    assert not Submission.objects.exists()


def test_unlinked_citizen_is_sent_to_link_when_filing_about_a_family(newcomer_client) -> None:
    for kind in (Kind.BIODATA_CORRECTION, Kind.BIRTH, Kind.DEATH):
        response = newcomer_client.get(_new(kind))
        assert response.status_code == 302
        assert response["Location"] == reverse("linking:link")


def test_assisted_submission_records_operator_resident_and_consent_when_filed(
    client, operator_desa, family, citizen
) -> None:
    me = family[0]
    ResidentLink.objects.create(user=citizen, permanent_resident=me)
    client.force_login(operator_desa)
    _english(client)
    url = _new(Kind.BIODATA_CORRECTION)
    step = client.post(url, {"step": "subject", "subject_nik": me.nik})
    assert 'name="consent"' in step.text
    data = _biodata_post(me, occupation=str(Occupation.TRADER))
    refused = client.post(url, data)
    assert "This field is required." in refused.text
    assert not Submission.objects.exists()
    assert client.post(url, data | {"consent": "on"}).status_code == 302
    submission = _only_submission()
    assert (submission.channel, submission.filed_by, submission.citizen) == (
        Channel.ASSISTED,
        operator_desa,
        citizen,
    )
    assert submission.consent_given
    assert submission.subject_id == me.pk
    client.force_login(citizen)
    listing = client.get(reverse("submissions:list"))
    assert submission.tracking_code in listing.text
    assert "Filed by a village operator" in listing.text


def test_operator_cannot_file_when_the_resident_lives_in_another_village(
    client, operator_desa, stranger
) -> None:
    client.force_login(operator_desa)
    _english(client)
    url = _new(Kind.BIODATA_CORRECTION)
    step = client.post(url, {"step": "subject", "subject_nik": stranger.nik})
    assert "No resident of your village has this NIK." in step.text
    data = _biodata_post(stranger, occupation=str(Occupation.TRADER)) | {"consent": "on"}
    client.post(url, data)
    assert not Submission.objects.exists()
    assert client.get(_new(Kind.REPORT)).status_code == 404


def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, "PNG")
    return buffer.getvalue()


def test_several_evidence_files_are_stored_when_uploaded_with_the_form(
    me_client, family, settings, tmp_path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    data = _biodata_post(family[0], occupation=str(Occupation.TEACHER)) | {
        "evidence": [
            SimpleUploadedFile("sk.pdf", PDF, content_type="application/pdf"),
            SimpleUploadedFile("foto.png", _png(), content_type="image/png"),
        ]
    }
    assert me_client.post(_new(Kind.BIODATA_CORRECTION), data).status_code == 302
    evidence = list(_only_submission().evidence.order_by("pk"))
    assert [e.content_type for e in evidence] == ["application/pdf", "image/png"]
    assert all(str(tmp_path) in e.file.path for e in evidence)


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ([("a.pdf", PDF)] * 6, "At most 5 evidence files may be attached"),
        ([("virus.pdf", b"MZ\x90\x00" + b"\x00" * 100)], "Only PDF, JPEG or PNG files"),
    ],
    ids=["six-files", "renamed-exe"],
)
def test_evidence_is_refused_with_a_message_when_the_files_are_wrong(
    me_client, family, settings, tmp_path, files, message
) -> None:
    settings.MEDIA_ROOT = tmp_path
    data = _biodata_post(family[0], occupation=str(Occupation.TEACHER)) | {
        "evidence": [SimpleUploadedFile(name, content) for name, content in files]
    }
    response = me_client.post(_new(Kind.BIODATA_CORRECTION), data, follow=True)
    assert message in response.text
    assert not Submission.objects.exists()
    assert not list(tmp_path.rglob("*.pdf"))


def test_notifications_are_listed_and_marked_read_when_opened(me_client, family) -> None:
    me_client.post(
        _new(Kind.BIODATA_CORRECTION),
        _biodata_post(family[0], occupation=str(Occupation.TEACHER)),
    )
    code = _only_submission().tracking_code
    me_client.post(reverse("submissions:submit", args=[code]))
    assert Notification.objects.filter(read_at__isnull=True).count() == 1
    page = me_client.get(reverse("submissions:notifications"))
    assert code in page.text and "New" in page.text
    assert not Notification.objects.filter(read_at__isnull=True).exists()


def test_pages_have_no_inline_script_or_style_when_rendered(me_client, family) -> None:
    me = family[0]
    me_client.post(
        _new(Kind.BIODATA_CORRECTION), _biodata_post(me, occupation=str(Occupation.TEACHER))
    )
    code = _only_submission().tracking_code
    pages = [
        me_client.get(reverse("submissions:list")),
        me_client.get(reverse("submissions:choose")),
        me_client.get(_new(Kind.BIODATA_CORRECTION)),
        me_client.post(_new(Kind.BIODATA_CORRECTION), {"step": "subject", "subject_nik": me.nik}),
        me_client.get(_new(Kind.NON_PERMANENT)),
        me_client.get(reverse("submissions:detail", args=[code])),
        me_client.get(reverse("submissions:edit", args=[code])),
        me_client.get(reverse("submissions:notifications")),
    ]
    guarded = 0
    for page in pages:
        assert page.status_code == 200
        assert "<script" not in page.text
        assert " style=" not in page.text and "<style" not in page.text
        # Every form but the language switch (csrf-exempt: it only sets a cookie) posts
        # with its token.
        forms = re.findall(r"<form\b[^>]*>.*?</form>", page.text, re.DOTALL)
        for form in forms:
            assert 'action="/i18n/setlang/"' in form or "csrfmiddlewaretoken" in form, form
            guarded += "csrfmiddlewaretoken" in form
    assert guarded >= 5


def test_every_kind_opens_its_form_when_chosen(me_client) -> None:
    choose = me_client.get(reverse("submissions:choose"))
    for kind in Kind:
        if kind in (Kind.INSTITUTION_UPDATE, Kind.SKTS):  # filed by other pages, not forms
            continue
        assert _new(kind) in choose.text
        assert me_client.get(_new(kind)).status_code == 200
    assert me_client.get(reverse("submissions:new", args=["nonsense"])).status_code == 404


def test_institution_updates_cannot_be_filed_through_the_forms_when_tried_by_url(
    me_client,
) -> None:
    choose = me_client.get(reverse("submissions:choose"))
    assert _new(Kind.INSTITUTION_UPDATE) not in choose.text
    assert me_client.get(_new(Kind.INSTITUTION_UPDATE)).status_code == 404


def test_birth_is_edited_and_resubmitted_when_returned(me_client, family, operator_desa) -> None:
    data = {
        "step": "proposal",
        "full_name": "Bayi Baru",
        "sex": str(Sex.FEMALE),
        "birth_place": "Purworejo",
        "birth_date": "2025-10-01",
        "religion": "1",
        "mother_name": "Siti Pemilik",
        "basis": "Surat bidan",
    }
    me_client.post(_new(Kind.BIRTH), data)
    submission = _only_submission()
    code = submission.tracking_code
    me_client.post(reverse("submissions:submit", args=[code]))
    submission_decide(
        submission=Submission.objects.get(pk=submission.pk),
        officer=operator_desa,
        outcome=Outcome.RETURN,
        note="Tulis nama ayah.",
        fields=["father_name"],
    )
    edit_url = reverse("submissions:edit", args=[code])
    assert 'value="BAYI BARU"' in me_client.get(edit_url).text
    data |= {"father_name": "Budi Suami"}
    assert me_client.post(edit_url, data).status_code == 302
    assert _items(submission)["father_name"] == ("", "BUDI SUAMI", "Surat bidan")
    me_client.post(reverse("submissions:submit", args=[code]))
    assert Submission.objects.get(pk=submission.pk).status == Status.SUBMITTED


def test_address_change_moves_its_key_when_the_family_scope_is_edited(me_client, family, desa):
    me, spouse, _child = family
    new_desa = Desa.objects.filter(kecamatan=desa.kecamatan).exclude(pk=desa.pk).first()
    data = _current_post(Kind.ADDRESS_CHANGE, spouse) | {
        "step": "proposal",
        "subject_nik": spouse.nik,
        "desa": str(new_desa.pk),
        "whole_family": "on",
        "basis": "Surat pengantar",
    }
    me_client.post(_new(Kind.ADDRESS_CHANGE), data)
    submission = _only_submission()
    assert submission.subject_key == me.nik_index
    del data["whole_family"]
    edit_url = reverse("submissions:edit", args=[submission.tracking_code])
    assert me_client.post(edit_url, data).status_code == 302
    submission.refresh_from_db()
    assert (submission.whole_family, submission.subject_key) == (False, spouse.nik_index)


def test_death_form_does_not_offer_the_citizen_themselves_when_choosing(me_client, family):
    me, spouse, _child = family
    page = me_client.get(_new(Kind.DEATH))
    assert spouse.full_name in page.text
    assert me.full_name not in page.text


def _linked_non_permanent(client, desa):
    resident = non_permanent_create(desa=desa, origin_region_code="3404", mother_name="")
    user = UserFactory()
    ResidentLink.objects.create(user=user, non_permanent_resident=resident)
    client.force_login(user)
    _english(client)
    return resident


def test_non_permanent_resident_corrects_only_their_own_biodata_when_linked(client, desa):
    resident = _linked_non_permanent(client, desa)
    step = client.get(_new(Kind.BIODATA_CORRECTION))
    assert "TAMU UJI" in step.text
    data = _current_post(Kind.BIODATA_CORRECTION, resident) | {
        "step": "proposal",
        "subject_nik": resident.nik,
        "occupation": str(Occupation.PRIVATE_EMPLOYEE),
        "basis_occupation": "Surat kerja",
    }
    assert client.post(_new(Kind.BIODATA_CORRECTION), data).status_code == 302
    submission = _only_submission()
    assert (submission.subject_registry, submission.subject_id) == (
        Registry.NON_PERMANENT,
        resident.pk,
    )
    assert submission.desa == desa
    response = client.get(_new(Kind.DEATH))
    assert response.status_code == 302
    assert response["Location"] == reverse("submissions:choose")


def test_non_permanent_resident_extends_their_stay_but_registers_nobody_else_when_linked(
    client, desa
):
    resident = _linked_non_permanent(client, desa)
    page = client.get(_new(Kind.NON_PERMANENT))
    assert "Current data" in page.text and "Asrama Blok A" in page.text
    data = _current_post(Kind.NON_PERMANENT, resident) | {
        "step": "proposal",
        "start_date": "2026-06-01",
        "expected_end_date": "2027-05-31",
        "basis": "Surat kampus",
    }
    assert client.post(_new(Kind.NON_PERMANENT), data).status_code == 302
    submission = _only_submission()
    assert set(_items(submission)) == {"start_date", "expected_end_date"}
    assert submission.subject_id == resident.pk
    _withdraw(submission)
    other = _newcomer()
    response = client.post(_new(Kind.NON_PERMANENT), data | {"nik": other["nik"]}, follow=True)
    assert "You can only register yourself." in response.text
    assert Submission.objects.count() == 1


def _queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_list_and_detail_use_a_fixed_number_of_queries_when_submissions_grow(
    me_client, citizen, family
) -> None:
    me = family[0]

    def file(kind: Kind) -> Submission:
        return services.submission_create(
            kind=kind,
            filed_by=citizen,
            citizen=citizen,
            channel=Channel.CITIZEN,
            desa=me.family.desa,
            subject_key=me.nik_index,
            items=[services.Item(field="occupation", before="9", after="65", basis="SK")],
        )

    first = file(Kind.BIODATA_CORRECTION)
    detail = reverse("submissions:detail", args=[first.tracking_code])
    small = _queries_for(me_client, reverse("submissions:list")), _queries_for(me_client, detail)
    for kind in (Kind.DEATH, Kind.MOVE_OUT, Kind.ADDRESS_CHANGE, Kind.BIRTH):
        file(kind)
    services.submission_submit(submission=first, actor=citizen)
    services.submission_withdraw(submission=Submission.objects.get(pk=first.pk), actor=citizen)
    large = _queries_for(me_client, reverse("submissions:list")), _queries_for(me_client, detail)
    assert large == small
    assert small[0] <= 8
