import datetime

import pytest

from citizens import services
from citizens.choices import ChangeSource, Education, LifeStatus, Registry, Sex, StayPurpose
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
