"""Officer pages of the review: queue, review, decisions, claims, F-1.06, dashboard, audit."""

import datetime
import io
import statistics

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from citizens import crypto
from citizens import services as registry
from citizens.choices import (
    AccessPurpose,
    AuditAction,
    ChangeSource,
    FamilyRelation,
    Occupation,
    Registry,
    Religion,
    Role,
    Sex,
)
from citizens.models import AccessLog, AuditEntry, Desa, PermanentResident, RecordChange
from submissions import kinds
from submissions.choices import Channel, Kind, RejectReason, Status, Tier
from submissions.models import Route, Submission
from tests.conftest import _with_totp
from tests.factories import UserFactory, family_create, next_nik, resident_create
from tests.verification.conftest import (
    approve_through,
    arrival_cleaned,
    biodata_cleaned,
    decide,
    file_and_submit,
    fresh,
    upload,
)
from verification.models import ChangeStatement, Claim, Decision, Merge

pytestmark = pytest.mark.django_db

QUEUE = reverse("verification:queue")
# Session, user, TOTP check, villages, paginator count, page, status counts, names by registry
# and by proposal: a fixed number whatever the page holds.
QUEUE_QUERY_BUDGET = 12


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _as(client, user):
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _url(name: str, submission: Submission) -> str:
    return reverse(f"verification:{name}", args=[submission.tracking_code])


def _codes(response) -> set[str]:
    return {row.submission.tracking_code for row in response.context["rows"]}


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 120, 60)).save(buffer, "PNG")
    return buffer.getvalue()


def _operator(desa: Desa):
    return _with_totp(UserFactory(role=Role.OPERATOR_DESA, jurisdiction_desa=desa))


def _arrival(desa: Desa, **overrides):
    return file_and_submit(
        actor=UserFactory(role=Role.CITIZEN),
        kind=Kind.ARRIVAL,
        cleaned=arrival_cleaned(desa, **overrides),
    )


def _birth(owner, family, **overrides):
    cleaned = {
        "full_name": "BAYI PERTAMA",
        "sex": Sex.MALE,
        "birth_place": "PURWOREJO",
        "birth_date": datetime.date(2026, 1, 10),
        "religion": Religion.ISLAM,
        "father_name": family[1].full_name,
        "mother_name": family[0].full_name,
        "basis": "Surat keterangan lahir",
        **overrides,
    }
    return file_and_submit(
        actor=owner, kind=Kind.BIRTH, cleaned=cleaned, subject=kinds.subject_of(family[0])
    )


def _snapshot(submission: Submission) -> tuple:
    submission = fresh(submission)
    return (
        submission.status,
        submission.current_tier,
        submission.version,
        Decision.objects.filter(submission=submission).count(),
        Claim.objects.filter(submission=submission).count(),
        Merge.objects.filter(submission=submission).count(),
        AccessLog.objects.count(),
    )


def _registry_change(resident: PermanentResident, **changes) -> None:
    """Someone changes the record after the citizen submitted (e.g. an import)."""
    registry.record_update(
        record=PermanentResident.objects.get(pk=resident.pk),
        changes=changes,
        source=ChangeSource.OFFICER,
    )


# Who sees what


def test_queue_shows_only_items_at_the_officers_tier_and_area_when_others_wait_elsewhere(
    client,
    owner,
    family,
    biodata_submitted,
    operator_desa,
    officer_kecamatan,
    verifier,
    foreign_operator_desa,
) -> None:
    neighbour = foreign_operator_desa.jurisdiction_desa
    elsewhere = _arrival(neighbour)
    spouse = file_and_submit(
        actor=owner,
        kind=Kind.BIODATA_CORRECTION,
        cleaned=biodata_cleaned(occupation=Occupation.TRADER),
        subject=kinds.subject_of(family[1]),
    )
    at_dukcapil = decide(spouse, operator_desa)
    expected = {
        operator_desa: {biodata_submitted.tracking_code},
        foreign_operator_desa: {elsewhere.tracking_code},
        officer_kecamatan: set(),
        verifier: {at_dukcapil.tracking_code},
    }
    for officer, codes in expected.items():
        assert _codes(_as(client, officer).get(QUEUE)) == codes, officer.role


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("review", "get"),
        ("claim", "post"),
        ("release", "post"),
        ("decide", "post"),
        ("statement", "get"),
        ("review", "post"),
        ("decide", "get"),
    ],
)
def test_officer_of_another_village_gets_404_when_using_the_code_in_any_review_url(
    client, biodata_submitted, foreign_operator_desa, name, method
) -> None:
    before = _snapshot(biodata_submitted)
    audit_before = AuditEntry.objects.count()
    _as(client, foreign_operator_desa)
    response = getattr(client, method)(
        _url(name, biodata_submitted), {"outcome": "approve", "note": "Sesuai."}
    )
    assert response.status_code == 404
    assert _snapshot(biodata_submitted) == before
    assert AuditEntry.objects.count() == audit_before


