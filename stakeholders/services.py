"""Writes about institutions: registering them with their default authority, agreements and
their status, field authority, admin invitations, API keys and webhook subscriptions.

Every write asks citizens.policy (and the institution membership) who may make it, so no URL
bypasses the rule."""

import datetime
import secrets
from collections.abc import Mapping

from allauth.account.models import EmailAddress
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from citizens import invitations, policy
from citizens.choices import Role
from citizens.models import User
from stakeholders import catalogue, keys
from stakeholders.choices import AgreementKind, AgreementStatus, InstitutionKind, WriteMode
from stakeholders.exceptions import (
    AccountExists,
    ConcurrentChange,
    InvalidAuthority,
    InvalidTransition,
    NotAuthorised,
    StakeholderError,
)
from stakeholders.models import (
    Agreement,
    ApiKey,
    FieldAuthority,
    Institution,
    InstitutionMember,
    WebhookSubscription,
)

API_KEY_MAX_DAYS = 730
WEBHOOK_SECRET_BYTES = 32
_NOTHING = catalogue.Authority()
# The allowed moves of an agreement's status; a terminated agreement stays terminated.
AGREEMENT_TRANSITIONS: Mapping[AgreementStatus, frozenset[AgreementStatus]] = {
    AgreementStatus.DRAFT: frozenset({AgreementStatus.ACTIVE, AgreementStatus.TERMINATED}),
    AgreementStatus.ACTIVE: frozenset({AgreementStatus.SUSPENDED, AgreementStatus.TERMINATED}),
    AgreementStatus.SUSPENDED: frozenset({AgreementStatus.ACTIVE, AgreementStatus.TERMINATED}),
    AgreementStatus.TERMINATED: frozenset(),
}


def _require_head(actor: User | None) -> None:
    if actor is not None and not policy.can_manage_institutions(actor):
        raise NotAuthorised


def _require_admin_of(institution: Institution, user: User) -> None:
    """Only an institution's own admins act for it (keys, webhooks)."""
    if not (
        policy.is_institution_admin(user)
        and InstitutionMember.objects.filter(user=user, institution=institution).exists()
    ):
        raise NotAuthorised


@transaction.atomic
def institution_create(
    *,
    name: str,
    kind: InstitutionKind,
    code: str,
    contact_email: str = "",
    actor: User | None = None,
) -> Institution:
    """Register an institution with its kind's default field authority (catalogue). With an
    actor (the pages pass one), only the head of Dukcapil may."""
    _require_head(actor)
    institution = Institution.objects.create(
        name=name, kind=kind, code=code, contact_email=contact_email
    )
    FieldAuthority.objects.bulk_create(
        FieldAuthority(institution=institution, field=field, write=rule.write, read=rule.read)
        for field, rule in catalogue.DEFAULT_AUTHORITY[InstitutionKind(kind)].items()
    )
    return institution


@transaction.atomic
def agreement_record(
    *,
    institution: Institution,
    kind: AgreementKind,
    number: str,
    purpose: str,
    signed_on: datetime.date,
    valid_from: datetime.date,
    valid_until: datetime.date,
    status: AgreementStatus = AgreementStatus.ACTIVE,
    actor: User | None = None,
) -> Agreement:
    """Record an MoU or PKS as signed (validated: the period must be ordered). With an actor,
    only the head of Dukcapil may."""
    _require_head(actor)
    agreement = Agreement(
        institution=institution,
        kind=kind,
        number=number,
        purpose=purpose,
        signed_on=signed_on,
        valid_from=valid_from,
        valid_until=valid_until,
        status=status,
    )
    agreement.full_clean()
    agreement.save()
    return agreement


@transaction.atomic
def agreement_set_status(
    *, agreement: Agreement, status: AgreementStatus, actor: User
) -> Agreement:
    """Move an agreement along AGREEMENT_TRANSITIONS (head of Dukcapil only). Suspending or
    terminating the MoU or the PKS stops all exchange at once (selectors.agreement_in_force).
    A concurrent change of the same agreement is refused, not overwritten."""
    _require_head(actor)
    current = AgreementStatus(agreement.status)
    if status not in AGREEMENT_TRANSITIONS[current]:
        raise InvalidTransition
    updated = Agreement.objects.filter(pk=agreement.pk, status=current).update(status=status)
    if updated == 0:
        raise ConcurrentChange
    agreement.status = status
    return agreement


