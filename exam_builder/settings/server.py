"""Exam server settings (traitlets), set in ``nbgrader_config.py`` as ``c.ServerSettings.<name>``.

Read by the exam server (``delivery.server``); here, with every other settings class, so that
reading the configuration (and writing the reference) needs nothing of Voila or jupyter_server.
"""
from __future__ import annotations

from traitlets import Bool, Float, Int, List, Unicode, validate
from traitlets.config import Configurable

from ..clientaddr import LOOPBACK, Trusted, trusted_networks
from ..errors import ExamBuilderError


class ServerSettings(Configurable):
    """How many kernels a server keeps, and when it lets them go (``c.ServerSettings.seats = 60``)."""

    seats = Int(0, help="Warm kernels to keep for candidates; 0: the number of sittings open "
                        "(scheduled or in progress) when the server starts.").tag(config=True)
    spare_kernels = Int(None, allow_none=True,
                        help="Warm kernels beyond the seats, for reloads; unset: one for every ten seats, at least "
                             "2 (a room reloading together, one page every two seconds, finds them "
                             "warm).").tag(config=True)
    max_pages = Int(0, help="Most pages holding a kernel at once; 0: twice the pool, plus 4.").tag(config=True)
    kernel_memory_mb = Int(100, help="Memory a candidate's kernel needs; serve refuses to start "
                                     "when the free memory cannot hold the pool.").tag(config=True)
    reconnect_grace_seconds = Float(120.0, help="How long a page's kernel waits for its websocket to come "
                                                "back (a network drop) before it is shut down.").tag(config=True)
    reattach_seconds = Float(60.0, help="A candidate's page reloaded (or reopened in the same browser) within this "
                                        "long of leaving gets its own kernel back, on the screen it left: no new "
                                        "kernel, no sign-in again; 0: never (every page starts afresh). Candidates' "
                                        "apps only, never a staff app.").tag(config=True)
    unconnected_grace_seconds = Float(120.0, help="How long a served page may take to connect before its "
                                                  "kernel is shut down.").tag(config=True)
    refill_quiet_seconds = Float(3.0, help="The pool is refilled only after arrivals pause this long "
                                           "(or at once when it is empty).").tag(config=True)
    cull_interval_seconds = Float(5.0, help="How often kernels of closed pages are looked for.").tag(config=True)
    max_message_bytes = Int(256 * 1024, help="Largest websocket message a page may send.").tag(config=True)
    max_messages_per_second = Float(30.0, help="Sustained messages a second one page may send "
                                               "(bursts up to ten times that).").tag(config=True)
    trusted_proxies = List(Unicode(), help="Addresses or CIDR networks of the proxies in front of the server "
                                           "(['127.0.0.1', '::1']: a proxy on this machine). A page whose "
                                           "connection comes from one of them counts as the first address of "
                                           "X-Forwarded-For, read from the right, that is not one of them "
                                           "(X-Real-Ip is never read); empty: the connection's own address, "
                                           "every forwarding header ignored.").tag(config=True)
    behind_proxy = Bool(False, help="Replaced by trusted_proxies. True with trusted_proxies empty trusts a proxy "
                                    "on this machine (127.0.0.1, ::1) and says so in the log.").tag(config=True)

    @validate("trusted_proxies")
    def _valid_proxies(self, proposal):
        try:
            trusted_networks(proposal["value"])
        except ValueError as exc:
            raise ExamBuilderError(f"c.ServerSettings.trusted_proxies in nbgrader_config.py: {exc}") from None
        return proposal["value"]

    def spares(self, seats: int) -> int:
        """Warm kernels kept beyond the seats: ``spare_kernels``, or one for every ten seats (at least 2)."""
        return self.spare_kernels if self.spare_kernels is not None else max(2, -(-seats // 10))

    def proxies(self) -> Trusted:
        """The proxies whose X-Forwarded-For is read (``behind_proxy`` alone: this machine's loopback)."""
        return trusted_networks(self.trusted_proxies or (LOOPBACK if self.behind_proxy else ()))

    def proxy_notice(self) -> str | None:
        """What the server's log says at start about ``behind_proxy``, the setting being replaced."""
        if not self.behind_proxy:
            return None
        if self.trusted_proxies:
            return ("c.ServerSettings.behind_proxy is ignored: c.ServerSettings.trusted_proxies names the "
                    "proxies; remove behind_proxy from nbgrader_config.py")
        return ("c.ServerSettings.behind_proxy is replaced by c.ServerSettings.trusted_proxies: X-Forwarded-For "
                "is read only from a proxy on this machine (127.0.0.1, ::1), and X-Real-Ip never. Set "
                "c.ServerSettings.trusted_proxies = ['127.0.0.1', '::1'] (or your proxy's address) and remove "
                "behind_proxy in nbgrader_config.py")
