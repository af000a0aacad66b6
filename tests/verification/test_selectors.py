"""Reads of the review: queue scope and search, names and claims in bulk, review warnings,
dashboard figures and the audit search, each within a query budget where it matters."""

import datetime

import pytest
from django.utils import timezone, translation

from citizens import crypto
from citizens.choices import AuditAction, Occupation, Religion, Role, Sex
from citizens.models import AuditEntry
from submissions import kinds
from submissions.choices import Channel, Kind, Status, Tier
from submissions.models import Route, Submission
from tests.factories import UserFactory, family_create, non_permanent_create, resident_create
from tests.verification.conftest import (
    approve_through,
    arrival_cleaned,
    biodata_cleaned,
    decide,
    file_and_submit,
    file_draft,
    non_permanent_cleaned,
)
from verification import selectors
from verification.models import Claim, Decision

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _codes(submissions) -> set[str]:
    return {submission.tracking_code for submission in submissions}


def _birth(owner, family, **overrides) -> Submission:
    cleaned = {
        "full_name": "BAYI KEDUA",
        "sex": Sex.FEMALE,
        "birth_place": "PURWOREJO",
        "birth_date": datetime.date(2026, 2, 1),
        "religion": Religion.ISLAM,
        "father_name": family[1].full_name,
        "mother_name": family[0].full_name,
        "basis": "Surat keterangan lahir",
        **overrides,
    }
    return file_and_submit(
        actor=owner, kind=Kind.BIRTH, cleaned=cleaned, subject=kinds.subject_of(family[0])
    )


@pytest.mark.parametrize("role", [Role.CITIZEN, Role.ANALYST, Role.SYSTEM_ADMIN])
def test_queue_is_empty_when_the_user_reviews_at_no_tier(role, biodata_submitted) -> None:
    user = UserFactory(role=role)
    assert not selectors.queue_for_officer(user).exists()
    assert selectors.queue_counts(user).total == 0


def test_queue_leaves_out_drafts_returned_and_decided_items_when_they_are_in_the_area(
    owner, family, operator_desa, biodata_submitted, desa
) -> None:
    draft = file_draft(
        actor=owner,
        kind=Kind.ADDRESS_CHANGE,
        cleaned={
            "desa": desa,
            "rt": "009",
            "rw": "002",
            "address": "Jalan Lain",
            "basis": "Surat pengantar RT",
        },
        subject=kinds.subject_of(family[1]),
    )
    returned = decide(_birth(owner, family), operator_desa, outcome="return", note="Perbaiki nama.")
    queue = selectors.queue_for_officer(operator_desa)
    assert _codes(queue) == {biodata_submitted.tracking_code}
    assert draft.tracking_code not in _codes(queue)
    assert returned.status == Status.RETURNED


def test_queue_finds_a_non_permanent_residents_item_when_searched_by_their_nik(
    operator_desa, desa, biodata_submitted
) -> None:
    guest = non_permanent_create(desa=desa)
    item = file_and_submit(
        actor=operator_desa,
        kind=Kind.BIODATA_CORRECTION,
        cleaned=biodata_cleaned(occupation=Occupation.TRADER),
        subject=kinds.subject_of(guest),
        channel=Channel.ASSISTED,
    )
    found = selectors.queue_for_officer(
        operator_desa, selectors.QueueFilters(nik_index=crypto.nik_index(guest.nik))
    )
    assert _codes(found) == {item.tracking_code}


def test_queue_finds_a_birth_when_searched_by_a_parents_nik(
    owner, family, operator_desa, biodata_submitted
) -> None:
    birth = _birth(owner, family)
    found = selectors.queue_for_officer(
        operator_desa, selectors.QueueFilters(nik_index=family[1].nik_index)
    )
    assert _codes(found) == {birth.tracking_code}


