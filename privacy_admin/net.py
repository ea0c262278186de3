"""The client's address, the one way: throttle, audit log and sessions all
ask `client_ip(request)`.

Behind reverse proxies every request arrives from the nearest proxy, so
REMOTE_ADDR is the same for everyone. Each proxy appends the address it was
reached from to X-Forwarded-For; the right-most TRUSTED_PROXY_COUNT entries
were written by our own proxies, everything left of them by whoever connects.
With TRUSTED_PROXY_COUNT = N > 0 the client is the N-th entry from the right;
with fewer entries than that the request did not pass our proxies, and
REMOTE_ADDR is used. With 0 (no proxy) the header is ignored.

Addresses are normalised (IPv6 compressed and lower-case, IPv4-mapped IPv6
unpacked, zone dropped) so that the value hashed into the audit chain is the
value the database keeps, and one client is one key for the throttle.
"""

import ipaddress

from django.conf import settings
from django.utils.ipv6 import clean_ipv6_address


def normalise_ip(raw):
    """The canonical text of an address, or None when `raw` is not one."""
    text = (raw or "").strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # "192.0.2.1:443"
        text = text.partition(":")[0]
    text = text.partition("%")[0]  # zone index, "fe80::1%eth0"
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if address.version == 6:
        return clean_ipv6_address(str(address), unpack_ipv4=True)
    return str(address)


def client_ip(request):
    if request is None:
        return None
    count = settings.TRUSTED_PROXY_COUNT
    if count > 0:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= count:
            return normalise_ip(forwarded[-count])
    return normalise_ip(request.META.get("REMOTE_ADDR"))
