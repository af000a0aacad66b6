"""API keys die with their holder's right: a key is valid only while the account holding it
is an active admin of the key's institution. Deactivating the member or the account
suspends their keys (audited, the heads told); a key handed over to another active admin
works again, and the handover is audited."""

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.core import mail
from django.urls import reverse

from citizens.choices import AuditAction, Role
from citizens.models import AuditEntry, User
from stakeholders import selectors, services
from stakeholders.choices import InstitutionKind
from stakeholders.exceptions import NotAuthorised, StakeholderError
from stakeholders.models import ApiKey, Institution, InstitutionMember
from tests.factories import UserFactory
from tests.stakeholders.apikit import auth, issue_key
from tests.stakeholders.conftest import institution_with_agreements


@pytest.fixture
def head_of_dukcapil(db) -> User:
    return UserFactory(role=Role.HEAD, email="kepala@example.test")


@pytest.fixture
def office(db) -> Institution:
    return institution_with_agreements(
        name="Dinas Pendidikan Uji", kind=InstitutionKind.EDUCATION_OFFICE
    )


def _member(institution: Institution, head: User, email: str) -> User:
    user = UserFactory(role=Role.INSTITUTION_ADMIN, email=email)
    InstitutionMember.objects.create(user=user, institution=institution, invited_by=head)
    return user


@pytest.fixture
def holder(office, head_of_dukcapil) -> User:
    return _member(office, head_of_dukcapil, "pemegang@example.test")


@pytest.fixture
def colleague(office, head_of_dukcapil) -> User:
    return _member(office, head_of_dukcapil, "rekan@example.test")


@pytest.fixture
def key(office, holder) -> str:
    return issue_key(office, holder)


def _call(client, key: str):
    return client.get(reverse("api:webhooks"), **auth(key))


def _refused_as_suspended(client, key: str) -> None:
    response = _call(client, key)
    assert response.status_code == 401
    assert response.json()["code"] == "key_suspended"


def test_key_is_refused_when_its_holder_account_is_deactivated(client, key, holder) -> None:
    assert _call(client, key).status_code == 200

    User.objects.filter(pk=holder.pk).update(is_active=False)

    _refused_as_suspended(client, key)


def test_key_is_refused_when_its_holder_is_no_longer_a_member(client, key, holder) -> None:
    InstitutionMember.objects.filter(user=holder).delete()

    _refused_as_suspended(client, key)


def test_key_is_refused_when_its_holder_is_a_member_of_another_institution(
    client, key, holder, head_of_dukcapil
) -> None:
    other = institution_with_agreements(
        name="Dinas Kesehatan Uji", kind=InstitutionKind.HEALTH_OFFICE
    )
    InstitutionMember.objects.filter(user=holder).update(institution=other)

    _refused_as_suspended(client, key)


def test_keys_are_suspended_audited_and_heads_told_when_the_head_deactivates_the_member(
    client, key, holder, colleague, head_of_dukcapil, django_capture_on_commit_callbacks
) -> None:
    member = InstitutionMember.objects.get(user=holder)

    with django_capture_on_commit_callbacks(execute=True):
        suspended = services.institution_member_deactivate(
            member=member, actor=head_of_dukcapil, reason="Pindah tugas"
        )

    assert suspended == 1
    _refused_as_suspended(client, key)
    assert ApiKey.objects.get(owner=holder).suspended_at is not None
    assert selectors.institution_of(holder) is None  # the institution's pages close too
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {AuditAction.MEMBER_DEACTIVATE, AuditAction.KEY_SUSPEND} <= actions
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["kepala@example.test", "rekan@example.test"]
    assert ApiKey.objects.get(owner=holder).prefix in mail.outbox[0].body


def test_member_deactivation_is_refused_when_not_the_head(key, holder, colleague) -> None:
    member = InstitutionMember.objects.get(user=holder)

    with pytest.raises(NotAuthorised):
        services.institution_member_deactivate(member=member, actor=colleague, reason="x")

    assert InstitutionMember.objects.get(pk=member.pk).is_active


