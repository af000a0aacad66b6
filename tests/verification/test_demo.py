"""`make run` demo data: each demo officer finds the demo citizen's requests in their queue."""

import pytest
from django.core.management import call_command
from django.test import override_settings

from submissions.choices import Status, Tier
from submissions.models import Submission

pytestmark = pytest.mark.django_db


@override_settings(DEBUG=True)
def test_demo_requests_wait_at_every_tier_when_seeded_twice() -> None:
    call_command("seed_demo", residents=300, seed=1, verbosity=0)
    call_command("seed_demo_reviews", verbosity=0)
    call_command("seed_demo_reviews", verbosity=0)
    waiting = sorted(
        Submission.objects.filter(status__in=[Status.SUBMITTED, Status.IN_REVIEW]).values_list(
            "kind", "current_tier"
        )
    )
    assert waiting == [
        ("address", Tier.KECAMATAN),
        ("biodata", Tier.DESA),
        ("birth", Tier.DUKCAPIL),
    ]
