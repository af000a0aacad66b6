"""Webhooks against a local receiver that counts what it gets: the signature verifies, and a
receiver that fails twice then succeeds gets the event exactly once after the retries."""

import json
import time

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from citizens import services as registry
from citizens.choices import ChangeSource, Education, Role
from stakeholders import services, webhooks
from stakeholders.choices import InstitutionKind
from stakeholders.models import InstitutionMember, WebhookDelivery
from tests.factories import UserFactory, resident_create
from tests.stakeholders.conftest import institution_with_agreements
from tests.stakeholders.receiver import receiver


@pytest.fixture(autouse=True)
def _webhook_settings(settings):
    settings.STAKEHOLDER_FEED_SETTLE_SECONDS = 0
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True  # the receiver listens on 127.0.0.1
    settings.WEBHOOK_RETRY_BASE_SECONDS = 1


def education_office_with_admin():
    institution = institution_with_agreements(
        name="Dinas Pendidikan Kabupaten Purworejo", kind=InstitutionKind.EDUCATION_OFFICE
    )
    admin = UserFactory(role=Role.INSTITUTION_ADMIN)
    TOTP.activate(admin, generate_totp_secret())
    InstitutionMember.objects.create(
        user=admin, institution=institution, invited_by=UserFactory(role=Role.HEAD)
    )
    return institution, admin


def approve_education_change(resident) -> None:
    registry.record_update(
        record=resident,
        changes={"education": Education.MASTER},
        source=ChangeSource.SUBMISSION,
        source_ref="s1",
    )


def assert_delivered_once_after_two_failures(hook, secret, resident) -> None:
    assert [status for _h, _b, status in hook.received] == [503, 500, 200]
    headers, body, _status = hook.successes[0]
    assert len(hook.successes) == 1
    assert webhooks.signature_valid(secret, body, headers[webhooks.SIGNATURE_HEADER])
    assert headers[webhooks.TIMESTAMP_HEADER].isdigit()
    change = json.loads(body)["change"]
    assert (change["nik"], change["column"], change["value"]) == (
        resident.nik,
        "pendidikan",
        str(Education.MASTER),
    )
    # Every attempt carried the same delivery id, so a receiver can also deduplicate.
    assert len({h[webhooks.DELIVERY_HEADER] for h, _b, _s in hook.received}) == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.attempts == 3
    assert delivery.delivered_at is not None
    assert delivery.gave_up_at is None


def test_receiver_failing_twice_gets_the_event_once_with_eager_retries(
    db, django_capture_on_commit_callbacks
) -> None:
    institution, admin = education_office_with_admin()
    resident = resident_create()
    with receiver(503, 500) as hook:
        _sub, secret = services.webhook_subscription_create(
            institution=institution, user=admin, url=hook.url
        )
        approve_education_change(resident)

        with django_capture_on_commit_callbacks(execute=True):
            webhooks.webhook_deliveries_enqueue()
        # A later dispatch, and a stray duplicate of an old attempt, send nothing more.
        with django_capture_on_commit_callbacks(execute=True):
            webhooks.webhook_deliveries_enqueue()
        delivery = WebhookDelivery.objects.get()
        assert webhooks.webhook_deliver(delivery_id=delivery.pk, attempt=2) == webhooks.SKIPPED

    assert_delivered_once_after_two_failures(hook, secret, resident)


@pytest.mark.celery_worker
def test_receiver_failing_twice_gets_the_event_once_from_a_real_worker(
    celery_worker_app,
) -> None:
    institution, admin = education_office_with_admin()
    resident = resident_create()
    with receiver(503, 500) as hook:
        _sub, secret = services.webhook_subscription_create(
            institution=institution, user=admin, url=hook.url
        )
        approve_education_change(resident)

        celery_worker_app.send_task("stakeholders.tasks.dispatch_webhooks")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if WebhookDelivery.objects.filter(delivered_at__isnull=False).exists():
                break
            time.sleep(0.2)
        time.sleep(1.5)  # room for a stray extra request to show up

    assert_delivered_once_after_two_failures(hook, secret, resident)