def test_kecamatan_officer_of_another_kecamatan_gets_404_when_deciding_by_url(
    client, biodata_submitted, foreign_officer_kecamatan
) -> None:
    before = _snapshot(biodata_submitted)
    _as(client, foreign_officer_kecamatan)
    assert client.get(_url("review", biodata_submitted)).status_code == 404
    assert client.post(_url("decide", biodata_submitted), {"outcome": "reject"}).status_code == 404
    assert _snapshot(biodata_submitted) == before


def test_citizen_gets_403_when_opening_an_officer_page(client, owner, biodata_submitted) -> None:
    _as(client, owner)
    for url in [
        QUEUE,
        reverse("verification:dashboard"),
        reverse("verification:audit"),
        _url("review", biodata_submitted),
    ]:
        assert client.get(url).status_code == 403
    assert client.post(_url("claim", biodata_submitted)).status_code == 403


def test_anonymous_visitor_is_sent_to_login_when_opening_the_queue(client) -> None:
    response = client.get(QUEUE)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_draft_is_not_shown_to_an_officer_when_the_citizen_has_not_submitted_it(
    client, owner, family, operator_desa
) -> None:
    from tests.verification.conftest import file_draft

    draft = file_draft(
        actor=owner,
        kind=Kind.BIODATA_CORRECTION,
        cleaned=biodata_cleaned(occupation=Occupation.TEACHER),
        subject=kinds.subject_of(family[0]),
    )
    assert _as(client, operator_desa).get(_url("review", draft)).status_code == 404


# The queue


@pytest.fixture
def dukcapil_mix(owner, family, biodata_at_dukcapil, other_desa, foreign_officer_kecamatan):
    """At Dukcapil: the biodata correction (in review, desa), a birth filed on a one-tier
    route (submitted, desa) and an arrival into another kecamatan (in review)."""
    Route.objects.create(kind=Kind.BIRTH, tiers=["dukcapil"])
    birth = _birth(owner, family)
    arrival = approve_through(
        _arrival(other_desa),
        {Tier.DESA: _operator(other_desa), Tier.KECAMATAN: foreign_officer_kecamatan},
        until=Tier.DUKCAPIL,
    )
    return biodata_at_dukcapil, birth, arrival


def test_queue_filters_by_kind_status_age_and_village_when_given_by_get(
    client, verifier, dukcapil_mix, other_desa
) -> None:
    biodata, birth, arrival = dukcapil_mix
    Submission.objects.filter(pk=biodata.pk).update(
        tier_entered_at=timezone.now() - datetime.timedelta(days=8)
    )
    _as(client, verifier)
    every = {biodata.tracking_code, birth.tracking_code, arrival.tracking_code}
    assert _codes(client.get(QUEUE)) == every
    cases = {
        "kind=birth": {birth.tracking_code},
        "status=submitted": {birth.tracking_code},
        "status=in_review": {biodata.tracking_code, arrival.tracking_code},
        "older_than=5": {biodata.tracking_code},
        f"desa={other_desa.pk}": {arrival.tracking_code},
        f"kind=arrival&desa={other_desa.pk}": {arrival.tracking_code},
        f"kind=birth&desa={other_desa.pk}": set(),
    }
    for query, codes in cases.items():
        assert _codes(client.get(f"{QUEUE}?{query}")) == codes, query


def test_queue_counts_items_per_status_when_the_officer_has_both(
    client, verifier, dukcapil_mix
) -> None:
    counts = _as(client, verifier).get(f"{QUEUE}?kind=birth").context["counts"]
    assert (counts.submitted, counts.in_review, counts.total) == (1, 2, 3)


def test_village_filter_offers_only_the_officers_villages_when_a_kecamatan_officer_asks(
    client, officer_kecamatan, other_desa
) -> None:
    form = _as(client, officer_kecamatan).get(QUEUE).context["filter_form"]
    offered = {pk for _group, options in form.fields["desa"].choices[1:] for pk, _name in options}
    expected = set(
        Desa.objects.filter(kecamatan=officer_kecamatan.jurisdiction_kecamatan).values_list(
            "pk", flat=True
        )
    )
    assert offered == expected
    assert other_desa.pk not in offered


def test_queue_ignores_a_village_outside_the_jurisdiction_when_it_is_put_in_the_url(
    client, operator_desa, biodata_submitted, other_desa
) -> None:
    response = _as(client, operator_desa).get(f"{QUEUE}?desa={other_desa.pk}")
    assert response.context["filter_form"].errors
    assert _codes(response) == {biodata_submitted.tracking_code}


def test_queue_finds_an_item_by_tracking_code_when_given_by_get(
    client, owner, family, operator_desa, biodata_submitted
) -> None:
    other = _birth(owner, family)
    _as(client, operator_desa)
    code = biodata_submitted.tracking_code
    assert _codes(client.get(f"{QUEUE}?code={code.lower()}")) == {code}
    assert _codes(client.get(f"{QUEUE}?code=PRJ-0000-0000")) == set()
    assert other.tracking_code in _codes(client.get(QUEUE))


