"""gunicorn settings shared by the three services (the stack passes bind and the app per service)."""
import os
import shutil

workers = int(os.environ.get("DEALGATE_HTTP_WORKERS", "3"))
worker_class = "gthread"
# Two threads per worker: requests mostly run Python, and with four threads the workers' GIL contention cost
# POST /v1/deals about a fifth of its throughput on two cores (bench/deals_submit.py, 4 vs 2 threads).
threads = int(os.environ.get("DEALGATE_HTTP_THREADS", "2"))
timeout = 30
graceful_timeout = 10
keepalive = 5
accesslog = None
errorlog = "-"
loglevel = "warning"


def on_starting(server):
    # Prometheus' multiprocess mode: every worker writes its samples here and /metrics adds them up.
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory, exist_ok=True)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
