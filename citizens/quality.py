"""Data-quality checks: records missing required elements, NIKs that disagree with the
recorded birth date or sex, non-permanent stays past their end, families without a head.

A check (`quality_refresh`, nightly by Celery beat, or `manage.py quality_check`) replaces the
findings table; the officers' page lists them within the reader's jurisdiction. Only the NIK
rule decrypts, and only the NIK (a NIK encodes birth date and sex, so nothing else can tell).
"""

import datetime
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Min, Q, QuerySet
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rapidfuzz import fuzz

from citizens import choices, policy
from citizens.models import Family, NonPermanentResident, PermanentResident, QualityFinding, User
from citizens.names import normalised
from citizens.nik import parse_nik

RULES = {
    "missing": _("Required elements missing"),
    "nik_mismatch": _("NIK disagrees with the recorded birth date or sex"),
    "stay_ended": _("Non-permanent stay past its end date, record still open"),
    "no_head": _("Family card without a living head of family"),
    "duplicate": _("Possible duplicate person (same birth date, similar name, another NIK)"),
}
# Names this alike (rapidfuzz token-sort ratio, 0-100) are possible duplicates: MUHAMMAD
# RIZKI and MUHAMAD RIZKY score 89.
DUPLICATE_SCORE = 85
_ALIVE = Q(life_status=choices.LifeStatus.ALIVE, closed_at__isnull=True)
_CHUNK = 5000
# Both registries: the registry's name, its model, and the path to a person's village.
_SOURCES: tuple[tuple[str, type[PermanentResident] | type[NonPermanentResident], str], ...] = (
    (choices.Registry.PERMANENT, PermanentResident, "family__desa"),
    (choices.Registry.NON_PERMANENT, NonPermanentResident, "domicile_desa"),
)


@dataclass(frozen=True)
class _Found:
    rule: str
    registry: str
    record_id: int
    desa_id: int
    detail: str = ""


def _missing() -> Iterator[_Found]:
    """Place of birth or mother's name empty (both required on form F-1.01)."""
    for registry, model, desa in _SOURCES:
        rows = (
            model._default_manager.filter(_ALIVE)
            .annotate(mother=Length("mother_name"))
            .filter(Q(birth_place="") | Q(mother=0))
            .values_list("pk", desa, "birth_place", "mother")
        )
        for pk, desa_id, birth_place, mother in rows.iterator(chunk_size=_CHUNK):
            empty = [
                name
                for name, missing in (("birth_place", not birth_place), ("mother_name", not mother))
                if missing
            ]
            yield _Found("missing", registry, pk, desa_id, ",".join(empty))


def _nik_mismatch() -> Iterator[_Found]:
    for registry, model, desa in _SOURCES:
        rows = model._default_manager.filter(_ALIVE).values_list(
            "pk", desa, "nik", "birth_date", "sex"
        )
        for pk, desa_id, nik, birth_date, sex in rows.iterator(chunk_size=_CHUNK):
            try:
                info = parse_nik(nik)
            except ValidationError:
                yield _Found("nik_mismatch", registry, pk, desa_id, "nik")
                continue
            wrong = []
            if not info.birth_date_matches(birth_date):
                wrong.append("birth_date")
            if info.sex != sex:
                wrong.append("sex")
            if wrong:
                yield _Found("nik_mismatch", registry, pk, desa_id, ",".join(wrong))


def _stay_ended(today: datetime.date) -> Iterator[_Found]:
    rows = NonPermanentResident.objects.filter(_ALIVE, expected_end_date__lt=today).values_list(
        "pk", "domicile_desa", "expected_end_date"
    )
    for pk, desa_id, end in rows.iterator(chunk_size=_CHUNK):
        yield _Found("stay_ended", choices.Registry.NON_PERMANENT, pk, desa_id, end.isoformat())


def _no_head() -> Iterator[_Found]:
    """Families with living members, none of them the head; the finding points at the first
    living member so an officer can open the record."""
    alive = Q(members__life_status=choices.LifeStatus.ALIVE, members__closed_at__isnull=True)
    head = alive & Q(members__family_relation=choices.FamilyRelation.HEAD)
    rows = (
        Family.objects.annotate(
            living=Count("members", filter=alive),
            heads=Count("members", filter=head),
            first=Min("members__pk", filter=alive),
        )
        .filter(living__gt=0, heads=0)
        .values_list("pk", "desa", "first", "living")
    )
    for pk, desa_id, first, living in rows.iterator(chunk_size=_CHUNK):
        yield _Found(
            "no_head",
            choices.Registry.PERMANENT,
            first,
            desa_id,
            f"{pk}:{living}",
        )