def test_queue_finds_an_arrival_when_searched_by_the_newcomers_nik(desa, operator_desa) -> None:
    cleaned = arrival_cleaned(desa)
    arrival = file_and_submit(
        actor=UserFactory(role=Role.CITIZEN), kind=Kind.ARRIVAL, cleaned=cleaned
    )
    found = selectors.queue_for_officer(
        operator_desa, selectors.QueueFilters(nik_index=crypto.nik_index(str(cleaned["nik"])))
    )
    assert _codes(found) == {arrival.tracking_code}


def test_queue_rows_cost_three_queries_when_the_page_mixes_every_kind_of_subject(
    owner, family, desa, operator_desa, biodata_submitted, django_assert_num_queries
) -> None:
    guest = non_permanent_create(desa=desa, full_name="TAMU KOS")
    file_and_submit(
        actor=operator_desa,
        kind=Kind.BIODATA_CORRECTION,
        cleaned=biodata_cleaned(occupation=Occupation.TRADER),
        subject=kinds.subject_of(guest),
        channel=Channel.ASSISTED,
    )
    _birth(owner, family)
    file_and_submit(
        actor=UserFactory(role=Role.CITIZEN),
        kind=Kind.ARRIVAL,
        cleaned=arrival_cleaned(desa, full_name="DATANG KEMARIN"),
    )
    page = list(selectors.queue_for_officer(operator_desa))
    with django_assert_num_queries(3):
        rows = selectors.queue_rows(officer=operator_desa, submissions=page)
    assert {row.name for row in rows} == {
        "SITI PEMILIK",
        "TAMU KOS",
        "BAYI KEDUA",
        "DATANG KEMARIN",
    }


def test_queue_rows_show_only_unexpired_claims_when_one_has_run_out(
    verifier, second_verifier, biodata_at_dukcapil, owner, family, operator_desa
) -> None:
    other = decide(_birth(owner, family), operator_desa)
    now = timezone.now()
    Claim.objects.create(
        submission=biodata_at_dukcapil,
        officer=second_verifier,
        tier=Tier.DUKCAPIL,
        expires_at=now + datetime.timedelta(minutes=10),
    )
    Claim.objects.create(
        submission=other,
        officer=second_verifier,
        tier=Tier.DUKCAPIL,
        expires_at=now - datetime.timedelta(minutes=1),
    )
    page = list(selectors.queue_for_officer(verifier))
    rows = {
        row.submission.pk: row for row in selectors.queue_rows(officer=verifier, submissions=page)
    }
    assert rows[biodata_at_dukcapil.pk].claimed_by == second_verifier
    assert rows[other.pk].claimed_by is None
    mine = selectors.queue_rows(officer=second_verifier, submissions=page)
    assert [row.claimed_by_me for row in mine if row.submission.pk == biodata_at_dukcapil.pk] == [
        True
    ]


def test_queue_counts_overdue_items_against_the_working_day_limit_when_items_are_old(
    settings, operator_desa, owner, family, biodata_submitted
) -> None:
    settings.REVIEW_SLA_WORKING_DAYS = 3
    settings.REVIEW_HOLIDAYS = []
    _birth(owner, family)
    Submission.objects.filter(pk=biodata_submitted.pk).update(
        tier_entered_at=timezone.now() - datetime.timedelta(days=14)
    )
    counts = selectors.queue_counts(operator_desa)
    assert (counts.submitted, counts.in_review, counts.overdue) == (2, 0, 1)


def test_submission_for_review_is_none_when_the_officer_may_not_see_it(
    owner, family, operator_desa, foreign_operator_desa, citizen, biodata_submitted
) -> None:
    code = biodata_submitted.tracking_code
    assert selectors.submission_for_review(officer=operator_desa, tracking_code=code)
    assert (
        selectors.submission_for_review(officer=foreign_operator_desa, tracking_code=code) is None
    )
    assert selectors.submission_for_review(officer=owner, tracking_code=code) is None
    assert (
        selectors.submission_for_review(officer=operator_desa, tracking_code="PRJ-0000-0000")
        is None
    )


