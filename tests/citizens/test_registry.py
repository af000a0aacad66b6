import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from citizens import selectors, services
from citizens.choices import (
    ChangeSource,
    Education,
    FamilyRelation,
    LifeStatus,
    Registry,
    Sex,
    StayPurpose,
)
from citizens.exceptions import ConcurrentChange, DuplicateKk, DuplicateNik, UnknownField
from citizens.models import NonPermanentResident, PermanentResident, RecordChange
from tests.factories import family_create, next_nik, resident_create

pytestmark = pytest.mark.django_db


def _non_permanent_data(desa) -> dict:
    return {
        "full_name": "MAHASISWA TAMU",
        "birth_place": "SLEMAN",
        "birth_date": datetime.date(2004, 3, 9),
        "sex": Sex.MALE,
        "religion": 1,
        "marital_status": 1,
        "education": Education.SENIOR_SECONDARY,
        "occupation": 3,
        "origin_address": "Jalan Kaliurang Km 5",
        "origin_region_code": "3404012001",
        "domicile_desa": desa,
        "domicile_address": "Asrama Putra Blok B",
        "domicile_rt": "002",
        "domicile_rw": "003",
        "purpose": StayPurpose.STUDY,
        "host_institution": "Universitas Demo Purworejo",
        "start_date": datetime.date(2026, 8, 1),
        "expected_end_date": datetime.date(2027, 7, 31),
    }


def test_creating_a_resident_records_every_field_with_its_source() -> None:
    resident = resident_create()
    history = RecordChange.objects.filter(registry=Registry.PERMANENT, record_id=resident.pk)
    fields = set(history.values_list("field", flat=True))
    assert {"nik", "full_name", "birth_date", "family", "mother_name"} <= fields
    assert set(history.values_list("source", flat=True)) == {ChangeSource.OFFICER}
    nik_row = history.get(field="nik")
    assert nik_row.old_value == "" and nik_row.new_value == resident.nik


def test_duplicate_nik_is_refused_when_already_permanent() -> None:
    resident = resident_create()
    with pytest.raises(DuplicateNik):
        resident_create(nik=resident.nik)


def test_duplicate_nik_is_refused_across_permanent_and_non_permanent_tables(desa) -> None:
    resident = resident_create()
    with pytest.raises(DuplicateNik):
        services.non_permanent_resident_create(
            nik=resident.nik, data=_non_permanent_data(desa), source=ChangeSource.API
        )
    assert not NonPermanentResident.objects.exists()


def test_duplicate_kk_is_refused() -> None:
    family = family_create()
    with pytest.raises(DuplicateKk):
        services.family_create(
            kk_number=family.kk_number,
            desa=family.desa,
            address="x",
            rt="001",
            rw="001",
            source=ChangeSource.OFFICER,
        )


def test_non_permanent_resident_is_stored_in_its_own_table(desa) -> None:
    nik = next_nik(region="340401", birth_date=datetime.date(2004, 3, 9), sex=Sex.MALE)
    resident = services.non_permanent_resident_create(
        nik=nik, data=_non_permanent_data(desa), source=ChangeSource.API
    )
    assert NonPermanentResident.objects.get().pk == resident.pk
    assert not PermanentResident.objects.exists()
    assert RecordChange.objects.filter(registry=Registry.NON_PERMANENT, field="nik").exists()


def test_update_writes_old_and_new_value_when_a_field_changes(verifier) -> None:
    resident = resident_create(education=Education.SENIOR_SECONDARY)
    changes = services.record_update(
        record=resident,
        changes={"education": Education.DIPLOMA_4_S1, "occupation": resident.occupation},
        source=ChangeSource.SUBMISSION,
        source_ref="SUB-1",
        actor=verifier,
        reason="Ijazah S1",
    )
    assert [(c.field, c.old_value, c.new_value) for c in changes] == [
        ("education", str(Education.SENIOR_SECONDARY.value), str(Education.DIPLOMA_4_S1.value))
    ]
    resident.refresh_from_db()
    assert resident.education == Education.DIPLOMA_4_S1
    assert resident.version == 2
    stored = RecordChange.objects.get(source_ref="SUB-1")
    assert stored.actor == verifier and stored.reason == "Ijazah S1"


def test_update_writes_nothing_when_values_are_unchanged() -> None:
    resident = resident_create()
    assert (
        services.record_update(
            record=resident, changes={"full_name": "SITI UJI"}, source=ChangeSource.OFFICER
        )
        == []
    )
    resident.refresh_from_db()
    assert resident.version == 1


