"""Where a webhook may send: public internet addresses only (CONTRACT.md §4.2).

The rules, in the order they apply:

- The URL is ``http`` or ``https`` with a host. The host is either an IP address, in any
  spelling a resolver or HTTP client would take as one (dotted quad; IPv6 in brackets, with
  or without a zone; the legacy forms ``2130706433``, ``0x7f000001``, ``017700000001``,
  ``127.1``, ``0177.0.0.1``), or a name.
- A name is resolved once, by the resolver the caller passes in, and *every* address it
  answers is checked: one refused address refuses the URL. A name that answers nothing is
  :class:`Unresolved` (the caller decides: accepted at registration, a failed attempt at
  delivery).
- Refused classes: unspecified (``0.0.0.0/8``, ``::``), loopback (``127/8``, ``::1``),
  private (``10/8``, ``172.16/12``, ``192.168/16``, ``fc00::/7``), link-local
  (``169.254/16``, ``fe80::/10``), CGNAT (``100.64/10``), multicast (``224/4``,
  ``ff00::/8``), IPv4-mapped IPv6 (``::ffff:0:0/96``, whatever it maps), and reserved:
  ``240/4`` (broadcast included), the IETF, documentation and benchmarking blocks, 6to4
  relays, Teredo, site-local, IPv4-compatible IPv6, and anything else Python's
  ``ipaddress`` does not call global. NAT64 (``64:ff9b::/96``) and 6to4 (``2002::/16``)
  addresses are judged by the IPv4 address they carry.
- ``allow_private`` (the operator switch ``REVISIT_WEBHOOK_ALLOW_PRIVATE``) admits every
  class: for test rigs and closed networks.

The caller connects to an address of the returned :class:`Destination`, never to the name
again: resolving a second time is what DNS rebinding exploits. No I/O here but the injected
resolver.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# (name, port) -> the address strings the name resolves to; raises OSError when it cannot.
Resolver = Callable[[str, int], Iterable[str]]

DEFAULT_PORTS = {"http": 80, "https": 443}

# The refused networks, IPv4 then IPv6 (an address is only ever in networks of its version).
_REFUSED_NETWORKS = [
    (ipaddress.ip_network(net), name)
    for net, name in (
        ("0.0.0.0/8", "unspecified"),
        ("127.0.0.0/8", "loopback"),
        ("10.0.0.0/8", "private"),
        ("172.16.0.0/12", "private"),
        ("192.168.0.0/16", "private"),
        ("169.254.0.0/16", "link-local"),
        ("100.64.0.0/10", "CGNAT"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved"),
        ("192.0.0.0/24", "reserved"),
        ("192.0.2.0/24", "reserved"),
        ("192.88.99.0/24", "reserved"),
        ("198.18.0.0/15", "reserved"),
        ("198.51.100.0/24", "reserved"),
        ("203.0.113.0/24", "reserved"),
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("::ffff:0:0/96", "IPv4-mapped"),
        ("::/96", "reserved"),  # IPv4-compatible (deprecated)
        ("64:ff9b:1::/48", "private"),  # local-use NAT64
        ("fc00::/7", "private"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "reserved"),  # site-local (deprecated)
        ("ff00::/8", "multicast"),
        ("100::/64", "reserved"),  # discard-only
        ("2001::/32", "reserved"),  # Teredo: tunnels to an IPv4 address of its own
        ("2001:db8::/32", "reserved"),
    )
]
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_LEGACY_PART = re.compile(r"^(0x[0-9a-f]*|0[0-7]*|[1-9][0-9]*)$")


class Refused(ValueError):
    """The URL may not be a webhook's: ``str()`` says why, fit to show the tenant."""


class Unresolved(Refused):
    """The name resolved to no address (at least not now)."""


