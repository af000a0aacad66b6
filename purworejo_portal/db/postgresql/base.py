"""Django's PostgreSQL backend, health-checking a kept connection only after it sat idle.

With CONN_HEALTH_CHECKS, Django sends `SELECT 1` on a persistent connection before the first
query of every request: a round trip and about 0.14 ms of CPU on every page, a sixth of what
a signed-in request costs before its view runs. A connection that served a request without
error moments ago is known to work; one that has been idle longer (overnight, across a
database restart or failover) is checked as before, which is the case health checks are for.
A restart in the middle of steady traffic costs each worker one failed request, after which
Django drops the broken connection, as it does without health checks.
"""

import time

from django.db.backends.postgresql import base

# A connection that worked this recently is used without a check.
RECENTLY_USED_SECONDS = 5.0


class DatabaseWrapper(base.DatabaseWrapper):
    _worked_at = float("-inf")

    def close_if_health_check_failed(self) -> None:
        if (
            self.connection is not None
            and not self.health_check_done
            and time.monotonic() - self._worked_at < RECENTLY_USED_SECONDS
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

    def close_if_unusable_or_obsolete(self) -> None:
        # Runs as a request starts and as it ends. At the end, a connection whose health was
        # settled for this request and that raised no error has just worked.
        if self.connection is not None and self.health_check_done and not self.errors_occurred:
            self._worked_at = time.monotonic()
        super().close_if_unusable_or_obsolete()

    def close(self) -> None:
        self._worked_at = float("-inf")
        super().close()
