"""Publishes the catalog's outbox to Kafka: python -m services.catalog.workers.relay"""
from services.catalog.bootstrap import bootstrap
from services.catalog.settings import CatalogSettings
from services.catalog.storage.tables import outbox
from shared.workers import relay_main


def main() -> None:
    relay_main(CatalogSettings, build=bootstrap, outbox_table=outbox)


if __name__ == "__main__":
    main()