@dataclass(frozen=True)
class Destination:
    """A checked URL: connect to one of ``addresses``, name ``host_header`` in the request
    (and ``tls_name`` in the TLS handshake)."""

    scheme: str
    host: str  # as the URL spells it, lower case, without brackets
    port: int
    host_header: str  # host[:port] exactly as in the URL, without user info
    target: str  # path and query
    addresses: tuple[IPAddress, ...]

    @property
    def tls_name(self) -> str:
        """The name for SNI and certificate checks (an IP literal in its canonical form)."""
        ip = parse_ip(self.host)
        return str(ip) if ip is not None else self.host


def address_class(address: IPAddress) -> str | None:
    """The refused class an address is in (``"loopback"``, ``"private"``, ...), or None
    for a public address."""
    if isinstance(address, ipaddress.IPv6Address):
        if address in _NAT64:
            return address_class(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if address.sixtofour is not None:
            return address_class(address.sixtofour)
    bare = _unscoped(address) if address.version == 6 else address
    for network, name in _REFUSED_NETWORKS:
        if bare in network:
            return name
    return None if bare.is_global else "reserved"


def _unscoped(address: ipaddress.IPv6Address) -> ipaddress.IPv6Address:
    """The address without its zone (``fe80::1%eth0``): networks compare bare addresses."""
    return ipaddress.IPv6Address(int(address))


def parse_ip(host: str) -> IPAddress | None:
    """The address ``host`` spells, in any form taken as numeric; None for a name."""
    text = host.strip().lower()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if text.endswith(".") and not text.endswith(".."):
        text = text[:-1]
    if not text:
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return _legacy_ipv4(text)


def _legacy_ipv4(text: str) -> ipaddress.IPv4Address | None:
    """inet_aton's forms: 1 to 4 parts, each decimal, 0x hex or 0 octal; the last part
    fills the bytes the others leave (``127.1`` is 127.0.0.1)."""
    parts = text.split(".")
    if not 1 <= len(parts) <= 4 or not all(_LEGACY_PART.match(p) for p in parts):
        return None
    values = [_number(p) for p in parts]
    head, last = values[:-1], values[-1]
    if any(v > 0xFF for v in head) or last >= 1 << (8 * (4 - len(head))):
        return None
    number = last
    for index, value in enumerate(head):
        number |= value << (8 * (3 - index))
    return ipaddress.IPv4Address(number)


def _number(part: str) -> int:
    if part.startswith("0x"):
        return int(part[2:] or "0", 16)
    if part.startswith("0") and len(part) > 1:
        return int(part[1:], 8)
    return int(part)


def check(url: str, resolve: Resolver, *, allow_private: bool = False) -> Destination:
    """Check ``url`` and resolve its host once; raise :class:`Refused` (or
    :class:`Unresolved`) when it may not be sent to."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise Refused(f"not a valid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise Refused("the URL must be http or https")
    host = parts.hostname
    if not host:
        raise Refused("the URL has no host")
    port = port or DEFAULT_PORTS[scheme]
    literal = parse_ip(host)
    if literal is not None:
        addresses: tuple[IPAddress, ...] = (literal,)
    else:
        addresses = _resolved(host, port, resolve)
    if not allow_private:
        for address in addresses:
            refused = address_class(address)
            if refused:
                verb = "is" if literal is not None else "resolves to"
                article = "an" if refused[0] in "aeiouAEIOU" else "a"
                raise Refused(
                    f"the host {verb} {article} {refused} address; webhooks go to public ones"
                )
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return Destination(
        scheme=scheme,
        host=host,
        port=port,
        host_header=parts.netloc.rpartition("@")[2],
        target=target,
        addresses=addresses,
    )


def _resolved(host: str, port: int, resolve: Resolver) -> tuple[IPAddress, ...]:
    try:
        answers = list(resolve(host, port))
    except OSError:
        raise Unresolved(f"the host {host} does not resolve") from None
    addresses = []
    for answer in answers:
        address = parse_ip(answer)
        if address is None:
            raise Refused(f"the host {host} resolves to something that is not an address")
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise Unresolved(f"the host {host} does not resolve")
    return tuple(addresses)
