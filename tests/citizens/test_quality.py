"""Data quality: each rule finds exactly the defects planted here, and nothing else."""

import datetime

import pytest
from django.urls import reverse
from django.utils import translation

from citizens import crypto, quality
from citizens.choices import FamilyRelation, LifeStatus, Sex
from citizens.models import PermanentResident, QualityFinding
from citizens.names import phonetic_key
from citizens.services import record_update, resident_close
from tests.factories import (
    NON_PERMANENT_BIRTH_DATE,
    family_create,
    next_nik,
    non_permanent_create,
    resident_create,
)

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 28)


@pytest.fixture
def planted(desa, other_desa):
    clean_family = family_create(desa=desa)
    for index, name in enumerate(("ANI", "BAYU", "CITRA", "DEDI", "EKA")):
        resident_create(
            family=clean_family,
            full_name=name,
            relation=FamilyRelation.HEAD if index == 0 else FamilyRelation.CHILD,
        )
    no_birth_place = resident_create(family=family_create(desa=desa), full_name="FAJAR")
    # The registry's writer refuses an empty place of birth; legacy loads may hold one.
    PermanentResident.objects.filter(pk=no_birth_place.pk).update(birth_place="")
    no_mother = resident_create(family=family_create(desa=desa), full_name="GITA", mother_name="")
    wrong_date = resident_create(
        family=family_create(desa=other_desa),
        full_name="HANA",
        nik=next_nik(region="330606", birth_date=datetime.date(1991, 5, 17), sex=Sex.FEMALE),
    )
    wrong_sex = resident_create(
        family=family_create(desa=desa),
        full_name="INDAH",
        nik=next_nik(region="330606", birth_date=datetime.date(1990, 5, 17), sex=Sex.MALE),
    )
    headless = family_create(desa=desa)
    orphan = resident_create(family=headless, full_name="JOKO", relation=FamilyRelation.CHILD)
    head_died = family_create(desa=desa)
    dead_head = resident_create(family=head_died, full_name="KARTO", relation=FamilyRelation.HEAD)
    widow = resident_create(family=head_died, full_name="LESTARI", relation=FamilyRelation.WIFE)
    resident_close(resident=dead_head, status=LifeStatus.DEAD, death_date=TODAY, source="officer")
    overstayed = non_permanent_create(
        desa=desa, full_name="MAHASISWA LAMA", expected_end_date=datetime.date(2026, 10, 31)
    )
    non_permanent_create(
        desa=desa, full_name="MAHASISWA BARU", expected_end_date=datetime.date(2027, 1, 31)
    )
    born = NON_PERMANENT_BIRTH_DATE  # the date the guest factory encodes in the NIK
    twin_a = resident_create(
        family=family_create(desa=desa), full_name="SITI AMINAH", birth_date=born
    )
    twin_b = resident_create(
        family=family_create(desa=other_desa), full_name="Hj. Siti Amina", birth_date=born
    )
    guest = non_permanent_create(desa=desa, full_name="MUHAMMAD RIZKI", birth_date=born)
    settled = resident_create(
        family=family_create(desa=desa), full_name="MUHAMAD RIZKY", birth_date=born
    )
    resident_create(
        family=family_create(desa=desa),
        full_name="SITI AMINAH",
        birth_date=TODAY.replace(year=1986),
    )
    resident_create(family=family_create(desa=desa), full_name="BUDI SANTOSO", birth_date=born)
    counts = quality.quality_refresh(today=TODAY)
    return {
        "counts": counts,
        "missing": {no_birth_place.pk, no_mother.pk},
        "nik_mismatch": {wrong_date.pk, wrong_sex.pk},
        "no_head": {orphan.pk, widow.pk},
        "stay_ended": {overstayed.pk},
        "duplicate": {twin_a.pk, twin_b.pk, guest.pk, settled.pk},
        "duplicate_pair": (twin_a.pk, twin_b.pk),
    }


def _found(rule: str) -> set[int]:
    return set(QualityFinding.objects.filter(rule=rule).values_list("record_id", flat=True))


def test_names_that_sound_alike_share_a_phonetic_key() -> None:
    assert phonetic_key("SITI AMINAH") == phonetic_key("Hj. Siti Amina")
    assert phonetic_key("MUHAMMAD") == phonetic_key("Muhamad")
    assert phonetic_key("SOEKARNO") == phonetic_key("SUKARNO")
    assert phonetic_key("DJOKO") == phonetic_key("JOKO")
    assert phonetic_key("SITI AMINAH") != phonetic_key("BUDI SANTOSO")


def test_name_index_follows_a_name_change(desa) -> None:
    person = resident_create(family=family_create(desa=desa), full_name="SITI UJI")
    assert person.name_key == crypto.name_index("SITI UJI")
    record_update(record=person, changes={"full_name": "SITI BARU"}, source="officer")
    person.refresh_from_db()
    assert person.name_key == crypto.name_index("SITI BARU") != crypto.name_index("SITI UJI")


@pytest.mark.parametrize("rule", list(quality.RULES))
def test_each_rule_finds_the_planted_defects_and_nothing_else(planted, rule) -> None:
    assert _found(rule) == planted[rule]
    assert planted["counts"][rule] == len(planted[rule])


def test_findings_say_which_element_is_wrong(planted) -> None:
    details = sorted(
        QualityFinding.objects.filter(rule__in=["missing", "nik_mismatch"]).values_list(
            "detail", flat=True
        )
    )
    assert details == ["birth_date", "birth_place", "mother_name", "sex"]
    pairs = dict(QualityFinding.objects.filter(rule="duplicate").values_list("record_id", "detail"))
    assert set(pairs.values()) >= {f"permanent:{planted['duplicate_pair'][1]}"}
    finding = QualityFinding.objects.get(detail="birth_date")
    with translation.override("en"):
        assert quality.describe(finding) == "the NIK encodes another birth date"
        headless = QualityFinding.objects.filter(rule="no_head").first()
        assert quality.describe(headless).endswith("1 living members, none the head")


def test_a_second_check_replaces_the_findings(planted) -> None:
    before = QualityFinding.objects.count()
    quality.quality_refresh(today=TODAY)
    assert QualityFinding.objects.count() == before


def test_page_lists_findings_in_the_officers_area_only(
    client, planted, operator_desa, verifier, citizen
) -> None:
    client.force_login(operator_desa)
    page = client.get(reverse("statistics:quality"), {"aturan": "nik_mismatch"})
    assert page.status_code == 200
    # The wrong birth date lives in another kecamatan: the village operator sees one finding.
    assert page.text.count("/petugas/penduduk/") == 1
    client.force_login(verifier)
    page = client.get(reverse("statistics:quality"), {"aturan": "nik_mismatch"})
    assert page.text.count("/petugas/penduduk/") == 2
    assert client.get(reverse("statistics:quality"), {"aturan": "x"}).status_code == 404
    client.force_login(citizen)
    assert client.get(reverse("statistics:quality")).status_code == 403
