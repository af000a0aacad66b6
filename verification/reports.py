"""Scheduled reports: every Monday a summary of last week for the head of Dukcapil (PDF and
CSV), and on the first of the month the aggregates of the statistics pages for the
statistics office (CSV, per kecamatan). Both leave the portal by e-mail, so every count under
the threshold is suppressed (left blank, with a note), as in every statistics download.

One report per kind and period (a unique constraint): a repeated run returns the stored one.
"""

import datetime
import io
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from citizens import statistics
from citizens.choices import Role
from citizens.models import Kecamatan, User
from citizens.pdf_fetcher import static_url_fetcher
from citizens.spreadsheet import csv_writer
from verification.models import Report, ReportKind
from verification.monitoring import Monitoring, monitoring_for


def last_week(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """Monday to Monday (exclusive) of the last full week before `today`."""
    this_monday = today - datetime.timedelta(days=today.weekday())
    return this_monday - datetime.timedelta(days=7), this_monday


def last_month(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The first of the previous month to the first of this month (exclusive)."""
    first = today.replace(day=1)
    return (first - datetime.timedelta(days=1)).replace(day=1), first


def _shown(grid: Sequence[Sequence[int]], scope: statistics.Scope) -> list[list[int | None]]:
    """A table of counts as published: statistics.protect hides the small ones and their
    complements (None)."""
    hidden = statistics.protect(grid, threshold=scope.threshold)
    return [
        [None if hide else value for value, hide in zip(row, mask, strict=True)]
        for row, mask in zip(grid, hidden, strict=True)
    ]


def _note(threshold: int) -> str:
    return _(
        "Counts from 1 to %(below)s are left blank so that no one can be identified, and so "
        "are some larger counts from which a blank one could be worked out."
    ) % {"below": threshold - 1}


def _weekly_sections(
    monitoring: Monitoring, scope: statistics.Scope
) -> list[tuple[str, Sequence[str], list[Sequence[object]]]]:
    """The weekly figures as (title, columns, rows), counts already suppressed. A rate, median
    or percentile is shown only beside a count that is shown (its base)."""
    channels = _shown([[n] for n in monitoring.channels.values()], scope)
    outcomes = _shown([[n] for n in monitoring.outcomes.values()], scope)
    tiers = _shown([[t.decisions] for t in monitoring.timings], scope)
    overdue = _shown([[n, late] for _name, n, late in monitoring.overdue_by_kecamatan], scope)
    return [
        (
            _("Submissions by channel"),
            [_("Channel"), _("Submissions")],
            [[label, n] for label, (n,) in zip(monitoring.channels, channels, strict=True)],
        ),
        (
            _("Decisions by outcome"),
            [_("Outcome"), _("Decisions"), _("Share (%)")],
            [
                [label, n, "" if n is None else monitoring.rates[label]]
                for label, (n,) in zip(monitoring.outcomes, outcomes, strict=True)
            ],
        ),
        (
            _("Time from arrival at a tier to the decision (hours)"),
            [_("Tier"), _("Decisions"), _("Median"), _("90th percentile")],
            [
                [t.tier, n, *(("", "") if n is None else (t.median_hours, t.p90_hours))]
                for t, (n,) in zip(monitoring.timings, tiers, strict=True)
            ],
        ),
        (
            _("Open and overdue items by kecamatan"),
            [_("Kecamatan"), _("Open"), _("Overdue")],
            [
                [name, *shown]
                for (name, _n, _late), shown in zip(
                    monitoring.overdue_by_kecamatan, overdue, strict=True
                )
            ],
        ),
    ]


def _population_sections(
    scope: statistics.Scope,
) -> list[tuple[str, Sequence[str], list[Sequence[object]]]]:
    return [
        (
            str(table.title),
            [_("Category"), *(str(column) for column in table.columns)],
            [[row.label, *row.values] for row in table.rows],
        )
        for table in statistics.population_tables(scope, suppress=True)
        if table.chart != "pyramid"
    ]


def _sections_csv(
    sections: Iterable[tuple[str, Sequence[str], list[Sequence[object]]]], note: str
) -> bytes:
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv_writer(out)
    for title, columns, rows in sections:
        writer.writerow([title])
        writer.writerow(columns)
        writer.writerows(rows)
        writer.writerow([])
    writer.writerow([note])
    return out.getvalue().encode()


def _monthly_csv() -> bytes:
    """Every table of every statistics page for the regency and each kecamatan, one count a
    line (long format, for loading into a statistics package)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv_writer(out)
    writer.writerow(
        [_("Area code"), _("Area"), _("Page"), _("Table"), _("Category"), _("Column"), _("Count")]
    )
    areas = [("3306", str(_("Purworejo Regency")), statistics.scope_published())]
    areas += [
        (code, name, statistics.scope_published(kecamatan_code=code))
        for code, name in Kecamatan.objects.order_by("code").values_list("code", "name")
    ]
    threshold = settings.STATS_SUPPRESSION_THRESHOLD
    # The regency and its kecamatan side by side: the pattern stored at refresh is one over
    # the whole area hierarchy, so no kecamatan's hidden count is the regency's figure minus
    # the other kecamatan (statistics.hierarchy_hidden).
    pages = {
        page: [build(scope, suppress=True) for _code, _name, scope in areas]
        for page, (_title, build) in statistics.PAGES.items()
    }
    for number, (code, name, _scope) in enumerate(areas):
        for page, by_area in pages.items():
            for table in by_area[number]:
                for row in table.rows:
                    for column, value in zip(table.columns, row.values, strict=True):
                        writer.writerow(
                            [
                                code,
                                name,
                                page,
                                table.name,
                                row.label,
                                column,
                                "" if value is None else value,
                            ]
                        )
    writer.writerow([_note(threshold)])
    return out.getvalue().encode()


def _recipients(extra: Sequence[str]) -> list[str]:
    heads = User.objects.filter(role=Role.HEAD, is_active=True).exclude(email="")
    return sorted({*heads.values_list("email", flat=True), *extra})


def _store(
    *,
    kind: ReportKind,
    start: datetime.date,
    end: datetime.date,
    csv_data: bytes,
    pdf_data: bytes | None,
) -> tuple[Report, bool]:
    report = Report(kind=kind, period_start=start, period_end=end)
    report.csv_file.save(f"{kind}.csv", ContentFile(csv_data), save=False)
    if pdf_data is not None:
        report.pdf_file.save(f"{kind}.pdf", ContentFile(pdf_data), save=False)
    try:
        with transaction.atomic():
            report.save()
    except IntegrityError:
        report.csv_file.delete(save=False)
        if pdf_data is not None:
            report.pdf_file.delete(save=False)
        return Report.objects.get(kind=kind, period_start=start), False
    return report, True


def _send(report: Report, *, subject: str, body: str, recipients: list[str]) -> None:
    if not recipients:
        return
    message = EmailMessage(subject=subject, body=body, to=recipients)
    for field in (report.csv_file, report.pdf_file):
        if field:
            with field.open("rb") as handle:
                message.attach((field.name or "report").rsplit("/", 1)[-1], handle.read())
    message.send()
    Report.objects.filter(pk=report.pk).update(emailed_to=len(recipients))
    report.emailed_to = len(recipients)


def weekly_report_create(*, today: datetime.date | None = None) -> Report:
    """The head's summary of last week (Monday to Sunday): submissions by channel, decisions
    and their outcome rates, time to decision per tier, open and overdue items per kecamatan,
    and the registry's permanent and non-permanent totals. Stored once, then e-mailed to the
    heads and REPORTS_WEEKLY_RECIPIENTS."""
    today = today or timezone.localdate()
    start, end = last_week(today)
    existing = Report.objects.filter(kind=ReportKind.WEEKLY_HEAD, period_start=start).first()
    if existing is not None:
        return existing
    from weasyprint import HTML  # heavy import, only in the worker that renders

    end_at = timezone.make_aware(datetime.datetime.combine(end, datetime.time.min))
    with override(settings.LANGUAGE_CODE):
        scope = statistics.scope_published()
        monitoring = monitoring_for(None, now=end_at, period_days=7)
        sections = _weekly_sections(monitoring, scope) + _population_sections(scope)
        note = _note(scope.threshold)
        csv_data = _sections_csv(sections, note)
        last_day = end - datetime.timedelta(days=1)
        html = render_to_string(
            "verification/report_weekly.html",
            {
                "start": start,
                "last_day": last_day,
                "sections": sections,
                "note": note,
                "generated_at": timezone.localtime(),
            },
        )
        pdf_data = HTML(string=html, url_fetcher=static_url_fetcher()).write_pdf()
        report, created = _store(
            kind=ReportKind.WEEKLY_HEAD, start=start, end=end, csv_data=csv_data, pdf_data=pdf_data
        )
        if created:
            _send(
                report,
                subject=_("Weekly summary %(start)s to %(end)s")
                % {"start": start.isoformat(), "end": last_day.isoformat()},
                body=_("The weekly summary of the population-data portal is attached."),
                recipients=_recipients(settings.REPORTS_WEEKLY_RECIPIENTS),
            )
    return report


def monthly_report_create(*, today: datetime.date | None = None) -> Report:
    """The statistics office's aggregates of the month just ended (the statistics pages as
    refreshed, for the regency and each kecamatan, suppressed). Stored once, then e-mailed to
    REPORTS_STATISTICS_RECIPIENTS and the heads."""
    today = today or timezone.localdate()
    start, end = last_month(today)
    existing = Report.objects.filter(kind=ReportKind.MONTHLY_STATISTICS, period_start=start)
    if (found := existing.first()) is not None:
        return found
    with override(settings.LANGUAGE_CODE):
        report, created = _store(
            kind=ReportKind.MONTHLY_STATISTICS,
            start=start,
            end=end,
            csv_data=_monthly_csv(),
            pdf_data=None,
        )
        if created:
            _send(
                report,
                subject=_("Population aggregates for %(month)s") % {"month": f"{start:%Y-%m}"},
                body=_("The monthly population aggregates of Purworejo Regency are attached."),
                recipients=_recipients(settings.REPORTS_STATISTICS_RECIPIENTS),
            )
    return report


def report_list() -> list[Report]:
    """The stored reports, newest first (the page is the head's: policy.can_read_reports)."""
    return list(Report.objects.all()[:200])
