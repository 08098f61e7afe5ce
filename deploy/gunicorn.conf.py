"""gunicorn settings shared by the three services (the stack passes bind and the app per service)."""
import importlib
import os
import re
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
    refuse_unusable_settings(getattr(server.app, "app_uri", None) or "")
    # Prometheus' multiprocess mode: every worker writes its samples here and /metrics adds them up.
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory, exist_ok=True)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def refuse_unusable_settings(app_uri):
    """Read the service's settings in the master, before any worker forks: a setting that cannot be used (such as
    DEALGATE_ENV=production without safe identity configuration) ends gunicorn with one line naming the variable
    and exit status 1, instead of each worker failing in turn with a traceback."""
    match = re.match(r"services\.(\w+)\.app:", app_uri)
    if not match:
        return
    from shared.config import Settings
    from shared.workers import settings_or_exit

    service = match.group(1)
    module = importlib.import_module(f"services.{service}.settings")
    classes = [value for value in vars(module).values() if isinstance(value, type) and issubclass(value, Settings)
               and service == value.SERVICE]
    if classes:
        settings_or_exit(classes[0])
