"""Writes about institutions: registering them with their default authority, agreements and
their status, field authority, admin invitations, API keys and webhook subscriptions.

Every write asks citizens.policy (and the institution membership) who may make it, so no URL
bypasses the rule."""

import datetime
import secrets
from collections.abc import Mapping

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import URLValidator
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from citizens import invitations, policy
from citizens import services as registry
from citizens.choices import AuditAction, Role
from citizens.models import Desa, User
from citizens.services import audit_record
from stakeholders import catalogue, keys
from stakeholders import policy as read_policy
from stakeholders.choices import (
    AgreementKind,
    AgreementStatus,
    InstitutionKind,
    ReadScope,
    WriteMode,
)
from stakeholders.exceptions import (
    AccountExists,
    ConcurrentChange,
    InvalidAuthority,
    InvalidScope,
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
MAX_SCOPE_AGE = 150
_SCOPE_FIELDS = ("read_scope", "scope_min_age", "scope_max_age", "scope_desa", "scope_clause")
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
        and InstitutionMember.objects.filter(
            user=user, institution=institution, is_active=True
        ).exists()
    ):
        raise NotAuthorised


def _is_active_member(user: User, institution: Institution) -> bool:
    return (
        policy.is_institution_admin(user)
        and InstitutionMember.objects.filter(
            user=user, institution=institution, is_active=True
        ).exists()
    )


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
    scope: read_policy.Scope | None = None,
) -> Agreement:
    """Record an MoU or PKS as signed (validated: the period must be ordered). With an actor,
    only the head of Dukcapil may. A PKS may name the population it lets the institution read
    (see agreement_scope_set; audited)."""
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
    if scope is not None:
        _scope_apply(agreement, scope, actor=actor)
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
def agreement_scope_set(
    *, agreement: Agreement, scope: read_policy.Scope, actor: User
) -> Agreement:
    """Set the population a PKS lets its institution read (UU 27/2022 art. 16): an age range,
    one village or every resident, among catalogue.AGREEMENT_SCOPES for the institution's
    kind, with the reference of the clause that names it; NONE withdraws it. Head of Dukcapil
    only; writes an audit entry. A university or a company reads its roster whatever its
    agreement says, so its agreements name no population."""
    if not policy.can_manage_institutions(actor):
        raise NotAuthorised
    locked = (
        Agreement.objects.select_for_update().select_related("institution").get(pk=agreement.pk)
    )
    _scope_apply(locked, scope, actor=actor)
    return locked


def _scope_apply(agreement: Agreement, scope: read_policy.Scope, *, actor: User | None) -> None:
    kind = InstitutionKind(agreement.institution.kind)
    clause = " ".join(scope.clause.split())
    if agreement.kind != AgreementKind.PKS and scope.kind != ReadScope.NONE:
        raise InvalidScope(_("Only a cooperation agreement (PKS) names the population read."))
    if not read_policy.scope_allowed(kind, scope.kind):
        raise InvalidScope
    if scope.kind in read_policy.CLAUSE_REQUIRED and not clause:
        raise InvalidScope(_("Give the clause of the agreement that names this population."))
    low, high = scope.min_age, scope.max_age
    if scope.kind == ReadScope.AGE and (
        low is None or high is None or not 0 <= low <= high <= MAX_SCOPE_AGE
    ):
        raise InvalidScope(_("Give the age range as two ages, the first not above the second."))
    desa = None
    if scope.kind == ReadScope.DESA:
        if scope.desa_id is not None:
            desa = Desa.objects.filter(pk=scope.desa_id).first()
        if desa is None:
            raise InvalidScope(_("Choose the village the agreement covers."))
    agreement.read_scope = scope.kind
    agreement.scope_min_age = low if scope.kind == ReadScope.AGE else None
    agreement.scope_max_age = high if scope.kind == ReadScope.AGE else None
    agreement.scope_desa = desa
    agreement.scope_clause = clause[:200] if scope.kind != ReadScope.NONE else ""
    agreement.save(update_fields=[*_SCOPE_FIELDS])
    registry.audit_record(
        actor=actor,
        action=AuditAction.AGREEMENT_SCOPE,
        reference=f"agreement:{agreement.pk}"[:32],
        detail=_scope_detail(agreement),
    )


