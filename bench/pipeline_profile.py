"""Where the CPU goes per registration: python -m bench.pipeline_profile [--rate 40] [--seconds 30] [--pyspy]
[--gather-ms MS]

Submits registrations at a steady rate to a private PostgreSQL stack and reads, from /proc, the CPU time each
process of the stack spent meanwhile (the API with its gunicorn workers, each relay and consumer, Kafka, and the
PostgreSQL backends), divided by the registrations submitted: milliseconds of CPU per registration and process.
PostgreSQL runs with pg_stat_statements, and the statements that took the most time are listed with their calls
per registration. With --pyspy, py-spy samples the two consumers and both relays and the functions they spent
the most time in are listed (py-spy must be installed: `.venv/bin/pip install py-spy`).
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from bench.common import BENCH_DIR, percentile, postgres_stack, progress
from bench.pipeline import Submitter

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds) of a live process."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _tree_cpu(root: int) -> float:
    """CPU seconds of a process and every live descendant (a gunicorn master and its workers)."""
    parents: dict[int, list[int]] = collections.defaultdict(list)
    cpu: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := _stat(int(entry))):
            parents[stat[0]].append(int(entry))
            cpu[int(entry)] = stat[1]
    total, pending = 0.0, [root]
    while pending:
        pid = pending.pop()
        total += cpu.get(pid, 0.0)
        pending.extend(parents.get(pid, []))
    return total


def cpu_snapshot(stack, postmaster: int | None) -> dict[str, float]:
    snapshot = {name: _tree_cpu(process.pid) for name, process in stack.processes.items()}
    brokers = _brokers_of(stack)
    if brokers:
        snapshot["kafka"] = sum(_tree_cpu(pid) for pid in brokers)
    if postmaster:
        snapshot["postgresql"] = _tree_cpu(postmaster)
    return snapshot


def _brokers_of(stack) -> list[int]:
    """The stack's Kafka JVMs: java processes whose command line names the stack's directory."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            command = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "java" in command and str(stack.var_dir) in command:
            found.append(int(entry))
    return found