def test_queue_finds_items_by_nik_only_when_the_nik_is_posted(
    client, family, operator_desa, biodata_submitted, desa
) -> None:
    stranger = resident_create(family=family_create(desa=desa), full_name="ORANG LAIN")
    unrelated = file_and_submit(
        actor=operator_desa,
        kind=Kind.BIODATA_CORRECTION,
        cleaned=biodata_cleaned(occupation=Occupation.TRADER),
        subject=kinds.subject_of(stranger),
        channel=Channel.ASSISTED,
    )
    _as(client, operator_desa)
    found = client.post(QUEUE, {"nik": family[0].nik})
    assert _codes(found) == {biodata_submitted.tracking_code}
    assert "SITI PEMILIK" in found.text
    # A NIK in the URL is never used as a search.
    assert unrelated.tracking_code in _codes(client.get(f"{QUEUE}?nik={family[0].nik}"))
    invalid = client.post(QUEUE, {"nik": "123"})
    assert invalid.context["nik_form"].errors


def test_queue_marks_an_item_overdue_with_text_when_it_waited_past_the_service_level(
    client, settings, owner, family, operator_desa, biodata_submitted
) -> None:
    settings.REVIEW_SLA_WORKING_DAYS = 3
    settings.REVIEW_HOLIDAYS = []
    recent = _birth(owner, family)
    Submission.objects.filter(pk=biodata_submitted.pk).update(
        tier_entered_at=timezone.now() - datetime.timedelta(days=10)
    )
    response = _as(client, operator_desa).get(QUEUE)
    rows = {row.submission.tracking_code: row for row in response.context["rows"]}
    assert rows[biodata_submitted.tracking_code].overdue
    assert not rows[recent.tracking_code].overdue
    # Oldest first, and the mark is a word, not only a colour.
    first = response.context["rows"][0]
    assert first.submission.tracking_code == biodata_submitted.tracking_code
    assert response.text.count('class="status status-returned overdue-marker">Overdue<') == 1
    assert response.context["counts"].overdue == 1


def test_queue_shows_who_holds_a_claim_when_another_officer_took_the_item(
    client, verifier, second_verifier, biodata_at_dukcapil
) -> None:
    _as(client, second_verifier).post(_url("claim", biodata_at_dukcapil))
    response = _as(client, verifier).get(QUEUE)
    (row,) = response.context["rows"]
    assert row.claimed_by == second_verifier
    assert not row.claimed_by_me
    assert second_verifier.full_name in response.text


def _fill_queue(desa: Desa, count: int, officer) -> None:
    """`count` items waiting at the village: corrections of permanent and non-permanent
    residents, births and arrivals, some of them claimed."""
    from tests.factories import non_permanent_create

    for number in range(count):
        shape = number % 4
        if shape == 0:
            resident = resident_create(
                family=family_create(desa=desa), full_name=f"WARGA ANTREAN {number}"
            )
            submission = file_and_submit(
                actor=officer,
                kind=Kind.BIODATA_CORRECTION,
                cleaned=biodata_cleaned(occupation=Occupation.TRADER),
                subject=kinds.subject_of(resident),
                channel=Channel.ASSISTED,
            )
        elif shape == 1:
            guest = non_permanent_create(desa=desa, full_name=f"TAMU ANTREAN {number}")
            submission = file_and_submit(
                actor=officer,
                kind=Kind.BIODATA_CORRECTION,
                cleaned=biodata_cleaned(occupation=Occupation.TRADER),
                subject=kinds.subject_of(guest),
                channel=Channel.ASSISTED,
            )
        elif shape == 2:
            submission = _arrival(
                desa,
                full_name=f"PENDATANG ANTREAN {number}",
                nik=next_nik(region="340401", birth_date=datetime.date(1995, 2, 3), sex=Sex.MALE),
            )
        else:
            family = family_create(desa=desa)
            mother = resident_create(family=family, full_name=f"IBU ANTREAN {number}")
            submission = file_and_submit(
                actor=officer,
                kind=Kind.BIRTH,
                cleaned={
                    "full_name": f"BAYI ANTREAN {number}",
                    "sex": Sex.MALE,
                    "birth_place": "PURWOREJO",
                    "birth_date": datetime.date(2026, 1, 10),
                    "religion": Religion.ISLAM,
                    "father_name": "",
                    "mother_name": mother.full_name,
                    "basis": "Surat keterangan lahir",
                },
                subject=kinds.subject_of(mother),
                channel=Channel.ASSISTED,
            )
        if number % 5 == 0:
            Claim.objects.create(
                submission=submission,
                officer=officer,
                tier=Tier.DESA,
                expires_at=timezone.now() + datetime.timedelta(minutes=30),
            )


def test_queue_query_count_stays_the_same_when_the_queue_grows_from_5_to_60_items(
    client, desa, operator_desa, django_assert_max_num_queries
) -> None:
    # Another operator of the village files (assisted), so the viewer's page is all foreign.
    filer = _operator(desa)
    _as(client, operator_desa)
    _fill_queue(desa, 5, filer)
    with django_assert_max_num_queries(QUEUE_QUERY_BUDGET) as few:
        response = client.get(QUEUE)
    assert len(response.context["rows"]) == 5
    assert all(row.name for row in response.context["rows"])
    _fill_queue(desa, 55, filer)
    with django_assert_max_num_queries(QUEUE_QUERY_BUDGET) as many:
        response = client.get(QUEUE)
    assert len(response.context["rows"]) == 25
    assert all(row.name for row in response.context["rows"])
    assert "WARGA ANTREAN 0" in response.text
    assert len(many.captured_queries) == len(few.captured_queries)


