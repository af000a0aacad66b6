"""Participation and service monitoring for officers: submissions per week by kind and
channel, decision outcomes, time to decision per tier (median and 90th percentile) and
overdue items per kecamatan, within the officer's jurisdiction. Institutions' exchanges are
on the stakeholders' exchange overview."""

import datetime
import math
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Q
from django.db.models.functions import TruncWeek
from django.utils import timezone

from citizens import policy
from citizens.models import User
from submissions.choices import TIER_ORDER, Channel, Kind
from submissions.models import Submission
from verification import sla
from verification.choices import Outcome
from verification.models import Decision
from verification.selectors import REVIEWABLE


@dataclass(frozen=True)
class WeekCount:
    week: datetime.date
    kind: str
    channel: str
    count: int


@dataclass(frozen=True)
class Timing:
    tier: str
    decisions: int
    median_hours: float | None
    p90_hours: float | None


@dataclass(frozen=True)
class Monitoring:
    weeks: list[WeekCount]
    channels: dict[str, int]
    outcomes: dict[str, int]
    rates: dict[str, float]  # outcome -> share of decisions, in percent
    timings: list[Timing]
    overdue_by_kecamatan: list[tuple[str, int, int]]  # name, open, overdue
    period_days: int


def _percentile(ordered: list[float], share: float) -> float:
    """Nearest-rank percentile of a sorted list."""
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def monitoring_for(
    officer: User | None, *, now: datetime.datetime | None = None, period_days: int = 90
) -> Monitoring:
    """Aggregates over the officer's jurisdiction for the last `period_days` days. Counts are
    aggregate queries; the percentiles read the decision durations of the period (one value
    per decision). Without an officer (the scheduled reports): the whole regency."""
    now = now or timezone.now()
    since = now - datetime.timedelta(days=period_days)
    area = policy.desa_filter(officer) if officer is not None else Q()
    submitted = Submission.objects.filter(area, submitted_at__gte=since, submitted_at__lt=now)
    weeks = [
        WeekCount(
            timezone.localtime(row["week"]).date()
            if isinstance(row["week"], datetime.datetime)
            else row["week"],
            str(Kind(row["kind"]).label),
            str(Channel(row["channel"]).label),
            row["n"],
        )
        for row in submitted.annotate(week=TruncWeek("submitted_at"))
        .values("week", "kind", "channel")
        .annotate(n=Count("pk"))
        .order_by("-week", "kind", "channel")
    ]
    channels = {
        str(Channel(row["channel"]).label): row["n"]
        for row in submitted.values("channel").annotate(n=Count("pk")).order_by("channel")
    }
    decisions = Decision.objects.filter(
        policy.desa_filter(officer, field="submission__desa") if officer is not None else Q(),
        decided_at__gte=since,
        decided_at__lt=now,
    )
    counted = {
        row["outcome"]: row["n"] for row in decisions.values("outcome").annotate(n=Count("pk"))
    }
    total = sum(counted.values())
    outcomes = {str(outcome.label): counted.get(outcome, 0) for outcome in Outcome}
    rates = {
        str(outcome.label): round(100 * counted.get(outcome, 0) / total, 1) if total else 0.0
        for outcome in Outcome
    }
    durations: dict[str, list[float]] = defaultdict(list)
    for tier, arrived_at, decided_at in decisions.filter(arrived_at__isnull=False).values_list(
        "tier", "arrived_at", "decided_at"
    ):
        durations[tier].append((decided_at - arrived_at).total_seconds() / 3600)
    timings = []
    for tier in TIER_ORDER:
        ordered = sorted(durations[tier])
        timings.append(
            Timing(
                str(tier.label),
                len(ordered),
                round(_percentile(ordered, 0.5), 1) if ordered else None,
                round(_percentile(ordered, 0.9), 1) if ordered else None,
            )
        )
    cutoff = sla.overdue_before(now)
    overdue = [
        (row["desa__kecamatan__name"], row["n"], row["late"])
        for row in Submission.objects.filter(area, status__in=REVIEWABLE)
        .values("desa__kecamatan__name")
        .annotate(n=Count("pk"), late=Count("pk", filter=Q(tier_entered_at__lt=cutoff)))
        .order_by("-late", "desa__kecamatan__name")
    ]
    return Monitoring(weeks, channels, outcomes, rates, timings, overdue, period_days)
