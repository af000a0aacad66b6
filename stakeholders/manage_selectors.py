"""Reads behind the management pages: institutions with their agreement state, one
institution's authority table, the Dukcapil overview of exchanges, and an institution
admin's own keys and webhooks. Each is a fixed number of queries, however many rows."""

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import models
from django.db.models import Max, Prefetch, QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from citizens import policy
from citizens.models import Desa, User
from stakeholders import catalogue, selectors
from stakeholders.choices import AgreementKind, AgreementStatus, UploadStatus, WriteMode
from stakeholders.models import (
    Agreement,
    ApiKey,
    ExchangeBatch,
    FieldAuthority,
    Institution,
    InstitutionMember,
    WebhookSubscription,
)

EXPIRY_WARNING_DAYS = 30
OVERVIEW_DAYS = 30


class AgreementState(models.TextChoices):
    IN_FORCE = "in_force", _("In force")
    EXPIRING = "expiring", _("Expiring within 30 days")
    EXPIRED = "expired", _("Expired")
    NOT_IN_FORCE = "not_in_force", _("Not in force")


@dataclass(frozen=True)
class AgreementSummary:
    state: AgreementState
    # The day exchange stops unless renewed: the earlier end of the MoU and PKS in force.
    until: datetime.date | None = None

    @property
    def label(self) -> Promise:
        return self.state.label

    @property
    def css_class(self) -> str:
        """The portal's status colours: green in force, amber expiring, grey otherwise."""
        return _CSS.get(self.state, "status-rejected")


_CSS = {AgreementState.IN_FORCE: "status-approved", AgreementState.EXPIRING: "status-returned"}


def agreement_summary(
    agreements: Iterable[Agreement], *, active_institution: bool = True, today: datetime.date
) -> AgreementSummary:
    """The state of an institution's MoU + PKS on `today` (pure: the agreements are given).

    Exchange needs both in force (selectors.agreement_in_force); "expiring" warns when the
    earlier of the two ends within EXPIRY_WARNING_DAYS, "expired" when an active one ran out
    and nothing replaced it."""
    agreements = list(agreements)
    if not active_institution:
        return AgreementSummary(AgreementState.NOT_IN_FORCE)
    in_force: dict[str, datetime.date] = {}
    ran_out = False
    for agreement in agreements:
        if agreement.status != AgreementStatus.ACTIVE:
            continue
        if agreement.valid_from <= today <= agreement.valid_until:
            kind = agreement.kind
            in_force[kind] = max(in_force.get(kind, agreement.valid_until), agreement.valid_until)
        elif agreement.valid_until < today:
            ran_out = True
    if {AgreementKind.MOU, AgreementKind.PKS} <= in_force.keys():
        until = min(in_force.values())
        if until <= today + datetime.timedelta(days=EXPIRY_WARNING_DAYS):
            return AgreementSummary(AgreementState.EXPIRING, until)
        return AgreementSummary(AgreementState.IN_FORCE, until)
    if ran_out:
        return AgreementSummary(AgreementState.EXPIRED)
    return AgreementSummary(AgreementState.NOT_IN_FORCE)


@dataclass
class InstitutionRow:
    institution: Institution
    agreement: AgreementSummary


def institution_list() -> list[InstitutionRow]:
    """Every institution with its agreement state (two queries)."""
    today = timezone.localdate()
    institutions = Institution.objects.prefetch_related(
        Prefetch("agreements", queryset=Agreement.objects.order_by("-valid_until"))
    )
    return [
        InstitutionRow(
            institution,
            agreement_summary(
                institution.agreements.all(),
                active_institution=institution.is_active,
                today=today,
            ),
        )
        for institution in institutions
    ]


@dataclass(frozen=True)
class AuthorityRow:
    element: catalogue.Element
    write: WriteMode
    read: bool

    @property
    def locked(self) -> bool:
        """Core identity is never writable: the page shows it as locked."""
        return not self.element.writable

    @property
    def write_label(self) -> str:
        return str(WriteMode(self.write).label)


@dataclass
class InstitutionDetail:
    institution: Institution
    agreement: AgreementSummary
    agreements: list[Agreement]
    authority: list[AuthorityRow]
    members: list[InstitutionMember]


