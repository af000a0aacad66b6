import datetime
import json

import pytest
from django.utils import timezone

from citizens import services as registry
from citizens.choices import ChangeSource, Education, HealthInsurance
from stakeholders import services, webhooks
from stakeholders.models import WebhookDelivery, WebhookSubscription
from tests.factories import resident_create
from tests.stakeholders.apikit import assert_no_secret, narrow_institution, secret_resident
from tests.stakeholders.receiver import receiver


@pytest.fixture(autouse=True)
def _webhook_settings(settings):
    settings.STAKEHOLDER_FEED_SETTLE_SECONDS = 0
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.WEBHOOK_RETRY_BASE_SECONDS = 1
    settings.WEBHOOK_MAX_ATTEMPTS = 4


def subscribe(institution, admin, url) -> tuple[WebhookSubscription, str]:
    return services.webhook_subscription_create(institution=institution, user=admin, url=url)


def change_education(resident, level=Education.MASTER) -> None:
    registry.record_update(
        record=resident, changes={"education": level}, source=ChangeSource.SUBMISSION
    )


def test_signature_is_hmac_sha256_of_the_raw_body() -> None:
    header = webhooks.signature("rahasia", b'{"a":1}')

    assert header == "sha256=" + (
        __import__("hmac").new(b"rahasia", b'{"a":1}', "sha256").hexdigest()
    )
    assert webhooks.signature_valid("rahasia", b'{"a":1}', header)
    assert not webhooks.signature_valid("rahasia", b'{"a":2}', header)


def test_backoff_doubles_and_stays_below_the_visibility_timeout(settings) -> None:
    settings.WEBHOOK_RETRY_BASE_SECONDS = 30

    waits = [webhooks.backoff_seconds(attempt) for attempt in range(1, 12)]

    assert waits[:4] == [30, 60, 120, 240]
    assert max(waits) < 3600


def test_only_changes_after_the_subscription_are_queued_once(
    education_office, institution_admin, django_capture_on_commit_callbacks
) -> None:
    resident = resident_create()
    change_education(resident, Education.JUNIOR_SECONDARY)  # before the subscription
    with receiver() as hook:
        subscribe(education_office, institution_admin, hook.url)
        change_education(resident, Education.MASTER)
        registry.record_update(
            record=resident,
            changes={"health_insurance": HealthInsurance.PRIVATE},
            source=ChangeSource.SUBMISSION,
        )

        with django_capture_on_commit_callbacks(execute=True):
            assert webhooks.webhook_deliveries_enqueue() == 1
        with django_capture_on_commit_callbacks(execute=True):
            assert webhooks.webhook_deliveries_enqueue() == 0

    assert len(hook.received) == 1
    body = json.loads(hook.received[0][1])
    assert body["change"]["column"] == "pendidikan"
    assert body["change"]["value"] == str(Education.MASTER)
    assert body["change"]["nik"] == resident.nik
    assert WebhookDelivery.objects.get().delivered_at is not None


def test_a_second_message_for_the_same_attempt_sends_nothing(
    education_office, institution_admin
) -> None:
    resident = resident_create()
    with receiver() as hook:
        subscription, _secret = subscribe(education_office, institution_admin, hook.url)
        change_education(resident)
        delivery = WebhookDelivery.objects.create(
            subscription=subscription,
            change_id=resident_change_id(resident),
        )

        first = webhooks.webhook_deliver(delivery_id=delivery.pk, attempt=1)
        again = webhooks.webhook_deliver(delivery_id=delivery.pk, attempt=1)

    assert (first, again) == (webhooks.DELIVERED, webhooks.SKIPPED)
    assert len(hook.received) == 1


def resident_change_id(resident) -> int:
    from citizens.models import RecordChange

    return RecordChange.objects.filter(record_id=resident.pk, field="education").latest("id").id


