"""The webhook address policy: a pure function over a URL and an injected resolver."""

from __future__ import annotations

import ipaddress

import pytest

from notify_service.address_policy import (
    Refused,
    Unresolved,
    address_class,
    check,
    parse_ip,
)


def no_dns(host, port):
    raise AssertionError(f"resolved {host}: an IP literal needs no resolver")


def answers(*addresses):
    """A resolver that answers ``addresses`` for any name, and records what it was asked."""
    asked = []

    def resolve(host, port):
        asked.append((host, port))
        return list(addresses)

    resolve.asked = asked
    return resolve


def fails(host, port):
    raise OSError("Name or service not known")


# --------------------------------------------------------------------------- classes

REFUSED = [
    ("0.0.0.0", "unspecified"),
    ("0.1.2.3", "unspecified"),
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("10.0.0.1", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.255", "private"),
    ("192.168.1.1", "private"),
    ("169.254.169.254", "link-local"),
    ("100.64.0.1", "CGNAT"),
    ("100.127.255.254", "CGNAT"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    ("192.0.0.8", "reserved"),
    ("192.0.2.10", "reserved"),
    ("198.18.0.1", "reserved"),
    ("198.51.100.7", "reserved"),
    ("203.0.113.9", "reserved"),
    ("192.88.99.1", "reserved"),
    ("::", "unspecified"),
    ("::1", "loopback"),
    ("::ffff:127.0.0.1", "IPv4-mapped"),
    ("::ffff:10.0.0.1", "IPv4-mapped"),
    ("::ffff:8.8.8.8", "IPv4-mapped"),  # mapped is refused whatever it maps
    ("::127.0.0.1", "reserved"),  # IPv4-compatible
    ("fc00::1", "private"),
    ("fd12:3456::1", "private"),
    ("fe80::1", "link-local"),
    ("fe80::1%eth0", "link-local"),
    ("fec0::1", "reserved"),
    ("ff02::1", "multicast"),
    ("ff0e::1", "multicast"),
    ("100::1", "reserved"),
    ("2001::1", "reserved"),
    ("2001:db8::1", "reserved"),
    ("64:ff9b:1::a", "private"),
    ("64:ff9b::7f00:1", "loopback"),  # NAT64 of 127.0.0.1
    ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of 169.254.169.254
    ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
    ("2002:a00:1::", "private"),  # 6to4 of 10.0.0.1
]
PUBLIC = ["8.8.8.8", "93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "64:ff9b::808:808"]


@pytest.mark.parametrize(("address", "expected"), REFUSED)
def test_refused_classes(address, expected):
    assert address_class(ipaddress.ip_address(address)) == expected


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address):
    assert address_class(ipaddress.ip_address(address)) is None


# --------------------------------------------------------------------------- spellings


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0X7F000001", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0x7f.0x0.0x0.0x1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("10.1", "10.0.0.1"),
        ("0", "0.0.0.0"),
        ("0xa9fea9fe", "169.254.169.254"),
        ("127.0.0.1.", "127.0.0.1"),
        ("[::1]", "::1"),
        ("::ffff:7f00:1", "::ffff:7f00:1"),
    ],
)
def test_numeric_spellings_are_addresses(host, expected):
    assert parse_ip(host) == ipaddress.ip_address(expected)


@pytest.mark.parametrize(
    "host", ["example.com", "localhost", "256.1.1.1.1", "1.2.3.4.5", "0x100000000", "256.1", "08"]
)
def test_names_and_impossible_numbers_are_not_addresses(host):
    assert parse_ip(host) is None


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/h",
        "http://100.64.0.1/h",
        "http://224.0.0.1/h",
        "http://240.0.0.1/h",
        "http://0.0.0.0/h",
        "http://[::1]/h",
        "http://[::ffff:127.0.0.1]/h",
        "http://[fe80::1%25eth0]/h",
        "http://0x7f000001/h",
        "http://2130706433/h",
        "http://127.1/h",
        "http://017700000001/h",
        "https://user:pw@127.0.0.1/h",
    ],
)
def test_urls_with_internal_literals_are_refused_without_resolving(url):
    with pytest.raises(Refused, match="the host is an? .* address") as caught:
        check(url, no_dns)
    assert not isinstance(caught.value, Unresolved)


def test_public_literal_passes():
    dest = check("https://93.184.216.34:8443/in?x=1", no_dns)
    assert dest.addresses == (ipaddress.ip_address("93.184.216.34"),)
    assert (dest.scheme, dest.port, dest.host_header, dest.target) == (
        "https",
        8443,
        "93.184.216.34:8443",
        "/in?x=1",
    )
    assert dest.tls_name == "93.184.216.34"


# --------------------------------------------------------------------------- names


def test_a_name_is_resolved_once_and_every_address_checked():
    resolve = answers("93.184.216.34", "10.0.0.5")
    with pytest.raises(Refused, match="resolves to a private address"):
        check("https://hooks.dept.example/in", resolve)
    assert resolve.asked == [("hooks.dept.example", 443)]


def test_a_public_name_keeps_its_host_for_the_request():
    resolve = answers("93.184.216.34", "2606:4700:4700::1111", "93.184.216.34")
    dest = check("https://ops:pw@Hooks.Dept.Example/in/x?y=2", resolve)
    assert dest.addresses == (
        ipaddress.ip_address("93.184.216.34"),
        ipaddress.ip_address("2606:4700:4700::1111"),
    )
    assert dest.host == "hooks.dept.example"
    assert dest.host_header == "Hooks.Dept.Example"  # as the URL spells it, no user info
    assert dest.tls_name == "hooks.dept.example"
    assert (dest.port, dest.target) == (443, "/in/x?y=2")


@pytest.mark.parametrize(
    ("answer", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("169.254.169.254", "link-local"),
        ("100.100.100.200", "CGNAT"),
        ("::ffff:10.1.2.3", "IPv4-mapped"),
    ],
)
def test_names_resolving_inside_are_refused(answer, kind):
    with pytest.raises(Refused, match=f"resolves to an? {kind} address"):
        check("http://innocent.example:8080/h", answers(answer))


def test_localhost_is_refused_through_the_real_resolver():
    import socket

    def system(host, port):
        return [i[4][0] for i in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]

    with pytest.raises(Refused, match="resolves to a loopback address"):
        check("http://localhost:9/h", system)


def test_names_that_do_not_resolve_are_unresolved():
    with pytest.raises(Unresolved, match="does not resolve"):
        check("https://nowhere.example/h", fails)
    with pytest.raises(Unresolved):
        check("https://nowhere.example/h", answers())


def test_a_resolver_answer_that_is_no_address_is_refused():
    with pytest.raises(Refused, match="not an address"):
        check("https://odd.example/h", answers("not-an-ip"))


def test_allow_private_admits_every_class():
    dest = check("http://0x7f000001:8080/h", no_dns, allow_private=True)
    assert dest.addresses == (ipaddress.ip_address("127.0.0.1"),)
    assert dest.host_header == "0x7f000001:8080"
    assert dest.tls_name == "127.0.0.1"
    resolved = check("http://hooks.lan/h", answers("192.168.1.20"), allow_private=True)
    assert resolved.addresses == (ipaddress.ip_address("192.168.1.20"),)
    assert resolved.port == 80 and resolved.target == "/h"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://93.184.216.34/h", "http or https"),
        ("http:///h", "no host"),
        ("http://93.184.216.34:99999/h", "not a valid URL"),
    ],
)
def test_malformed_urls_are_refused(url, message):
    with pytest.raises(Refused, match=message):
        check(url, no_dns)
