"""Scheduled reports: the weekly summary and the monthly aggregates hold what this test did,
small counts left blank, stored once per period, e-mailed, and readable only by the head."""

import csv
import datetime
import io
import subprocess

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core import mail
from django.urls import reverse
from django.utils import translation

from citizens import statistics
from citizens.choices import Occupation
from submissions import kinds
from submissions.choices import Kind
from tests.conftest import require_tool
from tests.factories import non_permanent_create, resident_create
from tests.verification.conftest import biodata_cleaned, decide, file_and_submit
from verification import reports, tasks
from verification.models import Report, ReportKind

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 11, 16, 8, 0, tzinfo=datetime.UTC)  # a Monday
NEXT_MONDAY = datetime.date(2026, 11, 23)


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"
    settings.REPORTS_WEEKLY_RECIPIENTS = ["sekretariat@example.test"]
    settings.REPORTS_STATISTICS_RECIPIENTS = ["bps@example.test"]


@pytest.fixture
def week(owner, family, desa, operator_desa, head):
    """Seven permanent residents (the family of three and four more) and two non-permanent in
    `desa`; two corrections filed on T0, one approved by the village five hours later."""
    for _ in range(4):
        resident_create(family=family[0].family)
    for _ in range(2):
        non_permanent_create(desa=desa)
    statistics.statistics_refresh()
    with time_machine.travel(T0, tick=False):
        filed = [
            file_and_submit(
                actor=owner,
                kind=Kind.BIODATA_CORRECTION,
                cleaned=biodata_cleaned(occupation=Occupation.TEACHER),
                subject=kinds.subject_of(person),
            )
            for person in family[:2]
        ]
    with time_machine.travel(T0 + datetime.timedelta(hours=5), tick=False):
        decide(filed[0], operator_desa)
    head.email = "kepala@example.test"
    head.save(update_fields=["email"])
    return filed


def _id(text: str) -> str:
    """A label as the reports print it (in the portal's language, Indonesian)."""
    with translation.override("id"):
        return str(translation.gettext(text))


PERMANENT, NON_PERMANENT = _id("Permanent resident"), _id("Non-permanent resident")


def _sections(content: bytes) -> dict[str, list[list[str]]]:
    """The weekly CSV as {section title: rows after the header}."""
    sections: dict[str, list[list[str]]] = {}
    current: list[list[str]] | None = None
    lines = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    for index, line in enumerate(lines):
        if not line:
            current = None
        elif current is None and index + 1 < len(lines) and lines[index + 1]:
            current = sections.setdefault(line[0], [])
            current.append([])  # the header row follows; dropped below
        elif current is not None:
            current.append(line)
    return {title: rows[2:] for title, rows in sections.items()}


def test_weekly_report_holds_last_weeks_figures_with_small_counts_blank_when_made(
    week, head
) -> None:
    report = reports.weekly_report_create(today=NEXT_MONDAY + datetime.timedelta(days=2))
    assert (report.kind, report.period_start, report.period_end) == (
        ReportKind.WEEKLY_HEAD,
        T0.date(),
        NEXT_MONDAY,
    )
    with report.csv_file.open("rb") as handle:
        content = handle.read()
    sections = _sections(content)
    # Two submissions by citizens and one approval: under the threshold, left blank.
    assert sections[_id("Submissions by channel")] == [[_id("Citizen"), ""]]
    outcomes = {row[0]: row[1:] for row in sections[_id("Decisions by outcome")]}
    # One decision: its count and its rate blank (a 100 % would give the count away).
    assert outcomes == {
        _id("Approve"): ["", ""],
        _id("Reject"): ["0", "0.0"],
        _id("Return for revision"): ["0", "0.0"],
    }
    timings = {
        row[0]: row[2]
        for row in sections[_id("Time from arrival at a tier to the decision (hours)")]
    }
    # One decision: its median would be that one citizen's wait, so it is blank with its count.
    assert timings[_id("Village")] == ""
    status = {row[0]: row[1] for row in sections[_id("Permanent and non-permanent residents")]}
    # Two non-permanent are hidden, so the seven permanent are too: the total would give them.
    assert status == {PERMANENT: "", NON_PERMANENT: ""}
    note = _id(
        "Counts from 1 to %(below)s are left blank so that no one can be identified, and so "
        "are some larger counts from which a blank one could be worked out."
    )
    last = content.decode("utf-8-sig").splitlines()[-1]
    assert next(csv.reader([last])) == [note % {"below": 4}]


def test_weekly_report_pdf_reads_as_the_summary_when_rendered(week, head) -> None:
    pdftotext = require_tool("pdftotext")
    report = reports.weekly_report_create(today=NEXT_MONDAY)
    with report.pdf_file.open("rb") as handle:
        text = subprocess.run(
            [pdftotext, "-enc", "UTF-8", "-", "-"],
            input=handle.read(),
            capture_output=True,
            check=True,
        ).stdout.decode()
    text = " ".join(text.split())
    assert _id("Weekly summary for the head of Dukcapil").upper() in text.upper()
    assert "16" in text and "22" in text  # 16 to 22 November
    assert "Purworejo".upper() in text.upper()


