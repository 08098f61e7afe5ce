"""Publishes the deals's outbox to Kafka: python -m services.deals.workers.relay"""
from services.deals.bootstrap import bootstrap
from services.deals.storage.tables import outbox
from shared.config import Settings
from shared.logging import configure_logging
from shared.workers import run_relay


def main() -> None:
    settings = Settings.from_env("deals")
    configure_logging("deals-relay", settings.log_level, settings.log_json)
    deals = bootstrap(settings)
    run_relay(service="deals", engine=deals.engine, outbox_table=outbox, bus=deals.bus,
              doorbell_address=settings.relay_doorbell, poll_interval_s=settings.relay_poll_interval_s,
              faults=settings.faults)


if __name__ == "__main__":
    main()
