"""Service monitoring: counts, outcome rates and time-to-decision percentiles against what
this test did, within the officer's jurisdiction."""

import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone, translation

from citizens.choices import Occupation
from submissions import kinds
from submissions.choices import Kind
from tests.verification.conftest import biodata_cleaned, decide, file_and_submit
from verification.choices import Outcome
from verification.monitoring import monitoring_for

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 11, 23, 8, 0, tzinfo=datetime.UTC)  # a Monday


@pytest.fixture
def history(owner, family, operator_desa, verifier):
    """Two corrections filed at T0: one approved by the village after 5 h and by Dukcapil
    24 h later, one returned by the village after 10 h."""
    with time_machine.travel(T0, tick=False):
        first = file_and_submit(
            actor=owner,
            kind=Kind.BIODATA_CORRECTION,
            cleaned=biodata_cleaned(occupation=Occupation.TEACHER),
            subject=kinds.subject_of(family[0]),
        )
        second = file_and_submit(
            actor=owner,
            kind=Kind.BIODATA_CORRECTION,
            cleaned=biodata_cleaned(occupation=Occupation.TEACHER),
            subject=kinds.subject_of(family[1]),
        )
    with time_machine.travel(T0 + datetime.timedelta(hours=5), tick=False):
        decide(first, operator_desa)
    with time_machine.travel(T0 + datetime.timedelta(hours=10), tick=False):
        decide(second, operator_desa, outcome=Outcome.RETURN, note="Lampirkan SK.")
    with time_machine.travel(T0 + datetime.timedelta(hours=29), tick=False):
        decide(first, verifier)
    return first, second


def test_counts_rates_and_percentiles_match_what_happened(history, verifier) -> None:
    now = T0 + datetime.timedelta(days=2)
    with translation.override("en"):
        figures = monitoring_for(verifier, now=now)
    assert figures.channels == {"Citizen": 2}
    assert figures.outcomes == {"Approve": 2, "Reject": 0, "Return for revision": 1}
    assert figures.rates == {"Approve": 66.7, "Reject": 0.0, "Return for revision": 33.3}
    timings = {timing.tier: timing for timing in figures.timings}
    assert (timings["Village"].decisions, timings["Village"].median_hours) == (2, 5.0)
    assert timings["Village"].p90_hours == 10.0
    assert (timings["Dukcapil"].median_hours, timings["Dukcapil"].p90_hours) == (24.0, 24.0)
    assert timings["Kecamatan"].decisions == 0 and timings["Kecamatan"].median_hours is None
    assert [(row.week, row.kind, row.channel, row.count) for row in figures.weeks] == [
        (timezone.localtime(T0).date(), "Biodata correction", "Citizen", 2)
    ]
    assert figures.overdue_by_kecamatan == []


def test_officer_of_another_village_sees_nothing_of_this_one(history, foreign_operator_desa):
    figures = monitoring_for(foreign_operator_desa, now=T0 + datetime.timedelta(days=2))
    assert figures.channels == {} and sum(figures.outcomes.values()) == 0
    assert all(timing.decisions == 0 for timing in figures.timings)


def test_open_items_past_the_deadline_are_counted_overdue_per_kecamatan(
    owner, family, verifier, desa
) -> None:
    with time_machine.travel(T0, tick=False):
        file_and_submit(
            actor=owner,
            kind=Kind.BIODATA_CORRECTION,
            cleaned=biodata_cleaned(occupation=Occupation.TEACHER),
            subject=kinds.subject_of(family[0]),
        )
    figures = monitoring_for(verifier, now=T0 + datetime.timedelta(days=30))
    assert figures.overdue_by_kecamatan == [(desa.kecamatan.name, 1, 1)]


def test_page_answers_officers_and_refuses_citizens(client, history, verifier, citizen) -> None:
    client.force_login(verifier)
    assert client.get(reverse("verification:monitoring")).status_code == 200
    client.force_login(citizen)
    assert client.get(reverse("verification:monitoring")).status_code in (302, 403)
