"""Purpose limitation (UU 27/2022 art. 16, data minimisation; issue #16 item 4): an institution
reads only the rows it has a reason for, through every channel: API lookup, exports, the
change feed and webhook deliveries. A university or a company reads the people on its
applied rosters; an office the population its cooperation agreement (PKS) names."""

import csv
import datetime
import io
import json

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from citizens import services as registry
from citizens.choices import AccessPurpose, AuditAction, ChangeSource, Role, StayPurpose
from citizens.demo import COMPANY as DEMO_COMPANY
from citizens.demo import UNIVERSITY as DEMO_UNIVERSITY
from citizens.models import (
    AccessLog,
    AuditEntry,
    Desa,
    NonPermanentResident,
    PermanentResident,
    RecordChange,
    User,
)
from stakeholders import exports, policy, selectors, services, webhooks
from stakeholders.choices import (
    AgreementKind,
    InstitutionKind,
    ReadScope,
    RowOutcome,
    UploadFormat,
    UploadStatus,
)
from stakeholders.exceptions import InvalidScope, NotAuthorised
from stakeholders.models import ExchangeBatch, ExchangeRow, Institution, InstitutionMember
from stakeholders.policy import Scope
from tests.factories import UserFactory, family_create, non_permanent_create, resident_create
from tests.stakeholders.apikit import auth, issue_key
from tests.stakeholders.conftest import institution_with_agreements
from tests.stakeholders.receiver import receiver

UNIVERSITY = "Universitas Tujuan Purworejo"
COMPANY = "PT Tujuan Purworejo"
SCHOOL_AGE_CLAUSE = "Pasal 4 ayat (2): penduduk usia sekolah 5-18 tahun"
REGENCY_CLAUSE = "Pasal 3 ayat (1): seluruh penduduk Kabupaten Purworejo"
EVERYONE = frozenset({"child", "adult", "elsewhere", "student", "worker", "stranger", "pending"})


@pytest.fixture(autouse=True)
def _settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"
    settings.STAKEHOLDER_FEED_SETTLE_SECONDS = 0
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True


def years_ago(years: int) -> datetime.date:
    today = timezone.localdate()
    return today.replace(year=today.year - years, day=min(today.day, 28))


def rostered(
    institution: Institution, desa: Desa, *, name: str, applied: bool = True, **overrides: object
):
    """A non-permanent resident the institution's roster upload carried (applied or only
    previewed), hosted by it, as stakeholders.importing leaves them."""
    batch = ExchangeBatch.objects.create(
        institution=institution,
        format=UploadFormat.ROSTER,
        status=UploadStatus.APPLIED if applied else UploadStatus.PREVIEWED,
        sha256=f"{institution.pk}-{name}",
    )
    resident = non_permanent_create(
        desa=desa, full_name=name, host_institution=institution.name, **overrides
    )
    ExchangeRow.objects.create(
        batch=batch,
        line=2,
        nik_index=resident.nik_index,
        outcome=RowOutcome.UNCHANGED if applied else RowOutcome.CHANGED,
        applied=applied,
    )
    return resident


def make_admin(institution: Institution) -> User:
    user = UserFactory(role=Role.INSTITUTION_ADMIN)
    TOTP.activate(user, generate_totp_secret())
    InstitutionMember.objects.create(
        user=user, institution=institution, invited_by=UserFactory(role=Role.HEAD)
    )
    return user


@pytest.fixture
def partners(db) -> dict[str, Institution]:
    return {
        "university": institution_with_agreements(name=UNIVERSITY, kind=InstitutionKind.UNIVERSITY),
        "company": institution_with_agreements(name=COMPANY, kind=InstitutionKind.COMPANY),
    }


