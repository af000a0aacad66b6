"""Hardening: a webhook delivery connects to the address it checked. The name is resolved
once; a DNS answer that changes between the check and the connection (DNS rebinding) cannot
send a signed body with personal data to a loopback or private address."""

import datetime
import socket
import ssl

import pytest

from stakeholders import feed, services, webhooks
from tests.stakeholders.conftest import (  # noqa: F401 (fixtures)
    admin_of,
    education_office,
    institution_admin,
)
from tests.stakeholders.receiver import receiver

pytestmark = pytest.mark.django_db

PUBLIC = "93.184.215.14"  # a global address: its connection is refused below, never made
NAME = "hooks.lembaga.example"
CHANGE = feed.FeedChange(
    id=1,
    registry="permanent",
    nik="3306065705900001",
    column="pendidikan",
    value="s2",
    source="submission",
    changed_at=datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC),
)


@pytest.fixture
def subscription(request):
    office = request.getfixturevalue("education_office")
    admin = request.getfixturevalue("institution_admin")

    def make(url: str):
        hook, _secret = services.webhook_subscription_create(
            institution=office, user=admin, url=url
        )
        return hook

    return make


@pytest.fixture
def network(monkeypatch):
    """DNS answers by script (then the last one again), and a log of the addresses connected
    to; connections to PUBLIC are refused, others go ahead (the local receiver)."""
    state = {"answers": [], "resolved": 0, "connected": []}
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.create_connection

    def getaddrinfo(host, port, *args, **kwargs):
        if host != NAME:
            return real_getaddrinfo(host, port, *args, **kwargs)
        state["resolved"] += 1
        answer = state["answers"].pop(0) if len(state["answers"]) > 1 else state["answers"][0]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answer, port or 0))]

    def create_connection(address, *args, **kwargs):
        state["connected"].append(address[0])
        if address[0] == PUBLIC:
            raise ConnectionRefusedError("not in tests")
        return real_connect(address, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    return state


def test_delivery_is_not_sent_inside_when_dns_answers_change_after_the_check(
    subscription, network, settings
):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    with receiver() as hook:
        port = int(hook.url.rsplit(":", 1)[1].split("/")[0])
        network["answers"] = [PUBLIC, "127.0.0.1"]
        error = webhooks._send(subscription(f"http://{NAME}:{port}/hook"), 7, CHANGE)
    assert hook.received == []
    assert network["connected"] == [PUBLIC]
    assert error is not None and error.startswith("network error")


def test_delivery_is_refused_when_the_name_resolves_to_a_private_address(
    subscription, network, settings
):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    for private in ("127.0.0.1", "10.1.2.3", "169.254.169.254", "192.168.0.5"):
        network["answers"] = [private]
        error = webhooks._send(subscription(f"http://{NAME}/hook-{private}"), 7, CHANGE)
        assert error == "private address refused", private
    assert network["connected"] == []


def test_delivery_names_the_host_when_it_connects_to_the_checked_address(
    subscription, network, settings
):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True  # the receiver listens on 127.0.0.1
    with receiver() as hook:
        port = int(hook.url.rsplit(":", 1)[1].split("/")[0])
        network["answers"] = ["127.0.0.1"]
        assert webhooks._send(subscription(f"http://{NAME}:{port}/hook?x=1"), 7, CHANGE) is None
    headers, body, _status = hook.received[0]
    assert headers["Host"] == f"{NAME}:{port}"
    assert network["resolved"] == 1
    assert network["connected"] == ["127.0.0.1"]
    assert b'"delivery_id":7' in body


def test_https_delivery_checks_the_certificate_of_the_name_when_it_connects_to_the_address(
    subscription, network, monkeypatch, settings
):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    wrapped = []

    class Context:
        def wrap_socket(self, sock, *, server_hostname):
            wrapped.append(server_hostname)
            raise ssl.SSLCertVerificationError("not in tests")

    monkeypatch.setattr(webhooks.ssl, "create_default_context", Context)
    monkeypatch.setattr(
        socket,
        "create_connection",
        lambda address, *a, **k: network["connected"].append(address[0]) or socket.socket(),
    )
    network["answers"] = [PUBLIC, "127.0.0.1"]
    error = webhooks._send(subscription(f"https://{NAME}/hook"), 7, CHANGE)
    assert network["connected"] == [PUBLIC]
    assert wrapped == [NAME]
    assert error is not None and error.startswith("network error")