def test_keys_are_suspended_and_heads_told_when_the_admin_deactivates_the_account(
    client, key, holder, head_of_dukcapil, django_capture_on_commit_callbacks
) -> None:
    system_admin = UserFactory(role=Role.SYSTEM_ADMIN, is_staff=True, is_superuser=True)
    TOTP.activate(system_admin, generate_totp_secret())
    client.force_login(system_admin)
    url = reverse("admin:citizens_user_change", args=[holder.pk])
    form = client.get(url).context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if name not in ("password", "groups", "is_active", "last_login") and value is not None
    }
    data["date_joined_0"], data["date_joined_1"] = str(holder.date_joined).split(" ")
    data["date_joined_1"] = data["date_joined_1"][:8]
    data.pop("date_joined")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    holder.refresh_from_db()
    assert not holder.is_active
    client.logout()
    _refused_as_suspended(client, key)
    assert ApiKey.objects.get(owner=holder).suspended_at is not None
    assert AuditEntry.objects.filter(action=AuditAction.KEY_SUSPEND, actor=system_admin).exists()
    assert [message.to for message in mail.outbox] == [["kepala@example.test"]]


def test_handed_over_key_works_again_and_the_handover_is_audited(
    client, key, holder, colleague, head_of_dukcapil
) -> None:
    services.institution_member_deactivate(
        member=InstitutionMember.objects.get(user=holder), actor=head_of_dukcapil, reason="Pensiun"
    )
    api_key = ApiKey.objects.get(owner=holder)

    services.api_key_handover(
        api_key=api_key, to_user=colleague, actor=head_of_dukcapil, reason="Pengganti"
    )

    assert _call(client, key).status_code == 200
    api_key.refresh_from_db()
    assert api_key.owner == colleague
    assert api_key.created_by == holder  # the issuer stays on record
    audit = AuditEntry.objects.get(action=AuditAction.KEY_HANDOVER)
    assert audit.actor == head_of_dukcapil
    assert f"#{holder.pk} to #{colleague.pk}" in audit.detail
    assert "Pengganti" in audit.detail


def test_handover_is_refused_when_the_new_holder_is_not_an_active_admin_of_the_institution(
    client, key, holder, colleague, head_of_dukcapil
) -> None:
    api_key = ApiKey.objects.get(owner=holder)
    outsider_office = institution_with_agreements(
        name="Dinas Kesehatan Uji", kind=InstitutionKind.HEALTH_OFFICE
    )
    outsider = _member(outsider_office, head_of_dukcapil, "luar@example.test")
    services.institution_member_deactivate(
        member=InstitutionMember.objects.get(user=colleague), actor=head_of_dukcapil, reason="x"
    )

    for target in (outsider, colleague):
        with pytest.raises(StakeholderError):
            services.api_key_handover(
                api_key=api_key, to_user=target, actor=head_of_dukcapil, reason="Coba"
            )
    with pytest.raises(NotAuthorised):
        services.api_key_handover(api_key=api_key, to_user=holder, actor=outsider, reason="x")

    assert ApiKey.objects.get(pk=api_key.pk).owner == holder
    assert not AuditEntry.objects.filter(action=AuditAction.KEY_HANDOVER).exists()


def _head_client(client, head: User):
    TOTP.activate(head, generate_totp_secret())
    client.force_login(head)
    return client


def test_head_deactivates_a_member_and_hands_their_key_over_on_the_institution_page(
    client, office, key, holder, colleague, head_of_dukcapil
) -> None:
    member = InstitutionMember.objects.get(user=holder)
    api_key = ApiKey.objects.get(owner=holder)
    _head_client(client, head_of_dukcapil)

    page = client.get(reverse("stakeholders:manage_institution", args=[office.pk]))
    deactivated = client.post(
        reverse("stakeholders:manage_member_deactivate", args=[office.pk, member.pk]),
        {"reason": "Pindah tugas"},
    )
    handed = client.post(
        reverse("stakeholders:manage_api_key_handover", args=[office.pk, api_key.pk]),
        {"to_member": InstitutionMember.objects.get(user=colleague).pk, "reason": "Pengganti"},
    )

    assert page.status_code == 200
    assert f"prw_{api_key.prefix}_" in page.text
    assert deactivated.status_code == handed.status_code == 302
    assert not InstitutionMember.objects.get(pk=member.pk).is_active
    assert ApiKey.objects.get(pk=api_key.pk).owner == colleague
    client.logout()
    assert _call(client, key).status_code == 200


def test_institution_admin_cannot_deactivate_a_colleague_on_the_head_page(
    client, office, holder, colleague
) -> None:
    TOTP.activate(colleague, generate_totp_secret())
    client.force_login(colleague)
    member = InstitutionMember.objects.get(user=holder)

    response = client.post(
        reverse("stakeholders:manage_member_deactivate", args=[office.pk, member.pk]),
        {"reason": "x"},
    )

    assert response.status_code == 403
    assert InstitutionMember.objects.get(pk=member.pk).is_active