def test_submission_for_review_is_none_when_it_is_still_a_draft(
    owner, family, operator_desa
) -> None:
    draft = file_draft(
        actor=owner,
        kind=Kind.BIODATA_CORRECTION,
        cleaned=biodata_cleaned(occupation=Occupation.TEACHER),
        subject=kinds.subject_of(family[0]),
    )
    assert (
        selectors.submission_for_review(officer=operator_desa, tracking_code=draft.tracking_code)
        is None
    )


def test_is_final_tier_follows_the_submissions_own_route_when_the_route_changed_later(
    biodata_submitted, operator_desa
) -> None:
    assert not selectors.is_final_tier(biodata_submitted)
    at_dukcapil = decide(biodata_submitted, operator_desa)
    Route.objects.create(kind=Kind.BIODATA_CORRECTION, tiers=["desa", "kecamatan", "dukcapil"])
    assert selectors.is_final_tier(at_dukcapil)


def test_review_data_warns_when_a_non_permanent_registrations_nik_is_taken(
    desa, non_permanent_resident
) -> None:
    taken = file_and_submit(
        actor=UserFactory(role=Role.CITIZEN),
        kind=Kind.NON_PERMANENT,
        cleaned=non_permanent_cleaned(desa, nik=non_permanent_resident.nik),
    )
    data = selectors.review_data(submission=taken, officer=UserFactory(role=Role.VERIFIER))
    assert any(
        "already registered as a non-permanent resident" in warning for warning in data.warnings
    )


def test_review_data_does_not_flag_the_nik_when_a_stay_is_renewed_by_the_same_person(
    desa, non_permanent_resident
) -> None:
    from citizens.models import ResidentLink

    account = UserFactory(role=Role.CITIZEN)
    ResidentLink.objects.create(user=account, non_permanent_resident=non_permanent_resident)
    renewal = file_and_submit(
        actor=account,
        kind=Kind.NON_PERMANENT,
        cleaned={
            **kinds.current_values(
                kinds.SPECS[Kind.NON_PERMANENT], kinds.subject_of(non_permanent_resident)
            ),
            "expected_end_date": datetime.date(2027, 6, 30),
            "basis": "Surat perpanjangan",
        },
        subject=kinds.subject_of(non_permanent_resident),
    )
    data = selectors.review_data(submission=renewal, officer=UserFactory(role=Role.VERIFIER))
    assert not any("already registered" in warning for warning in data.warnings)
    assert not any("duplicate" in warning for warning in data.warnings)


def test_review_data_finds_a_duplicate_in_the_non_permanent_registry_when_names_match(
    desa, non_permanent_resident
) -> None:
    namesake = file_and_submit(
        actor=UserFactory(role=Role.CITIZEN),
        kind=Kind.ARRIVAL,
        cleaned=arrival_cleaned(
            desa,
            full_name=non_permanent_resident.full_name.lower(),
            birth_date=non_permanent_resident.birth_date,
        ),
    )
    data = selectors.review_data(submission=namesake, officer=UserFactory(role=Role.VERIFIER))
    assert any("Possible duplicate person" in warning for warning in data.warnings)


def test_review_data_flags_a_change_when_the_record_was_updated_after_submitting_it(
    family, biodata_submitted
) -> None:
    from citizens import services as registry
    from citizens.choices import ChangeSource
    from citizens.models import PermanentResident

    # A field the submission does not touch: no conflict, but the record is newer.
    registry.record_update(
        record=PermanentResident.objects.get(pk=family[0].pk),
        changes={"religion": Religion.CATHOLIC},
        source=ChangeSource.OFFICER,
    )
    data = selectors.review_data(
        submission=biodata_submitted, officer=UserFactory(role=Role.VERIFIER)
    )
    assert data.conflicts == []
    assert any("changed after this submission" in warning for warning in data.warnings)


