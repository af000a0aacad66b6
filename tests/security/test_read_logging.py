"""Issue 16, item 5: every officer read of personal data writes an AccessLog row that the
citizen sees, and every page that shows a resident's name or NIK is in the one registry of
such pages (citizens.reads)."""

import json
import re
from collections.abc import Iterator
from itertools import product

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse

from citizens import reads
from citizens.choices import AccessPurpose, Registry, Role
from citizens.models import AccessLog, NonPermanentResident, PermanentResident, User
from skts import services as skts_services
from skts.models import Letter
from stakeholders import services as stakeholder_services
from stakeholders import webhooks
from stakeholders.choices import InstitutionKind, RowOutcome, UploadFormat, UploadStatus
from stakeholders.models import ExchangeBatch, ExchangeRow, Institution
from submissions import services as submission_services
from submissions.models import Evidence, Submission
from tests.factories import (
    UserFactory,
    account_link,
    biodata_request_create,
    family_create,
    non_permanent_create,
    resident_create,
)
from tests.skts.conftest import HOST_NIK, make_institution_admin, stay
from tests.stakeholders.apikit import auth, issue_key
from tests.stakeholders.conftest import institution_with_agreements
from tests.stakeholders.receiver import receiver
from verification import services as review
from verification.choices import Outcome

pytestmark = pytest.mark.django_db

PERSON = "WARGA SAPUAN PERTAMA"
NEIGHBOUR = "WARGA SAPUAN KEDUA"
GUEST = "TAMU SAPUAN KETIGA"


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path / "private"
    settings.SKTS_PUBLIC_BASE_URL = "https://portal.example.test"


@pytest.fixture
def university(db) -> Institution:
    return institution_with_agreements(name="Universitas Sapuan", kind=InstitutionKind.UNIVERSITY)


@pytest.fixture
def university_admin(university: Institution) -> User:
    return make_institution_admin(university)


@pytest.fixture
def person(desa) -> PermanentResident:
    """A resident of the operator's village whose citizen account is linked, with a neighbour
    on another family card of the same village."""
    resident = resident_create(family=family_create(desa=desa), full_name=PERSON)
    resident_create(family=family_create(desa=desa), full_name=NEIGHBOUR)
    account_link(UserFactory(role=Role.CITIZEN, full_name=PERSON), resident)
    return resident


def _citizen_of(resident: PermanentResident) -> User:
    return User.objects.get(resident_link__permanent_resident=resident)


@pytest.fixture
def submitted(person) -> Submission:
    """The person's own biodata correction, submitted, with a scan naming them."""
    citizen = _citizen_of(person)
    submission = biodata_request_create(citizen=citizen, resident=person)
    submission_services.evidence_attach(
        submission=submission,
        actor=citizen,
        upload=SimpleUploadedFile(
            "scan.pdf",
            f"%PDF-1.4\n{PERSON} {person.nik}\n%%EOF\n".encode(),
            content_type="application/pdf",
        ),
    )
    return submission_services.submission_submit(submission=submission, actor=citizen)


def _rostered_guest(desa, university: Institution, admin: User) -> NonPermanentResident:
    """A student on the university's applied roster."""
    resident = non_permanent_create(
        desa=desa, full_name=GUEST, host_institution=university.name, **stay()
    )
    batch = ExchangeBatch.objects.create(
        institution=university,
        format=UploadFormat.ROSTER,
        status=UploadStatus.APPLIED,
        submitted_by=admin,
    )
    ExchangeRow.objects.create(
        batch=batch, line=2, nik_index=resident.nik_index, outcome=RowOutcome.REVIEW, applied=True
    )
    return resident


@pytest.fixture
def guest(desa, university, university_admin) -> NonPermanentResident:
    return _rostered_guest(desa, university, university_admin)


@pytest.fixture
def letter(
    guest, university, university_admin, operator_desa, verifier, django_capture_on_commit_callbacks
) -> Letter:
    """A letter for the student, approved at the desa and at Dukcapil, rendered on commit."""
    result = skts_services.letter_requests_create_many(
        actor=university_admin,
        institution=university,
        resident_ids=[guest.pk],
        host_name="KEPALA ASRAMA",
        host_nik=HOST_NIK,
    )
    submission = result.created[0].submission
    for officer in (operator_desa, verifier):
        with django_capture_on_commit_callbacks(execute=True):
            review.submission_decide(
                submission=Submission.objects.get(pk=submission.pk),
                officer=officer,
                outcome=Outcome.APPROVE,
            )
    return Letter.objects.get(submission=submission)


