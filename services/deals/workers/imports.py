"""Runs bulk CSV imports alone: python -m services.deals.workers.imports (the expire worker runs the same runner
in a thread; any number of runners take jobs in turn under a lease)."""
from services.deals.bootstrap import bootstrap
from services.deals.import_runner import ImportRunner
from services.deals.settings import DealsSettings
from shared.workers import start_worker, stop_on_signals, worker_health


def main() -> None:
    settings = start_worker(DealsSettings, "imports")
    health = worker_health("deals-imports", settings.worker_health_port)  # /healthz, /readyz, /metrics
    ImportRunner(bootstrap(settings)).run(stop_on_signals(), health=health)


if __name__ == "__main__":
    main()
