"""Sending webhooks without becoming a proxy into our own network (SSRF).

A URL is checked twice: when an endpoint is saved (shape, and where its name resolves now)
and again at every send. At send time the host name is resolved once, *every* address is
checked, and the connection goes to a checked address with the original ``Host`` header and
TLS server name (SNI and certificate check on the name): a DNS answer that changes between
the check and the connection (rebinding) cannot redirect the request. Redirects are never
followed and proxies from the environment are ignored.

Refused: loopback, RFC 1918 private, link-local (169.254/16, cloud metadata), CGNAT
(100.64/10), unspecified, multicast, broadcast and reserved IPv4; ``::1``, ``::``,
``fc00::/7``, ``fe80::/10``, ``ff00::/8`` and anything else not globally routable (IPv4
addresses mapped into IPv6 are judged as IPv4); schemes other than http(s), credentials in
the URL, ports other than 80 and 443 (``WEBHOOK_ALLOWED_PORTS``).
``WEBHOOK_ALLOW_PRIVATE_TARGETS`` (development and tests with a local receiver only) lifts
the address and port rules, not the others.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.utils.translation import gettext as _
from requests.adapters import HTTPAdapter

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_REFUSED_NETWORKS = [
    ipaddress.ip_network(cidr)
    for cidr in (
        "0.0.0.0/8",  # "this network", unspecified
        "10.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, cloud metadata (169.254.169.254)
        "172.16.0.0/12",
        "192.168.0.0/16",
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, broadcast
        "::/128",
        "::1/128",
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "ff00::/8",  # multicast
    )
]
RESPONSE_SNIPPET_BYTES = 1024


class UnsafeTarget(Exception):
    """The URL or an address it resolves to may not be called."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int


@dataclass(frozen=True)
class PostResult:
    status_code: int
    elapsed_ms: int
    body_snippet: str


def address_refusal(address: IPAddress) -> str | None:
    """Why ``address`` may not be called, or ``None`` if it is a public one."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for network in _REFUSED_NETWORKS:
        if address in network:
            return _("%(address)s is in the non-public range %(network)s.") % {
                "address": address,
                "network": network,
            }
    if not address.is_global:
        return _("%(address)s is not a public address.") % {"address": address}
    return None


def _allow_private() -> bool:
    return bool(getattr(settings, "WEBHOOK_ALLOW_PRIVATE_TARGETS", False))


def url_target(url: str) -> Target:
    """The scheme, host and port of ``url`` after the checks that need no DNS."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeTarget(_("This is not a valid URL.")) from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeTarget(_("Only http and https URLs are allowed."))
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise UnsafeTarget(_("Credentials in the URL are not allowed; the signature is the proof."))
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeTarget(_("The URL has no host."))
    port = port if port is not None else (443 if scheme == "https" else 80)
    if not _allow_private() and port not in settings.WEBHOOK_ALLOWED_PORTS:
        raise UnsafeTarget(_("Only ports 80 and 443 are allowed."))
    return Target(scheme=scheme, host=host, port=port)


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _addresses(target: Target) -> list[IPAddress]:
    literal = _literal(target.host)
    if literal is not None:
        return [literal]
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeTarget(
            _("The host name %(host)s does not resolve.") % {"host": target.host}
        ) from exc
    return list(dict.fromkeys(ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos))


def _check(addresses: list[IPAddress]) -> None:
    if _allow_private():
        return
    for address in addresses:
        reason = address_refusal(address)
        if reason:
            raise UnsafeTarget(reason)


def resolve_checked(target: Target) -> list[str]:
    """Every address ``target.host`` resolves to, after checking each of them (one refused
    address refuses the URL: a name that answers with both public and private addresses is
    a rebinding attempt or a misconfiguration)."""
    addresses = _addresses(target)
    _check(addresses)
    return [str(address) for address in addresses]


def validate_webhook_url(url: str) -> None:
    """The check when an endpoint is saved: shape, and the addresses its name has now. A
    name that does not resolve yet is accepted: every send checks again."""
    target = url_target(url)
    try:
        addresses = _addresses(target)
    except UnsafeTarget:
        return
    _check(addresses)


class _PinnedAdapter(HTTPAdapter):
    """Connects to one checked address whatever the URL's name resolves to by then; the URL
    (so the Host header) and the TLS server name and certificate check keep the name."""

    def __init__(self, *, address: str, host: str) -> None:
        self._address = address
        self._host = host
        super().__init__(max_retries=0)

    def build_connection_pool_key_attributes(
        self, request: Any, verify: Any, cert: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert
        )
        host_params = {**host_params, "host": self._address}
        if host_params.get("scheme") == "https":
            pool_kwargs = {**pool_kwargs, "server_hostname": self._host}
            pool_kwargs["assert_hostname"] = self._host
        return host_params, pool_kwargs


def post_pinned(
    url: str, *, body: bytes, headers: dict[str, str], connect_timeout: float, read_timeout: float
) -> PostResult:
    """POST ``body`` to ``url`` through the checks above. Raises ``UnsafeTarget`` before any
    connection, or ``requests.RequestException`` (timeouts included) from the exchange."""
    target = url_target(url)
    address = resolve_checked(target)[0]
    with requests.Session() as session:
        session.trust_env = False  # an HTTP(S)_PROXY from the environment would bypass the pin
        adapter = _PinnedAdapter(address=address, host=target.host)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        started = time.monotonic()
        response = session.post(
            url,
            data=body,
            headers=headers,
            timeout=(connect_timeout, read_timeout),
            allow_redirects=False,
            stream=True,
        )
        try:
            snippet = response.raw.read(RESPONSE_SNIPPET_BYTES, decode_content=True) or b""
        finally:
            response.close()
        elapsed_ms = int((time.monotonic() - started) * 1000)
    return PostResult(
        status_code=response.status_code,
        elapsed_ms=elapsed_ms,
        body_snippet=snippet.decode("utf-8", errors="replace"),
    )
