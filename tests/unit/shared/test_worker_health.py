"""Workers' probes: /healthz while the main loop comes round, /readyz while its passes succeed, /metrics."""
import json
import threading
import urllib.error
import urllib.request

from shared.bus import InMemoryBus, PublishFailed
from shared.consumer import EventConsumer
from shared.doorbell import ThreadDoorbell
from shared.events import CloudEvent
from shared.relay import OutboxRelay
from shared.worker_health import WorkerHealth, serve_health
from tests.unit.shared.messaging_fixtures import ExampleUnitOfWork, make_engine, outbox


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def get(server, path):
    url = f"http://127.0.0.1:{server.server_address[1]}{path}"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read(), response.headers["Content-Type"]
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers["Content-Type"]


def test_a_worker_is_alive_while_its_loop_comes_round_and_ready_while_its_passes_succeed():
    clock = FakeClock()
    health = WorkerHealth("deals-relay", stale_after_s=120, clock=clock)
    server = serve_health(health, 0, host="127.0.0.1")
    try:
        status, body, _ = get(server, "/healthz")
        assert status == 200, "still starting (an index rebuild may take minutes): alive, not yet ready"
        status, body, _ = get(server, "/readyz")
        assert status == 503 and json.loads(body)["passes"] == 0

        health.passed()
        assert get(server, "/readyz")[0] == 200 and get(server, "/healthz")[0] == 200

        clock.now += 30
        health.failed("OperationalError: connection refused")
        status, body, _ = get(server, "/readyz")
        assert status == 503 and json.loads(body)["last_error"] == "OperationalError: connection refused"
        assert get(server, "/healthz")[0] == 200, "an outage it retries through is no reason to restart it"

        clock.now += 121
        status, body, _ = get(server, "/healthz")
        assert status == 503 and json.loads(body)["seconds_since_last_pass"] == 121.0, "a loop that stopped"
        assert get(server, "/readyz")[0] == 503

        status, body, content_type = get(server, "/metrics")
        assert status == 200 and content_type.startswith("text/plain") and b"# HELP" in body
        assert get(server, "/nothing")[0] == 404
    finally:
        server.shutdown()
        server.server_close()


def test_the_relay_and_the_consumer_report_each_pass_and_each_failure(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'db'}")
    bus = InMemoryBus()

    class BrokenPublisher:
        def publish(self, messages):
            raise PublishFailed("broker away")

        def close(self):
            pass

    relay_health = WorkerHealth("relay")
    relay = OutboxRelay(engine, outbox, BrokenPublisher)
    with ExampleUnitOfWork(engine) as uow:  # a row to publish, which the broken broker refuses
        uow.record("topic.a", CloudEvent(type="thing.happened", source="/test", subject="one", data={}))
        uow.commit()
    stop = threading.Event()
    doorbell = ThreadDoorbell()
    thread = threading.Thread(target=relay.run, args=(doorbell.listener(), stop, relay_health), daemon=True)
    thread.start()
    for _ in range(200):
        if relay_health.readiness()[1]["passes"]:
            break
        stop.wait(0.01)
    stop.set()
    doorbell.ring()
    thread.join(5)
    ready, state = relay_health.readiness()
    assert not ready and "broker away" in state["last_error"]

    consumer_health = WorkerHealth("consumer")
    consumer = EventConsumer(subscription=bus.subscribe(["topic.a"], "g"),
                             uow_factory=lambda: ExampleUnitOfWork(engine),
                             handlers={}, dlq_publisher_factory=bus.publisher, service="test")
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop, consumer_health), daemon=True)
    thread.start()
    for _ in range(200):
        if consumer_health.readiness()[0]:
            break
        stop.wait(0.01)
    stop.set()
    thread.join(5)
    assert consumer_health.readiness()[0] and consumer_health.liveness()[0]
