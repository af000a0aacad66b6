"""Review routes: their rules, the admin-changed Route row, and the snapshot taken at submit."""

import pytest
from django.core.exceptions import ValidationError

from citizens.choices import Occupation
from submissions import kinds, routing
from submissions.choices import Kind, Status, Tier
from submissions.models import Route
from tests.verification.conftest import biodata_cleaned, decide, file_and_submit, fresh
from verification.exceptions import NotYourTier
from verification.models import Decision


@pytest.mark.parametrize("kind", list(Kind))
def test_route_validate_accepts_the_default_when_the_kind_has_one(kind) -> None:
    routing.route_validate([str(tier) for tier in routing.DEFAULT_ROUTES[kind]])


def test_every_kind_has_a_default_route_when_the_table_is_read() -> None:
    assert set(routing.DEFAULT_ROUTES) == set(Kind)


@pytest.mark.parametrize(
    "tiers",
    [
        [],
        None,
        "dukcapil",
        {"dukcapil": 1},
        ["village", "dukcapil"],
        ["DESA", "dukcapil"],
        [1, "dukcapil"],
        [["desa"], "dukcapil"],
        ["dukcapil", "desa"],
        ["kecamatan", "desa", "dukcapil"],
        ["desa", "dukcapil", "kecamatan"],
        ["desa", "desa", "dukcapil"],
        ["desa", "dukcapil", "dukcapil"],
        ["desa", "kecamatan"],
        ["desa"],
    ],
    ids=repr,
)
def test_route_validate_refuses_the_route_when_it_is_empty_unknown_out_of_order_or_open_ended(
    tiers,
) -> None:
    with pytest.raises(ValidationError):
        routing.route_validate(tiers)


@pytest.mark.parametrize(
    "tiers", [["dukcapil"], ["kecamatan", "dukcapil"], ["desa", "kecamatan", "dukcapil"]]
)
def test_route_validate_accepts_a_shorter_route_when_it_ends_at_dukcapil(tiers) -> None:
    routing.route_validate(tiers)


@pytest.mark.django_db
def test_route_row_is_checked_by_the_model_when_an_admin_saves_it() -> None:
    with pytest.raises(ValidationError):
        Route(kind=Kind.BIRTH, tiers=["desa", "kecamatan"]).full_clean()
    Route(kind=Kind.BIRTH, tiers=["desa", "kecamatan", "dukcapil"]).full_clean()


@pytest.mark.django_db
def test_route_for_returns_the_default_when_no_route_row_exists() -> None:
    assert routing.route_for(Kind.DEATH) == (Tier.DESA, Tier.KECAMATAN, Tier.DUKCAPIL)


@pytest.mark.django_db
def test_route_for_returns_the_admin_route_when_a_route_row_exists() -> None:
    Route.objects.create(kind=Kind.DEATH, tiers=["kecamatan", "dukcapil"])
    assert routing.route_for(Kind.DEATH) == (Tier.KECAMATAN, Tier.DUKCAPIL)


@pytest.mark.django_db
def test_route_for_falls_back_to_the_default_when_the_row_was_made_invalid_outside_the_admin() -> (
    None
):
    Route.objects.create(kind=Kind.DEATH, tiers=["dukcapil", "desa"])
    assert routing.route_for(Kind.DEATH) == routing.DEFAULT_ROUTES[Kind.DEATH]


def test_next_tier_follows_the_route_when_asked_at_each_tier() -> None:
    route = ["desa", "kecamatan", "dukcapil"]
    assert routing.next_tier(route, "desa") == Tier.KECAMATAN
    assert routing.next_tier(route, "kecamatan") == Tier.DUKCAPIL
    assert routing.next_tier(route, "dukcapil") is None
    assert routing.next_tier(["desa", "dukcapil"], "desa") == Tier.DUKCAPIL


def _submit_biodata(owner, family):
    return file_and_submit(
        actor=owner,
        kind=Kind.BIODATA_CORRECTION,
        cleaned=biodata_cleaned(occupation=Occupation.TEACHER),
        subject=kinds.subject_of(family[0]),
    )


@pytest.mark.django_db
def test_submission_follows_the_admin_route_when_the_route_row_was_changed_before_submit(
    owner, family, reviewers
) -> None:
    Route.objects.create(kind=Kind.BIODATA_CORRECTION, tiers=["desa", "kecamatan", "dukcapil"])
    submission = _submit_biodata(owner, family)
    assert submission.route == ["desa", "kecamatan", "dukcapil"]
    assert submission.current_tier == Tier.DESA
    submission = decide(submission, reviewers[Tier.DESA])
    assert (submission.status, submission.current_tier) == (Status.IN_REVIEW, Tier.KECAMATAN)
    submission = decide(submission, reviewers[Tier.KECAMATAN])
    assert submission.current_tier == Tier.DUKCAPIL
    submission = decide(submission, reviewers[Tier.DUKCAPIL])
    assert submission.status == Status.APPROVED
    tiers = list(Decision.objects.filter(submission=submission).values_list("tier", flat=True))
    assert tiers == ["desa", "kecamatan", "dukcapil"]


@pytest.mark.django_db
def test_route_change_does_not_move_a_submission_when_it_was_already_submitted(
    owner, family, reviewers
) -> None:
    submission = _submit_biodata(owner, family)
    assert submission.route == ["desa", "dukcapil"]
    Route.objects.create(kind=Kind.BIODATA_CORRECTION, tiers=["desa", "kecamatan", "dukcapil"])
    submission = decide(submission, reviewers[Tier.DESA])
    assert (submission.current_tier, submission.route) == (Tier.DUKCAPIL, ["desa", "dukcapil"])
    with pytest.raises(NotYourTier):
        decide(submission, reviewers[Tier.KECAMATAN])
    assert decide(submission, reviewers[Tier.DUKCAPIL]).status == Status.APPROVED


@pytest.mark.django_db
def test_route_shortened_after_submit_keeps_the_first_tier_when_the_item_waits_there(
    owner, family, reviewers
) -> None:
    submission = _submit_biodata(owner, family)
    Route.objects.create(kind=Kind.BIODATA_CORRECTION, tiers=["dukcapil"])
    with pytest.raises(NotYourTier):
        decide(submission, reviewers[Tier.DUKCAPIL])
    assert fresh(submission).current_tier == Tier.DESA
    assert decide(submission, reviewers[Tier.DESA]).current_tier == Tier.DUKCAPIL
