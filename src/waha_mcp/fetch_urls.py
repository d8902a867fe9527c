"""URLs an agent has WAHA fetch or connect to (media to send, a file to convert, a link to preview, a session's
webhooks and proxy): the one rule.

WAHA fetches them from inside its own network, so a URL naming a private, loopback, link-local or
cloud-metadata address would let a model (or a prompt injected into a chat it reads) make WAHA read internal
services. Such URLs are refused unless their host is listed in WAHA_MCP_ALLOW_FETCH_HOSTS.

The host is the one WAHA's own parser finds: WAHA runs on Node, whose `new URL()` is the WHATWG URL standard
as implemented by ada; `ada_url` binds the same library, so `http://169.254.169.254\\@evil.com/` (a backslash
is a slash), `169.254.169.%32%35%34` (the host is percent-decoded), fullwidth digits and `。` (IDNA mapping),
`0x7f.1`, `2130706433`, `0177.0.0.1` (IPv4 in every radix) and `[::ffff:127.0.0.1]` all read as Node reads
them. A URL Node would not parse is refused: another parser downstream may read it otherwise.

Host names are NOT resolved here: WAHA resolves them itself, perhaps differently (another resolver, DNS
rebinding between our lookup and its), so a lookup here would cost a network round trip on every send and
still prove nothing. Names that are local by construction are refused (`localhost`, `*.localhost`, `*.local`,
`*.internal`, `*.home.arpa`, names without a dot); for the rest (and for redirects WAHA follows), restrict
WAHA's outbound traffic at the network level.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Iterator
from typing import Any

__all__ = [
    "LOCAL_SUFFIXES",
    "fetch_url_refusal",
    "host_refusal",
    "is_web_url",
    "proxy_refusal",
    "text_url_refusal",
    "web_host",
]

LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa", ".lan", ".intranet", ".corp")
_REMEDY = "WAHA would fetch it from inside its network; list the host in WAHA_MCP_ALLOW_FETCH_HOSTS to allow it"
# What the WHATWG parser drops before reading a URL: C0 controls and spaces at the ends, tabs and newlines anywhere.
_ENDS = "".join(map(chr, range(0x21)))
_TAB_OR_NEWLINE = re.compile(r"[\t\n\r]")
# IPv6 ranges that carry an IPv4 address in their last 32 bits: NAT64 (well-known and local-use), and the
# deprecated IPv4-compatible form (`::a.b.c.d`, where `::` and `::1` are themselves).
_NAT64 = [ipaddress.ip_network(n) for n in ("64:ff9b::/96", "64:ff9b:1::/48")]
_COMPATIBLE = ipaddress.ip_network("::/96")
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _web(url: str) -> Any:
    """The WHATWG parse of an http(s) URL (an `ada_url.URL`), or None."""
    import ada_url  # at the first URL, not at start-up: its C library costs tens of milliseconds to load

    try:
        parsed = ada_url.URL(url)
    except ValueError:
        return None
    return parsed if parsed.protocol in ("http:", "https:") else None


def is_web_url(value: str) -> bool:
    """Would WAHA read `value` as an http(s) URL? Also when it is one WHATWG cannot parse (it is then refused)."""
    if _web(value) is not None:
        return True
    plain = _TAB_OR_NEWLINE.sub("", value.strip(_ENDS)).lower()
    return plain.startswith(("http:", "https:"))


def web_host(url: str) -> str | None:
    """The host Node's `new URL(url).hostname` gives (IPv6 in brackets), or None where Node throws."""
    parsed = _web(url)
    return parsed.hostname if parsed is not None else None


def _address(host: str) -> Address | None:
    """The address a host WHATWG has already parsed names (it writes IPv4 as four decimals, IPv6 in brackets)."""
    try:
        return ipaddress.ip_address(host[1:-1] if host.startswith("[") else host)
    except ValueError:
        return None


def _address_problem(ip: Address) -> str | None:
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and (any(ip in net for net in _NAT64) or (ip in _COMPATIBLE and int(ip) > 1)):
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
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


