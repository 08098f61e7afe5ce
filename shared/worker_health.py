"""What a worker's probes ask: /healthz, /readyz and /metrics on DEALGATE_WORKER_HEALTH_PORT (0: none).

The APIs answer these on their own port; a relay or a consumer serves no HTTP, so without this an orchestrator
could only see whether its process runs, not whether it is stuck. Each worker's main loop reports every pass:

- `/healthz` (liveness) answers 200 while a pass, good or bad, finished within `stale_after_s`, and while the
  worker is still starting (a consumer rebuilding the match index of a million registrations takes minutes). A
  loop that stopped coming round (a hung call, a deadlock) answers 503, and the orchestrator restarts it.
- `/readyz` answers 200 once the worker has started and its last pass succeeded, 503 with the last error while
  its database or broker is away (restarting it would not help: the loop retries by itself).
- `/metrics` is the process's Prometheus registry: what it published, consumed and dead-lettered.

The server is the standard library's, in a daemon thread: three small GET handlers need no framework, and it
listens on all interfaces because a probe comes from the node, not from inside the container.
"""
from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import structlog

from shared.metrics import render_latest

log = structlog.get_logger(__name__)


class WorkerHealth:
    """A worker loop's last pass: when it finished and whether it succeeded. Thread-safe."""

    def __init__(self, worker: str, *, stale_after_s: float = 120.0, clock: Callable[[], float] = time.monotonic):
        self.worker = worker
        self._stale_after_s = stale_after_s
        self._clock = clock
        self._lock = threading.Lock()
        self._started_at = clock()
        self._last_pass_at: float | None = None
        self._last_ok = False
        self._last_error: str | None = None
        self._passes = 0

    def passed(self) -> None:
        with self._lock:
            self._last_pass_at, self._last_ok, self._last_error = self._clock(), True, None
            self._passes += 1

    def failed(self, error: str) -> None:
        with self._lock:
            self._last_pass_at, self._last_ok, self._last_error = self._clock(), False, error[:300]
            self._passes += 1

    def _state(self) -> dict[str, Any]:
        now = self._clock()
        state: dict[str, Any] = {"worker": self.worker, "passes": self._passes, "last_pass_ok": self._last_ok,
                 "last_error": self._last_error, "stale_after_s": self._stale_after_s}
        if self._last_pass_at is None:
            return {**state, "starting_for_s": round(now - self._started_at, 1)}
        return {**state, "seconds_since_last_pass": round(now - self._last_pass_at, 1)}

    def liveness(self) -> tuple[bool, dict[str, Any]]:
        """Alive while the loop comes round, and while it has not begun yet (it is then not ready)."""
        with self._lock:
            state = self._state()
        return state.get("seconds_since_last_pass", 0.0) <= self._stale_after_s, state

    def readiness(self) -> tuple[bool, dict[str, Any]]:
        with self._lock:
            state = self._state()
        ready = state["last_pass_ok"] and state.get("seconds_since_last_pass", 0.0) <= self._stale_after_s
        return ready, state


def serve_health(health: WorkerHealth, port: int,
                 host: str = "0.0.0.0") -> http.server.ThreadingHTTPServer:  # noqa: S104 - probes come from the node
    """Serve `health` on `port` (0: any free one; the server's server_address says which) until the process ends."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the standard library's name
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                body, content_type = render_latest()
                self._answer(200, body, content_type)
            elif path in ("/healthz", "/readyz"):
                ok, state = health.liveness() if path == "/healthz" else health.readiness()
                self._answer(200 if ok else 503, json.dumps({"status": "ok" if ok else "unavailable", **state})
                             .encode(), "application/json")
            else:
                self._answer(404, b'{"status": "not found"}', "application/json")

        def _answer(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - probes every few seconds: quiet
            pass

    server = http.server.ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="worker-health", daemon=True).start()
    log.info("worker.health_serving", worker=health.worker, port=server.server_address[1])
    return server