@pytest.fixture
def error_batch(person, university, university_admin) -> ExchangeBatch:
    """A previewed upload whose one error row carries the person's NIK."""
    batch = ExchangeBatch.objects.create(
        institution=university,
        format=UploadFormat.ROSTER,
        status=UploadStatus.PREVIEWED,
        submitted_by=university_admin,
        counts={RowOutcome.ERROR: 1},
    )
    ExchangeRow.objects.create(
        batch=batch,
        line=2,
        nik_index=person.nik_index,
        values=json.dumps({"nik": person.nik}),
        outcome=RowOutcome.ERROR,
        errors="pendidikan: bukan pilihan yang valid",
    )
    return batch


def _body(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


def _seen_by_citizen(client, resident: PermanentResident) -> str:
    """The person's own record page, where their access log is shown."""
    client.force_login(_citizen_of(resident))
    return client.get(reverse("mydata:overview")).content.decode()


# One test per officer read that left no trace before.


def test_evidence_download_is_logged_when_an_officer_opens_it(
    client, verifier, person, submitted
) -> None:
    evidence = Evidence.objects.get(submission=submitted)
    url = reverse("submissions:evidence", args=[submitted.tracking_code, evidence.pk])
    client.force_login(_citizen_of(person))
    assert client.get(url).status_code == 200  # the citizen's own read is not logged
    client.force_login(verifier)
    response = client.get(url)
    assert response.status_code == 200
    entry = AccessLog.objects.get(registry=Registry.PERMANENT, record_id=person.pk)
    assert entry.actor == verifier and entry.purpose == AccessPurpose.EVIDENCE
    assert person.nik not in entry.reason and PERSON not in entry.reason


def test_submission_page_is_logged_when_an_officer_opens_the_proposal(
    client, operator_desa, person, submitted
) -> None:
    client.force_login(operator_desa)
    response = client.get(reverse("submissions:detail", args=[submitted.tracking_code]))
    assert response.status_code == 200
    entry = AccessLog.objects.get(registry=Registry.PERMANENT, record_id=person.pk)
    assert entry.actor == operator_desa and entry.purpose == AccessPurpose.REVIEW
    assert submitted.tracking_code in entry.reason


def test_nik_search_result_is_logged_when_an_officer_searches(client, verifier, person) -> None:
    client.force_login(verifier)
    response = client.post(reverse("citizens:resident_list"), {"nik": person.nik})
    assert PERSON in response.content.decode()
    entry = AccessLog.objects.get(registry=Registry.PERMANENT, record_id=person.pk)
    assert entry.actor == verifier and entry.purpose == AccessPurpose.OFFICER_LIST
    assert person.nik not in entry.reason
    assert AccessLog.objects.count() == 1  # the result, not the neighbour left out of it


def test_resident_list_logs_one_row_per_resident_shown_in_one_insert_when_an_officer_pages(
    client, operator_desa, desa, person, django_assert_max_num_queries
) -> None:
    for number in range(30):
        resident_create(family=family_create(desa=desa), full_name=f"WARGA DAFTAR {number}")
    client.force_login(operator_desa)
    client.get(reverse("citizens:resident_list"))  # warm the session and caches
    before = AccessLog.objects.count()
    with django_assert_max_num_queries(14):
        response = client.get(reverse("citizens:resident_list"))
    shown = response.context["page"].object_list
    assert len(shown) == 25
    assert AccessLog.objects.count() - before == 25
    assert set(AccessLog.objects.order_by("-pk")[:25].values_list("record_id", flat=True)) == {
        resident.pk for resident in shown
    }


def test_skts_register_page_is_logged_when_an_officer_opens_it(client, verifier, letter) -> None:
    client.force_login(verifier)
    response = client.get(reverse("skts:register"))
    assert GUEST in response.content.decode()
    entry = AccessLog.objects.get(
        registry=Registry.NON_PERMANENT, record_id=letter.resident_id, actor=verifier
    )
    assert entry.purpose == AccessPurpose.OFFICER_LIST


def test_skts_register_csv_is_logged_when_an_officer_downloads_it(client, verifier, letter) -> None:
    client.force_login(verifier)
    response = client.get(reverse("skts:register_csv"))
    assert GUEST in _body(response)
    entry = AccessLog.objects.get(
        registry=Registry.NON_PERMANENT, record_id=letter.resident_id, actor=verifier
    )
    assert entry.purpose == AccessPurpose.EXPORT


def test_batch_error_csv_is_logged_when_an_officer_downloads_it(
    client, verifier, person, error_batch
) -> None:
    client.force_login(verifier)
    response = client.get(reverse("stakeholders:batch_errors", args=[error_batch.pk]))
    assert person.nik in _body(response)
    entry = AccessLog.objects.get(registry=Registry.PERMANENT, record_id=person.pk)
    assert entry.actor == verifier and entry.purpose == AccessPurpose.EXPORT


def test_batch_error_csv_is_logged_when_the_institution_downloads_it(
    client,
    university_admin,
    university,
    person,
    error_batch,
) -> None:
    client.force_login(university_admin)
    response = client.get(reverse("stakeholders:batch_errors", args=[error_batch.pk]))
    assert person.nik in _body(response)
    entry = AccessLog.objects.get(registry=Registry.PERMANENT, record_id=person.pk)
    assert entry.purpose == AccessPurpose.INSTITUTION_READ
    assert entry.actor_label == university.name


def test_admin_submission_page_is_logged_when_the_system_admin_opens_it(
    client, system_admin, person, submitted
) -> None:
    client.force_login(system_admin)
    url = reverse("admin:submissions_submission_change", args=[submitted.pk])
    assert client.get(url).status_code == 200
    entry = AccessLog.objects.get(registry=Registry.PERMANENT, record_id=person.pk)
    assert entry.actor == system_admin and entry.purpose == AccessPurpose.OFFICER_VIEW


def test_admin_history_page_is_logged_when_the_system_admin_opens_a_change(
    client, system_admin, person
) -> None:
    from citizens.models import RecordChange

    change = RecordChange.objects.filter(registry=Registry.PERMANENT, record_id=person.pk).first()
    client.force_login(system_admin)
    url = reverse("admin:citizens_recordchange_change", args=[change.pk])
    assert client.get(url).status_code == 200
    entry = AccessLog.objects.get(registry=Registry.PERMANENT, record_id=person.pk)
    assert entry.actor == system_admin and entry.purpose == AccessPurpose.OFFICER_VIEW


def test_admin_account_list_is_logged_when_it_shows_a_linked_resident(
    client, system_admin, person
) -> None:
    client.force_login(system_admin)
    response = client.get(reverse("admin:citizens_user_changelist"))
    assert PERSON in response.content.decode()
    entry = AccessLog.objects.get(registry=Registry.PERMANENT, record_id=person.pk)
    assert entry.actor == system_admin and entry.purpose == AccessPurpose.OFFICER_LIST


def test_citizen_sees_the_officer_reads_when_opening_their_access_log(
    client, verifier, person, submitted
) -> None:
    client.force_login(verifier)
    client.post(reverse("citizens:resident_list"), {"nik": person.nik})
    client.get(reverse("submissions:detail", args=[submitted.tracking_code]))
    page = _seen_by_citizen(client, person)
    assert "Ditampilkan kepada petugas dalam daftar atau hasil pencarian" in page
    assert "Diperiksa untuk pengajuan" in page and submitted.tracking_code in page


# The registry sweep: every page, as every kind of officer, against synthetic residents.


def _walk(
    patterns: list, namespace: str = "", groups: tuple[str, ...] = ()
) -> Iterator[tuple[str, URLPattern, tuple[str, ...]]]:
    for entry in patterns:
        names = groups + tuple(entry.pattern.regex.groupindex)
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, inner, names)
        elif entry.name:
            yield namespace + entry.name, entry, names


