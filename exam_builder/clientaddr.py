"""The address of the computer a page comes from, with or without a proxy in front of the server.

The wrong-code limits count and lock out by this address (``records.access``), so it must be one
the candidate's computer cannot choose. Anything a browser sends is forgeable (``X-Real-Ip``,
``X-Forwarded-For``, ``Forwarded``); only the TCP peer, and what a proxy we trust appended, are not.

Contract (pure functions, no I/O):

* ``trusted_networks(entries)``: ``c.ServerSettings.trusted_proxies`` (addresses or CIDR networks,
  IPv4 or IPv6) as networks; a bad entry raises ``ValueError`` naming it (a network with host bits
  set, ``10.0.0.5/24``, is refused: it says something other than what it trusts).
* ``client_address(peer, forwarded_for, trusted)``:

  1. the TCP ``peer`` is not a trusted proxy: the peer is the client, every forwarding header is
     ignored (nothing to trust it for);
  2. it is: ``X-Forwarded-For`` (every instance of the header, in the order received, joined with
     commas, as RFC 9110 joins repeated fields) is read from the right, one hop at a time. Each
     proxy appends the address it received the request from, so the rightmost entry was written by
     the peer, the next by that entry's proxy if it is trusted, and so on: entries to the right of
     the first untrusted one were all written by trusted proxies. The first entry that is not a
     trusted proxy is the client; entries to its left came from the client and are never read;
  3. every entry is a trusted proxy (a request from a proxy's own machine): the leftmost one;
  4. no header, or an empty one: the peer;
  5. an entry that is not an address (garbage, an empty entry, ``host:port``, ``unknown``) stops
     the walk and the **peer** is the client. Safe choice: the peer is the one address taken from
     the connection itself, not from a header. A malformed hop means a proxy in the chain writes
     something this function does not understand, so no entry of the header is used: every such
     page counts as the proxy's own address (a misconfigured proxy shows up as one source that a
     proctor sees locked, never as an address a page could choose), even when the trusted list is
     wider than it should be.

  ``X-Real-Ip`` (set by a client as easily as any header, and overwritten by no proxy by default)
  is never read. The address is returned in one canonical text (``ipaddress``'s: IPv6 compressed
  and lower case, an IPv4-mapped IPv6 address such as ``::ffff:10.0.0.7`` as ``10.0.0.7``; a
  mapped address is trusted when its IPv4 address is), so one computer is one source however a
  proxy or a dual-stack socket writes it. A missing peer is ``"unknown"``; a peer that is not an
  address (a Unix socket) is returned as given and trusted by no entry.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from functools import lru_cache

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Trusted = tuple[Network, ...]

#: What ``c.ServerSettings.behind_proxy = True`` trusts when ``trusted_proxies`` is empty (the
#: setting before ``trusted_proxies``): a proxy on this machine, which connects from loopback.
LOOPBACK: tuple[str, ...] = ("127.0.0.1", "::1")


def parse_address(text: str) -> Address | None:
    """``text`` as one IP address (IPv4-mapped IPv6 as IPv4), or None when it is not exactly one."""
    try:
        addr = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    mapped = getattr(addr, "ipv4_mapped", None)
    return mapped or addr


@lru_cache(maxsize=32)
def _networks(entries: tuple[str, ...]) -> Trusted:
    found: list[Network] = []
    for entry in entries:
        text = str(entry).strip()
        try:
            found.append(ipaddress.ip_network(text, strict=True))
        except ValueError as exc:
            raise ValueError(f"{entry!r} is not an address or a network such as '10.0.0.5' or "
                             f"'10.0.0.0/24' ({exc})") from None
    return tuple(found)


def trusted_networks(entries: Iterable[str]) -> Trusted:
    """The proxies named by ``entries`` (addresses or CIDR networks); ``ValueError`` names a bad one."""
    return _networks(tuple(entries))


def is_trusted(addr: Address, trusted: Trusted) -> bool:
    return any(addr in net for net in trusted)


def client_address(peer: str | None, forwarded_for: Sequence[str], trusted: Trusted) -> str:
    """The client's address: the peer, or what the trusted proxies in front of it say (see the module)."""
    if not peer:
        return "unknown"
    peer_addr = parse_address(peer)
    if peer_addr is None:
        return peer
    if not trusted or not is_trusted(peer_addr, trusted):
        return str(peer_addr)
    entries = ",".join(forwarded_for).split(",") if forwarded_for else []
    if not any(e.strip() for e in entries):
        return str(peer_addr)
    last = peer_addr
    for entry in reversed(entries):
        addr = parse_address(entry)
        if addr is None:
            return str(peer_addr)
        if not is_trusted(addr, trusted):
            return str(addr)
        last = addr
    return str(last)
