"""Demo review work for `make run`: the demo citizen's requests waiting at each tier, so every
demo officer finds something in their queue. Synthetic data only; idempotent."""

import datetime

from django.db import transaction

from citizens import selectors as citizen_selectors
from citizens.choices import Occupation, Religion, Role, Sex
from citizens.demo import DEMO_DOMAIN
from citizens.models import PermanentResident, User
from submissions import kinds
from submissions import services as submission_services
from submissions.choices import Channel, Kind
from submissions.models import Submission
from verification import services
from verification.choices import Outcome


@transaction.atomic
def demo_reviews_seed() -> list[str]:
    """File three requests as the demo citizen and move two of them up a tier as the demo
    village operator. Returns the tracking codes (none when already seeded or no accounts)."""
    citizen = User.objects.filter(email=f"warga@{DEMO_DOMAIN}").first()
    operator = User.objects.filter(role=Role.OPERATOR_DESA, email__endswith=DEMO_DOMAIN).first()
    if citizen is None or operator is None or Submission.objects.filter(filed_by=citizen).exists():
        return []
    link = citizen_selectors.resident_link_for_user(citizen)
    if link is None or link.permanent_resident is None:
        return []
    me: PermanentResident = link.permanent_resident
    family = me.family
    occupation = Occupation.TEACHER if me.occupation != Occupation.TEACHER else Occupation.FARMER
    # A birth names the mother (F-1.01): the citizen herself, or a woman of the family card.
    mother = (
        me
        if me.sex == Sex.FEMALE
        else family.members.filter(sex=Sex.FEMALE).exclude(pk=me.pk).order_by("pk").first()
    )
    requests: list[tuple[Kind, dict[str, object], bool]] = [
        (
            Kind.BIODATA_CORRECTION,
            {"occupation": occupation, "basis_occupation": "Surat keterangan kerja"},
            False,
        ),
        (
            Kind.BIRTH,
            {
                "full_name": "BAYU DEMO SAPUTRA",
                "sex": Sex.MALE,
                "birth_place": "PURWOREJO",
                "birth_date": datetime.date.today() - datetime.timedelta(days=20),
                "religion": Religion.ISLAM,
                "father_name": me.full_name if me.sex == Sex.MALE else "",
                "mother_name": mother.full_name if mother else "IBU DEMO SAPUTRA",
                "basis": "Surat keterangan lahir dari bidan",
            },
            True,
        ),
        (
            Kind.ADDRESS_CHANGE,
            {
                "desa": family.desa,
                "rt": "009" if family.rt != "009" else "008",
                "rw": family.rw,
                "address": "Jalan Demo Baru No. 7",
                "whole_family": True,
                "basis": "Surat pengantar RT",
            },
            True,
        ),
    ]
    codes = []
    for kind, cleaned, forward in requests:
        spec = kinds.SPECS[kind]
        proposal = kinds.build(spec, user=citizen, subject=kinds.subject_of(me), cleaned=cleaned)
        submission = submission_services.submission_file(
            actor=citizen, proposal=proposal, channel=Channel.CITIZEN
        )
        submission = submission_services.submission_submit(submission=submission, actor=citizen)
        if forward:
            submission = services.submission_decide(
                submission=submission,
                officer=operator,
                outcome=Outcome.APPROVE,
                note="Dokumen sesuai (demo).",
            )
        codes.append(submission.tracking_code)
    return codes