# The review page


def test_review_page_shows_before_now_and_proposed_when_the_record_changed_since(
    client, family, operator_desa, biodata_submitted
) -> None:
    _registry_change(family[0], occupation=Occupation.TRADER)
    response = _as(client, operator_desa).get(_url("review", biodata_submitted))
    assert response.status_code == 200
    (row,) = response.context["review"].rows
    assert (row.before, row.now, row.after) == (
        str(Occupation.FARMER.label),
        str(Occupation.TRADER.label),
        str(Occupation.TEACHER.label),
    )
    assert row.conflict
    assert "Changed since the submission" in response.text
    assert any("changed after this submission" in w for w in response.context["review"].warnings)


def test_review_page_has_no_change_warning_when_the_record_is_untouched(
    client, operator_desa, biodata_submitted
) -> None:
    response = _as(client, operator_desa).get(_url("review", biodata_submitted))
    review = response.context["review"]
    assert not review.conflicts
    assert review.warnings == []
    assert response.context["form"] is not None


def test_review_page_records_the_view_for_the_citizen_and_the_audit_trail_when_opened(
    client, family, operator_desa, biodata_submitted
) -> None:
    _as(client, operator_desa).get(_url("review", biodata_submitted))
    access = AccessLog.objects.get(actor=operator_desa)
    assert (access.registry, access.record_id, access.purpose) == (
        Registry.PERMANENT,
        family[0].pk,
        AccessPurpose.REVIEW,
    )
    entry = AuditEntry.objects.get(actor=operator_desa, action=AuditAction.REVIEW_VIEW)
    assert entry.nik_index == family[0].nik_index
    assert entry.reference == biodata_submitted.tracking_code


def test_review_page_records_the_view_in_the_audit_trail_when_nobody_is_registered_yet(
    client, desa, operator_desa
) -> None:
    arrival = _arrival(desa)
    _as(client, operator_desa).get(_url("review", arrival))
    entry = AuditEntry.objects.get(actor=operator_desa, action=AuditAction.REVIEW_VIEW)
    assert entry.nik_index == arrival.subject_key
    assert not AccessLog.objects.exists()


def test_review_page_links_evidence_and_shows_images_inline_when_an_image_is_attached(
    client, owner, family, operator_desa
) -> None:
    submission = file_and_submit(
        actor=owner,
        kind=Kind.BIODATA_CORRECTION,
        cleaned=biodata_cleaned(occupation=Occupation.TEACHER),
        subject=kinds.subject_of(family[0]),
        uploads=[upload("sk.pdf"), upload("foto.png", _png())],
    )
    _as(client, operator_desa)
    response = client.get(_url("review", submission))
    pdf, image = submission.evidence.order_by("pk")
    pdf_url = reverse("submissions:evidence", args=[submission.tracking_code, pdf.pk])
    image_url = reverse("submissions:evidence", args=[submission.tracking_code, image.pk])
    assert f'href="{pdf_url}"' in response.text
    assert f'<img class="evidence-image" src="{image_url}"' in response.text
    assert f'src="{pdf_url}"' not in response.text
    assert client.get(image_url).status_code == 200


def test_review_page_shows_the_change_history_and_earlier_decisions_when_forwarded(
    client, family, verifier, operator_desa, biodata_at_dukcapil
) -> None:
    _registry_change(family[0], religion=Religion.CATHOLIC)
    response = _as(client, verifier).get(_url("review", biodata_at_dukcapil))
    review = response.context["review"]
    assert [d.officer for d in review.decisions] == [operator_desa]
    assert "religion" in {change.field for change in review.history}
    assert [entry.to_status for entry in review.timeline][-1] == Status.IN_REVIEW


def test_review_warns_when_another_submission_for_the_same_person_is_open(
    client, owner, family, operator_desa, biodata_submitted
) -> None:
    move = file_and_submit(
        actor=owner,
        kind=Kind.ADDRESS_CHANGE,
        cleaned={
            "desa": family[0].family.desa,
            "rt": "009",
            "rw": family[0].family.rw,
            "address": "Jalan Baru No. 2",
            "basis": "Surat pengantar RT",
        },
        subject=kinds.subject_of(family[0]),
    )
    warnings = (
        _as(client, operator_desa).get(_url("review", biodata_submitted)).context["review"].warnings
    )
    assert any(move.tracking_code in warning for warning in warnings)


def test_review_warns_when_a_births_parent_is_not_a_member_of_the_family(
    client, owner, family, operator_desa
) -> None:
    birth = _birth(owner, family, father_name="budi  suami", mother_name="IBU LAIN")
    warnings = _as(client, operator_desa).get(_url("review", birth)).context["review"].warnings
    assert any("mother" in warning and "IBU LAIN" in warning for warning in warnings)
    assert not any("father" in warning for warning in warnings)