def _scope_detail(agreement: Agreement) -> str:
    """What the audit entry says (no personal data: codes, ages and the clause)."""
    parts = [f"{agreement.institution.code} {agreement.number}", f"scope={agreement.read_scope}"]
    if agreement.read_scope == ReadScope.AGE:
        parts.append(f"age={agreement.scope_min_age}-{agreement.scope_max_age}")
    if agreement.scope_desa is not None:
        parts.append(f"desa={agreement.scope_desa.code}")
    if agreement.scope_clause:
        parts.append(f"clause={agreement.scope_clause}")
    return "; ".join(parts)


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
        owner=user,
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
def institution_member_deactivate(*, member: InstitutionMember, actor: User, reason: str) -> int:
    """The head of Dukcapil stops an admin acting for their institution: the institution's
    pages close to them (selectors.institution_of) and every API key they hold is suspended
    at once, so an integration cannot outlive its holder's right. Audited; the heads and the
    institution's other admins are told which keys stopped. Deactivating twice changes
    nothing. Returns how many keys were suspended."""
    if not policy.can_manage_institutions(actor):
        raise NotAuthorised
    reason = " ".join(reason.split())
    if not reason:
        raise StakeholderError(_("Give the reason for deactivating this admin."))
    updated = InstitutionMember.objects.filter(pk=member.pk, is_active=True).update(
        is_active=False, deactivated_at=timezone.now()
    )
    if updated == 0:
        return 0
    audit_record(
        actor=actor,
        action=AuditAction.MEMBER_DEACTIVATE,
        reference=f"member:{member.pk}",
        detail=f"institution #{member.institution_id}: {reason}",
    )
    return _keys_suspend(owner=member.user, actor=actor)


@transaction.atomic
def api_keys_suspend_for_account(*, user: User, actor: User | None) -> int:
    """A deactivated account's keys are suspended (citizens.signals.account_deactivated):
    audited, and the heads are told. Returns how many keys were suspended."""
    return _keys_suspend(owner=user, actor=actor)


def _keys_suspend(*, owner: User, actor: User | None) -> int:
    now = timezone.now()
    suspended = list(
        ApiKey.objects.select_for_update()
        .select_related("institution")
        .filter(owner=owner, revoked_at__isnull=True, suspended_at__isnull=True)
        .order_by("pk")
    )
    if not suspended:
        return 0
    ApiKey.objects.filter(pk__in=[key.pk for key in suspended]).update(suspended_at=now)
    for api_key in suspended:
        audit_record(
            actor=actor,
            action=AuditAction.KEY_SUSPEND,
            reference=f"key:{api_key.prefix}",
            detail=f"institution #{api_key.institution_id}, held by account #{owner.pk}",
        )
    key_ids = [key.pk for key in suspended]
    transaction.on_commit(lambda: _tell_suspended(key_ids))
    return len(suspended)


def _tell_suspended(key_ids: list[int]) -> None:
    """E-mail the heads of Dukcapil and each institution's remaining admins which keys
    stopped and how to carry on (hand a key over, or issue a new one)."""
    keys_by_institution: dict[Institution, list[ApiKey]] = {}
    for api_key in ApiKey.objects.select_related("institution").filter(pk__in=key_ids):
        keys_by_institution.setdefault(api_key.institution, []).append(api_key)
    heads = User.objects.filter(role=Role.HEAD, is_active=True).exclude(email="")
    head_emails = set(heads.values_list("email", flat=True))
    for institution, api_keys in keys_by_institution.items():
        admins = InstitutionMember.objects.filter(
            institution=institution, is_active=True, user__is_active=True
        ).values_list("user__email", flat=True)
        recipients = sorted({*head_emails, *(email for email in admins if email)})
        if not recipients:
            continue
        with translation.override(settings.LANGUAGE_CODE):
            subject = gettext("API keys of %(institution)s suspended") % {
                "institution": institution.name
            }
            lines = [
                gettext(
                    "The admin who held these API keys of %(institution)s no longer acts "
                    "for it, so the keys were suspended and no longer open the API:"
                )
                % {"institution": institution.name},
                "",
                *(f"- {key.name} (prw_{key.prefix}_…)" for key in api_keys),
                "",
                gettext(
                    "The head of Dukcapil or another admin of the institution can hand a key "
                    "over to an active admin, or the institution can issue a new key."
                ),
            ]
        send_mail(subject, "\n".join(lines), None, recipients)


@transaction.atomic
def api_key_handover(*, api_key: ApiKey, to_user: User, actor: User, reason: str) -> ApiKey:
    """Hand a key over to another active admin of its institution, so an integration keeps
    working when its holder leaves: the head of Dukcapil or an active admin of the
    institution may. The key acts for its new holder from now on (and is no longer
    suspended); audited with the reason. A revoked or expired key cannot be handed over."""
    institution = api_key.institution
    if not (policy.can_manage_institutions(actor) or _is_active_member(actor, institution)):
        raise NotAuthorised
    reason = " ".join(reason.split())
    if not reason:
        raise StakeholderError(_("Give the reason for handing this key over."))
    if not _is_active_member(to_user, institution):
        raise StakeholderError(_("A key can only be handed to an active admin of its institution."))
    if api_key.revoked_at is not None or api_key.expires_at <= timezone.now():
        raise StakeholderError(_("A revoked or expired key cannot be handed over."))
    previous = api_key.owner_id
    updated = ApiKey.objects.filter(
        pk=api_key.pk, owner_id=previous, revoked_at__isnull=True
    ).update(owner=to_user, suspended_at=None)
    if updated == 0:
        raise ConcurrentChange
    audit_record(
        actor=actor,
        action=AuditAction.KEY_HANDOVER,
        reference=f"key:{api_key.prefix}",
        detail=f"institution #{institution.pk}: account #{previous} to #{to_user.pk}: {reason}",
    )
    api_key.refresh_from_db(fields=["owner", "suspended_at"])
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
