"""The page's address from the TCP peer and X-Forwarded-For (``delivery.clientaddr``), case by case,
and the server's settings that feed it (``trusted_proxies``, the old ``behind_proxy``).

Through a real server and a real proxy: tests/delivery/test_proxy_address.py.
"""
from __future__ import annotations

import pytest
from traitlets.config import Config

from exam_builder.clientaddr import LOOPBACK, client_address, trusted_networks
from exam_builder.errors import ExamBuilderError

LOCAL = trusted_networks(LOOPBACK)                      # a proxy on this machine
ROOM = trusted_networks(["10.1.0.0/16", "2001:db8:1::/48", "127.0.0.1"])  # nginx hosts, and CHP beside the server

CASES = [
    # (why, peer, X-Forwarded-For header instances, trusted, the client)
    ("nothing trusted: the peer, headers ignored", "192.0.2.7", ["10.9.9.9"], (), "192.0.2.7"),
    ("an untrusted peer's header is ignored", "192.0.2.7", ["127.0.0.1"], LOCAL, "192.0.2.7"),
    ("an untrusted peer naming a trusted proxy", "192.0.2.7", ["192.0.2.99, 127.0.0.1"], LOCAL, "192.0.2.7"),
    ("a trusted peer without the header", "127.0.0.1", [], LOCAL, "127.0.0.1"),
    ("a trusted peer with an empty header", "127.0.0.1", [""], LOCAL, "127.0.0.1"),
    ("a trusted peer with a blank header", "127.0.0.1", [" , "], LOCAL, "127.0.0.1"),
    ("the hop the proxy appended", "127.0.0.1", ["192.0.2.7"], LOCAL, "192.0.2.7"),
    ("spoofed leftmost entries are never read", "127.0.0.1", ["10.9.9.9, 192.0.2.250, 192.0.2.7"], LOCAL,
     "192.0.2.7"),
    ("a spoofed leftmost entry naming a trusted proxy", "127.0.0.1", ["127.0.0.1,192.0.2.7"], LOCAL, "192.0.2.7"),
    ("CHP's comma without a space", "127.0.0.1", ["10.9.9.9,192.0.2.7"], LOCAL, "192.0.2.7"),
    ("two proxies: nginx (CIDR) then CHP", "127.0.0.1", ["10.9.9.9, 192.0.2.7, 10.1.4.2"], ROOM, "192.0.2.7"),
    ("two header instances, joined in order", "127.0.0.1", ["10.9.9.9, 192.0.2.7", "10.1.4.2"], ROOM, "192.0.2.7"),
    ("a forged first instance does not reorder", "127.0.0.1", ["192.0.2.250", "192.0.2.7"], LOCAL, "192.0.2.7"),
    ("every entry a trusted proxy: the leftmost", "127.0.0.1", ["10.1.0.9, 10.1.4.2"], ROOM, "10.1.0.9"),
    ("IPv6 peer and client", "::1", ["2001:db8:9::7"], LOCAL, "2001:db8:9::7"),
    ("IPv6 written long is one source", "::1", ["2001:0DB8:0009:0000:0000:0000:0000:0007"], LOCAL, "2001:db8:9::7"),
    ("an IPv6 proxy network", "127.0.0.1", ["192.0.2.7, 2001:db8:1:5::1"], ROOM, "192.0.2.7"),
    ("IPv4-mapped peer (dual-stack socket) is trusted as IPv4", "::ffff:127.0.0.1", ["192.0.2.7"], LOCAL,
     "192.0.2.7"),
    ("IPv4-mapped entry is its IPv4 address", "127.0.0.1", ["::ffff:192.0.2.7"], LOCAL, "192.0.2.7"),
    ("an untrusted mapped peer is returned as IPv4", "::ffff:192.0.2.7", ["10.9.9.9"], LOCAL, "192.0.2.7"),
    ("loopback beyond 127.0.0.1 is not this machine's proxy", "127.0.0.2", ["10.9.9.9"], LOCAL, "127.0.0.2"),
    ("garbage at the right: the peer", "127.0.0.1", ["192.0.2.7, garbage"], LOCAL, "127.0.0.1"),
    ("garbage behind a trusted hop: the peer", "127.0.0.1", ["192.0.2.7, not-an-ip, 10.1.4.2"], ROOM, "127.0.0.1"),
    ("garbage left of the client is never read", "127.0.0.1", ["<script>, 999.1.1.1, 192.0.2.7"], LOCAL,
     "192.0.2.7"),
    ("an empty entry reached: the peer", "127.0.0.1", ["192.0.2.7,,10.1.4.2"], ROOM, "127.0.0.1"),
    ("host:port is not an address", "127.0.0.1", ["192.0.2.7:51234"], LOCAL, "127.0.0.1"),
    ("bracketed IPv6 is not an address", "::1", ["[2001:db8::7]"], LOCAL, "::1"),
    ("'unknown' (nginx's word) stops the walk", "127.0.0.1", ["unknown"], LOCAL, "127.0.0.1"),
    ("an RFC 7239 element is not an address", "127.0.0.1", ["for=192.0.2.7"], LOCAL, "127.0.0.1"),
    ("no peer", None, ["192.0.2.7"], LOCAL, "unknown"),
    ("a peer that is no address (a Unix socket) is kept", "0.0.0.0x", ["192.0.2.7"], LOCAL, "0.0.0.0x"),
]


