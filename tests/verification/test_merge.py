"""Every kind's route end to end: submitted, approved at each tier in order, merged into the
registry at Dukcapil with its history, change event and classification."""

import datetime

import pytest

from citizens.choices import (
    AuditAction,
    ChangeSource,
    FamilyRelation,
    LifeStatus,
    Occupation,
    Registry,
    Sex,
)
from citizens.crypto import kk_index, nik_index
from citizens.models import (
    AuditEntry,
    Desa,
    Family,
    NonPermanentResident,
    PermanentResident,
    RecordChange,
    ResidentLink,
)
from submissions import kinds, routing
from submissions.choices import Kind, Status, Tier
from submissions.models import Submission
from tests.factories import UserFactory, family_create, next_kk, next_nik, resident_create
from tests.verification.conftest import (
    arrival_cleaned,
    biodata_cleaned,
    decide,
    file_and_submit,
    fresh,
    non_permanent_cleaned,
    upload,
)
from verification import merge
from verification.exceptions import MergeRefused
from verification.merge import MergeInput
from verification.models import Decision, Merge

pytestmark = pytest.mark.django_db


def _through_route(
    submission: Submission, reviewers, merge_input: MergeInput | None = None
) -> Submission:
    """Approve tier by tier, checking the item waits at each tier of the default route in turn."""
    route = [str(tier) for tier in routing.DEFAULT_ROUTES[Kind(submission.kind)]]
    assert submission.route == route
    assert (submission.status, submission.current_tier) == (Status.SUBMITTED, route[0])
    visited = []
    while submission.status in (Status.SUBMITTED, Status.IN_REVIEW):
        visited.append(submission.current_tier)
        if len(visited) > 1:
            assert submission.status == Status.IN_REVIEW
        submission = decide(submission, reviewers[submission.current_tier], merge_input=merge_input)
    assert visited == route
    assert submission.status == Status.APPROVED
    assert submission.decided_at is not None
    decisions = list(
        Decision.objects.filter(submission=submission).values_list("tier", "officer", "outcome")
    )
    assert decisions == [(tier, reviewers[tier].pk, "approve") for tier in route]
    approvals = AuditEntry.objects.filter(
        reference=submission.tracking_code, action=AuditAction.APPROVE
    )
    assert sorted(approvals.values_list("tier", flat=True)) == sorted(route)
    return submission


def _history(submission: Submission) -> list[RecordChange]:
    return list(
        RecordChange.objects.filter(
            source=ChangeSource.SUBMISSION, source_ref=submission.tracking_code
        ).order_by("pk")
    )


def _merge_event(submission: Submission, reviewers, *, registry: str, record_id: int) -> Merge:
    event = Merge.objects.get(submission=submission)
    assert (event.kind, event.registry, event.record_id) == (submission.kind, registry, record_id)
    assert event.merged_by == reviewers[Tier.DUKCAPIL]
    assert event.changes == len(_history(submission)) > 0
    audit = AuditEntry.objects.get(reference=submission.tracking_code, action=AuditAction.MERGE)
    assert (audit.registry, audit.record_id, audit.actor) == (
        registry,
        record_id,
        reviewers[Tier.DUKCAPIL],
    )
    # The audit search by NIK finds the merge under the person written.
    person_model = {
        Registry.PERMANENT: PermanentResident,
        Registry.NON_PERMANENT: NonPermanentResident,
    }.get(registry)
    expected = (
        person_model.objects.get(pk=record_id).nik_index if person_model else submission.subject_key
    )
    assert audit.nik_index == expected
    return event


def _fields(history: list[RecordChange], registry: str, record_id: int) -> dict[str, str]:
    return {
        change.field: change.new_value
        for change in history
        if (change.registry, change.record_id) == (registry, record_id)
    }


