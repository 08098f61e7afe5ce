"""Publishes the deals's outbox to Kafka: python -m services.deals.workers.relay"""
from services.deals.bootstrap import bootstrap
from services.deals.settings import DealsSettings
from services.deals.storage.tables import outbox
from shared.workers import relay_main


def main() -> None:
    relay_main(DealsSettings, build=bootstrap, outbox_table=outbox)


if __name__ == "__main__":
    main()
