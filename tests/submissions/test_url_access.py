"""Nobody reaches someone else's submission or evidence by changing a code or id in a URL."""

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from citizens.choices import Occupation, Role
from citizens.models import Kecamatan, ResidentLink
from submissions import kinds, services, urls
from submissions.choices import Channel, Kind, Status
from submissions.models import Evidence, Submission, SubmissionEvent
from tests.factories import UserFactory, family_create, resident_create

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
# URL parameters that name a submission or one of its files; `kind` only picks a blank form.
OBJECT_PARAMS = frozenset({"code", "evidence_id"})
OTHER_PARAMS = frozenset({"kind"})


def _patterns(*, with_objects: bool):
    found = []
    for pattern in urls.urlpatterns:
        params = set(pattern.pattern.converters)
        unknown = params - OBJECT_PARAMS - OTHER_PARAMS
        assert not unknown, f"{pattern.name}: decide how {unknown} is protected and test it"
        if bool(params & OBJECT_PARAMS) == with_objects:
            found.append(pattern)
    return found


def _url(pattern, submission: Submission, evidence: Evidence | None) -> str:
    values = {
        "code": submission.tracking_code,
        "evidence_id": evidence.pk if evidence is not None else 1,
        "kind": Kind.BIODATA_CORRECTION.value,
    }
    kwargs = {name: values[name] for name in pattern.pattern.converters}
    return reverse(f"submissions:{pattern.name}", kwargs=kwargs)


def _with_totp(user):
    TOTP.activate(user, generate_totp_secret())
    return user


def _file(owner, desa, *, status: Status = Status.DRAFT) -> tuple[Submission, Evidence]:
    resident = resident_create(family=family_create(desa=desa), full_name="WARGA B")
    ResidentLink.objects.create(user=owner, permanent_resident=resident)
    spec = kinds.SPECS[Kind.BIODATA_CORRECTION]
    subject = kinds.subject_of(resident)
    cleaned = kinds.current_values(spec, subject) | {
        "occupation": Occupation.TEACHER,
        "basis_occupation": "SK",
    }
    submission = services.submission_file(
        actor=owner,
        proposal=kinds.build(spec, user=owner, subject=subject, cleaned=cleaned),
        channel=Channel.CITIZEN,
        uploads=[SimpleUploadedFile("sk.pdf", PDF)],
    )
    if status == Status.SUBMITTED:
        submission = services.submission_submit(submission=submission, actor=owner)
    return submission, submission.evidence.get()


def _snapshot(submission: Submission) -> tuple:
    submission.refresh_from_db()
    return (
        submission.status,
        submission.version,
        sorted(submission.items.values_list("field", "value_after")),
        sorted(submission.evidence.values_list("pk", flat=True)),
        SubmissionEvent.objects.filter(submission=submission).count(),
        submission.desa_id,
    )


def _attack_payload(submission: Submission) -> dict[str, object]:
    """A valid edit, so a missing check would really change something."""
    return {
        "step": "proposal",
        "full_name": "DIUBAH PENYERANG",
        "birth_place": "X",
        "birth_date": "1990-05-17",
        "religion": "2",
        "blood_type": "1",
        "education": "1",
        "occupation": "1",
        "marital_status": "1",
        "disability": "0",
        **{f"basis_{name}": "palsu" for name in kinds.BIODATA},
        "evidence": SimpleUploadedFile("x.pdf", PDF),
    }


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def victim(db):
    return UserFactory(role=Role.CITIZEN)


@pytest.mark.parametrize("status", [Status.DRAFT, Status.SUBMITTED])
def test_citizen_gets_404_when_using_another_citizens_code_in_any_url(
    media, client, citizen, victim, desa, other_desa, status
) -> None:
    _file(citizen, other_desa)  # A has their own submission and evidence too
    submission, evidence = _file(victim, desa, status=status)
    before = _snapshot(submission)
    client.force_login(citizen)
    patterns = _patterns(with_objects=True)
    assert {p.name for p in patterns} >= {"detail", "edit", "submit", "withdraw", "evidence"}
    for pattern in patterns:
        url = _url(pattern, submission, evidence)
        assert client.get(url).status_code == 404, url
        assert client.post(url, _attack_payload(submission)).status_code == 404, url
    assert _snapshot(submission) == before
    assert evidence.file.storage.exists(evidence.file.name)


def test_citizen_gets_404_when_pairing_their_code_with_another_citizens_evidence_id(
    media, client, citizen, victim, desa, other_desa
) -> None:
    mine, _my_evidence = _file(citizen, other_desa)
    theirs, their_evidence = _file(victim, desa)
    before = _snapshot(theirs)
    client.force_login(citizen)
    args = [mine.tracking_code, their_evidence.pk]
    assert client.get(reverse("submissions:evidence", args=args)).status_code == 404
    assert client.post(reverse("submissions:evidence_remove", args=args)).status_code == 404
    assert _snapshot(theirs) == before


def test_unknown_code_gets_404_when_it_is_well_formed_or_not(client, citizen) -> None:
    client.force_login(citizen)
    assert client.get("/pengajuan/PRJ-0000-0000/").status_code == 404
    assert client.get("/pengajuan/PRJ-IIII-0000/").status_code == 404
    assert client.get("/pengajuan/1/").status_code == 404