def _canonical(host: str) -> str:
    """A WAHA_MCP_ALLOW_FETCH_HOSTS entry as WHATWG writes the host, so any spelling of it matches."""
    entry = host.strip()
    parsed = web_host(f"http://{entry}/") if entry else None
    return (parsed or entry.lower()).rstrip(".")


def host_refusal(host: str, allowed_hosts: Iterable[str] = ()) -> str | None:
    """Why WAHA must not reach `host` (as `web_host` gives it), or None when it may."""
    host = host.rstrip(".")
    if not host:
        return "it names no host"
    if host in {_canonical(h) for h in allowed_hosts if h.strip()}:
        return None
    ip = _address(host)
    if ip is not None:
        problem = _address_problem(ip)
        return f"{host} is {problem}: {_REMEDY}" if problem else None
    if host == "localhost" or host.endswith(LOCAL_SUFFIXES) or "." not in host:
        return f"{host} is a local host name: {_REMEDY}"
    if host.startswith("metadata."):
        return f"{host} is a cloud metadata host: {_REMEDY}"
    return None


def fetch_url_refusal(url: str, allowed_hosts: Iterable[str] = ()) -> str | None:
    """Why WAHA must not fetch `url`, or None when it may. `url` is http(s) (`is_web_url`); others are the
    caller's."""
    host = web_host(url)
    if host is None:
        return "it cannot be parsed as an http(s) URL (as WAHA's WHATWG parser reads it)"
    return host_refusal(host, allowed_hosts)


def proxy_refusal(server: str, allowed_hosts: Iterable[str] = ()) -> str | None:
    """A proxy as WAHA takes it: `host:port`, or a URL of any scheme (`socks5://`), its host read as http's."""
    value = server.strip()
    return fetch_url_refusal(f"http://{value.split('://', 1)[-1]}", allowed_hosts)


# Links in a message text that a link preview fetches: its http(s) URLs, and what a client takes for a link
# without a scheme and previews over https. NOWEB (Baileys' `extractUrlFromText`) takes any run of
# `[-A-Za-z0-9@:%._+~#=]` that has a dot followed by one to six letters or digits: `metadata.google.internal/x`,
# `10.0.0.1`, `user@10.0.0.1:3000/`.
_TEXT_URL = re.compile(r"https?:[^\s<>\"']+", re.IGNORECASE)
_TEXT_BARE = re.compile(r"[-\w@:%.+~#=]*\.[A-Za-z0-9()]{1,6}\b[-\w()@:%+.~#?&/=]*", re.ASCII)
_FRACTION = re.compile(r"\d+(?:\.\d+){1,2}")  # `0.5`, `1.2.3`: numbers, unless they name a loopback address


def _links(text: str) -> Iterator[tuple[str, bool]]:
    """(link, explicit): an explicit http(s) URL that Node cannot parse is refused; a bare word is just text."""
    for found in _TEXT_URL.finditer(text):
        yield found.group(0), True
        yield found.group(0).rstrip(".,;:!?)"), True  # what a custom preview sends as its `url`
    for found in _TEXT_BARE.finditer(_TEXT_URL.sub(" ", text)):
        token = found.group(0).strip(".,;:!?()")
        if _FRACTION.fullmatch(token):
            ip = _address(web_host(f"https://{token}/") or "")
            if ip is None or not (ip.is_loopback or ip.is_unspecified):
                continue
        yield f"https://{token}", False


def text_url_refusal(text: str, allowed_hosts: Iterable[str] = ()) -> str | None:
    """Why a link preview of `text` must not be made (the first link WAHA must not fetch), or None."""
    for link, explicit in _links(text):
        host = web_host(link)
        if host is None and not explicit:  # `v1.2.3`: not a URL to Node either, nothing is fetched
            continue
        problem = fetch_url_refusal(link, allowed_hosts) if host is None else host_refusal(host, allowed_hosts)
        if problem:
            return f"{link[:80]!r}: {problem}"
    return None
