"""`make chaos`: registrations at a steady rate while a schedule kills the broker, relays and consumers,
restarts PostgreSQL and forces a consumer-group rebalance; then it proves nothing was lost or duplicated.

python -m bench.chaos [--count 10000] [--rate 40] [--rounds 2] [--brokers 3] [--kafka-security sasl_ssl]

With --brokers 3 (make chaos BROKERS=3) the stack runs on a three-broker quorum (topics replicated 3, min ISR 2)
with two of every relay and consumer, and the schedule SIGKILLs the broker leading the most partitions (--rounds
times, at least 3; each comes back once the other two carry on), one replica of each relay and consumer, and
PostgreSQL once. Recovery after a broker kill is then the time until a registration submitted after the kill has
its verdict; the deals API's availability is the share of submissions (one per idempotency key, however many
retries it took) that got their 201 within AVAILABILITY_BUDGET_S.

The same input also runs without faults, and the two sets of cases must be equal. The report goes to
bench/results/chaos.json; the last line printed is `chaos: N acknowledged, lost L, duplicated D`.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import dataclasses
import datetime as dt
import json
import os
import random
import signal
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import requests

from bench.common import BENCH_DIR, BENCH_PORTS, bearer, progress
from deploy.postgres import LocalPostgres
from deploy.stack import SERVICES, Ports, Stack
from shared.topics import CONFLICT_CASES

RELAYS = tuple(f"{service}-relay" for service, workers in SERVICES.items() if "relay" in workers)
# every process that reads a topic in a consumer group (deals' webhooks worker too)
CONSUMERS = tuple(f"{service}-{worker}" for service, workers in SERVICES.items() for worker in workers
                  if worker in ("consume", "webhooks"))
RESULTS = Path(__file__).resolve().parent / "results" / "chaos.json"
# A submission counts as served when its 201 came within this long of its first attempt (a client retrying with the
# same Idempotency-Key, honouring Retry-After, as a partner's integration would; 30 s is the usual client timeout).
AVAILABILITY_BUDGET_S = 30.0


@dataclasses.dataclass(frozen=True)
class PlannedRegistration:
    index: int
    partner: str
    customer: dict
    product_slot: int


def plan(count: int, seed: int = 11, overlap_share: float = 0.25) -> list[PlannedRegistration]:
    """Deterministic input: most customers are unique; a share come back from other partners (a clique)."""
    rng = random.Random(seed)
    partners = [f"chaos-partner-{i}" for i in range(12)]
    planned: list[PlannedRegistration] = []
    groups: list[dict] = []
    for index in range(count):
        if groups and rng.random() < overlap_share:
            group = rng.choice(groups)
            free = [p for p in partners if p not in group["partners"]]
            if free:
                partner = rng.choice(free)
                group["partners"].append(partner)
                planned.append(PlannedRegistration(index, partner, group["customer"], group["slot"]))
                continue
        # A distinct registrable domain per customer: subdomains of one domain would (rightly) match.
        tag = uuid.UUID(int=rng.getrandbits(128)).hex[:12]
        customer = {"name": f"{tag[:6].capitalize()} {tag[6:].capitalize()} Holdings", "domain": f"c{tag}.com",
                    "country": rng.choice(["DE", "GB", "FR", "US", "NL"])}
        group = {"customer": customer, "partners": [rng.choice(partners)], "slot": rng.randrange(3)}
        groups.append(group)
        planned.append(PlannedRegistration(index, group["partners"][0], customer, group["slot"]))
    return planned


@contextlib.contextmanager
def chaos_stack(label: str, ports: Ports, base_dir: Path, pg_port: int, *, brokers: int = 1,
                kafka_security: str = "plaintext"):
    cluster = LocalPostgres(base_dir / "postgres", port=pg_port).start()
    run = f"{label}_{uuid.uuid4().hex[:6]}"
    env = {f"{s.upper()}_DATABASE_URL": cluster.create_database(f"chaos_{s}_{run}")
           for s in ("catalog", "deals", "conflict")}
    stack = Stack(var_dir=base_dir / f"stack-{run}", ports=ports, env=env, brokers=brokers,
                  kafka_security=kafka_security)
    try:
        stack.up(progress=progress)
        if brokers > 1:  # every process replicated: a second of each relay and consumer beside the first
            for name in RELAYS + CONSUMERS:
                service, worker = name.split("-", 1)
                stack.start_worker(service, worker, name=f"{name}-b")
        yield stack, cluster
    finally:
        stack.down(progress=progress)
        for service in ("catalog", "deals", "conflict"):
            with contextlib.suppress(Exception):
                cluster.drop_database(f"chaos_{service}_{run}")


class Submitter:
    """Sends the planned registrations at a steady rate; retries each with its Idempotency-Key until a 201."""

    def __init__(self, stack: Stack, products: list[str], rate: float):
        self.stack, self.products, self.rate = stack, products, rate
        self.acknowledged: dict[int, str] = {}
        self.waited_s: dict[int, float] = {}  # per submission: from its first attempt to its 201
        self.first_status: dict[int, int] = {}  # 0: no answer (connection refused, timeout)
        self.lock = threading.Lock()
        self.tokens: dict[str, dict[str, str]] = {}
        self.local = threading.local()
        self.close = (dt.date.today() + dt.timedelta(days=60)).isoformat()

    def _token(self, partner: str) -> dict:
        if partner not in self.tokens:
            self.tokens[partner] = bearer("partner", partner_id=partner)
        return self.tokens[partner]

    def submit(self, item: PlannedRegistration) -> None:
        session = getattr(self.local, "session", None) or requests.Session()
        self.local.session = session
        body = {"customer": item.customer, "products": [self.products[item.product_slot]],
                "amount": {"amount": "1000.00", "currency": "USD"}, "expected_close": self.close}
        headers = {**self._token(item.partner), "Idempotency-Key": f"chaos-{item.index}-{id(self)}"}
        first_attempt = time.monotonic()
        deadline = first_attempt + 300
        while time.monotonic() < deadline:
            try:
                # a slow answer is waited for rather than abandoned and sent again: retries would only add load
                response = session.post(self.stack.url("deals") + "/v1/deals", json=body, headers=headers, timeout=30)
                self.first_status.setdefault(item.index, response.status_code)
                if response.status_code == 201:
                    with self.lock:
                        self.acknowledged[item.index] = response.json()["id"]
                        self.waited_s[item.index] = time.monotonic() - first_attempt
                    return
                if response.status_code in (409, 429, 500, 502, 503):
                    time.sleep(float(response.headers.get("Retry-After", "0.2")))
                    continue
                raise RuntimeError(f"unexpected {response.status_code}: {response.text[:300]}")
            except requests.RequestException:
                self.first_status.setdefault(item.index, 0)
                time.sleep(0.2)
        raise RuntimeError(f"registration {item.index} was never acknowledged")

    def availability(self, submitted: int) -> dict:
        """The share of submissions (idempotency keys) served within AVAILABILITY_BUDGET_S, and at the first try."""
        served = sum(1 for waited in self.waited_s.values() if waited <= AVAILABILITY_BUDGET_S)
        first_try = sum(1 for status in self.first_status.values() if status == 201)
        refusals: dict[str, int] = {}
        for status in self.first_status.values():
            if status != 201:
                refusals[str(status or "no answer")] = refusals.get(str(status or "no answer"), 0) + 1
        return {"api_availability": round(served / submitted, 5) if submitted else None,
                "api_first_try_201_share": round(first_try / submitted, 5) if submitted else None,
                "api_first_try_refusals": refusals,
                "api_slowest_acknowledgement_s": round(max(self.waited_s.values(), default=0.0), 2)}

    def run(self, planned: list[PlannedRegistration], on_tick=None) -> None:
        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(max_workers=48) as pool:
            futures = []
            for item in planned:
                delay = started + item.index / self.rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                futures.append(pool.submit(self.submit, item))
                if on_tick and item.index % max(1, int(self.rate)) == 0:
                    on_tick(item.index, time.monotonic() - started)
            for future in futures:
                future.result()


def publish_products(stack: Stack, count: int = 3) -> list[str]:
    admin = bearer("admin")
    ids = []
    for index in range(count):
        listing = requests.post(stack.url("catalog") + "/v1/listings", headers=admin, json={
            "title": f"Chaos Product {index}", "summary": "chaos", "vendor": "Dealgate", "category": "chaos",
            "tags": [], "offers": [{"name": "Std", "channels": ["reseller", "distributor", "msp"],
                                    "regions": ["NA", "EMEA", "APAC", "LATAM"],
                                    "pricing": {"model": "flat", "price": {"amount": "1.00", "currency": "USD"}}}]},
            timeout=30)
        listing.raise_for_status()
        requests.post(stack.url("catalog") + f"/v1/listings/{listing.json()['id']}/publish",
                      headers=admin, timeout=30).raise_for_status()
        ids.append(listing.json()["id"])
    return ids


class FaultSchedule(threading.Thread):
    """Runs (at_fraction, action) steps against the stack while the submitter runs."""

    def __init__(self, stack: Stack, cluster: LocalPostgres, duration_s: float, rounds: int, submitter,
                 plan: str = "single"):
        super().__init__(daemon=True)
        self.stack, self.cluster, self.duration_s, self.submitter = stack, cluster, duration_s, submitter
        self.log: list[str] = []
        self.recoveries: list[float] = []
        self.watchers: list[threading.Thread] = []
        self.failed: Exception | None = None
        self.probes: list[str] = []  # registrations the recovery probes submitted (not part of the planned input)
        self.verdict_recoveries: list[float] = []
        self.partition_probe = PartitionProbe(stack) if plan in ("cluster", "leader") else None
        if plan == "cluster":  # three brokers: leader kills, one replica of each worker, PostgreSQL once
            kills = max(3, rounds)
            steps = [((k + 0.5) / (kills + 0.5) * 0.85, self.kill_leader) for k in range(kills)]
            steps += [(0.30 / (kills / 3), self.kill_worker_replicas), (0.62, self.restart_postgres)]
            self.steps = sorted(steps, key=lambda step: step[0])
            return
        if plan == "leader":  # the short run in make test: one partition-leader kill
            self.steps = [(0.3, self.kill_leader)]
            return
        steps = []
        for r in range(rounds):
            base = r / rounds
            span = 1 / rounds
            steps += [(base + 0.10 * span, self.kill_broker), (base + 0.30 * span, self.kill_workers)]
        steps += [(0.45, self.restart_postgres), (0.55, self.add_consumers), (0.70, self.remove_consumers)]
        self.steps = sorted(steps, key=lambda step: step[0])

    def note(self, text: str) -> None:
        self.log.append(text)
        progress(f"fault: {text}")

    def kill_broker(self) -> None:
        self.stack.kafka.kill()
        self.note("SIGKILL Kafka broker")
        time.sleep(3)
        self.stack.kafka.start()
        self.note("Kafka broker back")
        # Recovery: from the broker's return until everything acknowledged so far has its verdict.
        with self.submitter.lock:
            backlog = set(self.submitter.acknowledged.values())
        watcher = threading.Thread(target=lambda: self.recoveries.append(
            round(wait_for_verdicts(self.stack, backlog, timeout_s=300), 1)), daemon=True)
        watcher.start()
        self.watchers.append(watcher)

    def kill_workers(self) -> None:
        for name in RELAYS + CONSUMERS:
            self.stack.kill(name, signal.SIGKILL)
        self.note("SIGKILL every relay and consumer")
        time.sleep(1)
        for name in RELAYS + CONSUMERS:
            service, worker = name.split("-", 1)
            self.stack.start_worker(service, worker)
        self.note("relays and consumers restarted")

    def kill_leader(self) -> None:
        """SIGKILL the broker that leads the most partitions; the other two take over its partitions.

        Recovery (`recoveries`) is the time from the kill until every partition answers a client again: a message
        produced to each partition of a probe topic (replicated like Dealgate's, acks=all, the relays' producer
        settings) and read back. Separately (`verdict_recoveries`), the time until a registration submitted after
        the kill has its verdict, which also waits for whatever backlog is ahead of it. The broker comes back once
        the first is measured; the next kill waits until every replica is in sync again."""
        kafka = self.stack.kafka
        kafka.wait_in_sync(timeout_s=120)
        for attempt in range(5):  # right after a restart the cluster may not answer at once
            try:
                counts = kafka.leader_counts()
                break
            except Exception:  # noqa: BLE001 - asked again; the fifth failure is the run's
                if attempt == 4:
                    raise
                time.sleep(2)
        leader = max(counts, key=lambda node: counts[node])
        killed_at = time.monotonic()
        kafka.kill_node(leader)
        self.note(f"SIGKILL Kafka broker {leader}, leading {counts[leader]} partitions (leaders: {counts})")
        watcher = threading.Thread(target=lambda: self.verdict_recoveries.append(
            round(self.probe_recovery(killed_at), 1)), daemon=True)
        watcher.start()
        self.watchers.append(watcher)
        probe = self.partition_probe or PartitionProbe(self.stack)
        recovery = probe.until_every_partition_answers(killed_at)
        self.recoveries.append(round(recovery, 1))
        self.note(f"every partition answered again {recovery:.1f}s after the kill")
        kafka.start_node(leader)
        self.note(f"Kafka broker {leader} back {time.monotonic() - killed_at:.1f}s after the kill")

    def probe_recovery(self, since: float, timeout_s: float = 120.0) -> float:
        """Submit a fresh registration (a customer no one else has) every half second until one has its verdict;
        the seconds from `since` to then."""
        url = self.stack.url("deals")
        partner = bearer("partner", partner_id="chaos-probe")
        session = requests.Session()
        pending: list[str] = []
        close = (dt.date.today() + dt.timedelta(days=60)).isoformat()
        last_submit = 0.0
        while time.monotonic() - since < timeout_s:
            if time.monotonic() - last_submit >= 0.5:
                last_submit = time.monotonic()
                tag = uuid.uuid4().hex[:12]
                body = {"customer": {"name": f"Probe {tag} Instruments", "domain": f"probe-{tag}.org",
                                     "country": "SE"},
                        "products": [self.submitter.products[0]], "amount": {"amount": "1.00", "currency": "USD"},
                        "expected_close": close}
                with contextlib.suppress(requests.RequestException, ValueError, KeyError):
                    response = session.post(url + "/v1/deals", json=body, timeout=5,
                                            headers={**partner, "Idempotency-Key": f"probe-{tag}"})
                    if response.status_code == 201:
                        pending.append(response.json()["id"])
                        self.probes.append(pending[-1])
            for deal_id in list(pending):
                with contextlib.suppress(requests.RequestException, ValueError, KeyError):
                    deal = session.get(f"{url}/v1/deals/{deal_id}", headers=partner, timeout=5).json()
                    if deal["status"] != "submitted":
                        return time.monotonic() - since
            time.sleep(0.05)
        raise TimeoutError(f"no registration had its verdict within {timeout_s:.0f}s of the broker kill")

    def kill_worker_replicas(self) -> None:
        """SIGKILL one of the two replicas of each relay and consumer; the other goes on (a relay takes over the
        outbox, a consumer gets the partitions after a rebalance); the killed one is started again."""
        for name in RELAYS + CONSUMERS:
            self.stack.kill(name, signal.SIGKILL)
        self.note(f"SIGKILL one replica of each relay and consumer ({', '.join(RELAYS + CONSUMERS)})")
        time.sleep(2)
        for name in RELAYS + CONSUMERS:
            service, worker = name.split("-", 1)
            self.stack.start_worker(service, worker)
        self.note("the killed replicas restarted")

    def restart_postgres(self) -> None:
        self.cluster.restart()
        self.note("PostgreSQL restarted")

    def add_consumers(self) -> None:
        for service in ("deals", "conflict"):
            self.stack.start_worker(service, "consume", name=f"{service}-consume-extra")
        self.note("added a second consumer to each group (rebalance)")

    def remove_consumers(self) -> None:
        for service in ("deals", "conflict"):
            self.stack.kill(f"{service}-consume-extra", signal.SIGTERM)
        self.note("removed the second consumers (rebalance)")

    def run(self) -> None:
        started = time.monotonic()
        try:
            for fraction, action in self.steps:
                delay = started + fraction * self.duration_s - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                action()
        except Exception as exc:  # noqa: BLE001 - reported by the caller
            self.failed = exc


class PartitionProbe:
    """A topic of its own, replicated like Dealgate's, written and read with the relays' producer settings."""

    TOPIC = "chaos.probe.v1"
    PARTITIONS = 6
    # How long one round waits before the next begins: the resolution of the measured recovery.
    ROUND_TIMEOUT_S = 1.0

    def __init__(self, stack: Stack):
        from shared.bus import KafkaBus
        from shared.topics import TopicSpec

        kafka = stack.kafka
        self.bootstrap, self.security = kafka.bootstrap_servers, kafka.client_security()
        KafkaBus(self.bootstrap, client_id="chaos-probe", security=self.security,
                 replication_factor=kafka.replication_factor,
                 min_insync_replicas=kafka.min_insync_replicas).ensure_topics([TopicSpec(self.TOPIC, self.PARTITIONS)])

        self.producer: Any = None
        self.consumer: Any = None
        self.healthy_round_s = self._timed_round()  # what one round costs with every broker up (the floor)

    def _clients(self) -> tuple[Any, Any]:
        """Long-lived clients, as a relay and a consumer keep theirs; replaced after a failure (a broken idempotent
        producer cannot go on), as the relay replaces its own."""
        from kafka import KafkaConsumer, KafkaProducer, TopicPartition

        options = self.security.client_options()
        if self.producer is None:
            self.producer = KafkaProducer(bootstrap_servers=self.bootstrap, acks="all", enable_idempotence=True,
                                          linger_ms=1, max_block_ms=10_000, request_timeout_ms=10_000,
                                          delivery_timeout_ms=30_000, reconnect_backoff_max_ms=2_000, **options)
        if self.consumer is None:
            self.consumer = KafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False,
                                          fetch_max_wait_ms=50, reconnect_backoff_max_ms=2_000, **options)
            self.consumer.assign([TopicPartition(self.TOPIC, p) for p in range(self.PARTITIONS)])
            self.consumer.seek_to_end()
        return self.producer, self.consumer

    def _round(self, timeout_s: float) -> bool:
        """One message to each partition (acks=all) and each read back, within `timeout_s`."""
        producer, consumer = self._clients()
        marker = uuid.uuid4().hex.encode()
        futures = [producer.send(self.TOPIC, value=marker, partition=p) for p in range(self.PARTITIONS)]
        deadline = time.monotonic() + timeout_s
        for future in futures:
            future.get(timeout=max(0.1, deadline - time.monotonic()))
        seen: set[int] = set()
        while len(seen) < self.PARTITIONS and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=100).values():
                seen |= {r.partition for r in records if r.value == marker}
        return len(seen) == self.PARTITIONS

    def _timed_round(self) -> float:
        started = time.monotonic()
        self.until_every_partition_answers(started)
        return round(time.monotonic() - started, 2)

    def until_every_partition_answers(self, since: float, timeout_s: float = 120.0) -> float:
        """Rounds of ROUND_TIMEOUT_S until one passes. A round that only ran out of time keeps its clients: their
        sends are still being retried (the producer refreshes the leaders itself), and fresh clients would first
        spend a metadata round trip of their own, which the measured recovery would wrongly include."""
        from kafka.errors import KafkaTimeoutError

        while time.monotonic() - since < timeout_s:
            try:
                if self._round(timeout_s=self.ROUND_TIMEOUT_S):
                    return time.monotonic() - since
            except KafkaTimeoutError:
                pass
            except Exception:  # noqa: BLE001 - a client that gave up on a send cannot go on: fresh clients, again
                self.close()
            time.sleep(0.05)
        raise TimeoutError(f"some partition still did not answer {timeout_s:.0f}s after the broker kill")

    def close(self) -> None:
        with contextlib.suppress(Exception):
            if self.producer is not None:
                self.producer.close(timeout=1)
        with contextlib.suppress(Exception):
            if self.consumer is not None:
                self.consumer.close()
        self.producer = self.consumer = None


def wait_for_verdicts(stack: Stack, deal_ids: set[str], timeout_s: float) -> float:
    """Seconds until none of `deal_ids` is still waiting for its verdict."""
    desk = bearer("desk")
    started = time.monotonic()
    session = requests.Session()
    while time.monotonic() - started < timeout_s:
        waiting: set[str] = set()
        cursor: str | None = None
        try:
            while True:
                params: dict[str, str | int] = {"status": "submitted", "limit": 200,
                                                **({"cursor": cursor} if cursor else {})}
                page = session.get(stack.url("deals") + "/v1/deals", headers=desk, params=params, timeout=10).json()
                waiting |= {d["id"] for d in page["items"]}
                cursor = page.get("next_cursor")
                if not cursor:
                    break
        except (requests.RequestException, ValueError, KeyError):
            time.sleep(0.5)
            continue
        if not (waiting & deal_ids):
            return time.monotonic() - started
        time.sleep(0.25)
    raise TimeoutError(f"verdicts still missing after {timeout_s:.0f}s")


def collect_outcome(stack: Stack, acknowledged: dict[int, str]) -> dict:
    """What really happened: each deal's history, every case, and every verdict event on Kafka."""
    from tests.kafka_helpers import read_all

    desk = bearer("desk")
    session = requests.Session()
    by_id = {deal_id: index for index, deal_id in acknowledged.items()}
    histories = {index: None for index in acknowledged}
    cursor = None
    while True:  # the desk sees every registration; pages carry each one's history
        params = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        response = session.get(stack.url("deals") + "/v1/deals", headers=desk, params=params, timeout=30)
        if response.status_code == 429:
            time.sleep(float(response.headers.get("Retry-After", "1")))
            continue
        response.raise_for_status()
        page = response.json()
        for deal in page["items"]:
            if deal["id"] in by_id:
                histories[by_id[deal["id"]]] = deal
        cursor = page.get("next_cursor")
        if not cursor:
            break
    cases, cursor = [], None
    while True:
        params = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        page = session.get(stack.url("conflict") + "/v1/cases", headers=desk, params=params, timeout=10).json()
        cases += page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    # Count distinct event ids: a relay killed between publishing and marking publishes the same event
    # again (at-least-once; consumers drop the copy). Two *different* events would be a real duplicate.
    cleared_ids: dict[str, set[str]] = {}
    opened_ids: dict[str, set[str]] = {}
    for record in read_all(stack.kafka.bootstrap_servers, CONFLICT_CASES, security=stack.kafka.client_security()):
        event = json.loads(record.value)
        if event["type"] == "registration.cleared":
            cleared_ids.setdefault(event["subject"], set()).add(event["id"])
        elif event["type"] == "case.opened":
            opened_ids.setdefault(event["subject"], set()).add(event["id"])
    cleared = {subject: len(ids) for subject, ids in cleared_ids.items()}
    opened = {subject: len(ids) for subject, ids in opened_ids.items()}
    return {"histories": histories, "cases": cases, "cleared": cleared, "opened": opened}


