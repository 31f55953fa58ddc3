"""Where the tool may send a request on someone else's word: origins, and private networks.

A centre (its LLM endpoint) or a platform (the URLs in its registration and launches) names
addresses the tool then calls from its own network. Addresses inside a private network (the
operator's own machines, a cloud's metadata service) are refused unless the operator allows
them; a platform's own registered origins are always allowed.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from typing import Literal
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
# A DNS name or an IPv4 address, lower-case (IPv6 is checked apart): an origin goes into a
# header (a Content-Security-Policy source), so nothing in it may end or add a directive.
_HOST = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$")


def origin_of(url: str | None) -> str | None:
    """`scheme://host[:port]` of an http(s) URL, lower-case, the default port left out; None for
    anything else (another scheme, no host, a host that is not a plain name or an IP address)."""
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").rstrip(".")
    if scheme not in DEFAULT_PORTS:
        return None
    if not _HOST.match(host):
        try:
            host = f"[{ipaddress.IPv6Address(host).compressed}]"
        except ValueError:
            return None
    return f"{scheme}://{host}" if port in (None, DEFAULT_PORTS[scheme]) else f"{scheme}://{host}:{port}"


def origins_of(urls: Iterable[str | None]) -> frozenset[str]:
    """The origins of those of `urls` that have one."""
    return frozenset(origin for origin in map(origin_of, urls) if origin)


def address_kind(host: str) -> Literal["public", "internal", "unresolvable"]:
    """Where `host` (an IP literal, or a name resolved now) points: "internal" if any of its
    addresses is in a private network (loopback, private, link-local such as cloud metadata,
    shared or reserved ranges), "unresolvable" if it has none, else "public"."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return "unresolvable"
    for info in infos:
        if not ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]).is_global:
            return "internal"
    return "public" if infos else "unresolvable"


class AddressRefused(Exception):
    """The tool will not call `url`. `reason`: bad_url (not http(s)) or internal_address (off the
    trusted origins and inside a private network). `url` is shown without its query string."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url.split("?", 1)[0]
        self.reason = reason
        super().__init__(f"{reason}: {self.url}")


def check_outgoing_url(url: str, *, origins: Iterable[str] = (), allow_internal: bool) -> None:
    """Return if the tool may call `url`: it is on one of `origins` (no lookup), or internal
    addresses are allowed, or its host resolves now to public addresses only (a name that does
    not resolve is left to the call, which fails as unreachable). Raise AddressRefused otherwise.

    Resolved here, then again by the HTTP client when it connects: a name whose answers flip
    within that instant (DNS rebinding) is not caught."""
    origin = origin_of(url)
    if origin is None:
        raise AddressRefused(url, "bad_url")
    if origin in origins or allow_internal:
        return
    if address_kind(urlsplit(url).hostname or "") == "internal":
        raise AddressRefused(url, "internal_address")
