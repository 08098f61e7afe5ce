"""gunicorn settings shared by the three services (the stack passes bind and the app per service)."""
import os
import shutil

# Processes rather than threads: a request here is mostly Python, so threads of one worker wait for each
# other's GIL. Measured with bench/deals_submit.py on two cores: 3 workers x 4 threads ~1,000 submissions/s,
# 3 x 2 ~1,250/s, 5 x 1 ~1,400/s (the bare-Flask baselines gain less, being lighter per request).
workers = int(os.environ.get("DEALGATE_HTTP_WORKERS", str(2 * (os.cpu_count() or 1) + 1)))
worker_class = "gthread"
threads = int(os.environ.get("DEALGATE_HTTP_THREADS", "1"))
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