def test_update_refuses_when_the_record_changed_in_the_meantime() -> None:
    resident = resident_create()
    stale = PermanentResident.objects.get(pk=resident.pk)
    services.record_update(
        record=resident, changes={"full_name": "SITI BARU"}, source=ChangeSource.OFFICER
    )
    with pytest.raises(ConcurrentChange):
        services.record_update(
            record=stale, changes={"full_name": "SITI LAIN"}, source=ChangeSource.OFFICER
        )
    resident.refresh_from_db()
    assert resident.full_name == "SITI BARU"


def test_update_refuses_identity_keys_and_unknown_fields() -> None:
    resident = resident_create()
    with pytest.raises(UnknownField):
        services.record_update(record=resident, changes={"nik": "x"}, source=ChangeSource.API)
    with pytest.raises(UnknownField):
        services.record_update(record=resident, changes={"nope": 1}, source=ChangeSource.API)


def test_closing_a_record_keeps_it_with_death_date() -> None:
    resident = resident_create()
    services.resident_close(
        resident=resident,
        status=LifeStatus.DEAD,
        death_date=datetime.date(2026, 11, 1),
        source=ChangeSource.SUBMISSION,
        source_ref="SUB-9",
    )
    resident.refresh_from_db()
    assert resident.life_status == LifeStatus.DEAD
    assert resident.death_date == datetime.date(2026, 11, 1)
    assert resident.closed_at is not None


def test_history_is_append_only_when_the_application_tries_to_change_it() -> None:
    resident_create()
    change = RecordChange.objects.first()
    change.reason = "tampered"
    with pytest.raises(PermissionError):
        change.save()
    with pytest.raises(PermissionError):
        change.delete()
    with pytest.raises(PermissionError):
        RecordChange.objects.all().update(reason="tampered")
    with pytest.raises(PermissionError):
        RecordChange.objects.all().delete()
    assert not RecordChange.objects.filter(reason="tampered").exists()


def test_same_source_cannot_apply_the_same_field_twice() -> None:
    resident = resident_create()
    services.record_update(
        record=resident,
        changes={"blood_type": 1},
        source=ChangeSource.IMPORT_ROW,
        source_ref="U1:7",
    )
    from django.db import IntegrityError

    with pytest.raises(IntegrityError):
        services.record_update(
            record=resident,
            changes={"blood_type": 2},
            source=ChangeSource.IMPORT_ROW,
            source_ref="U1:7",
        )


def test_bulk_update_writes_values_and_one_history_row_per_changed_field(verifier) -> None:
    first = resident_create(education=Education.SENIOR_SECONDARY)
    second = resident_create(education=Education.PRIMARY)
    unchanged = resident_create(education=Education.MASTER)
    concurrent = services.record_update_many(
        updates=[
            services.RecordUpdate(
                record=first,
                changes={
                    "education": Education.DIPLOMA_4_S1,
                    "marriage_record_number": "KUA-0001/2026",
                    "marriage_record_date": datetime.date(2026, 5, 2),
                },
                source_ref="b1:2",
                reason="Dinas Pendidikan, baris 2",
            ),
            services.RecordUpdate(
                record=second, changes={"education": Education.JUNIOR_SECONDARY}, source_ref="b1:3"
            ),
            services.RecordUpdate(
                record=unchanged, changes={"education": Education.MASTER}, source_ref="b1:4"
            ),
        ],
        source=ChangeSource.IMPORT_ROW,
        actor=verifier,
    )
    assert concurrent == []
    first.refresh_from_db()
    second.refresh_from_db()
    unchanged.refresh_from_db()
    assert (first.education, first.marriage_record_number, first.marriage_record_date) == (
        Education.DIPLOMA_4_S1,
        "KUA-0001/2026",
        datetime.date(2026, 5, 2),
    )
    assert second.education == Education.JUNIOR_SECONDARY
    assert (first.version, second.version, unchanged.version) == (2, 2, 1)
    history = RecordChange.objects.filter(source=ChangeSource.IMPORT_ROW).order_by("source_ref")
    assert [(c.source_ref, c.field, c.old_value, c.new_value) for c in history] == [
        ("b1:2", "education", "5", "8"),
        ("b1:2", "marriage_record_date", "", "2026-05-02"),
        ("b1:2", "marriage_record_number", "", "KUA-0001/2026"),
        ("b1:3", "education", "3", "4"),
    ]
    assert {c.actor for c in history} == {verifier}
    assert history[0].reason == "Dinas Pendidikan, baris 2"


