"""How many verdicts a second the conflict consumer sustains with 1, 2 and 3 processes in one group, side by side:
python -m bench.consumer_scaling [--registrations 3000] [--repeats 2] [--brokers 1]

One stack on PostgreSQL takes `--registrations` submissions through the deals API (a fifth overlap an earlier
customer, so cases open too) and its relay puts them on deals.registrations.v1. Then, round after round (1, 2, 3,
1, 2, 3 ... processes: alternating, so that the machine's other load falls on every count alike), that backlog is
judged again from the start by N conflict consumers in a fresh group on a fresh conflict database, with one conflict
relay publishing the verdicts. The rate is taken between 10% and 90% of the backlog (process start-up and the group
join are not part of it). Each round also records the CPU its consumers, PostgreSQL and the whole machine used, which
shows where two cores stop the scaling. Prints a JSON report and writes bench/results/consumer_scaling.json.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

from bench.chaos import Submitter, plan, publish_products
from bench.common import BENCH_DIR, progress
from deploy.postgres import LocalPostgres
from deploy.stack import PYTHON, Ports, Stack

RESULTS = Path(__file__).resolve().parent / "results" / "consumer_scaling.json"
PORTS = Ports(kafka=21701, http={"catalog": 21011, "deals": 21012, "conflict": 21013},
              doorbell={"catalog": 21311, "deals": 21312, "conflict": 21313})
PG_PORT = 21903
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes (children already reaped included), in seconds."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()
        except OSError:
            continue
        total += sum(int(value) for value in fields[11:15]) / CLOCK_TICKS  # utime stime cutime cstime
    return total


def machine_busy_seconds() -> tuple[float, float]:
    """(busy, all) CPU seconds of the whole machine since boot, every core."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / CLOCK_TICKS, sum(values) / CLOCK_TICKS


