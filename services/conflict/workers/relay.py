"""Publishes the conflict service's outbox to Kafka: python -m services.conflict.workers.relay"""
from services.conflict.bootstrap import bootstrap
from services.conflict.settings import ConflictSettings
from services.conflict.storage.tables import outbox
from shared.workers import relay_main


def main() -> None:
    relay_main(ConflictSettings, build=bootstrap, outbox_table=outbox)


if __name__ == "__main__":
    main()
