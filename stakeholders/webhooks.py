"""Webhook deliveries: each approved change an institution may read is POSTed to each of its
active subscriptions, signed, and retried with exponential back-off until a 2xx answer.

- One WebhookDelivery row per (subscription, change), unique: queuing twice is harmless.
- Each attempt is claimed by a conditional update of `attempts` (N-1 -> N) before sending,
  so a redelivered or duplicated task message for the same attempt sends nothing.
- The body is signed with HMAC-SHA256 under the subscription's secret:
  `X-Purworejo-Signature: sha256=<hex of HMAC(secret, raw body)>`; the body and the
  `X-Purworejo-Timestamp` header carry the sending time, so receivers can refuse replays.
- What is sent is read again at sending time through the feed: a change the institution may
  no longer read (agreement ended, authority narrowed) is given up, never sent.
"""

import datetime
import hashlib
import hmac
import http.client
import ipaddress
import json
import socket
import ssl
import urllib.parse
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from citizens import selectors as registry_selectors
from citizens import services as registry_services
from citizens.choices import AccessPurpose
from citizens.models import RecordChange
from stakeholders import feed
from stakeholders.models import WebhookDelivery, WebhookSubscription

SIGNATURE_HEADER = "X-Purworejo-Signature"
TIMESTAMP_HEADER = "X-Purworejo-Timestamp"
DELIVERY_HEADER = "X-Purworejo-Delivery"
# Changes queued per subscription per dispatch run (the beat runs it every 30 s).
DISPATCH_PAGE = 200
# A countdown must stay below the broker's visibility timeout (1 h), or Redis redelivers
# the waiting message to a second worker.
MAX_COUNTDOWN_SECONDS = 50 * 60
# A delivery whose next attempt has not happened this long after it was due was lost.
STALLED_AFTER_SECONDS = 3600 + 10 * 60

DELIVERED = "delivered"
RETRYING = "retrying"
GAVE_UP = "gave_up"
SKIPPED = "skipped"


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def signature(secret: str, body: bytes) -> str:
    """The value of the signature header for `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(secret: str, body: bytes, header: str) -> bool:
    """What a receiver checks (documented for institutions; used by the tests)."""
    return hmac.compare_digest(signature(secret, body), header)


def backoff_seconds(attempt: int) -> int:
    """Wait before attempt `attempt + 1`: base, 2 x base, 4 x base ..., capped."""
    base = int(_setting("WEBHOOK_RETRY_BASE_SECONDS", 30))
    return int(min(base * 2 ** (attempt - 1), MAX_COUNTDOWN_SECONDS))


def _cursor(subscription: WebhookSubscription) -> int:
    """The last change queued for the subscription; for a new one, the last change made
    before it was created (walks the primary key backwards: only a few rows are read)."""
    last = subscription.deliveries.aggregate(last=Max("change_id"))["last"]
    if last is not None:
        return int(last)
    before = (
        RecordChange.objects.filter(changed_at__lt=subscription.created_at)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )
    return int(before or 0)


def webhook_deliveries_enqueue() -> int:
    """Queue the changes since each active subscription's cursor (one page each), and queue
    again the deliveries whose attempt was lost; returns how many deliveries were created.
    Run periodically (Celery beat)."""
    _requeue_stalled()
    created = 0
    subscriptions = WebhookSubscription.objects.filter(
        is_active=True, institution__is_active=True
    ).select_related("institution")
    for subscription in subscriptions:
        created += _enqueue_for(subscription)
    return created


@transaction.atomic
def _enqueue_for(subscription: WebhookSubscription) -> int:
    page = feed.changes_after(
        subscription.institution, since=_cursor(subscription), limit=DISPATCH_PAGE
    )
    if not page.changes:
        return 0
    change_ids = [change.id for change in page.changes]
    WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(subscription=subscription, change_id=pk) for pk in change_ids],
        ignore_conflicts=True,
    )
    # Rows another dispatcher queued meanwhile may be queued twice: the claim sends once.
    pending = list(
        WebhookDelivery.objects.filter(
            subscription=subscription, change_id__in=change_ids, attempts=0
        ).values_list("pk", flat=True)
    )
    for delivery_id in pending:
        _queue(delivery_id, attempt=1)
    return len(pending)


def _requeue_stalled() -> None:
    """A worker killed between claiming an attempt and recording its result leaves the
    delivery waiting for a message that will never come (the redelivered one finds its
    attempt claimed). Once a delivery is older than its whole back-off so far plus the
    broker's visibility timeout, the next attempt is queued again: if the original message
    does turn up, the two carry the same attempt number and only one of them sends."""
    now = timezone.now()
    last = int(_setting("WEBHOOK_MAX_ATTEMPTS", 8))
    waited = 0
    for attempts in range(last + 1):
        if attempts:
            waited += backoff_seconds(attempts)
        cutoff = now - datetime.timedelta(seconds=waited + STALLED_AFTER_SECONDS)
        stalled = WebhookDelivery.objects.filter(
            attempts=attempts,
            delivered_at__isnull=True,
            gave_up_at__isnull=True,
            created_at__lt=cutoff,
        )
        if attempts >= last:
            stalled.update(gave_up_at=now, last_error="attempt lost")
            continue
        with transaction.atomic():
            for delivery_id in stalled.values_list("pk", flat=True)[:DISPATCH_PAGE]:
                _queue(delivery_id, attempt=attempts + 1)


def _queue(delivery_id: int, *, attempt: int, countdown: int = 0) -> None:
    from stakeholders.tasks import deliver_webhook

    transaction.on_commit(
        lambda: deliver_webhook.apply_async((delivery_id, attempt), countdown=countdown)
    )


def webhook_deliver(*, delivery_id: int, attempt: int) -> str:
    """Make attempt number `attempt` of one delivery: claim it, send it, then mark it
    delivered (2xx), queue the next attempt with back-off, or give up after the last one.
    Returns what happened. No transaction is held open while the request is in flight."""
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id,
        attempts=attempt - 1,
        delivered_at__isnull=True,
        gave_up_at__isnull=True,
    ).update(attempts=attempt)
    if claimed != 1:
        return SKIPPED
    delivery = WebhookDelivery.objects.select_related("subscription__institution").get(
        pk=delivery_id
    )
    subscription = delivery.subscription
    change = None
    if subscription.is_active:
        change = feed.change_read(subscription.institution, delivery.change_id)
    if change is None:
        _finish(delivery_id, gave_up_at=timezone.now(), last_error="no longer readable")
        return GAVE_UP
    error = _send(subscription, delivery_id, change)
    if error is None:
        _finish(delivery_id, delivered_at=timezone.now(), last_error="")
        _delivered_read_record(subscription, delivery.change_id)
        return DELIVERED
    if attempt >= int(_setting("WEBHOOK_MAX_ATTEMPTS", 8)):
        _finish(delivery_id, gave_up_at=timezone.now(), last_error=error)
        return GAVE_UP
    with transaction.atomic():
        _finish(delivery_id, last_error=error)
        _queue(delivery_id, attempt=attempt + 1, countdown=backoff_seconds(attempt))
    return RETRYING


def _delivered_read_record(subscription: WebhookSubscription, change_id: int) -> None:
    """A delivered change is the institution's read of the person: one access row, which the
    person sees on their own page."""
    registry_services.access_log_reads(
        records=registry_selectors.records_of_changes([change_id]),
        purpose=AccessPurpose.INSTITUTION_READ,
        actor_label=subscription.institution.name,
        reason=f"webhook {subscription.pk}",
    )


def _finish(delivery_id: int, **fields: Any) -> None:
    WebhookDelivery.objects.filter(pk=delivery_id).update(**fields)


def _body(delivery_id: int, change: feed.FeedChange, sent_at: datetime.datetime) -> bytes:
    payload = {
        "delivery_id": delivery_id,
        "sent_at": sent_at,
        "change": {
            "id": change.id,
            "registry": change.registry,
            "nik": change.nik,
            "column": change.column,
            "value": change.value,
            "source": change.source,
            "changed_at": change.changed_at,
        },
    }
    return json.dumps(payload, cls=DjangoJSONEncoder, separators=(",", ":")).encode()


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address that was checked, whatever the name resolves to by now; the
    Host header still names the host."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to the checked address, with the host's name for SNI and the certificate check."""

    def __init__(
        self, host: str, port: int, *, address: str, timeout: float, tls: ssl.SSLContext
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=tls)
        self.address = address
        self.tls = tls

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self.tls.wrap_socket(sock, server_hostname=self.host)