def _candidates(name: str, pattern: URLPattern, world: dict) -> dict[str, list]:
    model_admin = getattr(pattern.callback, "model_admin", None)
    values: dict[str, list] = {
        "code": [world["submission"].tracking_code],
        "evidence_id": [world["evidence"].pk],
        "batch_id": [world["batch"].pk],
        "token": [world["letter"].token],
        "app_label": sorted({m._meta.app_label for m in admin.site._registry}),
        "fmt": ["csv", "xlsx", "pdf"],
        "kind": ["biodata"],
        "pk": [world["person"].pk, world["letter"].pk],
    }
    if model_admin is not None:
        pks = list(model_admin.model._default_manager.order_by("-pk").values_list("pk", flat=True))
        values["object_id"] = [str(pk) for pk in pks[:4]]
    return values


def _urls(world: dict) -> Iterator[tuple[str, str, object]]:
    for name, pattern, groups in _walk(get_resolver().url_patterns):
        if name.endswith("logout") or "remove" in name or name.endswith("withdraw"):
            continue
        values = _candidates(name, pattern, world)
        choices = [values.get(group, ["x"]) for group in groups]
        for combination in product(*choices):
            kwargs = dict(zip(groups, combination, strict=True))
            try:
                url = reverse(name, kwargs=kwargs)
            except NoReverseMatch:  # a combination the pattern refuses
                continue
            yield name, url, pattern.callback