@transaction.atomic
def authority_set(
    *, institution: Institution, field: str, write: WriteMode, read: bool, actor: User
) -> FieldAuthority:
    """Set what an institution may do with one element (head of Dukcapil only). Validated by
    FieldAuthority.clean: core identity (NIK, name, birth date) is never writable."""
    _require_head(actor)
    authority = (
        FieldAuthority.objects.select_for_update().filter(institution=institution, field=field)
    ).first() or FieldAuthority(institution=institution, field=field)
    authority.write = write
    authority.read = read
    try:
        authority.clean()
    except ValidationError as error:
        raise InvalidAuthority(error.messages[0]) from error
    if authority.pk is None:
        authority.save()
    else:
        authority.save(update_fields=["write", "read"])
    return authority


@transaction.atomic
def institution_admin_invite(
    *,
    head: User,
    institution: Institution,
    email: str,
    full_name: str,
    request: HttpRequest,
) -> User:
    """Create an institution admin account with no usable password and e-mail it an account
    invitation (citizens/invitations.py) after commit: the invitee chooses their own password
    and enrols TOTP through the single-use link. The address counts as verified: the head
    entered it and only its mailbox receives the link."""
    if not policy.can_manage_institutions(head):
        raise NotAuthorised
    email = email.strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise AccountExists
    user = User.objects.create_user(
        email, None, role=Role.INSTITUTION_ADMIN, full_name=full_name.strip()
    )
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    InstitutionMember.objects.create(user=user, institution=institution, invited_by=head)
    invitations.invitation_issue(actor=head, user=user, base_url=request.build_absolute_uri("/"))
    return user


@transaction.atomic
def api_key_issue(
    *, institution: Institution, user: User, name: str, valid_days: int
) -> tuple[ApiKey, str]:
    """Issue an API key for the user's own institution. Returns the key row and the full key,
    which is shown once: only its SHA-256 is stored."""
    _require_admin_of(institution, user)
    if not 1 <= valid_days <= API_KEY_MAX_DAYS:
        raise StakeholderError
    key, prefix, key_hash = keys.api_key_new()
    api_key = ApiKey.objects.create(
        institution=institution,
        name=name.strip(),
        prefix=prefix,
        key_hash=key_hash,
        created_by=user,
        expires_at=timezone.now() + datetime.timedelta(days=valid_days),
    )
    return api_key, key


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey, user: User) -> ApiKey:
    """Revoke a key of the user's own institution at once; revoking twice changes nothing."""
    _require_admin_of(api_key.institution, user)
    now = timezone.now()
    ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=now)
    api_key.refresh_from_db(fields=["revoked_at"])
    return api_key


@transaction.atomic
def webhook_subscription_create(
    *, institution: Institution, user: User, url: str
) -> tuple[WebhookSubscription, str]:
    """Subscribe an http(s) URL of the user's own institution to its change feed. Returns the
    subscription and its signing secret, shown once (stored encrypted, for signing)."""
    _require_admin_of(institution, user)
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError as error:
        raise StakeholderError(error.messages[0]) from error
    secret = secrets.token_urlsafe(WEBHOOK_SECRET_BYTES)
    subscription = WebhookSubscription.objects.create(
        institution=institution, url=url, secret=secret
    )
    return subscription, secret


@transaction.atomic
def webhook_subscription_delete(*, subscription: WebhookSubscription, user: User) -> None:
    """Remove a subscription of the user's own institution (its delivery log goes with it)."""
    _require_admin_of(subscription.institution, user)
    subscription.delete()


@transaction.atomic
def authority_table_set(
    *, institution: Institution, rules: Mapping[str, catalogue.Authority], actor: User
) -> None:
    """Set the whole authority table at once: all rows or none (a refused row, such as core
    identity made writable, leaves the table as it was). Unchanged rules are not written, and
    an element without a row that still allows nothing gets none."""
    _require_head(actor)
    current = {
        row.field: catalogue.Authority(WriteMode(row.write), row.read)
        for row in FieldAuthority.objects.filter(institution=institution)
    }
    for field, rule in rules.items():
        if current.get(field, _NOTHING) == rule:
            continue
        authority_set(
            institution=institution, field=field, write=rule.write, read=rule.read, actor=actor
        )
