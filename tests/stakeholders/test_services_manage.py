"""Institution management services: default authority, authority edits, agreement status,
admin invitations, API keys and webhook subscriptions."""

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import RequestFactory

from citizens.choices import Role
from citizens.models import User
from stakeholders import catalogue, keys, selectors, services
from stakeholders.choices import AgreementStatus, InstitutionKind, WriteMode
from stakeholders.exceptions import (
    AccountExists,
    InvalidAuthority,
    InvalidTransition,
    NotAuthorised,
)
from stakeholders.models import ApiKey, FieldAuthority, InstitutionMember, WebhookSubscription

pytestmark = pytest.mark.django_db

CORE_IDENTITY = ("nik", "full_name", "birth_date")


def _writes(institution) -> dict[str, WriteMode]:
    return {
        field: rule.write
        for field, rule in selectors.authority_for(institution).items()
        if rule.write != WriteMode.NONE
    }


def _create(kind: InstitutionKind, head):
    return services.institution_create(name=f"Lembaga {kind}", kind=kind, code=kind, actor=head)


def test_education_office_adopts_education_and_school_enrolment_when_created(head) -> None:
    institution = _create(InstitutionKind.EDUCATION_OFFICE, head)
    assert _writes(institution) == {
        "education": WriteMode.ADOPT,
        "school_enrolment": WriteMode.ADOPT,
    }


def test_religious_affairs_office_sends_marital_status_and_record_to_review_when_created(
    head,
) -> None:
    institution = _create(InstitutionKind.RELIGIOUS_AFFAIRS_OFFICE, head)
    assert _writes(institution) == {
        "marital_status": WriteMode.REVIEW,
        "marriage_record_number": WriteMode.REVIEW,
        "marriage_record_date": WriteMode.REVIEW,
    }


def test_health_office_adopts_health_insurance_and_disability_when_created(head) -> None:
    institution = _create(InstitutionKind.HEALTH_OFFICE, head)
    assert _writes(institution) == {
        "health_insurance": WriteMode.ADOPT,
        "disability": WriteMode.ADOPT,
    }


@pytest.mark.parametrize("kind", [InstitutionKind.UNIVERSITY, InstitutionKind.COMPANY])
def test_university_and_company_send_their_roster_when_created(head, kind) -> None:
    assert _writes(_create(kind, head)) == {"non_permanent_roster": WriteMode.REVIEW}


@pytest.mark.parametrize("kind", list(InstitutionKind))
def test_nobody_writes_core_identity_when_created_with_defaults(head, kind) -> None:
    authority = selectors.authority_for(_create(kind, head))
    for field in CORE_IDENTITY:
        assert authority.get(field, None) is None or authority[field].write == WriteMode.NONE


def test_institution_create_is_refused_when_the_actor_is_not_the_head(verifier) -> None:
    with pytest.raises(NotAuthorised):
        _create(InstitutionKind.EDUCATION_OFFICE, verifier)


@pytest.mark.parametrize("field", CORE_IDENTITY)
@pytest.mark.parametrize("mode", [WriteMode.ADOPT, WriteMode.REVIEW])
def test_authority_set_refuses_writing_core_identity_when_asked(
    education_office, head, field, mode
) -> None:
    before = list(FieldAuthority.objects.filter(institution=education_office).values())
    with pytest.raises(InvalidAuthority):
        services.authority_set(
            institution=education_office, field=field, write=mode, read=True, actor=head
        )
    assert list(FieldAuthority.objects.filter(institution=education_office).values()) == before


def test_authority_set_changes_write_and_read_when_the_head_edits_it(
    education_office, head
) -> None:
    services.authority_set(
        institution=education_office,
        field="education",
        write=WriteMode.REVIEW,
        read=False,
        actor=head,
    )
    services.authority_set(
        institution=education_office,
        field="occupation",
        write=WriteMode.ADOPT,
        read=True,
        actor=head,
    )
    authority = selectors.authority_for(education_office)
    assert authority["education"].write == WriteMode.REVIEW
    assert authority["education"].read is False
    assert authority["occupation"].write == WriteMode.ADOPT


def test_authority_set_refuses_an_unknown_element_when_given(education_office, head) -> None:
    with pytest.raises(InvalidAuthority):
        services.authority_set(
            institution=education_office,
            field="password",
            write=WriteMode.NONE,
            read=True,
            actor=head,
        )


def test_authority_set_is_refused_when_the_actor_is_an_institution_admin(
    education_office, institution_admin
) -> None:
    with pytest.raises(NotAuthorised):
        services.authority_set(
            institution=education_office,
            field="occupation",
            write=WriteMode.ADOPT,
            read=True,
            actor=institution_admin,
        )


def test_suspending_the_mou_stops_exchange_when_the_head_suspends_it(
    education_office, head
) -> None:
    mou = education_office.agreements.get(kind="mou")
    services.agreement_set_status(agreement=mou, status=AgreementStatus.SUSPENDED, actor=head)
    assert not selectors.agreement_in_force(education_office)
    services.agreement_set_status(agreement=mou, status=AgreementStatus.ACTIVE, actor=head)
    assert selectors.agreement_in_force(education_office)