def test_bulk_update_skips_and_returns_records_changed_in_the_meantime() -> None:
    resident = resident_create(education=Education.PRIMARY)
    other = resident_create(education=Education.PRIMARY)
    stale = PermanentResident.objects.get(pk=resident.pk)
    services.record_update(
        record=resident, changes={"education": Education.MASTER}, source=ChangeSource.OFFICER
    )
    concurrent = services.record_update_many(
        updates=[
            services.RecordUpdate(record=stale, changes={"education": 4}, source_ref="b2:2"),
            services.RecordUpdate(record=other, changes={"education": 4}, source_ref="b2:3"),
        ],
        source=ChangeSource.IMPORT_ROW,
    )
    assert concurrent == [stale]
    resident.refresh_from_db()
    other.refresh_from_db()
    assert (resident.education, other.education) == (Education.MASTER, 4)
    assert list(
        RecordChange.objects.filter(source=ChangeSource.IMPORT_ROW).values_list(
            "source_ref", flat=True
        )
    ) == ["b2:3"]


def test_bulk_update_writes_both_registries_in_one_call() -> None:
    resident = resident_create(health_insurance="")
    guest = services.non_permanent_resident_create(
        data=_non_permanent_data(resident.family.desa),
        nik=next_nik(birth_date=datetime.date(2004, 3, 9), sex=1),
        source=ChangeSource.OFFICER,
    )
    services.record_update_many(
        updates=[
            services.RecordUpdate(
                record=resident, changes={"health_insurance": "jkn_pbi"}, source_ref="b3:2"
            ),
            services.RecordUpdate(
                record=guest, changes={"health_insurance": "jkn_pbi"}, source_ref="b3:3"
            ),
        ],
        source=ChangeSource.IMPORT_ROW,
    )
    assert PermanentResident.objects.get(pk=resident.pk).health_insurance == "jkn_pbi"
    assert NonPermanentResident.objects.get(pk=guest.pk).health_insurance == "jkn_pbi"
    assert set(
        RecordChange.objects.filter(source=ChangeSource.IMPORT_ROW).values_list(
            "registry", "source_ref"
        )
    ) == {(Registry.PERMANENT, "b3:2"), (Registry.NON_PERMANENT, "b3:3")}


@pytest.mark.parametrize(
    "changes",
    [{"nik": "3306060101900001"}, {"nope": 1}, {"education": 99}, {"health_insurance": "x"}],
)
def test_bulk_update_refuses_and_writes_nothing_when_one_record_is_invalid(changes) -> None:
    good = resident_create(education=Education.PRIMARY)
    bad = resident_create(education=Education.PRIMARY)
    with pytest.raises((UnknownField, ValidationError)):
        services.record_update_many(
            updates=[
                services.RecordUpdate(record=good, changes={"education": 4}, source_ref="b4:2"),
                services.RecordUpdate(record=bad, changes=changes, source_ref="b4:3"),
            ],
            source=ChangeSource.IMPORT_ROW,
        )
    assert PermanentResident.objects.get(pk=good.pk).education == Education.PRIMARY
    assert not RecordChange.objects.filter(source=ChangeSource.IMPORT_ROW).exists()


def test_family_move_writes_each_living_members_new_village_to_their_history(
    desa, other_desa
) -> None:
    family = family_create(desa=desa)
    head = resident_create(family=family, full_name="KEPALA")
    child = resident_create(family=family, full_name="ANAK", relation=FamilyRelation.CHILD)
    late = resident_create(family=family, full_name="ALMARHUM", relation=FamilyRelation.PARENT)
    services.resident_close(
        resident=late,
        status=LifeStatus.DEAD,
        death_date=datetime.date(2026, 1, 1),
        source=ChangeSource.OFFICER,
    )
    services.record_update(
        record=family,
        changes={"desa": other_desa},
        source=ChangeSource.SUBMISSION,
        source_ref="S-9",
    )
    with translation.override("en"):
        labels = {
            str(change.field_label)
            for change in selectors.record_history(registry=Registry.PERMANENT, record_id=head.pk)
        }
    assert "village (of the family card)" in labels
    village = RecordChange.objects.filter(field=services.FAMILY_VILLAGE)
    assert sorted(village.values_list("record_id", "old_value", "new_value", "source_ref")) == [
        (head.pk, str(desa.pk), str(other_desa.pk), "S-9"),
        (child.pk, str(desa.pk), str(other_desa.pk), "S-9"),
    ]