def check(acknowledged: dict[int, str], outcome: dict) -> dict:
    by_deal = {deal_id: index for index, deal_id in acknowledged.items()}
    lost = [i for i, deal in outcome["histories"].items() if deal is None]
    undecided = [i for i, deal in outcome["histories"].items() if deal and deal["status"] == "submitted"]
    # A registration's history is `submitted` then exactly one verdict: a second entry means an event
    # was applied twice.
    applied_twice = [i for i, deal in outcome["histories"].items() if deal and len(deal["history"]) != 2]
    membership: dict[str, list[str]] = {}
    for case in outcome["cases"]:
        for member in case["registrations"]:
            membership.setdefault(member["deal_id"], []).append(case["id"])
    in_two_cases = [d for d, c in membership.items() if len(c) > 1]
    duplicate_members = [c["id"] for c in outcome["cases"]
                         if len({m["deal_id"] for m in c["registrations"]}) != len(c["registrations"])]
    cleared_twice = [d for d, n in outcome["cleared"].items() if n > 1]
    # (A registration cleared first and later joined by a rival's case has still had one verdict of its own;
    # its history, checked above, shows that.)
    no_verdict = [by_deal[d] for d in by_deal if d not in outcome["cleared"] and d not in membership]
    opened_twice = [c for c, n in outcome["opened"].items() if n > 1]
    partition = sorted(sorted(by_deal[m["deal_id"]] for m in c["registrations"] if m["deal_id"] in by_deal)
                       for c in outcome["cases"])
    lost_count = len(lost) + len(undecided) + len(no_verdict)
    duplicated = len(applied_twice) + len(in_two_cases) + len(duplicate_members) + len(cleared_twice) \
        + len(opened_twice)
    return {"acknowledged": len(acknowledged), "lost": lost_count, "duplicated": duplicated, "partition": partition,
            "details": {"missing": lost, "undecided": undecided, "without_verdict": no_verdict,
                        "history_not_one_verdict": applied_twice, "deal_in_two_cases": in_two_cases,
                        "case_with_repeated_member": duplicate_members, "cleared_twice": cleared_twice,
                        "case_opened_twice": opened_twice}}


