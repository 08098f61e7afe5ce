"""Doorbells: a best-effort "something was committed" hint from the processes that write the outbox to its relay."""
from __future__ import annotations

import contextlib
import os
import select
import socket
import threading
from typing import Protocol


class Doorbell(Protocol):
    def ring(self) -> None: ...


class UdpDoorbell:
    """A best-effort "something was committed" hint from API processes to the relay process.

    The outbox table stays the source of truth; a lost datagram only means the relay's fallback poll picks the
    row up a little later. This works the same on SQLite and PostgreSQL and costs one sendto per commit.
    """

    def __init__(self, address: tuple[str, int]):
        self.address = address
        self._sender: socket.socket | None = None
        self._pid: int | None = None

    def ring(self) -> None:
        if self._sender is None or self._pid != os.getpid():  # never share a socket across a fork
            self._sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self._sender.setblocking(False)
            self._pid = os.getpid()
        with contextlib.suppress(OSError):  # a lost hint only delays the relay until its fallback poll
            self._sender.sendto(b"!", self.address)

    def listener(self) -> UdpDoorbellListener:
        return UdpDoorbellListener(self.address)


class UdpDoorbellListener:
    def __init__(self, address: tuple[str, int]):
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(address)
        self._socket.setblocking(False)

    def wait(self, timeout_s: float) -> None:
        readable, _, _ = select.select([self._socket], [], [], timeout_s)
        if readable:
            with contextlib.suppress(BlockingIOError):
                while True:
                    self._socket.recv(64)

    def close(self) -> None:
        self._socket.close()


class ThreadDoorbell:
    """In-process doorbell for tests that run the relay in a thread."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def ring(self) -> None:
        self._event.set()

    def listener(self) -> ThreadDoorbell:
        return self

    def wait(self, timeout_s: float) -> None:
        self._event.wait(timeout_s)
        self._event.clear()

    def close(self) -> None:
        pass


class NullDoorbell:
    def ring(self) -> None:
        pass