def test_review_warns_when_an_arrivals_nik_is_already_in_the_registry(
    client, family, desa, operator_desa
) -> None:
    taken = _arrival(desa, nik=family[1].nik, full_name="NAMA LAIN")
    fresh_arrival = _arrival(desa)
    _as(client, operator_desa)
    warnings = client.get(_url("review", taken)).context["review"].warnings
    assert any("already registered as a permanent resident" in warning for warning in warnings)
    assert client.get(_url("review", fresh_arrival)).context["review"].warnings == []


def test_review_warns_about_a_possible_duplicate_when_name_and_birth_date_match_another_nik(
    client, family, desa, operator_desa
) -> None:
    me = family[0]
    twin = _arrival(
        desa,
        full_name="  siti   pemilik ",
        birth_date=me.birth_date,
        sex=Sex.FEMALE,
        nik=next_nik(region="340401", birth_date=me.birth_date, sex=Sex.FEMALE),
    )
    warnings = _as(client, operator_desa).get(_url("review", twin)).context["review"].warnings
    assert any("Possible duplicate person: 1 other record" in warning for warning in warnings)


def test_review_does_not_warn_about_a_duplicate_when_only_the_subject_matches(
    client, operator_desa, biodata_submitted
) -> None:
    warnings = (
        _as(client, operator_desa).get(_url("review", biodata_submitted)).context["review"].warnings
    )
    assert not any("duplicate" in warning for warning in warnings)


# Decisions through the views


def test_approval_forwards_the_item_to_the_next_tier_when_the_route_goes_on(
    client, operator_desa, biodata_submitted
) -> None:
    response = _as(client, operator_desa).post(
        _url("decide", biodata_submitted), {"outcome": "approve", "note": "Dokumen sesuai."}
    )
    assert response.status_code == 302
    assert response["Location"] == QUEUE
    submission = fresh(biodata_submitted)
    assert (submission.status, submission.current_tier) == (Status.IN_REVIEW, Tier.DUKCAPIL)
    decision = Decision.objects.get(submission=submission)
    assert (decision.tier, decision.officer, decision.outcome) == (
        Tier.DESA,
        operator_desa,
        "approve",
    )
    follow = client.get(QUEUE)
    assert any("moves on to the Dukcapil tier" in m for m in _messages(follow))


def test_final_approval_writes_the_registry_when_the_verifier_approves(
    client, family, verifier, biodata_at_dukcapil
) -> None:
    page = _as(client, verifier).get(_url("review", biodata_at_dukcapil))
    assert page.context["review"].final_tier
    response = client.post(
        _url("decide", biodata_at_dukcapil), {"outcome": "approve", "note": "Sah."}
    )
    assert response.status_code == 302
    submission = fresh(biodata_at_dukcapil)
    assert submission.status == Status.APPROVED
    assert PermanentResident.objects.get(pk=family[0].pk).occupation == Occupation.TEACHER
    assert Merge.objects.filter(submission=submission).exists()
    assert RecordChange.objects.filter(
        record_id=family[0].pk, field="occupation", source_ref=submission.tracking_code
    ).exists()


def test_rejection_needs_a_reason_and_the_citizen_then_sees_its_label(
    client, owner, operator_desa, biodata_submitted
) -> None:
    _as(client, operator_desa)
    before = _snapshot(biodata_submitted)
    missing = client.post(_url("decide", biodata_submitted), {"outcome": "reject", "note": "x"})
    assert missing.status_code == 200
    assert "reason_code" in missing.context["form"].errors
    assert _snapshot(biodata_submitted)[:6] == before[:6]
    client.post(
        _url("decide", biodata_submitted),
        {
            "outcome": "reject",
            "reason_code": RejectReason.DOCUMENT_INVALID,
            "note": "Foto SK tidak terbaca.",
        },
    )
    submission = fresh(biodata_submitted)
    assert (submission.status, submission.decision_code) == (
        Status.REJECTED,
        RejectReason.DOCUMENT_INVALID,
    )
    detail = _as(client, owner).get(reverse("submissions:detail", args=[submission.tracking_code]))
    assert str(RejectReason.DOCUMENT_INVALID.label) in detail.text
    assert "Foto SK tidak terbaca." in detail.text


def test_return_names_the_elements_and_the_citizen_then_sees_their_labels(
    client, owner, operator_desa, biodata_submitted
) -> None:
    _as(client, operator_desa)
    no_note = client.post(_url("decide", biodata_submitted), {"outcome": "return"})
    assert "note" in no_note.context["form"].errors
    client.post(
        _url("decide", biodata_submitted),
        {"outcome": "return", "return_fields": ["occupation"], "note": "Lampirkan SK terbaru."},
    )
    submission = fresh(biodata_submitted)
    assert (submission.status, submission.returned_fields) == (Status.RETURNED, ["occupation"])
    detail = _as(client, owner).get(reverse("submissions:detail", args=[submission.tracking_code]))
    assert "Lampirkan SK terbaru." in detail.text
    assert "<li>Occupation</li>" in detail.text


