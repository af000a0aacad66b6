"""The allowed status moves, as data. Pure: no ORM."""

from submissions.choices import Status

# (from, to) -> who may make the move
CITIZEN = "citizen"
OFFICER = "officer"

TRANSITIONS: dict[tuple[Status, Status], str] = {
    (Status.DRAFT, Status.SUBMITTED): CITIZEN,
    (Status.DRAFT, Status.WITHDRAWN): CITIZEN,
    (Status.SUBMITTED, Status.IN_REVIEW): OFFICER,  # approved at the first tier
    (Status.SUBMITTED, Status.APPROVED): OFFICER,  # a one-tier route
    (Status.SUBMITTED, Status.RETURNED): OFFICER,
    (Status.SUBMITTED, Status.REJECTED): OFFICER,
    (Status.SUBMITTED, Status.WITHDRAWN): CITIZEN,
    (Status.IN_REVIEW, Status.IN_REVIEW): OFFICER,  # approved at one tier, on to the next
    (Status.IN_REVIEW, Status.RETURNED): OFFICER,
    (Status.IN_REVIEW, Status.APPROVED): OFFICER,
    (Status.IN_REVIEW, Status.REJECTED): OFFICER,
    (Status.IN_REVIEW, Status.WITHDRAWN): CITIZEN,
    (Status.RETURNED, Status.SUBMITTED): CITIZEN,
    (Status.RETURNED, Status.WITHDRAWN): CITIZEN,
}


def allowed(current: Status, target: Status, *, side: str) -> bool:
    return TRANSITIONS.get((current, target)) == side


def is_open(status: Status) -> bool:
    return status in (Status.DRAFT, Status.SUBMITTED, Status.IN_REVIEW, Status.RETURNED)


def editable_by_citizen(status: Status) -> bool:
    return status in (Status.DRAFT, Status.RETURNED)