def postgres_pids(cluster: LocalPostgres) -> list[int]:
    """The postmaster and its backends (each connection is a process)."""
    try:
        postmaster = int((cluster.data_dir / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return []
    children = Path(f"/proc/{postmaster}/task/{postmaster}/children")
    try:
        return [postmaster, *(int(pid) for pid in children.read_text().split())]
    except OSError:
        return [postmaster]


def one_round(stack: Stack, cluster: LocalPostgres, consumers: int, expected: int, index: int) -> dict:
    name = f"scaling_conflict_{index}_{uuid.uuid4().hex[:6]}"
    database = cluster.create_database(name)
    env = {"CONFLICT_DATABASE_URL": database, "CONFLICT_CONSUMER_GROUP": f"scaling-{name}",
           "CONFLICT_RELAY_DOORBELL_PORT": "0"}
    migrate = stack._spawn(f"{name}-migrate", [PYTHON, "-m", "services.conflict.workers.migrate"],
                           {**stack.service_env("conflict"), **env}, track=False)
    if migrate.wait() != 0:
        raise RuntimeError(f"migration of {name} failed; see {stack.log_dir}")
    engine = sa.create_engine(database.replace("postgresql://", "postgresql+psycopg://", 1)
                              if database.startswith("postgresql://") else database)
    names = [f"{name}-consume-{n}" for n in range(consumers)] + [f"{name}-relay"]
    busy_before, all_before = machine_busy_seconds()
    started = time.monotonic()
    for process in names:
        stack.start_worker("conflict", "relay" if process.endswith("relay") else "consume", extra_env=env,
                           name=process)
    pids = [stack.processes[process].pid for process in names]
    pg_before = cpu_seconds(postgres_pids(cluster))
    marks: dict[float, float] = {}
    try:
        while time.monotonic() - started < 900:
            with engine.connect() as connection:
                judged = connection.execute(sa.text("SELECT count(*) FROM registrations")).scalar_one()
            now = time.monotonic()
            for fraction in (0.1, 0.9):
                if fraction not in marks and judged >= fraction * expected:
                    marks[fraction] = now
            if judged >= expected:
                break
            time.sleep(0.2)
        else:
            raise TimeoutError(f"{consumers} consumer(s) judged only {judged} of {expected} in 900 s")
        consumer_cpu = cpu_seconds(pids)
        pg_cpu = cpu_seconds(postgres_pids(cluster)) - pg_before
        busy_after, all_after = machine_busy_seconds()
    finally:
        for process in names:
            stack.kill(process, signal.SIGTERM)
        engine.dispose()
        cluster.drop_database(name)
    window = marks[0.9] - marks[0.1]
    wall = time.monotonic() - started
    return {"consumers": consumers, "verdicts_per_s": round(0.8 * expected / window, 1),
            "seconds_to_judge_all": round(wall, 1),
            "consumer_cpu_cores": round(consumer_cpu / wall, 2), "postgres_cpu_cores": round(pg_cpu / wall, 2),
            "machine_busy_share": round((busy_after - busy_before) / (all_after - all_before), 3)}


def run(registrations: int, repeats: int, brokers: int) -> dict:
    base = BENCH_DIR / "consumer-scaling"
    cluster = LocalPostgres(base / "postgres", port=PG_PORT)
    was_running = cluster.is_running()
    cluster.start()
    run_id = uuid.uuid4().hex[:6]
    env = {f"{s.upper()}_DATABASE_URL": cluster.create_database(f"scaling_{s}_{run_id}")
           for s in ("catalog", "deals", "conflict")}
    stack = Stack(var_dir=base / f"stack-{run_id}", ports=PORTS, env=env, brokers=brokers)
    try:
        stack.up(progress=progress)
        products = publish_products(stack)
        time.sleep(2)
        for worker in ("conflict-consume", "deals-consume"):  # the rounds bring their own; these would compete
            stack.kill(worker, signal.SIGTERM)
        progress(f"submitting {registrations} registrations for the backlog ...")
        submitter = Submitter(stack, products, rate=200)
        submitter.run(plan(registrations, seed=23, overlap_share=0.2))
        wait_for_backlog(stack, registrations)
        rounds: list[dict] = []
        for _repeat in range(repeats):
            for consumers in (1, 2, 3):
                result = one_round(stack, cluster, consumers, registrations, len(rounds))
                progress(f"round {len(rounds) + 1}: {json.dumps(result)}")
                rounds.append(result)
    finally:
        stack.down(progress=progress)
        for service in ("catalog", "deals", "conflict"):
            cluster.drop_database(f"scaling_{service}_{run_id}")
        if not was_running:
            cluster.stop()
    by_count = {n: [r for r in rounds if r["consumers"] == n] for n in (1, 2, 3)}
    summary = {str(n): {"verdicts_per_s_median": statistics.median(r["verdicts_per_s"] for r in rs),
                        "machine_busy_share_median": statistics.median(r["machine_busy_share"] for r in rs),
                        "consumer_cpu_cores_median": statistics.median(r["consumer_cpu_cores"] for r in rs),
                        "postgres_cpu_cores_median": statistics.median(r["postgres_cpu_cores"] for r in rs)}
               for n, rs in by_count.items()}
    one = summary["1"]["verdicts_per_s_median"]
    for n in ("2", "3"):
        summary[n]["speed_up_vs_1"] = round(summary[n]["verdicts_per_s_median"] / one, 2) if one else None
    return {"registrations": registrations, "brokers": brokers, "cores": os.cpu_count(), "rounds": rounds,
            "by_consumers": summary, "load_average_at_end": os.getloadavg()}


def wait_for_backlog(stack: Stack, expected: int, timeout_s: float = 300) -> None:
    """Until deals' relay has put every submission on deals.registrations.v1."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=stack.kafka.bootstrap_servers,
                             **stack.kafka.client_security().client_options())
    try:
        partitions = [TopicPartition("deals.registrations.v1", p)
                      for p in consumer.partitions_for_topic("deals.registrations.v1") or ()]
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if sum(consumer.end_offsets(partitions).values()) >= expected:
                return
            time.sleep(0.5)
    finally:
        consumer.close()
    raise TimeoutError(f"deals.registrations.v1 holds fewer than {expected} events after {timeout_s:.0f}s")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.consumer_scaling")
    parser.add_argument("--registrations", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--brokers", type=int, default=1, choices=(1, 3))
    args = parser.parse_args()
    report = run(args.registrations, args.repeats, args.brokers)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report["by_consumers"], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
