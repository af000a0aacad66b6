"""Letters issued at the same moment on separate PostgreSQL connections: every number is
used once, and the year's numbers run 1..N without a gap, including after a rollback."""

import threading

import pytest
from django.db import connections, transaction

from citizens.choices import Role
from skts import services
from skts.models import Letter, LetterSequence
from skts.tasks import render_letter
from submissions.models import Submission
from tests.factories import UserFactory
from tests.skts.conftest import HOST_NIK, make_institution_admin, rostered
from tests.stakeholders.conftest import institution_with_agreements
from verification.choices import Outcome
from verification.services import submission_decide

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8
ROUNDS = 3


class _Abort(Exception):
    pass


@pytest.fixture
def queued(monkeypatch) -> list[int]:
    """Renders queued on commit (rendering is tested elsewhere), as delay_on_commit does."""
    calls: list[int] = []
    monkeypatch.setattr(
        render_letter,
        "delay_on_commit",
        lambda pk: transaction.on_commit(lambda: calls.append(pk)),
    )
    return calls


def _at_dukcapil(desa, count: int) -> list[Submission]:
    institution = institution_with_agreements(name=f"Kampus Balapan {count}", kind="university")
    admin = make_institution_admin(institution)
    residents = rostered(institution, admin, desa, count)
    result = services.letter_requests_create_many(
        actor=admin,
        institution=institution,
        resident_ids=[r.pk for r in residents],
        host_name="KEPALA ASRAMA",
        host_nik=HOST_NIK,
    )
    operator = UserFactory(role=Role.OPERATOR_DESA, jurisdiction_desa=desa)
    return [
        submission_decide(submission=r.submission, officer=operator, outcome=Outcome.APPROVE)
        for r in result.created
    ]


def _race(submissions: list[Submission], *, abort: set[int] = frozenset()) -> list[object]:
    """Each thread approves one submission at Dukcapil on its own connection, all released
    together; the threads in `abort` roll their transaction back after the letter exists."""
    verifier = UserFactory(role=Role.VERIFIER)
    barrier = threading.Barrier(len(submissions))
    results: list[object] = [None] * len(submissions)

    def run(index: int, pk: int) -> None:
        try:
            mine = Submission.objects.get(pk=pk)
            barrier.wait(timeout=30)
            with transaction.atomic():
                submission_decide(submission=mine, officer=verifier, outcome=Outcome.APPROVE)
                if index in abort:
                    raise _Abort()
            results[index] = "issued"
        except _Abort:
            results[index] = "rolled back"
        except Exception as exc:  # reported by the assertions
            results[index] = exc
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=(index, s.pk)) for index, s in enumerate(submissions)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert not any(thread.is_alive() for thread in threads)
    return results


def test_numbers_are_unique_and_gap_free_when_letters_are_issued_concurrently(desa, queued) -> None:
    issued = 0
    for round_ in range(ROUNDS):
        results = _race(_at_dukcapil(desa, THREADS))
        assert results == ["issued"] * THREADS, results
        issued += THREADS
        sequences = sorted(Letter.objects.values_list("sequence", flat=True))
        assert sequences == list(range(1, issued + 1)), f"round {round_}"
    year = Letter.objects.first().year
    assert LetterSequence.objects.get(year=year).last == issued
    assert len(set(Letter.objects.values_list("number", flat=True))) == issued
    assert len(queued) == issued


def test_rolled_back_approvals_give_their_numbers_back_when_racing(desa, queued) -> None:
    results = _race(_at_dukcapil(desa, THREADS), abort={1, 4, 6})
    assert results.count("rolled back") == 3 and results.count("issued") == THREADS - 3
    sequences = sorted(Letter.objects.values_list("sequence", flat=True))
    assert sequences == list(range(1, THREADS - 3 + 1))
    assert LetterSequence.objects.get(year=Letter.objects.first().year).last == THREADS - 3
    assert len(queued) == THREADS - 3  # nothing queued for a rolled-back letter