def test_biodata_correction_is_merged_when_every_tier_approves(owner, family, reviewers) -> None:
    me = family[0]
    submission = file_and_submit(
        actor=owner,
        kind=Kind.BIODATA_CORRECTION,
        cleaned=biodata_cleaned(occupation=Occupation.TEACHER, full_name="SITI PEMILIK RAHAYU"),
        subject=kinds.subject_of(me),
    )
    submission = _through_route(submission, reviewers)
    me.refresh_from_db()
    assert (me.occupation, me.full_name) == (Occupation.TEACHER, "SITI PEMILIK RAHAYU")
    history = _history(submission)
    assert _fields(history, Registry.PERMANENT, me.pk) == {
        "full_name": "SITI PEMILIK RAHAYU",
        "occupation": str(Occupation.TEACHER),
    }
    assert {change.actor for change in history} == {reviewers[Tier.DUKCAPIL]}
    assert {change.old_value for change in history} == {"SITI PEMILIK", str(Occupation.FARMER)}
    _merge_event(submission, reviewers, registry=Registry.PERMANENT, record_id=me.pk)
    assert PermanentResident.objects.filter(pk=me.pk, life_status=LifeStatus.ALIVE).exists()
    assert not NonPermanentResident.objects.filter(nik_index=me.nik_index).exists()


def test_biodata_correction_of_a_non_permanent_resident_stays_non_permanent_when_merged(
    citizen, non_permanent_resident, reviewers
) -> None:
    ResidentLink.objects.create(user=citizen, non_permanent_resident=non_permanent_resident)
    submission = file_and_submit(
        actor=citizen,
        kind=Kind.BIODATA_CORRECTION,
        cleaned=biodata_cleaned(birth_place="KULON PROGO"),
        subject=kinds.Subject(resident=non_permanent_resident),
    )
    submission = _through_route(submission, reviewers)
    non_permanent_resident.refresh_from_db()
    assert non_permanent_resident.birth_place == "KULON PROGO"
    _merge_event(
        submission, reviewers, registry=Registry.NON_PERMANENT, record_id=non_permanent_resident.pk
    )
    assert not PermanentResident.objects.filter(nik_index=non_permanent_resident.nik_index).exists()


def test_address_change_moves_the_whole_family_when_every_tier_approves(
    owner, family, reviewers, desa
) -> None:
    me, spouse, child = family
    submission = file_and_submit(
        actor=owner,
        kind=Kind.ADDRESS_CHANGE,
        cleaned={
            "desa": desa,
            "rt": "007",
            "rw": "002",
            "address": "Jalan Baru No. 12",
            "whole_family": True,
            "basis": "Surat pengantar RT",
        },
        subject=kinds.subject_of(me),
    )
    submission = _through_route(submission, reviewers)
    home = Family.objects.get(pk=me.family_id)
    assert (home.rt, home.address) == ("007", "Jalan Baru No. 12")
    assert set(PermanentResident.objects.filter(family=home)) == {me, spouse, child}
    history = _history(submission)
    assert _fields(history, Registry.FAMILY, home.pk) == {
        "rt": "007",
        "address": "Jalan Baru No. 12",
    }
    _merge_event(submission, reviewers, registry=Registry.FAMILY, record_id=home.pk)


def test_address_change_of_one_person_opens_a_family_card_when_dukcapil_enters_a_new_kk_number(
    owner, family, reviewers, desa
) -> None:
    me, spouse, child = family
    cleaned = {
        "desa": desa,
        "rt": "009",
        "rw": "004",
        "address": "Perumahan Indah Blok C",
        "basis": "Surat pengantar RT",
    }
    submission = file_and_submit(
        actor=owner, kind=Kind.ADDRESS_CHANGE, cleaned=cleaned, subject=kinds.subject_of(spouse)
    )
    assert merge.needs_input(submission) == ("kk_number",)
    submission = decide(submission, reviewers[Tier.DESA])
    submission = decide(submission, reviewers[Tier.KECAMATAN])
    with pytest.raises(MergeRefused):
        decide(submission, reviewers[Tier.DUKCAPIL])
    assert fresh(submission).status == Status.IN_REVIEW
    assert not _history(submission)
    new_kk = next_kk()
    submission = decide(
        submission, reviewers[Tier.DUKCAPIL], merge_input=MergeInput(kk_number=new_kk)
    )
    assert submission.status == Status.APPROVED
    spouse.refresh_from_db()
    new_home = Family.objects.get(kk_index=kk_index(new_kk))
    assert spouse.family == new_home
    assert spouse.family_relation == FamilyRelation.HEAD
    assert (new_home.desa, new_home.rt, new_home.rw, new_home.address) == (
        desa,
        "009",
        "004",
        "Perumahan Indah Blok C",
    )
    assert set(PermanentResident.objects.filter(family_id=me.family_id)) == {me, child}
    history = _history(submission)
    assert _fields(history, Registry.PERMANENT, spouse.pk) == {
        "family": str(new_home.pk),
        "family_relation": str(FamilyRelation.HEAD),
    }
    assert _fields(history, Registry.FAMILY, new_home.pk)["rt"] == "009"
    _merge_event(submission, reviewers, registry=Registry.PERMANENT, record_id=spouse.pk)


