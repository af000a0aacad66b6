"""Service monitoring: a bounded number of queries, the regency-wide figures the scheduled
reports use, and a window that ends at `now` (a past week holds nothing decided after it)."""

import datetime

import pytest
from django.utils import translation

from tests.verification.test_monitoring import T0, history  # noqa: F401 (fixture)
from verification.monitoring import monitoring_for

pytestmark = pytest.mark.django_db


def test_monitoring_reads_a_bounded_number_of_queries_when_there_are_decisions(
    history,  # noqa: F811
    verifier,
    django_assert_max_num_queries,
) -> None:
    with django_assert_max_num_queries(6):
        monitoring_for(verifier, now=T0 + datetime.timedelta(days=2))


def test_regency_figures_equal_the_heads_when_no_officer_is_given(
    history,  # noqa: F811
    head,
) -> None:
    now = T0 + datetime.timedelta(days=2)
    with translation.override("en"):
        assert monitoring_for(None, now=now) == monitoring_for(head, now=now)


def test_window_leaves_out_what_was_decided_after_it_when_it_ends_earlier(
    history,  # noqa: F811
    verifier,
) -> None:
    with translation.override("en"):
        figures = monitoring_for(verifier, now=T0 + datetime.timedelta(hours=6))
    # Only the village's first approval (after 5 h) falls inside; the return (10 h) and the
    # Dukcapil approval (29 h) come later.
    assert figures.outcomes == {"Approve": 1, "Reject": 0, "Return for revision": 0}
    assert figures.channels == {"Citizen": 2}