def test_delivery_gives_up_after_the_last_attempt(
    education_office, institution_admin, django_capture_on_commit_callbacks
) -> None:
    resident = resident_create()
    with receiver(500, 500, 500, 500, 500) as hook:
        subscribe(education_office, institution_admin, hook.url)
        change_education(resident)
        with django_capture_on_commit_callbacks(execute=True):
            webhooks.webhook_deliveries_enqueue()

    delivery = WebhookDelivery.objects.get()
    assert len(hook.received) == 4
    assert delivery.attempts == 4
    assert delivery.delivered_at is None
    assert delivery.gave_up_at is not None
    assert delivery.last_error == "HTTP 500"


def test_change_no_longer_readable_is_given_up_not_sent(
    education_office, institution_admin
) -> None:
    resident = resident_create()
    with receiver() as hook:
        subscription, _secret = subscribe(education_office, institution_admin, hook.url)
        change_education(resident)
        delivery = WebhookDelivery.objects.create(
            subscription=subscription, change_id=resident_change_id(resident)
        )
        education_office.agreements.update(status="suspended")

        outcome = webhooks.webhook_deliver(delivery_id=delivery.pk, attempt=1)

    assert outcome == webhooks.GAVE_UP
    assert hook.received == []


def test_private_addresses_are_refused_outside_tests(
    education_office, institution_admin, settings
) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    resident = resident_create()
    with receiver() as hook:
        subscription, _secret = subscribe(education_office, institution_admin, hook.url)
        change_education(resident)
        delivery = WebhookDelivery.objects.create(
            subscription=subscription, change_id=resident_change_id(resident)
        )

        webhooks.webhook_deliver(delivery_id=delivery.pk, attempt=1)

    assert hook.received == []
    assert WebhookDelivery.objects.get().last_error == "private address refused"


def test_narrow_institution_webhooks_carry_only_its_elements(
    admin_of, django_capture_on_commit_callbacks
) -> None:
    institution = narrow_institution()
    admin = admin_of(institution)
    with receiver() as hook:
        subscribe(institution, admin, hook.url)
        resident = secret_resident()  # creation: every element is a change
        change_education(resident)
        with django_capture_on_commit_callbacks(execute=True):
            webhooks.webhook_deliveries_enqueue()

    columns = {json.loads(body)["change"]["column"] for _h, body, _s in hook.received}
    assert columns == {"nik", "pendidikan"}
    for _headers, body, _status in hook.received:
        assert_no_secret(body.decode())


def test_a_lost_attempt_is_queued_again_once_it_is_overdue(
    education_office, institution_admin, django_capture_on_commit_callbacks
) -> None:
    resident = resident_create()
    with receiver() as hook:
        subscription, _secret = subscribe(education_office, institution_admin, hook.url)
        change_education(resident)
        change_id = resident_change_id(resident)
        long_ago = timezone.now() - datetime.timedelta(days=1)
        # Attempt 1 was claimed by a worker that was killed before it recorded anything.
        lost = WebhookDelivery.objects.create(
            subscription=subscription, change_id=change_id, attempts=1, created_at=long_ago
        )
        recent = WebhookDelivery.objects.create(
            subscription=subscription, change_id=change_id + 1000, attempts=1
        )

        with django_capture_on_commit_callbacks(execute=True):
            webhooks.webhook_deliveries_enqueue()

    lost.refresh_from_db()
    recent.refresh_from_db()
    assert len(hook.received) == 1
    assert (lost.attempts, lost.delivered_at is not None) == (2, True)
    assert (recent.attempts, recent.delivered_at) == (1, None)  # not overdue: left alone


def test_a_lost_last_attempt_is_given_up(education_office, institution_admin) -> None:
    subscription, _secret = subscribe(
        education_office, institution_admin, "https://hooks.example.test/x"
    )
    delivery = WebhookDelivery.objects.create(
        subscription=subscription,
        change_id=1,
        attempts=4,
        created_at=timezone.now() - datetime.timedelta(days=2),
    )

    webhooks.webhook_deliveries_enqueue()

    delivery.refresh_from_db()
    assert delivery.gave_up_at is not None
    assert delivery.last_error == "attempt lost"