def test_address_change_of_one_person_joins_a_family_card_when_dukcapil_names_an_existing_kk(
    owner, family, reviewers, desa
) -> None:
    _me, spouse, _child = family
    relatives = family_create(desa=desa, address="Jalan Kerabat 3")
    resident_create(family=relatives, full_name="KEPALA KERABAT", sex=Sex.MALE)
    submission = file_and_submit(
        actor=owner,
        kind=Kind.ADDRESS_CHANGE,
        cleaned={
            "desa": desa,
            "rt": relatives.rt,
            "rw": relatives.rw,
            "address": "Jalan Kerabat 3",
            "basis": "Surat pengantar RT",
        },
        subject=kinds.subject_of(spouse),
    )
    submission = _through_route(
        submission,
        reviewers,
        merge_input=MergeInput(
            kk_number=relatives.kk_number, family_relation=FamilyRelation.OTHER_RELATIVE
        ),
    )
    spouse.refresh_from_db()
    assert (spouse.family, spouse.family_relation) == (relatives, FamilyRelation.OTHER_RELATIVE)
    assert Family.objects.filter(kk_index=relatives.kk_index).count() == 1
    _merge_event(submission, reviewers, registry=Registry.PERMANENT, record_id=spouse.pk)


def test_address_change_of_one_person_is_refused_when_the_named_kk_lies_in_another_village(
    owner, family, reviewers, desa
) -> None:
    _me, spouse, _child = family
    elsewhere = Desa.objects.exclude(pk=desa.pk).order_by("code").first()
    far_family = family_create(desa=elsewhere)
    submission = file_and_submit(
        actor=owner,
        kind=Kind.ADDRESS_CHANGE,
        cleaned={
            "desa": desa,
            "rt": "009",
            "rw": "004",
            "address": "Perumahan Indah Blok C",
            "basis": "Surat pengantar RT",
        },
        subject=kinds.subject_of(spouse),
    )
    submission = decide(submission, reviewers[Tier.DESA])
    submission = decide(submission, reviewers[Tier.KECAMATAN])
    with pytest.raises(MergeRefused):
        decide(
            submission,
            reviewers[Tier.DUKCAPIL],
            merge_input=MergeInput(kk_number=far_family.kk_number),
        )
    spouse.refresh_from_db()
    assert spouse.family_id == family[0].family_id
    assert fresh(submission).status == Status.IN_REVIEW
    assert not Merge.objects.filter(submission=submission).exists()


def test_birth_adds_the_child_to_the_family_when_dukcapil_enters_the_nik(
    owner, family, reviewers
) -> None:
    me, spouse, _child = family
    born = datetime.date.today() - datetime.timedelta(days=30)
    submission = file_and_submit(
        actor=owner,
        kind=Kind.BIRTH,
        cleaned={
            "full_name": "BAYI KEDUA",
            "sex": Sex.MALE,
            "birth_place": "PURWOREJO",
            "birth_date": born,
            "religion": 1,
            "father_name": spouse.full_name,
            "mother_name": me.full_name,
            "basis": "Surat keterangan lahir",
        },
        subject=kinds.subject_of(me),
    )
    assert merge.needs_input(submission) == ("nik",)
    submission = decide(submission, reviewers[Tier.DESA])
    with pytest.raises(MergeRefused):
        decide(submission, reviewers[Tier.DUKCAPIL])
    assert PermanentResident.objects.filter(family_id=me.family_id).count() == 3
    nik = next_nik(birth_date=born, sex=Sex.MALE)
    submission = decide(submission, reviewers[Tier.DUKCAPIL], merge_input=MergeInput(nik=nik))
    assert submission.status == Status.APPROVED
    baby = PermanentResident.objects.get(nik_index=nik_index(nik))
    assert (baby.family_id, baby.family_relation, baby.full_name, baby.birth_date) == (
        me.family_id,
        FamilyRelation.CHILD,
        "BAYI KEDUA",
        born,
    )
    assert baby.mother_name == me.full_name
    history = _history(submission)
    assert _fields(history, Registry.PERMANENT, baby.pk)["full_name"] == "BAYI KEDUA"
    assert {change.record_id for change in history} == {baby.pk}
    _merge_event(submission, reviewers, registry=Registry.PERMANENT, record_id=baby.pk)
    tiers = list(Decision.objects.filter(submission=submission).values_list("tier", flat=True))
    assert tiers == ["desa", "dukcapil"]


