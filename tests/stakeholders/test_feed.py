import datetime

import pytest
import time_machine
from django.utils import timezone

from citizens import services as registry
from citizens.choices import ChangeSource, Education, FamilyRelation, HealthInsurance
from citizens.models import RecordChange
from stakeholders import feed
from tests.factories import family_create, non_permanent_create, resident_create
from tests.stakeholders.apikit import narrow_institution


@pytest.fixture(autouse=True)
def _no_settle_delay(settings):
    settings.STAKEHOLDER_FEED_SETTLE_SECONDS = 0


def update(record, source=ChangeSource.SUBMISSION, **changes):
    return registry.record_update(record=record, changes=changes, source=source, source_ref="")


def test_feed_lists_changes_to_readable_elements_with_the_nik_in_order(education_office):
    resident = resident_create()
    start = RecordChange.objects.order_by("-id").first().id
    update(resident, education=Education.MASTER)
    update(resident, health_insurance=HealthInsurance.PRIVATE)  # the health office's element
    update(resident, school_enrolment="SMA N 1")

    page = feed.changes_after(education_office, since=start)

    assert [(c.column, c.value) for c in page.changes] == [
        ("pendidikan", str(Education.MASTER)),
        ("sekolah", "SMA N 1"),
    ]
    assert {c.nik for c in page.changes} == {resident.nik}
    assert page.next_cursor == RecordChange.objects.order_by("-id").first().id


def test_feed_leaves_out_the_initial_load(education_office):
    resident = resident_create()
    registry.record_update(
        record=resident, changes={"education": Education.MASTER}, source=ChangeSource.SEED
    )

    page = feed.changes_after(education_office, since=0, limit=500)

    assert all(change.source != ChangeSource.SEED for change in page.changes)


def test_feed_pages_follow_the_cursor_without_gaps_or_repeats(education_office):
    resident = resident_create()
    start = RecordChange.objects.order_by("-id").first().id
    for level in (Education.JUNIOR_SECONDARY, Education.SENIOR_SECONDARY, Education.MASTER):
        update(resident, education=level)
    seen = []
    cursor = start
    for _ in range(5):
        page = feed.changes_after(education_office, since=cursor, limit=2)
        seen += [change.id for change in page.changes]
        cursor = page.next_cursor
    assert len(seen) == 3 == len(set(seen))
    assert seen == sorted(seen)


def test_feed_shows_nothing_when_only_unreadable_elements_changed(education_office):
    resident = resident_create()
    start = RecordChange.objects.order_by("-id").first().id
    for value in (HealthInsurance.PRIVATE, HealthInsurance.NONE, HealthInsurance.JKN_PBI):
        update(resident, health_insurance=value)

    page = feed.changes_after(education_office, since=start, limit=1)

    assert page.changes == []
    assert page.next_cursor == start


def test_feed_is_empty_when_the_agreement_has_expired(expired_office):
    resident_create()

    assert feed.changes_after(expired_office, since=0).changes == []


def test_feed_of_a_narrow_institution_has_only_its_elements(db):
    institution = narrow_institution()
    resident_create(full_name="RAHASIA NAMA")

    page = feed.changes_after(institution, since=0, limit=500)

    assert page.changes
    assert {change.column for change in page.changes} <= {"nik", "pendidikan"}


def test_feed_names_a_non_permanent_residents_village_by_its_code(
    education_office, desa, other_desa
):
    guest = non_permanent_create(desa=desa)
    start = RecordChange.objects.order_by("-id").first().id
    update(guest, domicile_desa=other_desa)

    page = feed.changes_after(education_office, since=start)

    assert [(c.registry, c.column, c.value) for c in page.changes] == [
        ("non_permanent", "kode_desa", other_desa.code)
    ]
    assert page.changes[0].nik == guest.nik


def test_feed_waits_until_changes_have_settled(education_office, settings):
    settings.STAKEHOLDER_FEED_SETTLE_SECONDS = 30
    resident = resident_create()
    start = RecordChange.objects.order_by("-id").first().id
    update(resident, education=Education.MASTER)

    assert feed.changes_after(education_office, since=start).changes == []
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=31)):
        assert len(feed.changes_after(education_office, since=start).changes) == 1


def test_feed_page_reads_in_a_fixed_number_of_queries(
    education_office, desa, django_assert_max_num_queries
):
    for _ in range(5):
        update(resident_create(), education=Education.MASTER)
        non_permanent_create(desa=desa)

    with django_assert_max_num_queries(7):
        page = feed.changes_after(education_office, since=0, limit=100)

    assert len({c.nik for c in page.changes}) == 10


def test_feed_carries_each_members_new_village_when_a_family_card_moves(
    education_office, desa, other_desa
):
    family = family_create(desa=desa)
    head = resident_create(family=family, full_name="KEPALA PINDAH")
    child = resident_create(family=family, full_name="ANAK PINDAH", relation=FamilyRelation.CHILD)
    start = RecordChange.objects.order_by("-id").first().id

    update(family, desa=other_desa)

    page = feed.changes_after(education_office, since=start)
    assert sorted((c.nik, c.column, c.value) for c in page.changes) == sorted(
        [(head.nik, "kode_desa", other_desa.code), (child.nik, "kode_desa", other_desa.code)]
    )


def test_feed_carries_a_persons_new_village_when_they_join_a_card_elsewhere(
    education_office, desa, other_desa
):
    person = resident_create(family=family_create(desa=desa), full_name="ORANG PINDAH")
    same_village = family_create(desa=desa)
    elsewhere = family_create(desa=other_desa)
    start = RecordChange.objects.order_by("-id").first().id

    update(person, family=same_village)
    assert feed.changes_after(education_office, since=start).changes == []
    update(person, family=elsewhere)

    page = feed.changes_after(education_office, since=start)
    assert [(c.nik, c.column, c.value) for c in page.changes] == [
        (person.nik, "kode_desa", other_desa.code)
    ]