class _Sweep:
    """Renders pages and records those that show a resident's name or NIK while unregistered
    (or registered but silent)."""

    def __init__(self, client, world: dict) -> None:
        self.client = client
        self.world = world
        values = [
            value
            for model in (PermanentResident, NonPermanentResident)
            for resident in model.objects.all()
            for value in (resident.full_name, resident.nik)
        ]
        self.markers = re.compile("|".join(re.escape(value) for value in values))
        self.unregistered: set[tuple[str, str]] = set()
        self.silent: set[tuple[str, str]] = set()
        self.rendered = 0

    def run(self, who: str, **headers: str) -> None:
        for name, url, view in _urls(self.world):
            before = AccessLog.objects.count()
            response = self.client.get(url, **headers)
            if response.status_code != 200:
                continue
            self.rendered += 1
            found = self.markers.search(_body(response))
            if found is None:
                continue
            if not reads.is_registered(view):
                self.unregistered.add((name, who))
            elif AccessLog.objects.count() == before:
                self.silent.add((name, who))


def test_every_page_showing_resident_data_is_registered_and_logs_when_an_officer_opens_it(
    client,
    settings,
    operator_desa,
    officer_kecamatan,
    verifier,
    head,
    analyst,
    system_admin,
    university,
    university_admin,
    person,
    submitted,
    letter,
    error_batch,
) -> None:
    settings.STAKEHOLDER_FEED_SETTLE_SECONDS = 0
    sweep = _Sweep(
        client,
        {
            "person": person,
            "submission": submitted,
            "evidence": Evidence.objects.get(submission=submitted),
            "batch": error_batch,
            "letter": letter,
        },
    )
    officers = (operator_desa, officer_kecamatan, verifier, head, analyst, system_admin)
    for user in (*officers, university_admin):
        client.force_login(user)
        sweep.run(user.get_role_display())
    client.logout()
    sweep.run("API key", **auth(issue_key(university, university_admin)))
    assert sweep.rendered > 50
    assert not sweep.unregistered, (
        f"pages show resident data without being in citizens.reads: {sorted(sweep.unregistered)}"
    )
    assert not sweep.silent, (
        f"registered pages showed resident data and logged nothing: {sorted(sweep.silent)}"
    )


def test_change_feed_is_logged_when_an_institution_reads_it(
    client, settings, university, university_admin, guest
) -> None:
    settings.STAKEHOLDER_FEED_SETTLE_SECONDS = 0
    response = client.get(reverse("api:changes"), **auth(issue_key(university, university_admin)))
    assert guest.nik in response.content.decode()
    entry = AccessLog.objects.get(registry=Registry.NON_PERMANENT, record_id=guest.pk)
    assert entry.purpose == AccessPurpose.INSTITUTION_READ
    assert entry.actor_label == university.name and guest.nik not in entry.reason


def test_webhook_delivery_is_logged_when_a_change_reaches_the_institution(
    settings, university, university_admin, desa, django_capture_on_commit_callbacks
) -> None:
    settings.STAKEHOLDER_FEED_SETTLE_SECONDS = 0
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    with receiver() as hook:
        stakeholder_services.webhook_subscription_create(
            institution=university, user=university_admin, url=hook.url
        )
        student = _rostered_guest(desa, university, university_admin)
        with django_capture_on_commit_callbacks(execute=True):
            assert webhooks.webhook_deliveries_enqueue() > 0
    assert hook.received and student.nik in hook.received[0][1].decode()
    rows = AccessLog.objects.filter(registry=Registry.NON_PERMANENT, record_id=student.pk)
    assert rows.count() == len(hook.received)
    assert {row.purpose for row in rows} == {AccessPurpose.INSTITUTION_READ}
    assert all(row.actor_label == university.name for row in rows)