def test_death_closes_the_record_with_the_date_when_every_tier_approves(
    owner, family, reviewers
) -> None:
    _me, spouse, child = family
    died = datetime.date.today() - datetime.timedelta(days=3)
    submission = file_and_submit(
        actor=owner,
        kind=Kind.DEATH,
        cleaned={"death_date": died, "death_place": "RSUD PURWOREJO", "basis": "Surat kematian"},
        subject=kinds.subject_of(spouse),
        uploads=[upload("surat-kematian.pdf")],
    )
    submission = _through_route(submission, reviewers)
    spouse.refresh_from_db()
    assert (spouse.life_status, spouse.death_date) == (LifeStatus.DEAD, died)
    assert spouse.closed_at is not None
    child.refresh_from_db()
    assert (child.life_status, child.closed_at) == (LifeStatus.ALIVE, None)
    assert _fields(_history(submission), Registry.PERMANENT, spouse.pk) == {
        "life_status": LifeStatus.DEAD,
        "death_date": died.isoformat(),
    }
    _merge_event(submission, reviewers, registry=Registry.PERMANENT, record_id=spouse.pk)


def _move_out(owner, subject, *, whole_family: bool) -> Submission:
    return file_and_submit(
        actor=owner,
        kind=Kind.MOVE_OUT,
        cleaned={
            "destination_address": "Jalan Malioboro 1, Yogyakarta",
            "destination_region_code": "3471",
            "move_date": datetime.date.today() + datetime.timedelta(days=7),
            "whole_family": whole_family,
            "basis": "Surat pengantar pindah",
        },
        subject=kinds.subject_of(subject),
    )


def test_move_out_closes_one_permanent_record_when_one_person_leaves(
    owner, family, reviewers
) -> None:
    me, spouse, child = family
    submission = _through_route(_move_out(owner, child, whole_family=False), reviewers)
    child.refresh_from_db()
    assert (child.life_status, child.death_date) == (LifeStatus.MOVED_AWAY, None)
    assert child.closed_at is not None
    assert PermanentResident.objects.filter(pk=child.pk).exists()
    assert {p.life_status for p in PermanentResident.objects.filter(pk__in=[me.pk, spouse.pk])} == {
        LifeStatus.ALIVE
    }
    assert _fields(_history(submission), Registry.PERMANENT, child.pk) == {
        "life_status": LifeStatus.MOVED_AWAY
    }
    _merge_event(submission, reviewers, registry=Registry.PERMANENT, record_id=child.pk)


def test_move_out_closes_every_living_member_when_the_whole_family_leaves(
    owner, family, reviewers
) -> None:
    me, spouse, child = family
    submission = _through_route(_move_out(owner, me, whole_family=True), reviewers)
    members = PermanentResident.objects.filter(pk__in=[me.pk, spouse.pk, child.pk])
    assert members.count() == 3
    assert {(m.life_status, m.closed_at is not None) for m in members} == {
        (LifeStatus.MOVED_AWAY, True)
    }
    history = _history(submission)
    assert {(c.record_id, c.field) for c in history} == {
        (m.pk, "life_status") for m in (me, spouse, child)
    }
    _merge_event(submission, reviewers, registry=Registry.PERMANENT, record_id=me.pk)