def _postmaster_pid() -> int | None:
    pid_file = BENCH_DIR / "postgres" / "postmaster.pid"
    try:
        return int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def enable_pg_stat_statements(cluster_url: str) -> bool:
    """Preload pg_stat_statements (a restart of the bench cluster, before the stack starts); False if unavailable."""
    engine = sa.create_engine(cluster_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            loaded = connection.execute(sa.text("SHOW shared_preload_libraries")).scalar()
            if "pg_stat_statements" in (loaded or ""):
                return True
            connection.execute(sa.text("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'"))
        return False  # the caller restarts the cluster
    finally:
        engine.dispose()


def disable_pg_stat_statements(cluster_url: str) -> None:
    """Takes effect at the cluster's next start."""
    engine = sa.create_engine(cluster_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("ALTER SYSTEM RESET shared_preload_libraries"))
    except sa.exc.DBAPIError as exc:
        progress(f"could not reset shared_preload_libraries: {exc.orig}")
    finally:
        engine.dispose()


def top_statements(database_urls: dict[str, str], registrations: int, limit: int = 12) -> list[dict]:
    rows: list[dict] = []
    for service, url in database_urls.items():
        engine = sa.create_engine(url)
        try:
            with engine.connect() as connection:
                connection.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"))
                connection.commit()
                result = connection.execute(sa.text(
                    "SELECT query, calls, total_exec_time FROM pg_stat_statements s"
                    " JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = current_database()"
                    " ORDER BY total_exec_time DESC LIMIT :limit"), {"limit": limit}).all()
        except sa.exc.DBAPIError as exc:
            progress(f"pg_stat_statements unavailable for {service}: {exc.orig}")
            continue
        finally:
            engine.dispose()
        rows += [{"service": service, "query": " ".join(r.query.split())[:140], "calls": r.calls,
                  "calls_per_registration": round(r.calls / registrations, 2),
                  "ms_per_registration": round(r.total_exec_time / registrations, 3)} for r in result]
    return sorted(rows, key=lambda row: -row["ms_per_registration"])[:limit]


def round_trips(database_urls: dict[str, str], registrations: int) -> dict[str, dict]:
    """Per service: statements (every call pg_stat_statements saw, BEGIN and COMMIT included) and the busiest
    statements by calls, per registration. Round trips cost CPU on both ends whatever each statement does."""
    found: dict[str, dict] = {}
    for service, url in database_urls.items():
        engine = sa.create_engine(url)
        try:
            with engine.connect() as connection:
                rows = connection.execute(sa.text(
                    "SELECT query, calls FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid"
                    " WHERE d.datname = current_database() ORDER BY calls DESC")).all()
        except sa.exc.DBAPIError:
            continue
        finally:
            engine.dispose()
        found[service] = {
            "statements_per_registration": round(sum(r.calls for r in rows) / registrations, 2),
            "busiest": [{"calls_per_registration": round(r.calls / registrations, 2),
                         "query": " ".join(r.query.split())[:100]} for r in rows[:15]]}
    return found


def reset_statements(database_urls: dict[str, str]) -> None:
    for url in database_urls.values():
        engine = sa.create_engine(url)
        try:
            with engine.connect() as connection:
                connection.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"))
                connection.execute(sa.text("SELECT pg_stat_statements_reset()"))
                connection.commit()
        except sa.exc.DBAPIError:
            pass
        finally:
            engine.dispose()


def start_pyspy(stack, seconds: float, out_dir: Path) -> list[tuple[str, subprocess.Popen, Path]]:
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(py_spy).exists():
        progress("py-spy not installed: no function profile (.venv/bin/pip install py-spy)")
        return []
    out_dir.mkdir(parents=True, exist_ok=True)
    started = []
    for name in ("conflict-consume", "deals-consume", "deals-relay", "conflict-relay"):
        process = stack.processes.get(name)
        if process is None:
            continue
        out = out_dir / f"{name}.txt"
        spy = subprocess.Popen([py_spy, "record", "-p", str(process.pid), "-d", str(int(seconds)), "-r", "200",
                                "-f", "raw", "-o", str(out), "--nonblocking"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started.append((name, spy, out))
    return started


def summarise_pyspy(out: Path, top: int = 25) -> list[dict]:
    """Share of the busy samples spent in each function, callees included, from py-spy's collapsed stacks
    ('frame;frame;... count'). Samples whose innermost frame waits (on a socket, PostgreSQL's answer or a
    condition) count as idle and are left out."""
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    if not out.exists():
        return []
    for line in out.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = stack.split(";")
        leaf = frames[-1]
        if any(word in leaf for word in ("wait (", "select (selectors", "poll (selectors", "_poll (")):
            continue
        samples = int(count)
        total += samples
        names = []
        for frame in frames:
            function, _, where = frame.partition(" (")
            names.append(f"{function} ({where.split(':')[0].rsplit('/', 1)[-1]})")
        for name in dict.fromkeys(names):
            inclusive[name] += samples
    return [{"function": name, "share": round(count / total, 3)} for name, count in inclusive.most_common(top)
            if total] + [{"busy_samples": total}]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=40)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--pyspy", action="store_true")
    parser.add_argument("--gather-ms", type=float, help="DEALGATE_BATCH_GATHER_MS for the stack (default: its own)")
    parser.add_argument("--json")
    args = parser.parse_args()
    from deploy.postgres import LocalPostgres

    cluster = LocalPostgres(BENCH_DIR / "postgres", port=21901)
    was_running = cluster.is_running()
    cluster.start()
    try:
        if not enable_pg_stat_statements(cluster.url()):
            cluster.restart()
        # As in bench.pipeline: the per-partner request limit would throttle the generator, not the pipeline.
        env = {"DEALS_RATE_LIMIT_PER_MINUTE": "0"}
        if args.gather_ms is not None:
            env["DEALGATE_BATCH_GATHER_MS"] = str(args.gather_ms)
        with postgres_stack(extra_env=env) as stack:
            urls = {s: stack.extra_env[f"{s.upper()}_DATABASE_URL"] for s in ("catalog", "deals", "conflict")}
            submitter = Submitter(stack)
            submitter.prepare()
            submitter.run_at(args.rate, 5)  # warm-up
            submitter.latencies(submitter.take_ids(), grace_s=60)
            reset_statements(urls)
            postmaster = _postmaster_pid()
            before = cpu_snapshot(stack, postmaster)
            spies = start_pyspy(stack, args.seconds, BENCH_DIR / "profile") if args.pyspy else []
            started = time.monotonic()
            submitter.run_at(args.rate, args.seconds)
            ids = submitter.take_ids()
            latencies, missing = submitter.latencies(ids, grace_s=120)
            elapsed = time.monotonic() - started
            after = cpu_snapshot(stack, postmaster)
            for _, spy, _ in spies:
                spy.wait(timeout=args.seconds + 60)
            registrations = max(1, len(ids))
            per_registration = {name: round((after[name] - before.get(name, 0.0)) * 1000 / registrations, 2)
                                for name in after}
            result = {
                "rate": args.rate, "seconds": args.seconds, "registrations": registrations,
                "elapsed_s": round(elapsed, 1), "verdict_p50_ms": round(percentile(latencies, 0.5), 1),
                "verdict_p99_ms": round(percentile(latencies, 0.99), 1), "verdict_missing": missing,
                "cpu_ms_per_registration": dict(sorted(per_registration.items(), key=lambda kv: -kv[1])),
                "cpu_ms_per_registration_total": round(sum(per_registration.values()), 2),
                "statements": top_statements(urls, registrations),
                "round_trips": round_trips(urls, registrations),
                "functions": {name: summarise_pyspy(out) for name, _, out in spies},
            }
    finally:
        disable_pg_stat_statements(cluster.url())  # the other benchmarks measure without it
        if not was_running:
            cluster.stop()
    print(json.dumps(result, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