def _duplicates() -> Iterator[_Found]:
    """Candidates share a birth date and the name index (one grouped query per registry,
    nothing decrypted); only their names are decrypted and compared."""
    keys: dict[tuple[datetime.date, str], int] = defaultdict(int)
    for _registry, model, _desa in _SOURCES:
        rows = (
            model._default_manager.filter(_ALIVE)
            .exclude(name_key="")
            .values("birth_date", "name_key")
            .annotate(n=Count("pk"))
        )
        for row in rows.iterator(chunk_size=_CHUNK):
            keys[(row["birth_date"], row["name_key"])] += row["n"]
    shared = [key for key, count in keys.items() if count > 1]
    groups: dict[tuple[datetime.date, str], list[tuple[str, int, int, str]]] = defaultdict(list)
    for start in range(0, len(shared), 500):
        part = shared[start : start + 500]
        wanted = Q()
        for birth_date, name_key in part:
            wanted |= Q(birth_date=birth_date, name_key=name_key)
        for source, model, desa in _SOURCES:
            candidates = model._default_manager.filter(_ALIVE).filter(wanted)
            for pk, desa_id, birth_date, name_key, name in candidates.values_list(
                "pk", desa, "birth_date", "name_key", "full_name"
            ):
                groups[(birth_date, name_key)].append((str(source), pk, desa_id, normalised(name)))
    for members in groups.values():
        for registry, pk, desa_id, name in members:
            matches = [
                f"{other_registry}:{other_pk}"
                for other_registry, other_pk, _desa_id, other_name in members
                if (other_registry, other_pk) != (registry, pk)
                and fuzz.token_sort_ratio(name, other_name) >= DUPLICATE_SCORE
            ]
            if matches:
                yield _Found("duplicate", registry, pk, desa_id, ",".join(matches)[:200])


@transaction.atomic
def quality_refresh(*, today: datetime.date | None = None) -> dict[str, int]:
    """Run every rule and replace the findings; returns the number found per rule."""
    today = today or timezone.localdate()
    now = timezone.now()
    found: list[QualityFinding] = []
    rules = (*_missing(), *_nik_mismatch(), *_stay_ended(today), *_no_head(), *_duplicates())
    for finding in rules:
        found.append(
            QualityFinding(
                rule=finding.rule,
                registry=finding.registry,
                record_id=finding.record_id,
                desa_id=finding.desa_id,
                detail=finding.detail[:200],
                found_at=now,
            )
        )
    QualityFinding.objects.all().delete()
    QualityFinding.objects.bulk_create(found, batch_size=2000)
    counts = dict.fromkeys(RULES, 0)
    for row in found:
        counts[row.rule] += 1
    return counts


# What a finding's stored detail codes mean, in the reader's language.
_DETAIL = {
    "birth_place": _("place of birth empty"),
    "mother_name": _("mother's name empty"),
    "nik": _("the NIK is not valid"),
    "birth_date": _("the NIK encodes another birth date"),
    "sex": _("the NIK encodes the other sex"),
}


def describe(finding: QualityFinding) -> str:
    """The finding's detail for the page (details are stored as codes, not text)."""
    if finding.rule == "stay_ended":
        return str(_("stay ended on %(date)s") % {"date": finding.detail})
    if finding.rule == "no_head":
        family, _sep, living = finding.detail.partition(":")
        return str(
            _("family #%(family)s, %(count)s living members, none the head")
            % {"family": family, "count": living}
        )
    if finding.rule == "duplicate":
        return str(_("like %(records)s") % {"records": finding.detail.replace(",", ", ")})
    return ", ".join(str(_DETAIL.get(code, code)) for code in finding.detail.split(",") if code)


def findings_for(user: User, *, rule: str | None = None) -> QuerySet[QualityFinding]:
    """The findings in the officer's jurisdiction, newest check, by village."""
    findings = QualityFinding.objects.filter(policy.desa_filter(user)).select_related(
        "desa__kecamatan"
    )
    if rule is not None:
        findings = findings.filter(rule=rule)
    return findings.order_by("rule", "desa__kecamatan__name", "desa__name", "record_id")


def counts_for(user: User) -> dict[str, int]:
    counted = {
        row["rule"]: row["n"]
        for row in QualityFinding.objects.filter(policy.desa_filter(user))
        .values("rule")
        .annotate(n=Count("pk"))
    }
    return {rule: counted.get(rule, 0) for rule in RULES}


def checked_at() -> datetime.datetime | None:
    return QualityFinding.objects.order_by("-found_at").values_list("found_at", flat=True).first()