def test_arrival_becomes_a_permanent_resident_of_a_new_family_when_dukcapil_opens_a_kk(
    citizen, reviewers, desa
) -> None:
    cleaned = arrival_cleaned(desa)
    submission = file_and_submit(actor=citizen, kind=Kind.ARRIVAL, cleaned=cleaned)
    assert merge.needs_input(submission) == ("kk_number", "family_relation")
    new_kk = next_kk()
    submission = _through_route(submission, reviewers, merge_input=MergeInput(kk_number=new_kk))
    person = PermanentResident.objects.get(nik_index=nik_index(str(cleaned["nik"])))
    assert not NonPermanentResident.objects.filter(nik_index=person.nik_index).exists()
    home = Family.objects.get(kk_index=kk_index(new_kk))
    assert (person.family, person.family_relation) == (home, FamilyRelation.HEAD)
    assert (home.desa, home.rt, home.rw, home.address) == (
        desa,
        "004",
        "005",
        "Jalan Pendatang No. 9",
    )
    assert (person.full_name, person.occupation) == ("DATANG BARU", Occupation.PRIVATE_EMPLOYEE)
    history = _history(submission)
    assert _fields(history, Registry.PERMANENT, person.pk)["nik"] == cleaned["nik"]
    assert _fields(history, Registry.FAMILY, home.pk)["kk_number"] == new_kk
    _merge_event(submission, reviewers, registry=Registry.PERMANENT, record_id=person.pk)


def test_arrival_joins_an_existing_family_when_dukcapil_names_its_kk(
    citizen, family, reviewers, desa
) -> None:
    home = family[0].family
    cleaned = arrival_cleaned(desa, rt=home.rt, rw=home.rw, address=home.address)
    submission = file_and_submit(actor=citizen, kind=Kind.ARRIVAL, cleaned=cleaned)
    families_before = Family.objects.count()
    submission = _through_route(
        submission,
        reviewers,
        merge_input=MergeInput(kk_number=home.kk_number, family_relation=FamilyRelation.PARENT),
    )
    person = PermanentResident.objects.get(nik_index=nik_index(str(cleaned["nik"])))
    assert (person.family_id, person.family_relation) == (home.pk, FamilyRelation.PARENT)
    assert Family.objects.count() == families_before
    assert PermanentResident.objects.filter(family=home).count() == 4
    assert {c.registry for c in _history(submission)} == {Registry.PERMANENT}
    _merge_event(submission, reviewers, registry=Registry.PERMANENT, record_id=person.pk)


def test_non_permanent_registration_creates_a_non_permanent_resident_when_approved(
    citizen, reviewers, desa
) -> None:
    cleaned = non_permanent_cleaned(desa)
    submission = file_and_submit(actor=citizen, kind=Kind.NON_PERMANENT, cleaned=cleaned)
    assert merge.needs_input(submission) == ("registration_reference",)
    submission = _through_route(
        submission, reviewers, merge_input=MergeInput(registration_reference="F115/2026/0042")
    )
    person = NonPermanentResident.objects.get(nik_index=nik_index(str(cleaned["nik"])))
    assert not PermanentResident.objects.filter(nik_index=person.nik_index).exists()
    assert (person.domicile_desa, person.registration_reference, person.expected_end_date) == (
        desa,
        "F115/2026/0042",
        datetime.date(2027, 4, 30),
    )
    history = _fields(_history(submission), Registry.NON_PERMANENT, person.pk)
    assert history["registration_reference"] == "F115/2026/0042"
    assert history["host_institution"] == "Universitas Muhammadiyah Purworejo"
    _merge_event(submission, reviewers, registry=Registry.NON_PERMANENT, record_id=person.pk)


