"""Publishes the catalog's outbox to Kafka: python -m services.catalog.workers.relay"""
from services.catalog.bootstrap import bootstrap
from services.catalog.storage.tables import outbox
from shared.config import Settings
from shared.logging import configure_logging
from shared.workers import run_relay


def main() -> None:
    settings = Settings.from_env("catalog")
    configure_logging("catalog-relay", settings.log_level, settings.log_json)
    catalog = bootstrap(settings)
    run_relay(service="catalog", engine=catalog.engine, outbox_table=outbox, bus=catalog.bus,
              doorbell_address=settings.relay_doorbell, poll_interval_s=settings.relay_poll_interval_s,
              faults=settings.faults)


if __name__ == "__main__":
    main()
