"""Two officers deciding on the same item at the same moment, each on its own PostgreSQL
connection: exactly one decision wins, the other gets ConcurrentDecision, nothing is merged
twice."""

import threading
from collections.abc import Callable

import pytest
from django.db import connections

from citizens.choices import AuditAction, ChangeSource, Occupation, Role
from citizens.models import AuditEntry, PermanentResident, RecordChange, User
from submissions import services as submission_services
from submissions.choices import Channel, Kind, Status, Tier
from submissions.exceptions import ConcurrentDecision
from submissions.models import Submission
from submissions.services import Item
from tests.factories import UserFactory, family_create, resident_create
from verification import services, tasks
from verification.choices import Outcome
from verification.exceptions import AlreadyClaimed
from verification.models import Claim, Decision, Merge

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 50
WON = "won"
LOST = "concurrent"


@pytest.fixture
def statements(monkeypatch) -> list[int]:
    """The F-1.06 render requests queued on commit (the worker itself is tested elsewhere)."""
    queued: list[int] = []
    monkeypatch.setattr(tasks.render_change_statement, "delay_on_commit", queued.append)
    return queued


def _at_dukcapil(desa, citizen: User, operator: User) -> tuple[Submission, PermanentResident]:
    """A fresh biodata correction, approved by the village, waiting at Dukcapil."""
    resident = resident_create(family=family_create(desa=desa), full_name="BALAPAN DATA")
    draft = submission_services.submission_create(
        kind=Kind.BIODATA_CORRECTION,
        filed_by=citizen,
        citizen=citizen,
        channel=Channel.CITIZEN,
        desa=desa,
        subject_key=resident.nik_index,
        subject_registry="permanent",
        subject_id=resident.pk,
        family=resident.family,
        items=[
            Item(
                field="occupation",
                before=str(Occupation.FARMER),
                after=str(Occupation.TEACHER),
                basis="SK pengangkatan",
            )
        ],
    )
    submission = submission_services.submission_submit(submission=draft, actor=citizen)
    submission = services.submission_decide(
        submission=submission, officer=operator, outcome=Outcome.APPROVE
    )
    assert submission.current_tier == Tier.DUKCAPIL
    return submission, resident


def _race(
    submission: Submission,
    deciders: list[tuple[User, dict[str, object]]],
    action: Callable[..., object] = services.submission_decide,
) -> list[object]:
    """Each decider loads its own copy, waits at the barrier, then decides (or claims)."""
    barrier = threading.Barrier(len(deciders))
    results: list[object] = [None] * len(deciders)

    def run(index: int, officer: User, decision: dict[str, object]) -> None:
        try:
            mine = Submission.objects.get(pk=submission.pk)
            barrier.wait(timeout=30)
            action(submission=mine, officer=officer, **decision)
            results[index] = WON
        except (ConcurrentDecision, AlreadyClaimed):
            results[index] = LOST
        except Exception as exc:  # reported by the assertion below
            results[index] = exc
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=(index, officer, decision))
        for index, (officer, decision) in enumerate(deciders)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results


def _officers(desa) -> tuple[User, User, User, User]:
    citizen = UserFactory(role=Role.CITIZEN)
    operator = UserFactory(role=Role.OPERATOR_DESA, jurisdiction_desa=desa)
    first = UserFactory(role=Role.VERIFIER)
    second = UserFactory(role=Role.VERIFIER)
    return citizen, operator, first, second


def _rounds(
    desa, decisions: Callable[[User, User], list[tuple[User, dict[str, object]]]]
) -> list[tuple[Submission, PermanentResident, list[object]]]:
    citizen, operator, first, second = _officers(desa)
    played = []
    for _round in range(ROUNDS):
        submission, resident = _at_dukcapil(desa, citizen, operator)
        assert not Claim.objects.filter(submission=submission).exists()
        played.append((submission, resident, _race(submission, decisions(first, second))))
    return played


def _dukcapil_decisions(submission: Submission) -> list[str]:
    return list(
        Decision.objects.filter(submission=submission, tier=Tier.DUKCAPIL).values_list(
            "outcome", flat=True
        )
    )


def _audit(submission: Submission, action: AuditAction) -> int:
    return AuditEntry.objects.filter(
        reference=submission.tracking_code, action=action, tier=Tier.DUKCAPIL
    ).count()


def test_concurrent_approvals_decide_and_merge_exactly_once_when_two_verifiers_race(
    desa, statements
) -> None:
    approve = {"outcome": Outcome.APPROVE, "note": "Sesuai."}
    played = _rounds(desa, lambda first, second: [(first, approve), (second, approve)])
    for submission, resident, results in played:
        assert sorted(map(str, results)) == [LOST, WON], results
        stored = Submission.objects.get(pk=submission.pk)
        assert stored.status == Status.APPROVED
        assert _dukcapil_decisions(submission) == [Outcome.APPROVE]
        assert _audit(submission, AuditAction.APPROVE) == 1
        assert Merge.objects.filter(submission=submission).count() == 1
        assert _audit(submission, AuditAction.MERGE) == 1
        history = RecordChange.objects.filter(
            source=ChangeSource.SUBMISSION, source_ref=submission.tracking_code
        )
        assert list(history.values_list("field", flat=True)) == ["occupation"]
        resident.refresh_from_db()
        assert (resident.occupation, resident.version) == (Occupation.TEACHER, 2)
        assert stored.events.filter(to_status=Status.APPROVED).count() == 1
    merges = Merge.objects.filter(submission__in=[submission for submission, _r, _x in played])
    assert sorted(statements) == sorted(merges.values_list("pk", flat=True))


def test_concurrent_approve_and_return_leave_one_decision_when_they_race(desa, statements) -> None:
    approve = {"outcome": Outcome.APPROVE}
    give_back = {"outcome": Outcome.RETURN, "note": "Lampirkan SK asli.", "fields": ["occupation"]}
    played = _rounds(desa, lambda first, second: [(first, approve), (second, give_back)])
    outcomes = set()
    for submission, resident, results in played:
        assert sorted(map(str, results)) == [LOST, WON], results
        decided = _dukcapil_decisions(submission)
        assert len(decided) == 1
        outcomes.add(decided[0])
        stored = Submission.objects.get(pk=submission.pk)
        merged = Merge.objects.filter(submission=submission).count()
        resident.refresh_from_db()
        if decided == [Outcome.APPROVE]:
            assert (stored.status, merged, resident.occupation) == (
                Status.APPROVED,
                1,
                Occupation.TEACHER,
            )
            assert _audit(submission, AuditAction.RETURN) == 0
        else:
            assert (stored.status, merged, resident.occupation) == (
                Status.RETURNED,
                0,
                Occupation.FARMER,
            )
            assert stored.returned_fields == ["occupation"]
            assert _audit(submission, AuditAction.APPROVE) == 0
        assert _audit(submission, AuditAction.APPROVE) + _audit(submission, AuditAction.RETURN) == 1
    assert len(statements) == Merge.objects.count()


def test_concurrent_claims_leave_one_holder_when_two_verifiers_claim_at_once(desa) -> None:
    citizen, operator, first, second = _officers(desa)
    for _round in range(ROUNDS):
        submission, _resident = _at_dukcapil(desa, citizen, operator)
        results = _race(submission, [(first, {}), (second, {})], action=services.submission_claim)
        assert sorted(map(str, results)) == [LOST, WON], results
        holder = Claim.objects.get(submission=submission).officer
        winner = first if results[0] == WON else second
        assert holder == winner