def _allowed(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global or bool(_setting("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", False))


def _resolve_checked(host: str, port: int) -> str | None:
    """The address to connect to, resolved once here and checked; None when the name leads
    to a private, loopback or link-local address. Raises OSError when it does not resolve.

    The connection goes to this address and not to the name, so a DNS answer that changes
    between the check and the connection (DNS rebinding) cannot send a delivery inside."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    if not addresses or not all(_allowed(address) for address in addresses):
        return None
    return str(addresses[0])


def _send(
    subscription: WebhookSubscription, delivery_id: int, change: feed.FeedChange
) -> str | None:
    """POST the signed change; None on a 2xx answer, else a short reason (no personal data).
    Redirects are not followed: one could lead a signed body with personal data elsewhere."""
    parts = urllib.parse.urlsplit(subscription.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "not an http(s) URL"
    host = parts.hostname
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return "not an http(s) URL"
    timeout = float(_setting("WEBHOOK_TIMEOUT_SECONDS", 5))
    try:
        address = _resolve_checked(host, port)
    except (OSError, UnicodeError) as error:
        return f"network error: {type(error).__name__}"[:300]
    if address is None:
        return "private address refused"
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = _PinnedHTTPSConnection(
            host, port, address=address, timeout=timeout, tls=ssl.create_default_context()
        )
    else:
        connection = _PinnedHTTPConnection(host, port, address=address, timeout=timeout)
    now = timezone.now()
    body = _body(delivery_id, change, now)
    path = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
    headers = {
        "Host": parts.netloc.rpartition("@")[2],
        "Content-Type": "application/json",
        "User-Agent": "Purworejo-Portal-Webhook/1",
        SIGNATURE_HEADER: signature(subscription.secret, body),
        TIMESTAMP_HEADER: str(int(now.timestamp())),
        DELIVERY_HEADER: str(delivery_id),
    }
    try:
        connection.request("POST", path, body=body, headers=headers)
        status = int(connection.getresponse().status)
    except (OSError, http.client.HTTPException) as error:
        return f"network error: {type(error).__name__}"[:300]
    finally:
        connection.close()
    return None if 200 <= status < 300 else f"HTTP {status}"