def test_non_permanent_renewal_updates_the_existing_record_when_approved(
    citizen, non_permanent_resident, reviewers, desa
) -> None:
    ResidentLink.objects.create(user=citizen, non_permanent_resident=non_permanent_resident)
    person = non_permanent_resident
    current = kinds.current_values(kinds.SPECS[Kind.NON_PERMANENT], kinds.Subject(resident=person))
    cleaned = {
        **current,
        "start_date": datetime.date(2027, 1, 1),
        "expected_end_date": datetime.date(2027, 12, 31),
        "host_institution": "SMK Negeri 1 Purworejo",
        "basis": "Surat keterangan sekolah 2027",
    }
    submission = file_and_submit(
        actor=citizen,
        kind=Kind.NON_PERMANENT,
        cleaned=cleaned,
        subject=kinds.Subject(resident=person),
    )
    assert {item.field for item in submission.items.all()} == {
        "start_date",
        "expected_end_date",
        "host_institution",
    }
    count = NonPermanentResident.objects.count()
    submission = _through_route(
        submission, reviewers, merge_input=MergeInput(registration_reference="F115/2027/0007")
    )
    assert NonPermanentResident.objects.count() == count
    person.refresh_from_db()
    assert (person.start_date, person.expected_end_date, person.host_institution) == (
        datetime.date(2027, 1, 1),
        datetime.date(2027, 12, 31),
        "SMK Negeri 1 Purworejo",
    )
    assert person.registration_reference == "F115/2027/0007"
    assert set(_fields(_history(submission), Registry.NON_PERMANENT, person.pk)) == {
        "start_date",
        "expected_end_date",
        "host_institution",
        "registration_reference",
    }
    _merge_event(submission, reviewers, registry=Registry.NON_PERMANENT, record_id=person.pk)


def test_report_changes_nothing_in_the_registry_when_every_tier_approves(
    family, reviewers, desa
) -> None:
    _me, spouse, _child = family
    neighbour = UserFactory()
    version = spouse.version
    submission = file_and_submit(
        actor=neighbour,
        kind=Kind.REPORT,
        cleaned={
            "nik": spouse.nik,
            "full_name": spouse.full_name,
            "desa": desa,
            "description": "Sudah pindah ke Jakarta sejak Maret.",
        },
    )
    submission = _through_route(submission, reviewers)
    assert not Merge.objects.filter(submission=submission).exists()
    assert not _history(submission)
    assert not AuditEntry.objects.filter(
        reference=submission.tracking_code, action=AuditAction.MERGE
    ).exists()
    spouse.refresh_from_db()
    assert (spouse.version, spouse.life_status) == (version, LifeStatus.ALIVE)


def test_address_change_of_one_person_is_refused_when_dukcapil_names_the_card_they_are_on(
    owner, family, reviewers, desa
) -> None:
    me, spouse, _child = family
    submission = file_and_submit(
        actor=owner,
        kind=Kind.ADDRESS_CHANGE,
        cleaned={
            "desa": desa,
            "rt": "009",
            "rw": "004",
            "address": "Perumahan Indah Blok C",
            "basis": "Surat pengantar RT",
        },
        subject=kinds.subject_of(spouse),
    )
    submission = decide(submission, reviewers[Tier.DESA])
    submission = decide(submission, reviewers[Tier.KECAMATAN])
    with pytest.raises(MergeRefused):
        decide(
            submission,
            reviewers[Tier.DUKCAPIL],
            merge_input=MergeInput(kk_number=me.family.kk_number),
        )
    assert fresh(submission).status == Status.IN_REVIEW
    assert not Merge.objects.filter(submission=submission).exists()


def test_merge_is_refused_when_the_dukcapil_nik_is_not_valid(owner, family, reviewers) -> None:
    me = family[0]
    submission = file_and_submit(
        actor=owner,
        kind=Kind.BIRTH,
        cleaned={
            "full_name": "BAYI KETIGA",
            "sex": Sex.FEMALE,
            "birth_place": "PURWOREJO",
            "birth_date": datetime.date.today() - datetime.timedelta(days=5),
            "religion": 1,
            "mother_name": me.full_name,
            "basis": "Surat keterangan lahir",
        },
        subject=kinds.subject_of(me),
    )
    submission = decide(submission, reviewers[Tier.DESA])
    with pytest.raises(MergeRefused):
        decide(submission, reviewers[Tier.DUKCAPIL], merge_input=MergeInput(nik="1234"))
    with pytest.raises(MergeRefused):
        decide(submission, reviewers[Tier.DUKCAPIL], merge_input=MergeInput(nik=me.nik))
    assert fresh(submission).status == Status.IN_REVIEW
    assert PermanentResident.objects.filter(family_id=me.family_id).count() == 3
