"""The F-1.06 change statement of a merge: elements before and after with their basis, the
documents, and the officers who approved, as the PDF Dukcapil uses to carry the change into
SIAK. Rendered from a Django template with WeasyPrint by a Celery worker."""

import hashlib
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import override

from citizens.choices import Registry
from citizens.models import Family, NonPermanentResident, PermanentResident
from citizens.pdf_fetcher import static_url_fetcher
from submissions import kinds
from submissions.choices import Kind
from verification.choices import Outcome
from verification.models import ChangeStatement, Decision, Merge


@dataclass(frozen=True)
class StatementRow:
    number: int
    label: str
    before: str
    after: str
    basis: str


def _display(name: str, text: str) -> str:
    # Dukcapil needs the full NIK to enter the change in SIAK: no masking here.
    return text if name == "nik" else kinds.display_value(name, text)


def change_statement_context(merge: Merge) -> dict[str, object]:
    submission = merge.submission
    spec = kinds.SPECS[Kind(submission.kind)]
    order = {name: index for index, name in enumerate(spec.elements)}
    items = sorted(submission.items.all(), key=lambda item: order.get(item.field, len(order)))
    rows = [
        StatementRow(
            number=number,
            label=str(kinds.FIELD_LABELS.get(item.field, item.field)),
            before=_display(item.field, item.value_before),
            after=_display(item.field, item.value_after),
            basis=item.basis,
        )
        for number, item in enumerate(items, start=1)
    ]
    # Only the approvals that led to this merge: a return sent the submission back to the
    # first tier, and the approvals before it were of a proposal that no longer exists.
    decisions = list(
        Decision.objects.filter(submission=submission)
        .select_related("officer")
        .order_by("decided_at", "pk")
    )
    last_round = [
        index for index, decision in enumerate(decisions) if decision.outcome != Outcome.APPROVE
    ]
    approvals = decisions[last_round[-1] + 1 :] if last_round else decisions
    person = _merged_person(merge)
    family = person.family if isinstance(person, PermanentResident) else submission.family
    if merge.registry == Registry.FAMILY:
        family = Family.objects.filter(pk=merge.record_id).first() or family
    return {
        "merge": merge,
        "submission": submission,
        "person": person,
        "family": family,
        "rows": rows,
        "documents": list(submission.evidence.order_by("uploaded_at", "pk")),
        "approvals": list(approvals),
        "generated_at": timezone.localtime(),
    }


def _merged_person(merge: Merge) -> PermanentResident | NonPermanentResident | None:
    """The person the merge wrote (for a birth, an arrival or a first registration, the new
    record; the submission itself names nobody), None for a family's address."""
    if merge.registry == Registry.PERMANENT:
        return PermanentResident.objects.select_related("family").filter(pk=merge.record_id).first()
    if merge.registry == Registry.NON_PERMANENT:
        return NonPermanentResident.objects.filter(pk=merge.record_id).first()
    return None


def change_statement_render(*, merge_id: int) -> ChangeStatement:
    """Render and store the statement once; a second call returns the stored one."""
    existing = ChangeStatement.objects.filter(merge_id=merge_id).first()
    if existing is not None:
        return existing
    from weasyprint import HTML  # heavy import, only in the worker that renders

    merge = Merge.objects.select_related(
        "submission__desa__kecamatan", "submission__family", "merged_by"
    ).get(pk=merge_id)
    with override("id"):
        html = render_to_string("verification/f106.html", change_statement_context(merge))
    pdf = HTML(string=html, url_fetcher=static_url_fetcher()).write_pdf()
    statement = ChangeStatement(merge=merge, sha256=hashlib.sha256(pdf).hexdigest())
    statement.file.save("f106.pdf", ContentFile(pdf), save=False)
    try:
        with transaction.atomic():
            statement.save()
    except IntegrityError:
        statement.file.delete(save=False)
        return ChangeStatement.objects.get(merge_id=merge_id)
    return statement