def run_once(label: str, planned, rate: float, *, faults: bool, rounds: int, ports: Ports, base_dir: Path,
             pg_port: int, brokers: int = 1, kafka_security: str = "plaintext",
             schedule_plan: str | None = None) -> dict:
    with chaos_stack(label, ports, base_dir, pg_port, brokers=brokers, kafka_security=kafka_security) \
            as (stack, cluster):
        products = publish_products(stack)
        time.sleep(2)  # let deals' read model see the listings before the clock starts
        submitter = Submitter(stack, products, rate)
        schedule_plan = schedule_plan or ("cluster" if brokers > 1 else "single")
        schedule = FaultSchedule(stack, cluster, len(planned) / rate, rounds, submitter, plan=schedule_plan) \
            if faults else None
        if schedule:
            schedule.start()
        submitter.run(planned, on_tick=lambda i, t: progress(f"[{label}] {i}/{len(planned)} sent after {t:.0f}s")
                      if i % (int(rate) * 10) == 0 else None)
        if schedule:
            schedule.join()
            if schedule.failed:
                raise schedule.failed
        progress(f"[{label}] all {len(submitter.acknowledged)} acknowledged; waiting for the backlog to drain")
        drain_s = wait_for_verdicts(stack, set(submitter.acknowledged.values()), timeout_s=300)
        for watcher in (schedule.watchers if schedule else []):
            watcher.join(timeout=300)
        recovery_s = max(schedule.recoveries) if schedule and schedule.recoveries else None
        result = check(submitter.acknowledged, collect_outcome(stack, submitter.acknowledged))
        result.update(submitter.availability(len(planned)))
        result["fault_log"] = schedule.log if schedule else []
        result["recovery_s"] = recovery_s
        result["recoveries_s"] = schedule.recoveries if schedule else []
        result["verdict_recoveries_s"] = schedule.verdict_recoveries if schedule else []
        probe = schedule.partition_probe if schedule else None
        result["probe_healthy_round_s"] = probe.healthy_round_s if probe else None
        result["load_average_1m_at_end"] = round(os.getloadavg()[0], 1)  # the machine's other work, for context
        result["drain_after_last_submission_s"] = round(drain_s, 1)
        result["recovery_probes"] = len(schedule.probes) if schedule else 0
        return result