def test_return_refuses_an_element_the_kind_does_not_have_when_posted(
    client, operator_desa, biodata_submitted
) -> None:
    response = _as(client, operator_desa).post(
        _url("decide", biodata_submitted),
        {"outcome": "return", "return_fields": ["nik"], "note": "x"},
    )
    assert "return_fields" in response.context["form"].errors
    assert fresh(biodata_submitted).status == Status.SUBMITTED


def test_final_approval_needs_each_conflict_confirmed_when_the_record_changed(
    client, family, verifier, biodata_at_dukcapil
) -> None:
    _registry_change(family[0], occupation=Occupation.TRADER)
    _as(client, verifier)
    page = client.get(_url("review", biodata_at_dukcapil))
    assert "confirmed" in page.context["form"].fields
    assert 'name="confirmed" value="occupation"' in page.text
    refused = client.post(_url("decide", biodata_at_dukcapil), {"outcome": "approve"})
    assert refused.status_code == 200
    assert "confirmed" in refused.context["form"].errors
    assert fresh(biodata_at_dukcapil).status == Status.IN_REVIEW
    assert PermanentResident.objects.get(pk=family[0].pk).occupation == Occupation.TRADER
    client.post(
        _url("decide", biodata_at_dukcapil), {"outcome": "approve", "confirmed": ["occupation"]}
    )
    assert fresh(biodata_at_dukcapil).status == Status.APPROVED
    assert PermanentResident.objects.get(pk=family[0].pk).occupation == Occupation.TEACHER
    decision = Decision.objects.get(submission=biodata_at_dukcapil, tier=Tier.DUKCAPIL)
    assert decision.confirmed_fields == ["occupation"]


def test_final_approval_of_a_birth_asks_for_the_childs_nik_when_dukcapil_approves(
    client, owner, family, operator_desa, verifier
) -> None:
    birth = decide(_birth(owner, family), operator_desa)
    _as(client, verifier)
    assert "nik" in client.get(_url("review", birth)).context["form"].fields
    refused = client.post(_url("decide", birth), {"outcome": "approve"})
    assert "nik" in refused.context["form"].errors
    nik = next_nik(birth_date=datetime.date(2026, 1, 10), sex=Sex.MALE)
    client.post(_url("decide", birth), {"outcome": "approve", "nik": nik})
    assert fresh(birth).status == Status.APPROVED
    child = PermanentResident.objects.get(nik_index=crypto.nik_index(nik))
    assert (child.family_id, child.family_relation) == (family[0].family_id, FamilyRelation.CHILD)


def test_merge_refusal_is_a_message_not_an_error_page_when_the_nik_is_taken(
    client, owner, family, operator_desa, verifier
) -> None:
    birth = decide(_birth(owner, family), operator_desa)
    response = _as(client, verifier).post(
        _url("decide", birth), {"outcome": "approve", "nik": family[2].nik}
    )
    assert response.status_code == 302
    assert response["Location"] == _url("review", birth)
    assert fresh(birth).status == Status.IN_REVIEW
    assert _messages(client.get(response["Location"]))


def test_four_eyes_refusal_is_shown_as_a_message_when_the_filer_tries_to_decide(
    client, family, operator_desa
) -> None:
    assisted = file_and_submit(
        actor=operator_desa,
        kind=Kind.BIODATA_CORRECTION,
        cleaned=biodata_cleaned(occupation=Occupation.TRADER),
        subject=kinds.subject_of(family[1]),
        channel=Channel.ASSISTED,
    )
    before = _snapshot(assisted)
    _as(client, operator_desa)
    page = client.get(_url("review", assisted))
    assert page.context["form"] is None
    assert "you filed or assisted it" in page.context["refusal"]
    response = client.post(_url("decide", assisted), {"outcome": "approve", "note": "ok"})
    assert response.status_code == 302
    follow = client.get(response["Location"])
    assert any("you filed or assisted it" in m for m in _messages(follow))
    assert _snapshot(assisted)[:6] == before[:6]


def test_decision_is_refused_with_a_message_when_another_officer_holds_the_claim(
    client, verifier, second_verifier, biodata_at_dukcapil
) -> None:
    _as(client, second_verifier).post(_url("claim", biodata_at_dukcapil))
    before = _snapshot(biodata_at_dukcapil)
    _as(client, verifier)
    page = client.get(_url("review", biodata_at_dukcapil))
    assert "is reviewing this submission until" in page.text
    response = client.post(_url("decide", biodata_at_dukcapil), {"outcome": "approve"})
    follow = client.get(response["Location"])
    assert any("is reviewing this submission until" in m for m in _messages(follow))
    assert _snapshot(biodata_at_dukcapil)[:6] == before[:6]


def test_claim_and_release_through_the_buttons_when_the_officer_reviews(
    client, verifier, biodata_at_dukcapil
) -> None:
    _as(client, verifier)
    response = client.post(_url("claim", biodata_at_dukcapil))
    assert response.status_code == 302
    claim = Claim.objects.get(submission=biodata_at_dukcapil)
    assert claim.officer == verifier
    page = client.get(response["Location"])
    assert "You are reviewing this submission until" in page.text
    assert reverse("verification:release", args=[biodata_at_dukcapil.tracking_code]) in page.text
    client.post(_url("release", biodata_at_dukcapil))
    assert not Claim.objects.filter(submission=biodata_at_dukcapil).exists()


