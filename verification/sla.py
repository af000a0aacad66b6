"""The review service level: how many working days an item may wait at a tier.

Working days are Monday to Friday minus the configured holidays. An item that reached its
tier on day D is overdue once REVIEW_SLA_WORKING_DAYS whole working days after D have passed
(entered on a Monday with 3 days: Tuesday, Wednesday and Thursday are its days; from Friday
it is overdue). The pure functions take every input as an argument; `overdue_before` reads
the settings and the clock for the selectors.
"""

import datetime
from collections.abc import Collection, Iterable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

_ONE_DAY = datetime.timedelta(days=1)


def parse_holidays(values: Iterable[str]) -> frozenset[datetime.date]:
    """settings.REVIEW_HOLIDAYS (YYYY-MM-DD strings) as dates."""
    days = set()
    for value in values:
        try:
            days.add(datetime.date.fromisoformat(str(value).strip()))
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"REVIEW_HOLIDAYS: {value!r} is not a YYYY-MM-DD date"
            ) from exc
    return frozenset(days)


def is_working_day(day: datetime.date, holidays: Collection[datetime.date] = ()) -> bool:
    return day.weekday() < 5 and day not in holidays


def working_days_between(
    start: datetime.date, end: datetime.date, holidays: Collection[datetime.date] = ()
) -> int:
    """Working days after `start` up to and including `end` (0 when end <= start)."""
    count = 0
    day = start + _ONE_DAY
    while day <= end:
        if is_working_day(day, holidays):
            count += 1
        day += _ONE_DAY
    return count


def overdue_cutoff(
    today: datetime.date, working_days: int, holidays: Collection[datetime.date] = ()
) -> datetime.date:
    """The first arrival date that is not overdue today: items that reached their tier
    before it are overdue. It is the `working_days`-th working day counted back from
    yesterday, so that many whole working days lie between it and today."""
    day = today
    counted = 0
    while counted < max(working_days, 0):
        day -= _ONE_DAY
        if is_working_day(day, holidays):
            counted += 1
    return day


def is_overdue(
    entered: datetime.date,
    today: datetime.date,
    working_days: int,
    holidays: Collection[datetime.date] = (),
) -> bool:
    return entered < overdue_cutoff(today, working_days, holidays)


def overdue_before(now: datetime.datetime | None = None) -> datetime.datetime:
    """The moment before which an item's tier_entered_at makes it overdue now: local
    midnight of the cutoff date, from REVIEW_SLA_WORKING_DAYS and REVIEW_HOLIDAYS."""
    local_now = timezone.localtime(now or timezone.now())
    cutoff = overdue_cutoff(
        local_now.date(),
        settings.REVIEW_SLA_WORKING_DAYS,
        parse_holidays(settings.REVIEW_HOLIDAYS),
    )
    return timezone.make_aware(
        datetime.datetime.combine(cutoff, datetime.time.min), timezone.get_current_timezone()
    )
