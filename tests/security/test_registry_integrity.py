"""Registry integrity at approval (issue #16, item 11): a NIK given to a new record agrees with
the person's date of birth and sex, and the F-1.01 elements a kind requires (the mother's name
for a birth) are there before any tier approves. Refused with a clear Indonesian message that
names no value; nothing is decided or written."""

import datetime

import pytest
from django.urls import reverse

from citizens.choices import Sex
from citizens.crypto import nik_index
from citizens.models import PermanentResident, ResidentLink
from submissions import kinds
from submissions.choices import Kind, Status, Tier
from submissions.forms import ArrivalForm, BirthForm
from tests.factories import next_nik
from tests.verification.conftest import (
    ARRIVAL_BIRTH_DATE,
    approve_through,
    arrival_cleaned,
    decide,
    file_and_submit,
    fresh,
)
from verification.exceptions import MergeRefused
from verification.merge import MergeInput
from verification.models import Decision

# The probe: a child born on 18 November 2026 given a NIK whose date part reads 01-01-01.
BORN = datetime.date(2026, 11, 18)
PROBED_NIK = "3306060101010001"


@pytest.fixture
def family(family_of_three):
    return family_of_three


@pytest.fixture
def owner(citizen, family):
    ResidentLink.objects.create(user=citizen, permanent_resident=family[0])
    return citizen


@pytest.fixture
def reviewers(operator_desa, officer_kecamatan, verifier):
    return {Tier.DESA: operator_desa, Tier.KECAMATAN: officer_kecamatan, Tier.DUKCAPIL: verifier}


def _birth(owner, family, **overrides):
    mother = family[0]
    cleaned = {
        "full_name": "BAYI INTEGRITAS",
        "sex": Sex.MALE,
        "birth_place": "PURWOREJO",
        "birth_date": BORN,
        "religion": 1,
        "father_name": family[1].full_name,
        "mother_name": mother.full_name,
        "basis": "Surat keterangan lahir",
        **overrides,
    }
    return file_and_submit(
        actor=owner, kind=Kind.BIRTH, cleaned=cleaned, subject=kinds.subject_of(mother)
    )


def _refused(submission, officer, **kwargs) -> str:
    before = Decision.objects.filter(submission=submission).count()
    with pytest.raises(MergeRefused) as refusal:
        decide(submission, officer, **kwargs)
    assert Decision.objects.filter(submission=submission).count() == before
    return str(refusal.value.message)


def test_birth_is_refused_at_approval_when_the_nik_date_is_not_the_childs(
    owner, family, reviewers
) -> None:
    submission = approve_through(_birth(owner, family), reviewers, until=Tier.DUKCAPIL)
    message = _refused(submission, reviewers[Tier.DUKCAPIL], merge_input=MergeInput(nik=PROBED_NIK))
    assert "Tanggal lahir yang terkandung dalam NIK" in message
    assert PROBED_NIK not in message and "0101" not in message
    assert (fresh(submission).status, fresh(submission).current_tier) == (
        Status.IN_REVIEW,
        Tier.DUKCAPIL,
    )
    assert not PermanentResident.objects.filter(nik_index=nik_index(PROBED_NIK)).exists()
    right = next_nik(birth_date=BORN, sex=Sex.MALE)
    approved = decide(submission, reviewers[Tier.DUKCAPIL], merge_input=MergeInput(nik=right))
    assert approved.status == Status.APPROVED
    assert PermanentResident.objects.filter(nik_index=nik_index(right)).exists()


def test_birth_is_refused_at_approval_when_the_nik_sex_is_not_the_childs(
    owner, family, reviewers
) -> None:
    submission = approve_through(_birth(owner, family), reviewers, until=Tier.DUKCAPIL)
    girls_nik = next_nik(birth_date=BORN, sex=Sex.FEMALE)
    message = _refused(submission, reviewers[Tier.DUKCAPIL], merge_input=MergeInput(nik=girls_nik))
    assert "Jenis kelamin yang terkandung dalam NIK" in message
    assert not PermanentResident.objects.filter(nik_index=nik_index(girls_nik)).exists()


def test_birth_is_refused_at_every_tier_when_the_mothers_name_is_missing(
    owner, family, reviewers
) -> None:
    submission = _birth(owner, family, mother_name="")
    message = _refused(submission, reviewers[Tier.DESA])
    assert "Nama ibu" in message
    assert (fresh(submission).status, fresh(submission).current_tier) == (
        Status.SUBMITTED,
        Tier.DESA,
    )


def test_birth_form_requires_the_mothers_name_when_a_citizen_files_it(family) -> None:
    data = {
        "full_name": "Bayi Formulir",
        "sex": str(Sex.MALE),
        "birth_place": "Purworejo",
        "birth_date": "2026-11-18",
        "religion": "1",
        "father_name": "",
        "mother_name": "",
        "basis": "Surat keterangan lahir",
    }
    form = BirthForm(data)
    assert not form.is_valid()
    assert "mother_name" in form.errors


def test_arrival_form_refuses_a_nik_when_its_date_or_sex_is_not_the_persons(desa) -> None:
    cleaned = arrival_cleaned(desa)
    wrong = next_nik(region="340401", birth_date=datetime.date(2001, 1, 1), sex=Sex.FEMALE)
    data = {
        name: (value.pk if hasattr(value, "pk") else value) for name, value in cleaned.items()
    } | {"nik": wrong, "birth_date": ARRIVAL_BIRTH_DATE.isoformat()}
    form = ArrivalForm(data)
    assert not form.is_valid()
    errors = " ".join(form.errors["nik"])
    assert "Tanggal lahir yang terkandung dalam NIK" in errors
    assert "Jenis kelamin yang terkandung dalam NIK" in errors
    assert wrong not in errors


def test_arrival_is_refused_at_the_first_approval_when_its_nik_is_not_the_persons(
    citizen, desa, reviewers
) -> None:
    wrong = next_nik(region="340401", birth_date=datetime.date(2001, 1, 1), sex=Sex.MALE)
    submission = file_and_submit(
        actor=citizen, kind=Kind.ARRIVAL, cleaned=arrival_cleaned(desa, nik=wrong)
    )
    message = _refused(submission, reviewers[Tier.DESA])
    assert "Tanggal lahir yang terkandung dalam NIK" in message
    assert fresh(submission).current_tier == Tier.DESA


def test_verifier_sees_why_a_birth_is_refused_when_the_probed_nik_is_entered(
    client, owner, family, reviewers
) -> None:
    submission = approve_through(_birth(owner, family), reviewers, until=Tier.DUKCAPIL)
    client.force_login(reviewers[Tier.DUKCAPIL])
    url = reverse("verification:decide", args=[submission.tracking_code])
    response = client.post(url, {"outcome": "approve", "nik": PROBED_NIK}, follow=True)
    assert response.status_code == 200
    assert "NIK ini bukan milik orang tersebut" in response.text
    assert PROBED_NIK not in response.text
    assert fresh(submission).status == Status.IN_REVIEW
    assert not PermanentResident.objects.filter(nik_index=nik_index(PROBED_NIK)).exists()
