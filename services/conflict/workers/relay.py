"""Publishes the conflict service's outbox to Kafka: python -m services.conflict.workers.relay"""
from services.conflict.bootstrap import bootstrap
from services.conflict.storage.tables import outbox
from shared.config import Settings
from shared.logging import configure_logging
from shared.workers import run_relay


def main() -> None:
    settings = Settings.from_env("conflict")
    configure_logging("conflict-relay", settings.log_level, settings.log_json)
    conflict = bootstrap(settings)
    run_relay(service="conflict", engine=conflict.engine, outbox_table=outbox, bus=conflict.bus,
              doorbell_address=settings.relay_doorbell, poll_interval_s=settings.relay_poll_interval_s,
              faults=settings.faults)


if __name__ == "__main__":
    main()