def test_anonymous_visitor_is_sent_to_login_when_opening_any_submission_url(
    media, client, victim, desa
) -> None:
    submission, evidence = _file(victim, desa)
    before = _snapshot(submission)
    patterns = _patterns(with_objects=True) + _patterns(with_objects=False)
    assert len(patterns) == len(urls.urlpatterns)
    for pattern in patterns:
        url = _url(pattern, submission, evidence)
        for response in (client.get(url), client.post(url, _attack_payload(submission))):
            assert response.status_code == 302, url
            assert response["Location"].startswith(reverse("account_login")), url
    assert _snapshot(submission) == before


@pytest.mark.parametrize("role", [Role.OPERATOR_DESA, Role.OFFICER_KECAMATAN])
def test_officer_gets_404_when_the_submission_is_outside_their_jurisdiction(
    media, client, victim, desa, role
) -> None:
    submission, evidence = _file(victim, desa)
    before = _snapshot(submission)
    if role == Role.OPERATOR_DESA:
        elsewhere = desa.kecamatan.villages.exclude(pk=desa.pk).first()
        officer = UserFactory(role=role, jurisdiction_desa=elsewhere)
    else:
        kecamatan = Kecamatan.objects.exclude(pk=desa.kecamatan_id).first()
        officer = UserFactory(role=role, jurisdiction_kecamatan=kecamatan)
    client.force_login(_with_totp(officer))
    for pattern in _patterns(with_objects=True):
        url = _url(pattern, submission, evidence)
        assert client.get(url).status_code == 404, url
        assert client.post(url, _attack_payload(submission)).status_code == 404, url
    assert _snapshot(submission) == before


def test_officer_of_the_village_may_read_but_not_act_for_the_citizen_when_in_jurisdiction(
    media, client, victim, desa, operator_desa
) -> None:
    submission, evidence = _file(victim, desa)
    before = _snapshot(submission)
    client.force_login(operator_desa)
    assert (
        client.get(reverse("submissions:detail", args=[submission.tracking_code])).status_code
        == 200
    )
    download = client.get(
        reverse("submissions:evidence", args=[submission.tracking_code, evidence.pk])
    )
    assert download.status_code == 200
    for name in ("submit", "withdraw", "edit"):
        url = reverse(f"submissions:{name}", args=[submission.tracking_code])
        assert client.post(url, _attack_payload(submission)).status_code == 302
    remove = reverse("submissions:evidence_remove", args=[submission.tracking_code, evidence.pk])
    client.post(remove)
    assert _snapshot(submission) == before


def test_evidence_is_downloaded_as_an_attachment_when_the_owner_asks(
    media, client, victim, desa
) -> None:
    submission, evidence = _file(victim, desa)
    client.force_login(victim)
    response = client.get(
        reverse("submissions:evidence", args=[submission.tracking_code, evidence.pk])
    )
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"{submission.tracking_code}-{evidence.pk}.pdf" in disposition
    assert "sk.pdf" not in disposition


def test_owner_removes_evidence_when_the_submission_is_still_a_draft(
    media, client, victim, desa, django_capture_on_commit_callbacks
) -> None:
    submission, evidence = _file(victim, desa)
    client.force_login(victim)
    url = reverse("submissions:evidence_remove", args=[submission.tracking_code, evidence.pk])
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url).status_code == 302
    assert not submission.evidence.exists()
    assert not evidence.file.storage.exists(evidence.file.name)


def test_post_without_csrf_token_is_refused_when_changing_a_submission(media, victim, desa) -> None:
    submission, _evidence = _file(victim, desa)
    before = _snapshot(submission)
    client = Client(enforce_csrf_checks=True)
    client.force_login(victim)
    for name in ("submit", "withdraw"):
        url = reverse(f"submissions:{name}", args=[submission.tracking_code])
        assert client.post(url).status_code == 403
    assert _snapshot(submission) == before


def test_get_cannot_change_a_submission_when_the_action_needs_post(
    media, client, victim, desa
) -> None:
    submission, evidence = _file(victim, desa)
    before = _snapshot(submission)
    client.force_login(victim)
    for name in ("submit", "withdraw"):
        url = reverse(f"submissions:{name}", args=[submission.tracking_code])
        assert client.get(url).status_code == 405
    remove = reverse("submissions:evidence_remove", args=[submission.tracking_code, evidence.pk])
    assert client.get(remove).status_code == 405
    assert _snapshot(submission) == before


def test_admin_shows_but_cannot_change_a_submission_when_a_system_admin_posts(
    media, client, victim, desa, system_admin
) -> None:
    submission, _evidence = _file(victim, desa)
    before = _snapshot(submission)
    client.force_login(system_admin)
    change = reverse("admin:submissions_submission_change", args=[submission.pk])
    page = client.get(change)
    assert page.status_code == 200
    assert 'name="_save"' not in page.text
    client.post(change, {"status": Status.APPROVED, "officer_note": "x"})
    delete = reverse("admin:submissions_submission_delete", args=[submission.pk])
    client.post(delete, {"post": "yes"})
    assert _snapshot(submission) == before
