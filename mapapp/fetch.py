"""The one way the server fetches an address that staff or an operator gave it (sync sources,
the Murmurations index): guarded against server-side request forgery.

Each hop's host is resolved once, every address it resolves to is checked (loopback, private,
link-local, multicast, reserved, unspecified and cloud metadata addresses are refused, IPv4 and
IPv6 alike, IPv4 inside IPv6 too), and the connection goes to the address that was checked, with
the name in the Host header and TLS SNI: a name cannot resolve to a public address for the check
and to an internal one for the connection. Redirects are followed only to http(s), a bounded
number of times, each hop checked the same way. The whole exchange has one deadline and a byte
cap, and every failure (a refusal, the network, a peer that does not speak HTTP) is a
``FetchError`` whose message does not tell connection details of refused addresses.

Written on ``http.client`` and ``ipaddress``: the one maintained guarded client on PyPI that
fits (advocate) was last released in 2020 for urllib3 1.x, and the newer ones are early
single-author releases that would bring httpx along.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from email.message import Message as Headers
from urllib.parse import quote, urljoin, urlsplit

from .translate import N_, Message

DEADLINE = 60.0  # seconds for the whole exchange, redirects included
CONNECT_TIMEOUT = 15.0
MAX_REDIRECTS = 5
_REDIRECTS = {301, 302, 303, 307, 308}
_CHUNK = 64 * 1024
# Cloud metadata services; most are link-local or private already, named so that they stay refused.
_METADATA = {ipaddress.ip_address(a) for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200",
                                                "192.0.0.192", "fd00:ec2::254")}
_DEFAULT_PORTS = {"http": 80, "https": 443}
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class FetchError(Exception):
    """The address could not be fetched; ``args[0]`` is a ``Message`` that says why."""

    @property
    def message(self) -> Message:
        return self.args[0]


class Refused(FetchError):
    """The address (or one it redirected to) is not one the server may fetch."""


class TooLarge(FetchError):
    """The answer is larger than the byte cap."""


def refused_message() -> Message:
    return Message(N_("this address is not allowed (private or local network)"))


@dataclass(frozen=True)
class Answer:
    """What the last hop answered: its address, HTTP status, headers and body."""

    url: str
    status: int
    headers: Headers
    body: bytes

    @property
    def media(self) -> str:
        return self.headers.get_content_type()


def allow_list(setting: str) -> frozenset[str]:
    """``MAPAPP_FETCH_ALLOW_HOSTS`` (``host`` or ``host:port``, comma-separated; ``[::1]:80``
    for IPv6) as the set ``is_allowed_host`` reads."""
    return frozenset(entry.strip().lower() for entry in (setting or "").split(",") if entry.strip())


def is_allowed_host(host: str, port: int, allow: frozenset[str]) -> bool:
    """Whether ``host:port`` is listed (as itself, or as the host with any port)."""
    host = host.lower()
    named = f"[{host}]" if ":" in host else host
    return bool({host, named, f"{named}:{port}"} & allow)


def is_refused(address: IPAddress) -> bool:
    """Whether the server must not connect to ``address``: anything but a global unicast one,
    judged on the IPv4 address inside an IPv6 one too."""
    inner = [address]
    if address.version == 6:
        inner += [a for a in (address.ipv4_mapped, address.sixtofour,
                              address.teredo[1] if address.teredo else None) if a is not None]
    return any(a in _METADATA or not a.is_global or a.is_multicast or a.is_reserved or a.is_loopback
               or a.is_link_local or a.is_private or a.is_unspecified for a in inner)


def _split(url: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of an http(s) address."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise FetchError(Message(N_("only http and https addresses can be fetched"))) from None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise FetchError(Message(N_("only http and https addresses can be fetched")))
    try:
        host = parts.hostname.encode("idna").decode("ascii")
    except UnicodeError:
        raise FetchError(Message(N_("the name %(host)s was not found"), host=parts.hostname)) from None
    return parts.scheme, host, port or _DEFAULT_PORTS[parts.scheme]


def _resolve(host: str, port: int, allow: frozenset[str]) -> list[IPAddress]:
    """The addresses to connect to for ``host``, each checked; ``Refused`` if any of them is
    refused (a name that also points inside is not trusted for its other addresses)."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, ValueError):
        raise FetchError(Message(N_("the name %(host)s was not found"), host=host)) from None
    addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in found))
    if not is_allowed_host(host, port, allow) and any(is_refused(a) for a in addresses):
        raise Refused(refused_message())
    return addresses


def check_address(url: str, allow: frozenset[str]) -> None:
    """Refuse (``Refused``, ``FetchError``) an address the server may not fetch, as staff save
    it. A name that does not resolve now passes: each fetch checks again."""
    _scheme, host, port = _split(url)
    try:
        _resolve(host, port, allow)
    except Refused:
        raise
    except FetchError:
        pass


