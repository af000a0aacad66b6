"""Reads of the registry that matter: scoped by citizens.policy, cheap in queries."""

from django.core.exceptions import FieldDoesNotExist
from django.db.models import QuerySet

from citizens import crypto, policy
from citizens.choices import Registry
from citizens.models import Family, NonPermanentResident, PermanentResident, RecordChange, User
from citizens.nik import nik_warnings, validate_nik


def resident_get_by_nik(nik: str) -> PermanentResident | NonPermanentResident | None:
    """Find a resident by NIK through the blind index (one indexed query per table)."""
    index = crypto.nik_index(validate_nik(nik))
    permanent = (
        PermanentResident.objects.select_related("family__desa__kecamatan")
        .filter(nik_index=index)
        .first()
    )
    if permanent is not None:
        return permanent
    return (
        NonPermanentResident.objects.select_related("domicile_desa__kecamatan")
        .filter(nik_index=index)
        .first()
    )


def permanent_residents_for_officer(user: User) -> QuerySet[PermanentResident]:
    """Permanent residents inside the officer's jurisdiction (none for anyone else)."""
    return (
        PermanentResident.objects.filter(policy.desa_filter(user, field="family__desa"))
        .select_related("family__desa__kecamatan")
        .order_by("pk")
    )


_REGISTRY_MODELS = {
    Registry.PERMANENT: PermanentResident,
    Registry.NON_PERMANENT: NonPermanentResident,
    Registry.FAMILY: Family,
}


def record_history(*, registry: str, record_id: int, limit: int = 50) -> list[RecordChange]:
    """Newest changes first, each with `field_label`: the field's name in the user's language."""
    model = _REGISTRY_MODELS[Registry(registry)]
    changes = list(
        RecordChange.objects.filter(registry=registry, record_id=record_id)
        .select_related("actor")
        .order_by("-changed_at", "-pk")[:limit]
    )
    for change in changes:
        try:
            change.field_label = model._meta.get_field(change.field).verbose_name
        except FieldDoesNotExist:
            change.field_label = change.field
    return changes


def nik_warnings_for(resident: PermanentResident | NonPermanentResident) -> list[str]:
    return nik_warnings(resident.nik, birth_date=resident.birth_date, sex=resident.sex)
