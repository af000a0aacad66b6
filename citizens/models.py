"""The population registry: areas, accounts, families, permanent and non-permanent residents,
and the append-only history of every change. Writes go through citizens.services only."""

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from citizens import choices
from citizens.fields import EncryptedTextField


class Kecamatan(models.Model):
    code = models.CharField(_("code"), max_length=6, unique=True)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        ordering = ["code"]
        verbose_name = _("kecamatan")
        verbose_name_plural = _("kecamatan")

    def __str__(self) -> str:
        return self.name


class Desa(models.Model):
    """A desa or kelurahan. `code` is the 10-digit Kemendagri code (see docs/data-model.md)."""

    kecamatan = models.ForeignKey(
        Kecamatan, on_delete=models.PROTECT, related_name="villages", verbose_name=_("kecamatan")
    )
    code = models.CharField(_("code"), max_length=10, unique=True)
    code_is_official = models.BooleanField(_("official code"), default=False)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=choices.AreaKind.choices)
    postal_code = models.CharField(_("postal code"), max_length=5, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("village")
        verbose_name_plural = _("villages")
        constraints = [
            models.UniqueConstraint(fields=["kecamatan", "name"], name="desa_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: object) -> "User":
        user = self.model(email=self.normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> "User":
        extra.update(is_staff=True, is_superuser=True, role=choices.Role.SYSTEM_ADMIN)
        return self.create_user(email, password, **extra)


class User(AbstractUser):
    """A portal account. Officers carry a jurisdiction: a desa, a kecamatan, or (both empty)
    the whole regency. Rules about what a role may do live in citizens.policy."""

    username = None  # type: ignore[assignment]
    first_name = None  # type: ignore[assignment]
    last_name = None  # type: ignore[assignment]
    email = models.EmailField(_("e-mail address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    role = models.CharField(
        _("role"), max_length=20, choices=choices.Role.choices, default=choices.Role.CITIZEN
    )
    jurisdiction_desa = models.ForeignKey(
        Desa,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("jurisdiction: village"),
    )
    jurisdiction_kecamatan = models.ForeignKey(
        Kecamatan,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("jurisdiction: kecamatan"),
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []  # type: ignore[misc]
    objects = UserManager()  # type: ignore[misc, assignment]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                name="user_jurisdiction_matches_role",
                condition=(
                    Q(
                        role=choices.Role.OPERATOR_DESA,
                        jurisdiction_desa__isnull=False,
                        jurisdiction_kecamatan__isnull=True,
                    )
                    | Q(
                        role=choices.Role.OFFICER_KECAMATAN,
                        jurisdiction_desa__isnull=True,
                        jurisdiction_kecamatan__isnull=False,
                    )
                    | (
                        ~Q(role__in=[choices.Role.OPERATOR_DESA, choices.Role.OFFICER_KECAMATAN])
                        & Q(jurisdiction_desa__isnull=True, jurisdiction_kecamatan__isnull=True)
                    )
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.email


class AccountSession(AbstractBaseSession):
    """A session with its account as a column, so that one query reads both (citizens.sessions).

    The column is written from the session's data on every save; deleting an account ends its
    sessions.
    """

    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    @classmethod
    def get_session_store_class(cls) -> type:
        from citizens.sessions import SessionStore

        return SessionStore


class AccountInvitation(models.Model):
    """A single-use link through which an account's owner sets their own password and enrols
    TOTP (citizens/invitations.py). Only the token's SHA-256 is stored; a newer invitation
    ends the earlier ones."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="invitations", verbose_name=_("account")
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("invited by"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    used_at = models.DateTimeField(_("used"), null=True, blank=True)

    class Meta:
        verbose_name = _("account invitation")
        verbose_name_plural = _("account invitations")

    def __str__(self) -> str:
        return f"invitation {self.pk} for account {self.user_id}"


class PageGeneration(models.Model):
    """The generation of a linked account's cek data page (PostgreSQL only).

    Triggers (migrations citizens 0010 and submissions 0006) give the account a new value from
    one sequence, in the writer's own transaction, whenever a row its page shows is written:
    its link, its record, its family and the members, their access log and change rows, the
    submissions by or about them, area names. The session statement reads it with the
    account, so a stored page is known to be current without a query of its own. The id is
    not a foreign key: a row outliving its account is harmless, and deleting accounts never
    waits on it.
    """

    user_id = models.BigIntegerField(primary_key=True)
    value = models.BigIntegerField()

    def __str__(self) -> str:
        return f"{self.user_id}: {self.value}"


class Family(models.Model):
    """A household keyed by its KK number; the address of a permanent resident is the family's."""

    kk_number = EncryptedTextField(_("KK number"))
    kk_index = models.CharField(max_length=64, unique=True, editable=False)
    desa = models.ForeignKey(
        Desa, on_delete=models.PROTECT, related_name="families", verbose_name=_("village")
    )
    address = EncryptedTextField(_("street address"))
    rt = models.CharField(_("RT"), max_length=3)
    rw = models.CharField(_("RW"), max_length=3)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("family")
        verbose_name_plural = _("families")

    def __str__(self) -> str:
        return f"KK #{self.pk}"


# Elements partner institutions keep up to date (see stakeholders); not on the F-1.01 form.
EXCHANGE_FIELDS = (
    "school_enrolment",
    "health_insurance",
    "marriage_record_number",
    "marriage_record_date",
)

# The F-1.01 biodata elements a change may touch, in the form's order (identity keys such as
# the NIK and the family have their own services).
BIODATA_FIELDS = (
    "full_name",
    "birth_place",
    "birth_date",
    "sex",
    "blood_type",
    "religion",
    "marital_status",
    "education",
    "occupation",
    "citizenship",
    "disability",
    "father_name",
    "mother_name",
    "phone",
    "life_status",
    "death_date",
)


class Resident(models.Model):
    """Biodata elements of form F-1.01 shared by permanent and non-permanent residents."""

    nik = EncryptedTextField(_("NIK"))
    nik_index = models.CharField(max_length=64, unique=True, editable=False)
    full_name = EncryptedTextField(_("full name"))
    # Blind index of the name's phonetic key (citizens.names): possible duplicates are found
    # by (birth_date, name_key) without decrypting names.
    name_key = models.CharField(max_length=64, blank=True, default="", editable=False)
    birth_place = models.CharField(_("place of birth"), max_length=100)
    birth_date = models.DateField(_("date of birth"))
    sex = models.PositiveSmallIntegerField(_("sex"), choices=choices.Sex.choices)
    blood_type = models.PositiveSmallIntegerField(
        _("blood type"), choices=choices.BloodType.choices, default=choices.BloodType.UNKNOWN
    )
    religion = models.PositiveSmallIntegerField(_("religion"), choices=choices.Religion.choices)
    marital_status = models.PositiveSmallIntegerField(
        _("marital status"), choices=choices.MaritalStatus.choices
    )
    education = models.PositiveSmallIntegerField(_("education"), choices=choices.Education.choices)
    occupation = models.PositiveSmallIntegerField(
        _("occupation"), choices=choices.Occupation.choices
    )
    citizenship = models.PositiveSmallIntegerField(
        _("citizenship"), choices=choices.Citizenship.choices, default=choices.Citizenship.WNI
    )
    disability = models.PositiveSmallIntegerField(
        _("disability"), choices=choices.Disability.choices, default=choices.Disability.NONE
    )
    father_name = EncryptedTextField(_("father's name"), blank=True)
    mother_name = EncryptedTextField(_("mother's name"), blank=True)
    phone = EncryptedTextField(_("phone number"), blank=True)
    # Elements kept for partner institutions (stakeholders): written by the office that owns
    # them under its data-sharing agreement, never by citizens' forms.
    school_enrolment = models.CharField(_("school enrolment"), max_length=120, blank=True)
    health_insurance = models.CharField(
        _("health insurance"), max_length=12, choices=choices.HealthInsurance.choices, blank=True
    )
    marriage_record_number = models.CharField(
        _("marriage or divorce record number"), max_length=40, blank=True
    )
    marriage_record_date = models.DateField(
        _("marriage or divorce record date"), null=True, blank=True
    )
    life_status = models.CharField(
        _("life status"),
        max_length=12,
        choices=choices.LifeStatus.choices,
        default=choices.LifeStatus.ALIVE,
    )
    death_date = models.DateField(_("date of death"), null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} #{self.pk}"


class PermanentResident(Resident):
    """Penduduk tetap: a member of a Purworejo family (KK)."""

    family = models.ForeignKey(
        Family, on_delete=models.PROTECT, related_name="members", verbose_name=_("family")
    )
    family_relation = models.PositiveSmallIntegerField(
        _("relation in family"), choices=choices.FamilyRelation.choices
    )

    class Meta:
        verbose_name = _("permanent resident")
        verbose_name_plural = _("permanent residents")
        indexes = [
            models.Index(fields=["birth_date"], name="perm_birth_date"),
            models.Index(fields=["birth_date", "name_key"], name="perm_birth_name"),
            models.Index(fields=["life_status", "sex"], name="perm_status_sex"),
        ]


class NonPermanentResident(Resident):
    """Penduduk non-permanen: registered by NIK (F-1.15) while staying in Purworejo."""

    kk_number = EncryptedTextField(_("KK number (origin)"), blank=True)
    origin_address = EncryptedTextField(_("origin address"))
    origin_region_code = models.CharField(_("origin region code"), max_length=10)
    domicile_desa = models.ForeignKey(
        Desa,
        on_delete=models.PROTECT,
        related_name="non_permanent_residents",
        verbose_name=_("village of domicile"),
    )
    domicile_address = EncryptedTextField(_("address in Purworejo"))
    domicile_rt = models.CharField(_("RT"), max_length=3)
    domicile_rw = models.CharField(_("RW"), max_length=3)
    purpose = models.CharField(
        _("purpose of stay"), max_length=10, choices=choices.StayPurpose.choices
    )
    host_institution = models.CharField(_("host institution"), max_length=200, blank=True)
    registration_reference = models.CharField(
        _("F-1.15 registration reference"), max_length=40, blank=True
    )
    start_date = models.DateField(_("start of stay"))
    expected_end_date = models.DateField(_("expected end of stay"))

    class Meta:
        verbose_name = _("non-permanent resident")
        verbose_name_plural = _("non-permanent residents")
        indexes = [models.Index(fields=["birth_date", "name_key"], name="nonperm_birth_name")]
        constraints = [
            models.CheckConstraint(
                name="nonperm_period_ordered",
                condition=Q(expected_end_date__gte=models.F("start_date")),
            ),
        ]


# A record of either registry: services take one or the other.
AnyResident = PermanentResident | NonPermanentResident


def registry_of(record: Resident | Family) -> choices.Registry:
    """Which registry a record belongs to, as history rows and access logs name it."""
    if isinstance(record, PermanentResident):
        return choices.Registry.PERMANENT
    if isinstance(record, NonPermanentResident):
        return choices.Registry.NON_PERMANENT
    return choices.Registry.FAMILY


class AppendOnlyQuerySet(models.QuerySet):  # type: ignore[type-arg]
    def update(self, **kwargs: object) -> int:
        raise PermissionError("This table is append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("This table is append-only.")


class AppendOnlyModel(models.Model):
    """Rows are inserted once and never changed or removed through the application."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise PermissionError("This table is append-only.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise PermissionError("This table is append-only.")


class RecordChange(AppendOnlyModel):
    """One changed field of one registry record: who or what changed it, from what, to what,
    when and why. Its id is also the cursor of the change feed read by stakeholders."""

    registry = models.CharField(_("registry"), max_length=16, choices=choices.Registry.choices)
    record_id = models.BigIntegerField(_("record"))
    field = models.CharField(_("field"), max_length=64)
    old_value = EncryptedTextField(_("old value"), blank=True)
    new_value = EncryptedTextField(_("new value"), blank=True)
    source = models.CharField(_("source"), max_length=16, choices=choices.ChangeSource.choices)
    source_ref = models.CharField(_("source reference"), max_length=64, blank=True)
    actor = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("by"),
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)

    class Meta:
        verbose_name = _("record change")
        verbose_name_plural = _("record changes")
        indexes = [
            models.Index(fields=["registry", "record_id", "changed_at"], name="change_record")
        ]
        constraints = [
            # A given source (submission, upload row, API call) changes a field once.
            models.UniqueConstraint(
                fields=["registry", "record_id", "field", "source", "source_ref"],
                condition=~Q(source_ref=""),
                name="change_once_per_source",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.registry}#{self.record_id}.{self.field}"


class AccessLog(AppendOnlyModel):
    """Every officer view of a full record and every institution read: shown to the citizen."""

    registry = models.CharField(_("registry"), max_length=16, choices=choices.Registry.choices)
    record_id = models.BigIntegerField(_("record"))
    actor = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("by"),
    )
    actor_label = models.CharField(_("office or institution"), max_length=200, blank=True)
    purpose = models.CharField(_("purpose"), max_length=20, choices=choices.AccessPurpose.choices)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    accessed_at = models.DateTimeField(_("accessed at"), default=timezone.now)

    class Meta:
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        indexes = [
            models.Index(fields=["registry", "record_id", "accessed_at"], name="access_record")
        ]

    def __str__(self) -> str:
        return f"{self.purpose} {self.registry}#{self.record_id}"


class AuditEntry(AppendOnlyModel):
    """The audit trail (ISO 27001 A.8.15): officers' views of full records, review decisions
    and merges. Searchable by officer, person (through the NIK's blind index) and date."""

    actor = models.ForeignKey(
        User, null=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("officer")
    )
    action = models.CharField(_("action"), max_length=16, choices=choices.AuditAction.choices)
    registry = models.CharField(
        _("registry"), max_length=16, choices=choices.Registry.choices, blank=True
    )
    record_id = models.BigIntegerField(_("record"), null=True, blank=True)
    nik_index = models.CharField(max_length=64, blank=True)
    reference = models.CharField(_("reference"), max_length=32, blank=True)
    tier = models.CharField(_("tier"), max_length=12, blank=True)
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        indexes = [
            models.Index(fields=["created_at"], name="audit_time"),
            models.Index(fields=["actor", "created_at"], name="audit_actor"),
            models.Index(fields=["nik_index", "created_at"], name="audit_person"),
        ]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_id} at {self.created_at:%Y-%m-%d %H:%M}"


class ResidentLink(models.Model):
    """An account proven to belong to one resident (permanent or non-permanent).

    One NIK links to at most one account, and one account to one NIK.
    """

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, related_name="resident_link", verbose_name=_("account")
    )
    permanent_resident = models.OneToOneField(
        PermanentResident,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="account_link",
        verbose_name=_("permanent resident"),
    )
    non_permanent_resident = models.OneToOneField(
        NonPermanentResident,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="account_link",
        verbose_name=_("non-permanent resident"),
    )
    confirmed_by = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("confirmed in person by"),
    )
    linked_at = models.DateTimeField(_("linked at"), default=timezone.now)

    class Meta:
        verbose_name = _("account link")
        verbose_name_plural = _("account links")
        constraints = [
            models.CheckConstraint(
                name="link_exactly_one_resident",
                condition=Q(permanent_resident__isnull=False, non_permanent_resident__isnull=True)
                | Q(permanent_resident__isnull=True, non_permanent_resident__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"link #{self.pk}"

    @property
    def resident(self) -> PermanentResident | NonPermanentResident:
        return self.permanent_resident or self.non_permanent_resident  # type: ignore[return-value]


class LinkAttempt(AppendOnlyModel):
    """Every attempt to link an account to a NIK; failures feed the lock-outs, which count
    them per account, per IP address and per target record (citizens/linking.py).

    The target is the blind index of the NIK tried, whether or not it is registered, and the
    address is kept only as a blind index too: neither is stored in plaintext.
    """

    # PROTECT: an account with history is deactivated, never deleted with its attempts.
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    succeeded = models.BooleanField(default=False)
    attempted_at = models.DateTimeField(default=timezone.now)
    target_index = models.CharField(max_length=64, blank=True, default="")
    ip_index = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        verbose_name = _("link attempt")
        verbose_name_plural = _("link attempts")
        indexes = [
            models.Index(fields=["user", "attempted_at"], name="link_attempt_user"),
            models.Index(fields=["target_index", "attempted_at"], name="link_attempt_target"),
            models.Index(fields=["ip_index", "attempted_at"], name="link_attempt_ip"),
        ]

    def __str__(self) -> str:
        return f"attempt #{self.pk}"


class StatCell(models.Model):
    """One published count: residents of a village by one dimension (age group and sex,
    religion, education, ...), refreshed from the registry by `citizens.statistics`. The
    statistics pages read these few thousand rows instead of scanning 770,000 residents."""

    desa = models.ForeignKey(Desa, on_delete=models.CASCADE, related_name="+")
    registry = models.CharField(max_length=16, choices=choices.Registry.choices)
    dimension = models.CharField(max_length=16)
    key = models.CharField(max_length=200)
    count = models.PositiveIntegerField()
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("statistics cell")
        verbose_name_plural = _("statistics cells")
        indexes = [models.Index(fields=["dimension", "desa"], name="stat_dimension_desa")]

    def __str__(self) -> str:
        return f"{self.dimension}:{self.key}@{self.desa_id}"


class StatHidden(models.Model):
    """One count hidden in a published statistics table of an area (the regency: "", a
    kecamatan's or a village's code), chosen at refresh for the whole area hierarchy at once
    (`citizens.statistics.hierarchy_hidden`) so that every page, download, API response and
    report of every area shows the same pattern. A row with table "*" marks an area whose
    pattern was computed."""

    area = models.CharField(max_length=10, blank=True)
    table = models.CharField(max_length=16)
    key = models.CharField(max_length=200)
    column = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("hidden statistics cell")
        verbose_name_plural = _("hidden statistics cells")
        indexes = [models.Index(fields=["area", "table"], name="stat_hidden_area_table")]

    def __str__(self) -> str:
        return f"{self.table}:{self.key}:{self.column}@{self.area or '-'}"


class QualityFinding(models.Model):
    """One data-quality finding of the last check (`citizens.quality`): which rule, which
    record, where, and a short non-identifying detail. Replaced at every check."""

    rule = models.CharField(max_length=24)
    registry = models.CharField(max_length=16, choices=choices.Registry.choices)
    record_id = models.BigIntegerField()
    desa = models.ForeignKey(Desa, on_delete=models.CASCADE, related_name="+")
    detail = models.CharField(max_length=200, blank=True)
    found_at = models.DateTimeField()

    class Meta:
        verbose_name = _("data-quality finding")
        verbose_name_plural = _("data-quality findings")
        indexes = [models.Index(fields=["rule", "desa"], name="finding_rule_desa")]

    def __str__(self) -> str:
        return f"{self.rule}:{self.registry}#{self.record_id}"