class _Deadline:
    """One deadline for the whole exchange: a socket still open when it passes is shut, which
    ends a read that a slow peer keeps alive one byte at a time."""

    def __init__(self, seconds: float):
        self.end = time.monotonic() + seconds
        self.seconds = seconds
        self.passed = False
        self._timers: list[threading.Timer] = []

    def error(self) -> FetchError:
        return FetchError(Message(N_("no full answer within %(seconds)s seconds"), seconds=round(self.seconds)))

    def remaining(self) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            self.passed = True
            raise self.error()
        return left

    def watch(self, sock: socket.socket) -> None:
        timer = threading.Timer(self.remaining(), self._cut, [sock])
        timer.daemon = True
        self._timers.append(timer)
        timer.start()

    def _cut(self, sock: socket.socket) -> None:
        self.passed = True
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def stop(self) -> None:
        for timer in self._timers:
            timer.cancel()


def _connect(addresses: list[IPAddress], port: int, deadline: _Deadline) -> socket.socket:
    """A connection to the first of the checked ``addresses`` that answers."""
    last: OSError | None = None
    for address in addresses:
        try:
            sock = socket.create_connection((str(address), port), timeout=min(CONNECT_TIMEOUT, deadline.remaining()))
        except OSError as e:
            last = e
            continue
        deadline.watch(sock)
        return sock
    raise last or OSError("no address")


class _PinnedHTTP(http.client.HTTPConnection):
    """An HTTP connection to an address checked beforehand; ``host`` stays the name."""

    def __init__(self, host: str, port: int, addresses: list[IPAddress], deadline: _Deadline):
        super().__init__(host, port, timeout=min(CONNECT_TIMEOUT, deadline.remaining()))
        self.addresses, self.deadline = addresses, deadline

    def connect(self) -> None:
        self.sock = _connect(self.addresses, self.port, self.deadline)


class _PinnedHTTPS(_PinnedHTTP):
    default_port = 443

    def connect(self) -> None:
        sock = _connect(self.addresses, self.port, self.deadline)
        self.sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self.host)


def fetch(url: str, *, allow: frozenset[str] = frozenset(), max_bytes: int, method: str = "GET",
          body: bytes | None = None, headers: dict[str, str] | None = None, deadline: float = DEADLINE,
          max_redirects: int = MAX_REDIRECTS) -> Answer:
    """Fetch ``url`` (following http(s) redirects, each hop checked) and return the answer,
    whatever its status; ``FetchError`` (``Refused``, ``TooLarge``) when it cannot."""
    clock = _Deadline(deadline)
    try:
        for _hop in range(max_redirects + 1):
            scheme, host, port = _split(url)
            addresses = _resolve(host, port, allow)
            answer = _exchange(scheme, host, port, addresses, url, method, body, headers or {}, max_bytes, clock)
            location = answer.headers.get("Location")
            if answer.status not in _REDIRECTS or not location:
                return answer
            url = urljoin(url, location.strip())
            if answer.status == 303 or (answer.status in (301, 302) and method == "POST"):
                method, body = "GET", None
        raise FetchError(Message(N_("more than %(n)s redirects"), n=max_redirects))
    finally:
        clock.stop()


def _exchange(scheme: str, host: str, port: int, addresses: list[IPAddress], url: str, method: str,
              body: bytes | None, headers: dict[str, str], max_bytes: int, clock: _Deadline) -> Answer:
    """One request and its answer (a redirect's body is not read)."""
    connection = (_PinnedHTTPS if scheme == "https" else _PinnedHTTP)(host, port, addresses, clock)
    parts = urlsplit(url)
    # As a browser sends it: spaces and non-ASCII letters percent-encoded, what is encoded kept.
    target = quote((parts.path or "/") + (f"?{parts.query}" if parts.query else ""), safe="/?&=%:@!$'()*+,;~[]")
    try:
        connection.request(method, target, body=body,
                           headers={"User-Agent": "mapapp", "Accept": "*/*", **headers, "Connection": "close"})
        response = connection.getresponse()
        if response.status in _REDIRECTS:
            return Answer(url, response.status, response.headers, b"")
        length = response.headers.get("Content-Length", "")
        if length.isdigit() and int(length) > max_bytes:
            raise TooLarge(Message(N_("larger than %(bytes)s bytes"), bytes=max_bytes))
        chunks, size = [], 0
        while chunk := response.read1(_CHUNK):
            chunks.append(chunk)
            size += len(chunk)
            if size > max_bytes:
                raise TooLarge(Message(N_("larger than %(bytes)s bytes"), bytes=max_bytes))
        if clock.passed:  # the socket was shut: what came is not all
            raise clock.error()
        if length.isdigit() and size < int(length):
            raise FetchError(Message(N_("the answer was cut short")))
        return Answer(url, response.status, response.headers, b"".join(chunks))
    except FetchError:
        raise
    except (http.client.HTTPException, OSError, ValueError) as e:
        if clock.passed:
            raise clock.error() from None
        if isinstance(e, http.client.HTTPException):
            raise FetchError(Message(N_("the server does not answer as a web server does"))) from None
        reason = (e.strerror if isinstance(e, OSError) else None) or type(e).__name__
        raise FetchError(Message(N_("no connection (%(reason)s)"), reason=reason)) from None
    finally:
        connection.close()
