"""URLs an agent hands to WAHA to fetch (media to send, a file to convert, a preview image): the one rule.

WAHA fetches them from inside its own network, so a URL naming a private, loopback, link-local or
cloud-metadata address would let a model (or a prompt injected into a chat it reads) make WAHA read internal
services. Such URLs are refused unless their host is listed in WAHA_MCP_ALLOW_FETCH_HOSTS.

Literal addresses are checked in every spelling WAHA's URL parser accepts (`127.1`, `2130706433`,
`0x7f.0.0.1`, `[::ffff:127.0.0.1]`). Host names are NOT resolved here: WAHA resolves them itself, perhaps
differently (another resolver, DNS rebinding between our lookup and its), so a lookup here would cost a
network round trip on every send and still prove nothing. Names that are local by construction are refused
(`localhost`, `*.localhost`, `*.local`, `*.internal`, `*.home.arpa`, names without a dot); for the rest,
restrict WAHA's outbound traffic at the network level.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

__all__ = ["LOCAL_SUFFIXES", "fetch_url_refusal", "is_web_url"]

LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa", ".lan", ".intranet", ".corp")
_REMEDY = "WAHA would fetch it from inside its network; list the host in WAHA_MCP_ALLOW_FETCH_HOSTS to allow it"


def is_web_url(value: str) -> bool:
    return urlsplit(value.strip()).scheme.lower() in ("http", "https")


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a literal host names, in any spelling an URL parser (WHATWG, inet_aton) accepts."""
    try:
        return ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        pass
    if host and all(part for part in host.split(".")) and all(c in "0123456789abcdefx." for c in host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def _address_problem(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:
            return _address_problem(embedded)
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address (cloud metadata lives there)"
    if ip.is_unspecified:
        return "the unspecified address"
    if not ip.is_global or ip.is_multicast:  # also shared space: Alibaba's metadata is 100.100.100.200
        return "a private or reserved address"
    return None


def fetch_url_refusal(url: str, allowed_hosts: Iterable[str] = ()) -> str | None:
    """Why WAHA must not fetch `url`, or None when it may. `url` is http(s); other schemes are the caller's."""
    parts = urlsplit(url.strip())
    try:
        host = (parts.hostname or "").rstrip(".").lower()
    except ValueError:
        return "its host cannot be parsed"
    if not host:
        return "it names no host"
    if host.strip("[]") in {h.strip().rstrip(".").lower().strip("[]") for h in allowed_hosts}:
        return None
    ip = _address(host)
    if ip is not None:
        problem = _address_problem(ip)
        return f"{host} is {problem}: {_REMEDY}" if problem else None
    if host == "localhost" or host.endswith(LOCAL_SUFFIXES) or "." not in host:
        return f"{host} is a local host name: {_REMEDY}"
    if host == "metadata.google.internal" or host.startswith("metadata."):
        return f"{host} is a cloud metadata host: {_REMEDY}"
    return None