def institution_detail(institution_id: int) -> InstitutionDetail | None:
    institution = Institution.objects.filter(pk=institution_id).first()
    if institution is None:
        return None
    agreements = list(
        institution.agreements.select_related("scope_desa").order_by("kind", "-valid_until")
    )
    rules = {row.field: row for row in FieldAuthority.objects.filter(institution=institution)}
    authority = [
        AuthorityRow(
            element,
            WriteMode(rules[element.field].write) if element.field in rules else WriteMode.NONE,
            rules[element.field].read if element.field in rules else False,
        )
        for element in catalogue.ELEMENTS
    ]
    members = list(
        InstitutionMember.objects.filter(institution=institution)
        .select_related("user", "invited_by")
        .order_by("invited_at")
    )
    summary = agreement_summary(
        agreements, active_institution=institution.is_active, today=timezone.localdate()
    )
    return InstitutionDetail(institution, summary, agreements, authority, members)


def agreement_get(institution: Institution, agreement_id: int) -> Agreement | None:
    return institution.agreements.filter(pk=agreement_id).first()


def desa_by_code(code: str) -> Desa | None:
    return Desa.objects.filter(code=code).first()


@dataclass
class ExchangeRow:
    institution: Institution
    agreement: AgreementSummary
    last_contact: datetime.datetime | None = None
    by_status: dict[str, int] = field(default_factory=dict)
    rows: int = 0
    error_rows: int = 0
    api_batches: int = 0

    @property
    def batches(self) -> int:
        return sum(self.by_status.values())

    @property
    def error_rate(self) -> float | None:
        return self.error_rows / self.rows if self.rows else None

    @property
    def status_counts(self) -> list[tuple[Promise, int]]:
        return [
            (status.label, self.by_status[status])
            for status in UploadStatus
            if self.by_status.get(status)
        ]


def exchange_overview(*, days: int = OVERVIEW_DAYS) -> list[ExchangeRow]:
    """Per institution: last contact (latest batch or API key use), batches of the last
    `days` days by status, their row error rate, and the agreement state. Five queries."""
    today = timezone.localdate()
    since = timezone.now() - datetime.timedelta(days=days)
    rows = {row.institution.pk: row for row in _overview_rows(today)}
    last_batch = ExchangeBatch.objects.values("institution_id").annotate(last=Max("created_at"))
    last_key = ApiKey.objects.values("institution_id").annotate(last=Max("last_used_at"))
    for contact in [*last_batch, *last_key]:
        row = rows.get(contact["institution_id"])
        if row is not None and contact["last"] is not None:
            row.last_contact = max(filter(None, (row.last_contact, contact["last"])))
    recent = ExchangeBatch.objects.filter(created_at__gte=since).values_list(
        "institution_id", "status", "via_api", "rows_total", "counts"
    )
    for institution_id, status, via_api, rows_total, counts in recent:
        row = rows[institution_id]
        row.by_status[status] = row.by_status.get(status, 0) + 1
        row.api_batches += int(via_api)
        if status != UploadStatus.REFUSED:
            row.rows += rows_total
            row.error_rows += int((counts or {}).get("error", 0))
    return list(rows.values())


def _overview_rows(today: datetime.date) -> list[ExchangeRow]:
    agreements: dict[int, list[Agreement]] = defaultdict(list)
    for agreement in Agreement.objects.all():
        agreements[agreement.institution_id].append(agreement)
    return [
        ExchangeRow(
            institution,
            agreement_summary(
                agreements[institution.pk], active_institution=institution.is_active, today=today
            ),
        )
        for institution in Institution.objects.all()
    ]


def admin_institution(user: User) -> Institution | None:
    """The institution an institution admin acts for; None for everyone else."""
    if not policy.is_institution_admin(user):
        return None
    return selectors.institution_of(user)


def api_keys_of(institution: Institution) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(institution=institution).order_by("-created_at")


def api_key_get(institution: Institution, key_id: int) -> ApiKey | None:
    return api_keys_of(institution).select_related("institution").filter(pk=key_id).first()


def webhooks_of(institution: Institution) -> QuerySet[WebhookSubscription]:
    return (
        WebhookSubscription.objects.filter(institution=institution)
        .defer("secret")
        .order_by("-created_at")
    )


def webhook_get(institution: Institution, webhook_id: int) -> WebhookSubscription | None:
    return webhooks_of(institution).select_related("institution").filter(pk=webhook_id).first()
