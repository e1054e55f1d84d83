"""Who is asking: the client's address as every limit counts it (the PIN throttle, the beacons'
rate limit), behind as many trusted proxies as TRUSTED_PROXY_COUNT says."""

import ipaddress

from django.conf import settings


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, or the entry that TRUSTED_PROXY_COUNT proxies added
    to X-Forwarded-For. IPv6 clients are counted by their /64 network, since one client
    usually holds a whole /64."""
    raw = request.META.get("REMOTE_ADDR", "")
    count = settings.TRUSTED_PROXY_COUNT
    if count:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if len(forwarded) >= count and forwarded[-count]:
            raw = forwarded[-count]
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return None
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False).network_address)
    return str(address)
