"""The client's address behind reverse proxies (S-2, S-22): one helper,
`client_ip`, used by the login throttle, the audit log and the session list."""

import pytest
from django.test import Client, RequestFactory

from privacy_admin.auditlog import verify_chain
from privacy_admin.models import AuditEvent, AuthFailure, StaffSession
from privacy_admin.net import client_ip, normalise_ip
from tests.conftest import PASSWORD


def _request(remote="10.0.0.2", forwarded=None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_trusted_proxy_the_header_is_ignored(settings):
    """S-2: with TRUSTED_PROXY_COUNT 0 a client cannot choose its address."""
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(_request(forwarded="198.51.100.7")) == "10.0.0.2"


@pytest.mark.parametrize(
    "count,forwarded,expected",
    [
        (1, "198.51.100.7", "198.51.100.7"),
        # A client that sends its own header gets our proxy's entry appended.
        (1, "1.2.3.4, 198.51.100.7", "198.51.100.7"),
        (2, "1.2.3.4, 198.51.100.7, 10.0.0.9", "198.51.100.7"),
        # Fewer entries than proxies: the request did not come through them.
        (2, "198.51.100.7", "10.0.0.2"),
        (1, "", "10.0.0.2"),
        (1, " , ", "10.0.0.2"),
        # What our proxy wrote is not an address: none rather than junk.
        (1, "unknown", None),
    ],
)
def test_nth_address_from_the_right(settings, count, forwarded, expected):
    """S-2, S-22: with N trusted proxies the client is the N-th entry of
    X-Forwarded-For from the right; left of that anyone may write."""
    settings.TRUSTED_PROXY_COUNT = count
    assert client_ip(_request(forwarded=forwarded)) == expected


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
        ("fe80::1%eth0", "fe80::1"),
        ("192.0.2.1:5555", "192.0.2.1"),
        (" 192.0.2.1 ", "192.0.2.1"),
        ("010.0.0.1", None),
        ("", None),
        (None, None),
    ],
)
def test_addresses_are_normalised(raw, expected):
    """S-23: one canonical text per address."""
    assert normalise_ip(raw) == expected


def test_non_canonical_ipv6_keeps_the_chain_whole(teacher_a):
    """S-22, S-23: the address hashed into the audit row is the text the
    database gives back, so an unusual spelling of an IPv6 address no longer
    breaks the chain."""
    client = Client(REMOTE_ADDR="2001:DB8:0000::0001")
    client.post("/accounts/login/", {"username": "teacher_a", "password": "wrong password"})
    assert AuthFailure.objects.get().ip == "2001:db8::1"
    client.post("/accounts/login/", {"username": "teacher_a", "password": PASSWORD})
    assert set(AuditEvent.objects.values_list("ip", flat=True)) == {"2001:db8::1"}
    assert verify_chain()[0]


def test_proxy_address_is_used_everywhere(settings, teacher_a):
    """S-2, S-22: behind one proxy, the throttle, the audit log and the
    session list all record the client, not the proxy."""
    settings.TRUSTED_PROXY_COUNT = 1
    client = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7")
    client.post("/accounts/login/", {"username": "teacher_a", "password": "wrong password"})
    assert AuthFailure.objects.get().ip == "198.51.100.7"
    client.post("/accounts/login/", {"username": "teacher_a", "password": PASSWORD})
    assert set(AuditEvent.objects.values_list("ip", flat=True)) == {"198.51.100.7"}
    assert StaffSession.objects.get(user_id=teacher_a.pk).ip == "198.51.100.7"


def test_clients_behind_the_proxy_are_counted_apart(settings, teacher_a):
    """S-2: one attacker behind the proxy does not use up the per-address
    limit of everyone else behind it."""
    settings.TRUSTED_PROXY_COUNT = 1
    settings.LOGIN_FAILURES_PER_ADDRESS = 3
    attacker = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.9")
    for i in range(5):
        attacker.post("/accounts/login/", {"username": f"nobody{i}", "password": "guess guess guess"})
    teacher = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.7")
    response = teacher.post("/accounts/login/", {"username": "teacher_a", "password": PASSWORD})
    assert response["Location"].startswith("/accounts/verify/")