def test_claim_is_refused_with_a_message_when_the_item_waits_at_another_tier(
    client, verifier, biodata_submitted
) -> None:
    _as(client, verifier)
    response = client.post(_url("claim", biodata_submitted))
    assert response.status_code == 302
    assert not Claim.objects.exists()
    assert any("not waiting at your tier" in m for m in _messages(client.get(QUEUE)))


def test_get_cannot_decide_when_the_action_needs_post(
    client, operator_desa, biodata_submitted
) -> None:
    before = _snapshot(biodata_submitted)
    response = _as(client, operator_desa).get(_url("decide", biodata_submitted))
    assert response.status_code == 405
    assert _snapshot(biodata_submitted)[:6] == before[:6]


# F-1.06


@pytest.fixture
def merged(client, verifier, biodata_at_dukcapil) -> Submission:
    return decide(biodata_at_dukcapil, verifier, note="Sah.")


def _statement(submission: Submission) -> ChangeStatement:
    statement = ChangeStatement(merge=Merge.objects.get(submission=submission), sha256="ab" * 32)
    statement.file.save("f106.pdf", ContentFile(b"%PDF-1.4 statement"), save=False)
    statement.save()
    return statement


def test_change_statement_is_404_while_it_is_not_generated(client, verifier, merged) -> None:
    assert _as(client, verifier).get(_url("statement", merged)).status_code == 404


@pytest.mark.parametrize("role", ["verifier", "head"])
def test_change_statement_downloads_as_an_attachment_when_dukcapil_asks(
    client, merged, role, request
) -> None:
    _statement(merged)
    officer = request.getfixturevalue(role)
    response = _as(client, officer).get(_url("statement", merged))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert merged.tracking_code in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == b"%PDF-1.4 statement"
    assert AuditEntry.objects.filter(actor=officer, reference=merged.tracking_code).exists()
    page = client.get(_url("review", merged))
    assert _url("statement", merged) in page.text


def test_change_statement_is_404_when_a_village_operator_asks(
    client, operator_desa, merged
) -> None:
    _statement(merged)
    response = _as(client, operator_desa).get(_url("statement", merged))
    assert response.status_code == 404
    assert _url("statement", merged) not in client.get(_url("review", merged)).text


# Dashboard


def test_dashboard_counts_open_items_by_tier_kind_and_kecamatan_when_items_wait(
    client, head, owner, family, operator_desa, biodata_at_dukcapil, other_desa
) -> None:
    _birth(owner, family)
    _arrival(other_desa)
    dashboard = _as(client, head).get(reverse("verification:dashboard")).context["dashboard"]
    open_items = Submission.objects.filter(status__in=[Status.SUBMITTED, Status.IN_REVIEW])
    by_tier = {figure.label: figure.count for figure in dashboard.by_tier}
    assert by_tier == {
        str(Tier(tier).label): open_items.filter(current_tier=tier).count()
        for tier in {s.current_tier for s in open_items}
    }
    assert {f.label: f.count for f in dashboard.by_kind} == {
        str(Kind(kind).label): open_items.filter(kind=kind).count()
        for kind in {s.kind for s in open_items}
    }
    assert {f.label: f.count for f in dashboard.by_kecamatan} == {
        family[0].family.desa.kecamatan.name: 2,
        other_desa.kecamatan.name: 1,
    }
    assert dashboard.total == open_items.count() == 3


def test_dashboard_is_limited_to_the_officers_area_when_a_village_operator_asks(
    client, operator_desa, biodata_submitted, other_desa
) -> None:
    _arrival(other_desa)
    dashboard = (
        _as(client, operator_desa).get(reverse("verification:dashboard")).context["dashboard"]
    )
    assert dashboard.total == 1
    assert [f.label for f in dashboard.by_kecamatan] == [biodata_submitted.desa.kecamatan.name]


def test_dashboard_shows_the_median_time_to_decision_when_decisions_were_made(
    client, head, owner, family, operator_desa, biodata_submitted
) -> None:
    birth = _birth(owner, family)
    spouse = file_and_submit(
        actor=owner,
        kind=Kind.BIODATA_CORRECTION,
        cleaned=biodata_cleaned(occupation=Occupation.TRADER),
        subject=kinds.subject_of(family[1]),
    )
    now = timezone.now()
    for submission, hours in ((biodata_submitted, 5), (birth, 30), (spouse, 70)):
        Submission.objects.filter(pk=submission.pk).update(
            tier_entered_at=now - datetime.timedelta(hours=hours)
        )
        decide(submission, operator_desa)
    durations = [
        (decision.decided_at - decision.arrived_at).total_seconds()
        for decision in Decision.objects.filter(tier=Tier.DESA)
    ]
    response = _as(client, head).get(reverse("verification:dashboard"))
    rows = {row.label: row for row in response.context["dashboard"].time_to_decision}
    desa_row = rows[str(Tier.DESA.label)]
    assert desa_row.decisions == 3
    assert abs(desa_row.median.total_seconds() - statistics.median(durations)) < 1
    assert desa_row.days == 1 and desa_row.hours == 6
    assert rows[str(Tier.DUKCAPIL.label)].median is None