@pytest.fixture
def people(partners, desa, other_desa) -> dict[str, object]:
    """Residents of both registries: who may read which is the point of every test."""
    home = family_create(desa=desa)
    return {
        "child": resident_create(
            family=home, full_name="ANAK SEKOLAH", birth_date=years_ago(10), relation=4
        ),
        "adult": resident_create(family=home, full_name="ORANG DEWASA", birth_date=years_ago(50)),
        "elsewhere": resident_create(
            family=family_create(desa=other_desa), full_name="WARGA LAIN", birth_date=years_ago(40)
        ),
        "student": rostered(partners["university"], desa, name="MAHASISWA ROSTER"),
        "worker": rostered(
            partners["company"], desa, name="PEKERJA ROSTER", purpose=StayPurpose.WORK
        ),
        # Names the university as host (anybody registering can type it), on no roster of it.
        "stranger": non_permanent_create(
            desa=other_desa, full_name="TAMU LAIN", host_institution=UNIVERSITY
        ),
        # On a roster the university previewed but never applied.
        "pending": rostered(partners["university"], desa, name="CALON MAHASISWA", applied=False),
    }


def institution_of_kind(
    case: str, partners: dict[str, Institution], desa: Desa
) -> tuple[Institution, frozenset[str]]:
    """The institution of one kind and the people it has a reason to read."""
    if case == "university":
        return partners["university"], frozenset({"student"})
    if case == "company":
        return partners["company"], frozenset({"worker"})
    if case == "school_age_office":
        office = institution_with_agreements(
            name="Dinas Pendidikan Usia Sekolah",
            kind=InstitutionKind.EDUCATION_OFFICE,
            scope=Scope(ReadScope.AGE, min_age=5, max_age=18, clause=SCHOOL_AGE_CLAUSE),
        )
        return office, frozenset({"child"})
    if case == "regency_office":
        office = institution_with_agreements(
            name="Dinas Kesehatan Seluruh Kabupaten",
            kind=InstitutionKind.HEALTH_OFFICE,
            scope=Scope(ReadScope.REGENCY, clause=REGENCY_CLAUSE),
        )
        return office, EVERYONE
    if case == "village_government":
        village = institution_with_agreements(
            name="Pemerintah Desa Uji",
            kind=InstitutionKind.VILLAGE_GOVERNMENT,
            scope=Scope(ReadScope.DESA, desa_id=desa.pk, clause="Pasal 2: penduduk desa"),
        )
        return village, frozenset({"child", "adult", "student", "worker", "pending"})
    raise AssertionError(case)


KINDS = ["university", "company", "school_age_office", "regency_office", "village_government"]


@pytest.fixture(params=KINDS)
def reader(request, partners, people, desa) -> tuple[Institution, frozenset[str], str]:
    institution, allowed = institution_of_kind(request.param, partners, desa)
    return institution, allowed, issue_key(institution, make_admin(institution))


def lookup(client, key: str, nik: str):
    return client.post(
        reverse("api:resident_lookup"), {"nik": nik}, content_type="application/json", **auth(key)
    )


def unknown_nik(nik: str) -> str:
    return nik[:-4] + ("9998" if nik[-4:] != "9998" else "9997")


def test_lookup_answers_only_for_people_in_scope_when_reading_by_nik(
    client, reader, people
) -> None:
    institution, allowed, key = reader
    unknown = lookup(client, key, unknown_nik(people["adult"].nik))
    assert unknown.status_code == 404

    for name, person in people.items():
        response = lookup(client, key, person.nik)
        if name in allowed:
            assert response.status_code == 200, name
            assert response.json()["data"]["nik"] == person.nik
        else:
            # Out of scope is indistinguishable from a NIK nobody holds.
            assert response.status_code == unknown.status_code, name
            assert response.content == unknown.content, name
            assert response.headers["Content-Type"] == unknown.headers["Content-Type"]

    logged = set(
        AccessLog.objects.filter(
            purpose=AccessPurpose.INSTITUTION_READ, actor_label=institution.name
        ).values_list("registry", "record_id")
    )
    assert logged == {_record(people[name]) for name in allowed}


def _record(person) -> tuple[str, int]:
    return ("permanent" if isinstance(person, PermanentResident) else "non_permanent", person.pk)