def test_dashboard_counts_only_open_items_in_the_jurisdiction_when_a_kecamatan_officer_asks(
    owner, family, officer_kecamatan, operator_desa, biodata_submitted, other_desa
) -> None:
    file_and_submit(
        actor=UserFactory(role=Role.CITIZEN), kind=Kind.ARRIVAL, cleaned=arrival_cleaned(other_desa)
    )
    rejected = decide(
        _birth(owner, family), operator_desa, outcome="reject", reason_code="duplicate"
    )
    dashboard = selectors.dashboard_for(officer_kecamatan)
    assert rejected.status == Status.REJECTED
    assert dashboard.total == 1
    assert [(f.label, f.count) for f in dashboard.by_kind] == [
        (str(Kind.BIODATA_CORRECTION.label), 1)
    ]


def test_dashboard_median_leaves_out_decisions_older_than_thirty_days_when_it_is_computed(
    head, operator_desa, biodata_submitted
) -> None:
    decide(biodata_submitted, operator_desa)
    later = timezone.now() + datetime.timedelta(days=31)
    dashboard = selectors.dashboard_for(head, now=later)
    assert all(row.decisions == 0 for row in dashboard.time_to_decision)
    assert selectors.dashboard_for(head).time_to_decision[0].decisions == 1
    assert Decision.objects.count() == 1


def test_dashboard_uses_a_fixed_number_of_queries_when_items_wait_everywhere(
    head, reviewers, owner, family, biodata_submitted, django_assert_num_queries
) -> None:
    approve_through(_birth(owner, family), reviewers, until=Tier.DUKCAPIL)
    with django_assert_num_queries(4):
        selectors.dashboard_for(head)


def test_audit_entries_are_empty_when_the_viewer_is_not_the_head(verifier, head) -> None:
    AuditEntry.objects.create(actor=verifier, action=AuditAction.APPROVE)
    assert not selectors.audit_entries_for(verifier).exists()
    assert selectors.audit_entries_for(head).count() == 1


def test_audit_entries_between_dates_follow_the_local_calendar_day_when_filtered(
    head, verifier
) -> None:
    zone = timezone.get_current_timezone()
    day = datetime.date(2026, 5, 4)
    just_after_midnight = timezone.make_aware(datetime.datetime(2026, 5, 4, 0, 30), zone)
    just_before = timezone.make_aware(datetime.datetime(2026, 5, 3, 23, 30), zone)
    for moment, reference in ((just_after_midnight, "IN"), (just_before, "OUT")):
        AuditEntry.objects.create(
            actor=verifier, action=AuditAction.APPROVE, reference=reference, created_at=moment
        )
    found = selectors.audit_entries_for(head, date_from=day, date_to=day)
    assert [entry.reference for entry in found] == ["IN"]


def test_villages_for_lists_one_village_when_a_village_operator_asks(operator_desa, head) -> None:
    assert [desa.pk for desa in selectors.villages_for(operator_desa)] == [
        operator_desa.jurisdiction_desa_id
    ]
    assert len(selectors.villages_for(head)) > 400


def test_normalised_name_ignores_case_and_spacing_when_names_are_compared() -> None:
    assert selectors.normalised_name("  siti\tPemilik ") == selectors.normalised_name(
        "SITI PEMILIK"
    )


def test_possible_duplicate_is_not_flagged_when_only_the_birth_date_matches(desa) -> None:
    resident_create(family=family_create(desa=desa), full_name="ORANG LAIN SAJA")
    arrival = file_and_submit(
        actor=UserFactory(role=Role.CITIZEN),
        kind=Kind.ARRIVAL,
        cleaned=arrival_cleaned(desa, birth_date=datetime.date(1990, 5, 17)),
    )
    data = selectors.review_data(submission=arrival, officer=UserFactory(role=Role.VERIFIER))
    assert data.warnings == []
