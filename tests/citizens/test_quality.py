"""Data quality: each rule finds exactly the defects planted here, and nothing else."""

import datetime

import pytest
from django.urls import reverse
from django.utils import translation

from citizens import quality
from citizens.choices import FamilyRelation, LifeStatus, Sex
from citizens.models import PermanentResident, QualityFinding
from citizens.services import resident_close
from tests.factories import family_create, next_nik, non_permanent_create, resident_create

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 28)


@pytest.fixture
def planted(desa, other_desa):
    clean_family = family_create(desa=desa)
    for index in range(5):
        resident_create(
            family=clean_family,
            relation=FamilyRelation.HEAD if index == 0 else FamilyRelation.CHILD,
        )
    no_birth_place = resident_create(family=family_create(desa=desa))
    # The registry's writer refuses an empty place of birth; legacy loads may hold one.
    PermanentResident.objects.filter(pk=no_birth_place.pk).update(birth_place="")
    no_mother = resident_create(family=family_create(desa=desa), mother_name="")
    wrong_date = resident_create(
        family=family_create(desa=other_desa),
        nik=next_nik(region="330606", birth_date=datetime.date(1991, 5, 17), sex=Sex.FEMALE),
    )
    wrong_sex = resident_create(
        family=family_create(desa=desa),
        nik=next_nik(region="330606", birth_date=datetime.date(1990, 5, 17), sex=Sex.MALE),
    )
    headless = family_create(desa=desa)
    orphan = resident_create(family=headless, relation=FamilyRelation.CHILD)
    head_died = family_create(desa=desa)
    dead_head = resident_create(family=head_died, relation=FamilyRelation.HEAD)
    widow = resident_create(family=head_died, relation=FamilyRelation.WIFE)
    resident_close(resident=dead_head, status=LifeStatus.DEAD, death_date=TODAY, source="officer")
    overstayed = non_permanent_create(desa=desa, expected_end_date=datetime.date(2026, 10, 31))
    non_permanent_create(desa=desa, expected_end_date=datetime.date(2027, 1, 31))
    counts = quality.quality_refresh(today=TODAY)
    return {
        "counts": counts,
        "missing": {no_birth_place.pk, no_mother.pk},
        "nik_mismatch": {wrong_date.pk, wrong_sex.pk},
        "no_head": {orphan.pk, widow.pk},
        "stay_ended": {overstayed.pk},
    }


def _found(rule: str) -> set[int]:
    return set(QualityFinding.objects.filter(rule=rule).values_list("record_id", flat=True))


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