def test_weekly_report_is_emailed_once_with_both_files_when_run_twice(week, head) -> None:
    first = reports.weekly_report_create(today=NEXT_MONDAY)
    again = reports.weekly_report_create(today=NEXT_MONDAY + datetime.timedelta(days=3))
    assert again.pk == first.pk and Report.objects.count() == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert sorted(message.to) == ["kepala@example.test", "sekretariat@example.test"]
    assert sorted(name.rsplit(".", 1)[-1] for name, *_ in message.attachments) == ["csv", "pdf"]
    assert Report.objects.get().emailed_to == 2


def test_monthly_report_counts_each_area_with_small_counts_blank_when_made(
    week, desa, other_desa
) -> None:
    report = reports.monthly_report_create(today=datetime.date(2026, 12, 1))
    assert (report.period_start, report.period_end) == (
        datetime.date(2026, 11, 1),
        datetime.date(2026, 12, 1),
    )
    assert not report.pdf_file
    with report.csv_file.open("rb") as handle:
        lines = list(csv.reader(io.StringIO(handle.read().decode("utf-8-sig"))))
    status = {
        (line[0], line[4]): line[6] for line in lines[1:-1] if line[2:4] == ["population", "status"]
    }
    here, there = desa.kecamatan.code, other_desa.kecamatan.code
    # Two non-permanent: suppressed, and the seven permanent with them (complement).
    assert status[("3306", PERMANENT)] == ""
    assert status[(here, PERMANENT)] == ""
    assert status[(here, NON_PERMANENT)] == ""
    assert status[(there, PERMANENT)] == "0"
    counts = [line[6] for line in lines[1:-1] if line[6]]
    assert all(int(value) == 0 or int(value) >= 5 for value in counts)
    assert [m.to for m in mail.outbox] == [["bps@example.test", "kepala@example.test"]]


def test_beat_runs_both_reports_through_their_tasks_when_scheduled(week) -> None:
    schedule = django_settings.CELERY_BEAT_SCHEDULE
    assert schedule["weekly-head-report"]["task"] == "verification.tasks.weekly_head_report"
    assert (
        schedule["monthly-statistics-report"]["task"]
        == "verification.tasks.monthly_statistics_report"
    )
    weekly_id = tasks.weekly_head_report.apply().get()
    monthly_id = tasks.monthly_statistics_report.apply().get()
    kinds_made = set(Report.objects.values_list("kind", flat=True))
    assert kinds_made == {ReportKind.WEEKLY_HEAD, ReportKind.MONTHLY_STATISTICS}
    assert {weekly_id, monthly_id} == set(Report.objects.values_list("pk", flat=True))


def test_only_the_head_lists_and_downloads_reports_when_others_try(
    client, week, head, verifier, analyst, officer_kecamatan
) -> None:
    report = reports.monthly_report_create(today=datetime.date(2026, 12, 1))
    csv_url = reverse("verification:report_file", args=[report.pk, "csv"])
    for other in (verifier, analyst, officer_kecamatan):
        client.force_login(other)
        assert client.get(reverse("verification:reports")).status_code == 404
        assert client.get(csv_url).status_code == 404
    client.force_login(head)
    listing = client.get(reverse("verification:reports"))
    assert listing.status_code == 200 and csv_url in listing.content.decode()
    download = client.get(csv_url)
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith("\ufeff".encode())
    assert (
        client.get(reverse("verification:report_file", args=[report.pk, "pdf"])).status_code == 404
    )
    assert (
        client.get(reverse("verification:report_file", args=[report.pk + 99, "csv"])).status_code
        == 404
    )
    assert (
        client.get(reverse("verification:report_file", args=[report.pk, "xls"])).status_code == 404
    )


def test_weekly_rates_are_shown_when_there_are_enough_decisions() -> None:
    from verification.monitoring import Monitoring

    figures = Monitoring(
        weeks=[],
        channels={"Citizen": 6},
        outcomes={"Approve": 20, "Reject": 1, "Return for revision": 6},
        rates={"Approve": 74.1, "Reject": 3.7, "Return for revision": 22.2},
        timings=[],
        overdue_by_kecamatan=[],
        period_days=7,
    )
    sections = {
        title: rows
        for title, _columns, rows in reports._weekly_sections(figures, statistics.scope_published())
    }
    # The one rejection is hidden, the six returns with it (else 27 - 20 would give it), and
    # neither rate is shown.
    assert sections[_id("Decisions by outcome")] == [
        ["Approve", 20, 74.1],
        ["Reject", None, ""],
        ["Return for revision", None, ""],
    ]
