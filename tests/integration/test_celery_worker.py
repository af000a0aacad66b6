import pytest
from cryptography.fernet import Fernet

from citizens.models import PermanentResident
from citizens.tasks import rotate_encryption_keys
from tests.factories import resident_create


@pytest.mark.celery_worker
def test_real_worker_rotates_keys_when_the_task_is_queued(celery_worker_app, settings) -> None:
    old = settings.FIELD_ENCRYPTION_KEYS[0]
    resident = resident_create(full_name="ROTASI LEWAT WORKER")
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old]
    result = rotate_encryption_keys.delay()
    counts = result.get(timeout=60)
    assert counts["citizens.PermanentResident"] == 1
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    assert PermanentResident.objects.get(pk=resident.pk).full_name == "ROTASI LEWAT WORKER"