def run_chaos(count: int, rate: float, *, rounds: int = 2, ports: Ports = BENCH_PORTS,
              base_dir: Path = BENCH_DIR / "chaos", pg_port: int = 21902, brokers: int = 1,
              kafka_security: str = "plaintext", compare: bool = True, schedule_plan: str | None = None) -> dict:
    """The faulty run, then (compare) the same input without faults on the same shape of cluster."""
    planned = plan(count)
    progress(f"chaos: {count} registrations at {rate:.0f}/s on {brokers} broker(s) ({kafka_security}), "
             f"{rounds} round(s) of faults")
    cluster = LocalPostgres(base_dir / "postgres", port=pg_port)
    was_running = cluster.is_running()
    try:
        faulty = run_once("faults", planned, rate, faults=True, rounds=rounds, ports=ports, base_dir=base_dir,
                          pg_port=pg_port, schedule_plan=schedule_plan, brokers=brokers,
                          kafka_security=kafka_security)
        if compare:
            progress("fault-free run of the same input, for comparison")
            clean = run_once("clean", planned, rate * 2, faults=False, rounds=0, ports=ports, base_dir=base_dir,
                             pg_port=pg_port, brokers=brokers, kafka_security=kafka_security)
    finally:
        if not was_running:  # the cluster both runs shared is ours to stop, not to leave behind
            cluster.stop()
    faulty["cases"] = len(faulty["partition"])
    faulty["cases_equal_fault_free"] = faulty["partition"] == clean["partition"] if compare else None
    faulty["fault_free_cases"] = len(clean["partition"]) if compare else None
    faulty["brokers"] = brokers
    faulty["replication_factor"] = min(3, brokers)
    faulty["min_insync_replicas"] = 2 if brokers >= 3 else 1
    faulty["kafka_security"] = kafka_security
    return faulty