# Audit search


@pytest.mark.parametrize("role", ["operator_desa", "officer_kecamatan", "verifier"])
def test_audit_search_is_refused_when_the_officer_is_not_the_head(client, role, request) -> None:
    _as(client, request.getfixturevalue(role))
    assert client.get(reverse("verification:audit")).status_code == 403
    assert client.post(reverse("verification:audit"), {"officer": "x@y.z"}).status_code == 403


@pytest.fixture
def audit_trail(operator_desa, verifier, family):
    """Three entries: the operator about `me` ten days ago, the verifier about `me` today,
    the verifier about the spouse yesterday."""
    me, spouse, _child = family
    now = timezone.now()
    return [
        AuditEntry.objects.create(
            actor=operator_desa,
            action=AuditAction.RECORD_VIEW,
            nik_index=me.nik_index,
            reference="A",
            created_at=now - datetime.timedelta(days=10),
        ),
        AuditEntry.objects.create(
            actor=verifier,
            action=AuditAction.APPROVE,
            nik_index=me.nik_index,
            reference="B",
            tier=Tier.DUKCAPIL,
        ),
        AuditEntry.objects.create(
            actor=verifier,
            action=AuditAction.RECORD_VIEW,
            nik_index=spouse.nik_index,
            reference="C",
            created_at=now - datetime.timedelta(days=1),
        ),
    ]


def _references(response) -> list[str]:
    return [entry.reference for entry in response.context["page"]]


def test_audit_search_finds_entries_by_officer_nik_and_date_when_the_head_asks(
    client, head, family, verifier, audit_trail
) -> None:
    _as(client, head)
    url = reverse("verification:audit")
    everything = client.get(url)
    assert _references(everything) == ["B", "C", "A"]
    assert "<td>Dukcapil</td>" in everything.text
    assert _references(client.get(url, {"officer": verifier.email.upper()})) == ["B", "C"]
    assert _references(client.post(url, {"nik": family[0].nik})) == ["B", "A"]
    today = timezone.localdate()
    yesterday = today - datetime.timedelta(days=1)
    assert _references(client.get(url, {"date_from": yesterday, "date_to": yesterday})) == ["C"]
    combined = client.post(
        url, {"nik": family[0].nik, "officer": verifier.email, "date_from": today}
    )
    assert _references(combined) == ["B"]


def test_audit_search_ignores_a_nik_when_it_comes_in_the_url(
    client, head, family, audit_trail
) -> None:
    response = _as(client, head).get(reverse("verification:audit"), {"nik": family[1].nik})
    assert _references(response) == ["B", "C", "A"]
    assert not response.context["form"]["nik"].value()


def test_audit_search_pages_by_post_when_the_search_was_posted(
    client, head, family, verifier
) -> None:
    for number in range(30):
        AuditEntry.objects.create(
            actor=verifier,
            action=AuditAction.RECORD_VIEW,
            nik_index=family[0].nik_index,
            reference=f"R{number:02}",
        )
    _as(client, head)
    url = reverse("verification:audit")
    first = client.post(url, {"nik": family[0].nik})
    assert len(_references(first)) == 25
    assert 'name="page" value="2"' in first.text
    second = client.post(url, {"nik": family[0].nik, "page": "2"})
    assert len(_references(second)) == 5


# Admin


def test_admin_edits_a_route_and_refuses_an_invalid_one_when_a_system_admin_saves(
    client, system_admin
) -> None:
    _as(client, system_admin)
    url = reverse("admin:submissions_route_add")
    refused = client.post(url, {"kind": Kind.REPORT, "tiers": '["dukcapil", "desa"]'})
    assert refused.status_code == 200
    assert not Route.objects.exists()
    saved = client.post(url, {"kind": Kind.REPORT, "tiers": '["desa", "dukcapil"]'})
    assert saved.status_code == 302
    assert Route.objects.get(kind=Kind.REPORT).tiers == ["desa", "dukcapil"]


def test_admin_shows_but_cannot_change_review_records_when_a_system_admin_opens_them(
    client, system_admin, verifier, merged
) -> None:
    _as(client, system_admin)
    decision = Decision.objects.filter(submission=merged).first()
    for model in ("decision", "merge", "claim", "changestatement"):
        assert client.get(reverse(f"admin:verification_{model}_changelist")).status_code == 200
        assert client.get(reverse(f"admin:verification_{model}_add")).status_code == 403
    change = client.get(reverse("admin:verification_decision_change", args=[decision.pk]))
    assert change.status_code == 200
    assert 'name="_save"' not in change.text
    assert (
        client.post(
            reverse("admin:verification_decision_delete", args=[decision.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert client.get(reverse("admin:citizens_auditentry_changelist")).status_code == 200
    assert client.get(reverse("admin:citizens_auditentry_add")).status_code == 403