def read_csv(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def test_export_holds_only_people_in_scope_when_exporting_everything(
    client, reader, people
) -> None:
    institution, allowed, key = reader

    response = client.get(reverse("api:export_csv"), **auth(key))

    assert response.status_code == 200
    rows = read_csv(response)
    column = rows[0].index("nik")
    exported = {row[column] for row in rows[1:]}
    assert exported == {people[name].nik for name in allowed}
    # The XLSX and browser exports share the same rows.
    assert len(list(exports.export_rows(institution))) == len(allowed) + 1


def rename_everyone(people) -> int:
    """An approved name correction for every person; returns the cursor before them."""
    start = RecordChange.objects.order_by("-id").values_list("id", flat=True).first() or 0
    for person in people.values():
        registry.record_update(
            record=person,
            changes={"full_name": f"{person.full_name} BARU"},
            source=ChangeSource.SUBMISSION,
            source_ref="",
        )
    return start


def test_feed_carries_only_changes_of_people_in_scope_when_everyone_changes(
    client, reader, people
) -> None:
    _institution, allowed, key = reader
    start = rename_everyone(people)

    response = client.get(reverse("api:changes"), {"since": start, "limit": 500}, **auth(key))

    assert response.status_code == 200
    changes = response.json()["changes"]
    assert {change["nik"] for change in changes} == {people[name].nik for name in allowed}
    assert {change["column"] for change in changes} == {"nama_lengkap"}


def test_webhooks_deliver_only_changes_of_people_in_scope_when_everyone_changes(
    reader, people, django_capture_on_commit_callbacks
) -> None:
    institution, allowed, _key = reader
    admin = institution.members.get().user
    with receiver() as hook:
        services.webhook_subscription_create(institution=institution, user=admin, url=hook.url)
        rename_everyone(people)
        with django_capture_on_commit_callbacks(execute=True):
            webhooks.webhook_deliveries_enqueue()

    delivered = {json.loads(body)["change"]["nik"] for _headers, body, _status in hook.received}
    assert delivered == {people[name].nik for name in allowed}


def test_webhook_gives_up_when_the_person_left_the_scope_before_sending(
    partners, people, django_capture_on_commit_callbacks
) -> None:
    university = partners["university"]
    admin = make_admin(university)
    with receiver() as hook:
        subscription, _secret = services.webhook_subscription_create(
            institution=university, user=admin, url=hook.url
        )
        rename_everyone({"student": people["student"]})
        with django_capture_on_commit_callbacks(execute=False):
            webhooks.webhook_deliveries_enqueue()
        # The student moved to another host before the delivery went out.
        registry.record_update(
            record=people["student"],
            changes={"host_institution": COMPANY},
            source=ChangeSource.OFFICER,
            source_ref="",
        )
        delivery = subscription.deliveries.get()
        outcome = webhooks.webhook_deliver(delivery_id=delivery.pk, attempt=1)

    assert outcome == webhooks.GAVE_UP
    assert hook.received == []


def test_office_whose_agreement_names_no_population_reads_nobody(client, people) -> None:
    office = institution_with_agreements(
        name="Kantor Kemenag Tanpa Klausul",
        kind=InstitutionKind.RELIGIOUS_AFFAIRS_OFFICE,
        scope=Scope(ReadScope.NONE),
    )
    key = issue_key(office, make_admin(office))

    response = lookup(client, key, people["adult"].nik)
    rows = read_csv(client.get(reverse("api:export_csv"), **auth(key)))

    assert response.status_code == 404
    assert response.json()["code"] == "resident_not_found"
    assert rows[1:] == []


def pks_of(institution: Institution):
    return institution.agreements.get(kind=AgreementKind.PKS)


def test_setting_a_scope_writes_an_audit_entry_with_the_clause_when_the_head_sets_it(
    client, people, head
) -> None:
    office = institution_with_agreements(
        name="Dinas Pendidikan Audit",
        kind=InstitutionKind.EDUCATION_OFFICE,
        scope=Scope(ReadScope.NONE),
    )
    key = issue_key(office, make_admin(office))
    assert lookup(client, key, people["child"].nik).status_code == 404

    services.agreement_scope_set(
        agreement=pks_of(office),
        scope=Scope(ReadScope.AGE, min_age=5, max_age=18, clause=SCHOOL_AGE_CLAUSE),
        actor=head,
    )

    assert lookup(client, key, people["child"].nik).status_code == 200
    assert lookup(client, key, people["adult"].nik).status_code == 404
    entry = AuditEntry.objects.filter(action=AuditAction.AGREEMENT_SCOPE, actor=head).get()
    assert entry.reference == f"agreement:{pks_of(office).pk}"
    assert "scope=age" in entry.detail and "age=5-18" in entry.detail
    assert SCHOOL_AGE_CLAUSE in entry.detail
    pks = pks_of(office)
    assert (pks.read_scope, pks.scope_clause) == (ReadScope.AGE, SCHOOL_AGE_CLAUSE)


@pytest.mark.parametrize(
    ("kind", "scope"),
    [
        # Every resident only when a clause of the agreement says so.
        (InstitutionKind.HEALTH_OFFICE, Scope(ReadScope.REGENCY, clause="  ")),
        # A university reads its roster: no agreement widens it.
        (InstitutionKind.UNIVERSITY, Scope(ReadScope.REGENCY, clause=REGENCY_CLAUSE)),
        (InstitutionKind.COMPANY, Scope(ReadScope.AGE, min_age=18, max_age=60, clause="Pasal 1")),
        # A village government reads its village, not the regency.
        (InstitutionKind.VILLAGE_GOVERNMENT, Scope(ReadScope.REGENCY, clause=REGENCY_CLAUSE)),
        (InstitutionKind.EDUCATION_OFFICE, Scope(ReadScope.AGE, min_age=18, max_age=5, clause="x")),
        (InstitutionKind.EDUCATION_OFFICE, Scope(ReadScope.DESA, clause="Pasal 2")),
    ],
)
def test_scope_is_refused_and_unchanged_when_the_agreement_cannot_name_it(
    db, head, kind, scope
) -> None:
    institution = institution_with_agreements(
        name="Mitra Uji", kind=kind, scope=Scope(ReadScope.NONE)
    )
    before = pks_of(institution).read_scope

    with pytest.raises(InvalidScope):
        services.agreement_scope_set(agreement=pks_of(institution), scope=scope, actor=head)

    assert pks_of(institution).read_scope == before
    assert not AuditEntry.objects.filter(action=AuditAction.AGREEMENT_SCOPE, actor=head).exists()


def test_scope_is_refused_when_anyone_but_the_head_sets_it(db) -> None:
    office = institution_with_agreements(
        name="Dinas Kesehatan Uji", kind=InstitutionKind.HEALTH_OFFICE, scope=Scope(ReadScope.NONE)
    )
    verifier = UserFactory(role=Role.VERIFIER)
    institution_admin = make_admin(office)

    for actor in (verifier, institution_admin):
        with pytest.raises(NotAuthorised):
            services.agreement_scope_set(
                agreement=pks_of(office),
                scope=Scope(ReadScope.REGENCY, clause=REGENCY_CLAUSE),
                actor=actor,
            )

    assert pks_of(office).read_scope == ReadScope.NONE


def test_school_age_is_counted_on_the_day_of_reading(db) -> None:
    office = institution_with_agreements(
        name="Dinas Pendidikan Umur",
        kind=InstitutionKind.EDUCATION_OFFICE,
        scope=Scope(ReadScope.AGE, min_age=5, max_age=18, clause=SCHOOL_AGE_CLAUSE),
    )
    day = datetime.date(2026, 7, 1)
    turns_19 = resident_create(birth_date=datetime.date(2007, 7, 1))
    still_18 = resident_create(birth_date=datetime.date(2007, 7, 2))
    turns_5 = resident_create(birth_date=datetime.date(2021, 7, 1))
    still_4 = resident_create(birth_date=datetime.date(2021, 7, 2))
    scopes = selectors.read_scopes(office, on=day)
    readable = set(
        selectors.residents_in_scope(office, type(turns_19), scopes=scopes, on=day).values_list(
            "pk", flat=True
        )
    )

    assert readable == {still_18.pk, turns_5.pk}
    assert {turns_19.pk, still_4.pk}.isdisjoint(readable)
    assert policy.years_before(datetime.date(2028, 2, 29), 1) == datetime.date(2027, 2, 28)


def age(born: datetime.date, day: datetime.date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


@pytest.mark.django_db
@override_settings(DEBUG=True)
def test_demo_institutions_read_only_their_population_when_seeded() -> None:
    call_command("seed_demo", residents=300, seed=1, verbosity=0)
    call_command("seed_demo_institutions", verbosity=0)
    call_command("seed_demo_institutions", verbosity=0)
    exported = {
        institution.code: [row[0] for row in list(exports.export_rows(institution))[1:]]
        for institution in Institution.objects.all()
    }
    hosted = {
        name: {p.nik for p in NonPermanentResident.objects.filter(host_institution=name)}
        for name in (DEMO_UNIVERSITY, DEMO_COMPANY)
    }
    everyone = PermanentResident.objects.count() + NonPermanentResident.objects.count()
    today = timezone.localdate()
    school_age = {
        p.nik
        for model in (PermanentResident, NonPermanentResident)
        for p in model.objects.all()
        if 5 <= age(p.birth_date, today) <= 18
    }

    assert set(exported["univ-demo"]) == hosted[DEMO_UNIVERSITY] != set()
    assert set(exported["pt-demo"]) == hosted[DEMO_COMPANY] != set()
    assert set(exported["disdik-demo"]) == school_age != set()
    assert len(exported["dinkes-demo"]) == everyone


def scope_url(institution: Institution) -> str:
    return reverse(
        "stakeholders:manage_agreement_scope", args=[institution.pk, pks_of(institution).pk]
    )


def test_head_sets_a_village_scope_on_the_page_when_the_code_is_known(client, head, desa) -> None:
    village = institution_with_agreements(
        name="Pemerintah Desa Halaman",
        kind=InstitutionKind.VILLAGE_GOVERNMENT,
        scope=Scope(ReadScope.NONE),
    )
    client.force_login(head)

    page = client.get(reverse("stakeholders:manage_institution", args=[village.pk]))
    response = client.post(
        scope_url(village),
        {"scope": ReadScope.DESA, "desa_code": desa.code, "clause": "Pasal 2 ayat (1)"},
    )

    assert page.status_code == 200
    assert f'action="{scope_url(village)}"' in page.text
    assert response.status_code == 302
    pks = pks_of(village)
    assert (pks.read_scope, pks.scope_desa_id, pks.scope_clause) == (
        ReadScope.DESA,
        desa.pk,
        "Pasal 2 ayat (1)",
    )
    assert AuditEntry.objects.filter(action=AuditAction.AGREEMENT_SCOPE, actor=head).exists()


def test_page_refuses_a_whole_regency_scope_and_changes_nothing_when_no_clause_is_given(
    client, head
) -> None:
    office = institution_with_agreements(
        name="Dinas Kesehatan Halaman",
        kind=InstitutionKind.HEALTH_OFFICE,
        scope=Scope(ReadScope.NONE),
    )
    client.force_login(head)

    response = client.post(scope_url(office), {"scope": ReadScope.REGENCY, "clause": ""})
    unknown_desa = client.post(
        scope_url(office), {"scope": ReadScope.DESA, "desa_code": "9999999999", "clause": "P"}
    )

    assert response.status_code == 302
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("pasal" in m.lower() for m in messages), messages  # the clause is asked for
    assert unknown_desa.status_code == 400
    assert pks_of(office).read_scope == ReadScope.NONE
    assert not AuditEntry.objects.filter(action=AuditAction.AGREEMENT_SCOPE, actor=head).exists()
