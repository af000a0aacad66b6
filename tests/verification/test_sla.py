"""The review service level in working days: weekends and configured holidays do not count."""

import datetime

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from verification import sla

MONDAY = datetime.date(2026, 3, 2)
FRIDAY = MONDAY + datetime.timedelta(days=4)
NEXT_MONDAY = MONDAY + datetime.timedelta(days=7)


def _day(offset: int) -> datetime.date:
    return MONDAY + datetime.timedelta(days=offset)


def test_weekend_is_not_a_working_day_when_no_holiday_is_configured() -> None:
    assert [sla.is_working_day(_day(n)) for n in range(7)] == [True] * 5 + [False] * 2


def test_holiday_is_not_a_working_day_when_configured() -> None:
    assert not sla.is_working_day(_day(2), {_day(2)})


def test_working_days_between_skips_weekends_when_the_span_crosses_one() -> None:
    assert sla.working_days_between(FRIDAY, NEXT_MONDAY) == 1
    assert sla.working_days_between(MONDAY, NEXT_MONDAY) == 5
    assert sla.working_days_between(MONDAY, MONDAY) == 0
    assert sla.working_days_between(NEXT_MONDAY, MONDAY) == 0


def test_item_is_overdue_on_the_fourth_working_day_when_the_limit_is_three() -> None:
    # Entered on Monday: Tuesday, Wednesday and Thursday are its three working days.
    assert not sla.is_overdue(MONDAY, _day(3), 3)
    assert sla.is_overdue(MONDAY, FRIDAY, 3)


def test_item_is_not_overdue_over_the_weekend_when_it_arrived_on_thursday() -> None:
    thursday = _day(3)
    assert not sla.is_overdue(thursday, NEXT_MONDAY, 3)  # Friday, Monday: two days
    assert not sla.is_overdue(thursday, NEXT_MONDAY + datetime.timedelta(days=1), 3)
    assert sla.is_overdue(thursday, NEXT_MONDAY + datetime.timedelta(days=2), 3)


def test_holiday_extends_the_limit_when_it_falls_inside_it() -> None:
    holidays = {_day(2)}  # Wednesday
    assert not sla.is_overdue(MONDAY, FRIDAY, 3, holidays)
    assert sla.is_overdue(MONDAY, NEXT_MONDAY, 3, holidays)


def test_item_arriving_on_a_saturday_counts_from_monday_when_the_limit_is_three() -> None:
    saturday = _day(5)  # Monday, Tuesday and Wednesday are its three working days
    assert not sla.is_overdue(saturday, NEXT_MONDAY + datetime.timedelta(days=2), 3)
    assert sla.is_overdue(saturday, NEXT_MONDAY + datetime.timedelta(days=3), 3)


def test_cutoff_is_the_third_working_day_back_from_yesterday_when_the_limit_is_three() -> None:
    assert sla.overdue_cutoff(FRIDAY, 3) == _day(1)  # Tuesday
    assert sla.overdue_cutoff(NEXT_MONDAY, 3) == _day(2)  # Wednesday, across the weekend


def test_cutoff_agrees_with_counting_every_arrival_day_when_holidays_are_set() -> None:
    holidays = {_day(2), _day(9)}
    for today_offset in range(0, 21):
        today = _day(today_offset)
        for entered_offset in range(-10, today_offset + 1):
            entered = _day(entered_offset)
            yesterday = today - datetime.timedelta(days=1)
            counted = sla.working_days_between(entered, yesterday, holidays)
            assert sla.is_overdue(entered, today, 3, holidays) == (counted >= 3), (entered, today)


def test_holidays_setting_is_parsed_when_it_lists_iso_dates() -> None:
    assert sla.parse_holidays(["2026-03-04", " 2026-03-05 "]) == {_day(2), _day(3)}


def test_holidays_setting_is_refused_when_a_date_is_malformed() -> None:
    with pytest.raises(ImproperlyConfigured):
        sla.parse_holidays(["4 March 2026"])


def test_overdue_before_uses_the_settings_when_a_holiday_is_configured(settings) -> None:
    settings.REVIEW_SLA_WORKING_DAYS = 3
    settings.REVIEW_HOLIDAYS = [_day(9).isoformat()]  # the Wednesday after
    now = timezone.make_aware(
        datetime.datetime.combine(NEXT_MONDAY + datetime.timedelta(days=3), datetime.time(10)),
        timezone.get_current_timezone(),
    )
    cutoff = sla.overdue_before(now)
    # Back from Wednesday (a holiday): Tuesday, Monday, then Friday is the third working day.
    assert timezone.localtime(cutoff).date() == FRIDAY
    assert timezone.localtime(cutoff).time() == datetime.time.min