def report_json(report: dict, *, count: int, rate: float) -> dict:
    """What bench/results/chaos.json keeps: the figures, not the full case partition."""
    keep = ("brokers", "replication_factor", "min_insync_replicas", "kafka_security", "acknowledged", "lost",
            "duplicated", "cases", "api_availability", "api_first_try_201_share", "api_first_try_refusals",
            "api_slowest_acknowledgement_s", "recoveries_s", "verdict_recoveries_s", "drain_after_last_submission_s",
            "recovery_probes", "probe_healthy_round_s", "load_average_1m_at_end",
            "fault_log")
    return {"registrations": count, "rate_per_s": rate, **{k: report.get(k) for k in keep},
            "cases_fault_free": report["fault_free_cases"], "cases_equal_fault_free": report["cases_equal_fault_free"],
            "max_recovery_s": report["recovery_s"], "availability_budget_s": AVAILABILITY_BUDGET_S,
            "problems": {k: v[:10] for k, v in report["details"].items() if v},
            "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}


def main() -> int:
    parser = argparse.ArgumentParser(prog="make chaos")
    parser.add_argument("--count", type=int, default=10_000)
    # 40/s is what this 2-core machine sustains with the whole stack on it (see make bench's verdict figures):
    # a faster rate would measure an ever-growing backlog rather than recovery from the faults.
    parser.add_argument("--rate", type=float, default=40)
    parser.add_argument("--rounds", type=int, default=None,
                        help="how many times each kill happens (default 2; with --brokers 3, 3 broker kills)")
    parser.add_argument("--brokers", type=int, default=1, choices=(1, 3))
    parser.add_argument("--kafka-security", default="plaintext", choices=("plaintext", "sasl_ssl"))
    parser.add_argument("--ports-offset", type=int, default=0,
                        help="move every port of the chaos stacks, to run beside a make bench that holds the defaults")
    args = parser.parse_args()
    rounds = args.rounds if args.rounds is not None else (3 if args.brokers > 1 else 2)
    shift = args.ports_offset
    ports = Ports(kafka=BENCH_PORTS.kafka + shift, http={k: v + shift for k, v in BENCH_PORTS.http.items()},
                  doorbell={k: v + shift for k, v in BENCH_PORTS.doorbell.items()})
    report = run_chaos(args.count, args.rate, rounds=rounds, brokers=args.brokers, ports=ports,
                       pg_port=21902 + shift, kafka_security=args.kafka_security)
    summary = report_json(report, count=args.count, rate=args.rate)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(summary, indent=2) + "\n")
    for line in report["fault_log"]:
        print(f"  fault: {line}")
    print(f"  cases: {report['cases']} (fault-free run: {report['fault_free_cases']}), "
          f"equal: {report['cases_equal_fault_free']}")
    if args.brokers > 1:
        print(f"  recovery after each broker kill (kill to every partition answering a client): "
              f"{report['recoveries_s']} s; to a new registration's verdict, backlog included: "
              f"{report['verdict_recoveries_s']} s")
    else:
        print(f"  slowest recovery from a broker's return to a drained backlog: {report['recovery_s']} s")
    print(f"  deals API availability: {summary['api_availability']:.2%} of {args.count} submissions had their 201 "
          f"within {AVAILABILITY_BUDGET_S:.0f} s ({summary['api_first_try_201_share']:.2%} at the first try; "
          f"first-try refusals {summary['api_first_try_refusals']})")
    print(f"  report: {RESULTS}")
    problems = summary["problems"]
    if problems:
        print(f"  problems: {json.dumps(problems)}")
    print(f"chaos: {report['acknowledged']} acknowledged, lost {report['lost']}, duplicated {report['duplicated']}")
    ok = report["lost"] == 0 and report["duplicated"] == 0 and report["cases_equal_fault_free"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