def test_terminated_agreement_cannot_be_reactivated_when_asked(education_office, head) -> None:
    pks = education_office.agreements.get(kind="pks")
    services.agreement_set_status(agreement=pks, status=AgreementStatus.TERMINATED, actor=head)
    with pytest.raises(InvalidTransition):
        services.agreement_set_status(agreement=pks, status=AgreementStatus.ACTIVE, actor=head)


def _request(user=None):
    request = RequestFactory().get("/", SERVER_NAME="localhost")
    request.user = user
    return request


def test_invite_creates_the_account_and_sends_the_invitation_when_the_head_invites(
    education_office, head, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        user = services.institution_admin_invite(
            head=head,
            institution=education_office,
            email="Admin.Baru@Disdik.test",
            full_name="Admin Baru",
            request=_request(head),
        )
    user.refresh_from_db()
    assert user.role == Role.INSTITUTION_ADMIN
    assert not user.has_usable_password()
    assert InstitutionMember.objects.get(user=user).institution == education_office
    assert EmailAddress.objects.get(user=user).verified
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [user.email]
    assert "http://localhost/akun/undangan/" in mail.outbox[0].body


def test_invite_is_refused_when_the_address_has_an_account(education_office, head, citizen) -> None:
    with pytest.raises(AccountExists):
        services.institution_admin_invite(
            head=head,
            institution=education_office,
            email=citizen.email.upper(),
            full_name="X",
            request=_request(),
        )


def test_invite_is_refused_when_the_inviter_is_not_the_head(
    education_office, verifier, institution_admin
) -> None:
    for actor in (verifier, institution_admin):
        with pytest.raises(NotAuthorised):
            services.institution_admin_invite(
                head=actor,
                institution=education_office,
                email="x@example.test",
                full_name="X",
                request=_request(),
            )
    assert not User.objects.filter(email="x@example.test").exists()


def test_api_key_is_stored_only_as_its_hash_when_issued(
    education_office, institution_admin
) -> None:
    api_key, key = services.api_key_issue(
        institution=education_office, user=institution_admin, name="SIAK sekolah", valid_days=90
    )
    stored = ApiKey.objects.get(pk=api_key.pk)
    assert key.startswith(f"prw_{stored.prefix}_")
    assert stored.key_hash == keys.api_key_hash(key)
    assert key not in str(ApiKey.objects.filter(pk=api_key.pk).values().get())


def test_api_key_issue_is_refused_when_the_admin_belongs_to_another_institution(
    education_office, health_office, admin_of
) -> None:
    with pytest.raises(NotAuthorised):
        services.api_key_issue(
            institution=education_office, user=admin_of(health_office), name="x", valid_days=30
        )


def test_api_key_revoke_sets_the_time_once_when_revoked_twice(
    education_office, institution_admin
) -> None:
    api_key, _key = services.api_key_issue(
        institution=education_office, user=institution_admin, name="x", valid_days=30
    )
    first = services.api_key_revoke(api_key=api_key, user=institution_admin).revoked_at
    again = services.api_key_revoke(api_key=api_key, user=institution_admin).revoked_at
    assert first is not None
    assert again == first


def test_webhook_secret_is_returned_once_and_kept_encrypted_when_subscribed(
    education_office, institution_admin
) -> None:
    subscription, secret = services.webhook_subscription_create(
        institution=education_office, user=institution_admin, url="https://sekolah.test/hook"
    )
    assert len(secret) >= 40
    assert WebhookSubscription.objects.get(pk=subscription.pk).secret == secret
    raw = WebhookSubscription.objects.filter(pk=subscription.pk).values_list("secret", flat=True)
    services.webhook_subscription_delete(subscription=subscription, user=institution_admin)
    assert not WebhookSubscription.objects.exists()
    assert raw is not None


def test_webhook_delete_is_refused_when_the_admin_belongs_to_another_institution(
    education_office, health_office, institution_admin, admin_of
) -> None:
    subscription, _secret = services.webhook_subscription_create(
        institution=education_office, user=institution_admin, url="https://sekolah.test/hook"
    )
    with pytest.raises(NotAuthorised):
        services.webhook_subscription_delete(
            subscription=subscription, user=admin_of(health_office)
        )
    assert WebhookSubscription.objects.filter(pk=subscription.pk).exists()


def test_authority_table_changes_nothing_when_one_row_makes_core_identity_writable(
    education_office, head
) -> None:
    before = list(FieldAuthority.objects.filter(institution=education_office).values())
    rules = {
        "occupation": catalogue.Authority(WriteMode.ADOPT, read=True),
        "birth_date": catalogue.Authority(WriteMode.REVIEW, read=True),
    }
    with pytest.raises(InvalidAuthority):
        services.authority_table_set(institution=education_office, rules=rules, actor=head)
    assert list(FieldAuthority.objects.filter(institution=education_office).values()) == before
