"""Sends one webhook over HTTP(S): to the addresses the URL was checked against, with short timeouts, following
no redirect, reading at most the first bytes of the answer.

The worker checks the URL (domain/webhooks.check_url) right before each attempt and hands over the addresses it
resolved to; the connection goes to one of those, never to a fresh lookup of the name, so a DNS answer that
changes between the check and the connection (rebinding) cannot lead the request into our own network.
"""
from __future__ import annotations

import dataclasses
import http.client
import socket
import ssl
import time
from typing import Protocol

from services.deals.domain.webhooks import RESPONSE_EXCERPT_BYTES, Target


@dataclasses.dataclass(frozen=True)
class SendResult:
    status: int | None  # None when no HTTP answer came (refused, timed out, TLS failed)
    latency_ms: int
    error: str | None = None
    excerpt: str | None = None
    retry_after_s: float | None = None


class Sender(Protocol):
    def send(self, target: Target, headers: dict[str, str], body: str) -> SendResult: ...


def resolve(host: str, port: int) -> list[str]:
    """Every address the host name resolves to (IPv4 and IPv6), as getaddrinfo gives them."""
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: Target, address: str, timeout_s: float):
        super().__init__(target.host, target.port, timeout=timeout_s)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: Target, address: str, timeout_s: float, context: ssl.SSLContext):
        super().__init__(target.host, target.port, timeout=timeout_s, context=context)
        self._address = address
        self._context = context

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)  # certificate checked for the name


class HttpSender:
    def __init__(self, *, timeout_s: float = 10.0, context: ssl.SSLContext | None = None):
        self._timeout_s = timeout_s
        self._context = context or ssl.create_default_context()

    def send(self, target: Target, headers: dict[str, str], body: str) -> SendResult:
        started = time.monotonic()
        connection: http.client.HTTPConnection
        address = target.addresses[0]
        if target.scheme == "https":
            connection = _PinnedHTTPSConnection(target, address, self._timeout_s, self._context)
        else:
            connection = _PinnedHTTPConnection(target, address, self._timeout_s)
        try:
            connection.request("POST", target.path, body=body.encode(), headers=headers)
            response = connection.getresponse()
            excerpt = response.read(RESPONSE_EXCERPT_BYTES)  # the rest is never read
            return SendResult(status=response.status, latency_ms=_since(started),
                              excerpt=excerpt.decode("utf-8", errors="replace"),
                              retry_after_s=_retry_after(response.getheader("Retry-After")))
        except (OSError, http.client.HTTPException) as exc:
            kind = "timed out" if isinstance(exc, TimeoutError | socket.timeout) else type(exc).__name__
            return SendResult(status=None, latency_ms=_since(started), error=f"{kind}: {exc}"[:300])
        finally:
            connection.close()


def _since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _retry_after(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None  # an HTTP date: the reference schedule is used