@pytest.mark.parametrize(("peer", "forwarded", "trusted", "client"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_client_address(peer, forwarded, trusted, client):
    assert client_address(peer, forwarded, trusted) == client


def test_a_long_chain_of_trusted_hops_is_walked_to_the_client():
    hops = [f"10.1.{n // 250}.{n % 250 + 1}" for n in range(500)]
    assert client_address("10.1.0.1", [", ".join(["10.9.9.9", "192.0.2.7", *hops])], ROOM) == "192.0.2.7"


@pytest.mark.parametrize(("entries", "networks"), [
    ([], []),
    (["127.0.0.1", "::1"], ["127.0.0.1/32", "::1/128"]),
    ([" 10.0.0.0/8 ", "2001:db8::/32"], ["10.0.0.0/8", "2001:db8::/32"]),
])
def test_trusted_networks(entries, networks):
    assert [str(n) for n in trusted_networks(entries)] == networks


@pytest.mark.parametrize(("entry", "why"), [
    ("10.0.0.5/24", "has host bits set"),
    ("10.0.0.300", "does not appear to be an IPv4 or IPv6 network"),
    ("proxy.example.org", "does not appear to be an IPv4 or IPv6 network"),
    ("", "does not appear to be an IPv4 or IPv6 network"),
])
def test_a_bad_trusted_entry_is_named(entry, why):
    with pytest.raises(ValueError, match=rf"^{entry!r} is not an address or a network .*{why}"):
        trusted_networks(["127.0.0.1", entry])


# -- the settings -------------------------------------------------------------------------------
def settings(**values):
    from exam_builder.settings.server import ServerSettings

    cfg = Config()
    for name, value in values.items():
        setattr(cfg.ServerSettings, name, value)
    return ServerSettings(config=cfg)


def test_no_setting_trusts_no_proxy():
    s = settings()
    assert s.proxies() == () and s.proxy_notice() is None
    assert client_address("127.0.0.1", ["192.0.2.7"], s.proxies()) == "127.0.0.1"


def test_trusted_proxies_alone():
    s = settings(trusted_proxies=["10.1.0.0/16"])
    assert [str(n) for n in s.proxies()] == ["10.1.0.0/16"] and s.proxy_notice() is None


def test_behind_proxy_alone_trusts_this_machine_and_says_which_setting_replaces_it():
    s = settings(behind_proxy=True)
    assert [str(n) for n in s.proxies()] == ["127.0.0.1/32", "::1/128"]
    assert "c.ServerSettings.trusted_proxies = ['127.0.0.1', '::1']" in s.proxy_notice()
    assert client_address("127.0.0.1", ["10.9.9.9, 192.0.2.7"], s.proxies()) == "192.0.2.7"


def test_behind_proxy_beside_trusted_proxies_is_ignored_and_said_so():
    s = settings(behind_proxy=True, trusted_proxies=["10.1.4.2"])
    assert [str(n) for n in s.proxies()] == ["10.1.4.2/32"]
    assert "behind_proxy is ignored" in s.proxy_notice()


def test_a_bad_trusted_proxy_is_an_error_naming_the_setting():
    with pytest.raises(ExamBuilderError, match=r"c\.ServerSettings\.trusted_proxies in nbgrader_config\.py: "
                                               r"'10\.0\.0\.5/24' is not an address or a network"):
        settings(trusted_proxies=["127.0.0.1", "10.0.0.5/24"])
