from django.core.management.base import BaseCommand

from citizens import crypto
from citizens.models import NonPermanentResident, PermanentResident


class Command(BaseCommand):
    help = "Fill the name index of residents registered before it existed (batched; rerunnable)."

    def handle(self, *args: object, **options: object) -> None:
        for model in (PermanentResident, NonPermanentResident):
            done = 0
            while True:
                batch = list(model.objects.filter(name_key="").only("pk", "full_name")[:2000])
                if not batch:
                    break
                for resident in batch:
                    resident.name_key = crypto.name_index(resident.full_name)
                model.objects.bulk_update(batch, ["name_key"])
                done += len(batch)
            self.stdout.write(f"{model._meta.verbose_name_plural}: {done} name indexes filled.")
